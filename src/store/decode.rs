//! Stored states decode straight into the domain's enums, so that nothing past the store
//! compares strings. The check constraints of the schema admit no other values; one that
//! slipped past them is a decoding error, not a silent default.

use sqlx::any::{Any, AnyTypeInfo};
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Type};

use crate::domain::case::{CaseStatus, EvidenceKind, Violation};
use crate::domain::document::IdType;
use crate::domain::door_check::{ClockKind, Reason, Resolution, Status};
use crate::domain::event::EventType;
use crate::domain::registration::UploadSource;
use crate::domain::role::Role;
use crate::domain::sublandlord::FilingStatus;
use crate::domain::tip::{Category, TipState};
use crate::domain::token::PosterEventKind;
use crate::domain::unit::{RentalMode, UnitEvent, UnitKind, UnitState};

/// Stores the enums as their wire names in text columns.
macro_rules! decodes_from_text {
    ($($name:ty => $parse:expr),+ $(,)?) => {$(
        impl Type<Any> for $name {
            fn type_info() -> AnyTypeInfo {
                <str as Type<Any>>::type_info()
            }

            fn compatible(ty: &AnyTypeInfo) -> bool {
                <str as Type<Any>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Any> for $name {
            fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <String as Decode<'r, Any>>::decode(value)?;
                let parse: fn(&str) -> Option<$name> = $parse;
                parse(&text).ok_or_else(|| {
                    format!("{text:?} is no {}", stringify!($name)).into()
                })
            }
        }
    )+};
}

decodes_from_text!(
    UnitState => UnitState::parse,
    UnitEvent => UnitEvent::parse,
    ClockKind => ClockKind::parse,
    UnitKind => UnitKind::parse,
    RentalMode => RentalMode::parse,
    Reason => Reason::parse,
    Status => Status::parse,
    Resolution => Resolution::parse,
    FilingStatus => FilingStatus::parse,
    Category => Category::parse,
    TipState => TipState::parse,
    UploadSource => UploadSource::parse,
    PosterEventKind => PosterEventKind::parse,
    Role => Role::parse,
    IdType => |s| IdType::parse(s).ok(),
    Violation => Violation::parse,
    CaseStatus => CaseStatus::parse,
    EvidenceKind => EvidenceKind::parse,
    EventType => EventType::parse,
);
