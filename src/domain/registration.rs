//! A registration: who lives in a unit, as submitted through a poster or by staff.

use chrono::NaiveDate;

use super::FieldError;
use super::country::parse_nationality;
use super::document::{DocumentNumber, IdType};
use super::notice::NOTICE_VERSION;
use super::person::{PersonName, PhoneNumber};

crate::wire_enum!(
    /// Where an upload came from.
    UploadSource {
        Scan = "scan" / "扫码登记",
        Sublandlord = "sublandlord" / "二房东登记",
        Officer = "officer" / "民警核实",
        Confirm = "confirm" / "确认无变化",
    }
);

/// Most occupants in one submission; more is a mistake or an attack, never one flat.
pub const MAX_OCCUPANTS: usize = 20;
const MAX_ROOM_CHARS: usize = 20;
/// A move-in date may be announced this many days ahead.
const MOVE_IN_AHEAD_DAYS: i64 = 31;

/// One occupant as typed, before any checks (from JSON or from the form).
#[derive(Debug, Clone, Default)]
pub struct OccupantInput {
    pub name: String,
    pub id_type: String,
    pub id_number: String,
    pub phone: String,
    pub room: String,
    pub move_in: String,
    /// ISO 3166-1 alpha-3; required for passports and foreign permanent residence cards.
    pub nationality: String,
    /// The person asks for an SMS before their confirmation falls due (with a phone only).
    pub remind: bool,
}

/// One occupant whose every field passed its checks.
#[derive(Debug, Clone)]
pub struct Occupant {
    pub name: PersonName,
    pub document: DocumentNumber,
    pub phone: Option<PhoneNumber>,
    pub room: Option<String>,
    pub move_in: NaiveDate,
    /// ISO 3166-1 alpha-3, where given (always for a passport or foreign permanent card).
    pub nationality: Option<&'static str>,
    /// Reminded by SMS before the confirmation falls due: asked for, and a phone given.
    pub remind: bool,
}

/// A checked submission: at least one occupant, each document once.
#[derive(Debug, Clone)]
pub struct NewRegistration {
    pub notice_version: String,
    pub occupants: Vec<Occupant>,
    /// The occupants declared themselves one family (exempt from the per-room limit).
    pub family: bool,
}

impl NewRegistration {
    /// Checks every field, collecting all errors so the form can show them at once.
    pub fn parse(
        notice_version: &str,
        inputs: &[OccupantInput],
        today: NaiveDate,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if notice_version != NOTICE_VERSION {
            errors.push(FieldError::new(
                "notice_version",
                "outdated",
                "个人信息告知内容已更新，请重新阅读后提交",
                "The privacy notice has changed; please read it again and resubmit",
            ));
        }
        if inputs.is_empty() {
            errors.push(FieldError::new(
                "occupants",
                "required",
                "请至少登记一位居住人",
                "Please register at least one person",
            ));
        }
        if inputs.len() > MAX_OCCUPANTS {
            errors.push(FieldError::new(
                "occupants",
                "too_many",
                "一次最多登记 20 人，请分批提交",
                "At most 20 people per submission; please submit in parts",
            ));
            return Err(errors);
        }
        let mut occupants = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            match parse_occupant(input, today) {
                Ok(o) => {
                    if occupants
                        .iter()
                        // By number alone, as stored rows are told apart: one number
                        // valid as two kinds of document is still one person.
                        .any(|p: &Occupant| p.document.as_ref() == o.document.as_ref())
                    {
                        errors.push(FieldError::new(
                            format!("occupants[{i}].id_number"),
                            "duplicate",
                            "同一证件号码重复填写",
                            "This document number is entered twice",
                        ));
                    }
                    occupants.push(o);
                }
                Err(field_errors) => errors.extend(field_errors.into_iter().map(|mut e| {
                    e.field = format!("occupants[{i}].{}", e.field);
                    e
                })),
            }
        }
        if errors.is_empty() {
            Ok(Self {
                notice_version: notice_version.to_string(),
                occupants,
                family: false,
            })
        } else {
            Err(errors)
        }
    }
}

fn parse_occupant(input: &OccupantInput, today: NaiveDate) -> Result<Occupant, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = PersonName::parse(&input.name)
        .map_err(|e| errors.push(e.on("name")))
        .ok();
    let document = parse_document(&input.id_type, &input.id_number, today)
        .map_err(|e| errors.push(e))
        .ok();
    let phone = if input.phone.trim().is_empty() {
        None
    } else {
        PhoneNumber::parse(&input.phone)
            .map_err(|e| errors.push(e.on("phone")))
            .ok()
    };
    let room = input.room.trim();
    if room.chars().count() > MAX_ROOM_CHARS || super::has_control(room) {
        errors.push(FieldError::new(
            "room",
            "format",
            "房间号过长或含有无效字符",
            "The room is too long or has invalid characters",
        ));
    }
    let move_in = parse_move_in(input.move_in.trim(), today)
        .map_err(|e| errors.push(e))
        .ok();
    let id_type = IdType::parse(input.id_type.trim()).ok();
    let nationality = parse_nationality(id_type, &input.nationality)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    match (name, document, move_in) {
        (Some(name), Some(document), Some(move_in)) if errors.is_empty() => Ok(Occupant {
            name,
            document,
            room: (!room.is_empty()).then(|| room.to_string()),
            move_in,
            nationality,
            remind: input.remind && phone.is_some(),
            phone,
        }),
        _ => Err(errors),
    }
}

/// The document of a type and number as typed; the error names `id_type` or `id_number`.
pub fn parse_document(
    id_type: &str,
    id_number: &str,
    today: NaiveDate,
) -> Result<DocumentNumber, FieldError> {
    let id_type = IdType::parse(id_type.trim()).map_err(|e| e.on("id_type"))?;
    DocumentNumber::parse_at(id_type, id_number, today).map_err(|e| e.on("id_number"))
}

fn parse_move_in(text: &str, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    if text.is_empty() {
        return Err(FieldError::new(
            "move_in",
            "required",
            "请填写入住日期",
            "Please enter the move-in date",
        ));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        FieldError::new(
            "move_in",
            "format",
            "入住日期格式应为 年-月-日，例如 2026-03-01",
            "Use the form YYYY-MM-DD, e.g. 2026-03-01",
        )
    })?;
    let earliest = NaiveDate::from_ymd_opt(1950, 1, 1).expect("valid date");
    if date < earliest || (date - today).num_days() > MOVE_IN_AHEAD_DAYS {
        return Err(FieldError::new(
            "move_in",
            "range",
            "入住日期不在合理范围内",
            "The move-in date is out of range",
        ));
    }
    Ok(date)
}

/// Receipt digits: no 0/O, 1/I to misread on a phone screen when quoting it.
const RECEIPT_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// A new receipt number, e.g. `RF261129-7KQ3M9XD`: the date helps staff find it, the eight
/// random characters (40 bits) make it unique and not guessable in sequence.
pub fn new_receipt(today: NaiveDate) -> String {
    let random: [u8; 8] = rand::random();
    let tail: String = random
        .iter()
        .map(|b| RECEIPT_ALPHABET[(b & 31) as usize] as char)
        .collect();
    format!("RF{}-{tail}", today.format("%y%m%d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
    }

    fn valid() -> OccupantInput {
        OccupantInput {
            name: "张三".into(),
            id_type: "resident_id".into(),
            id_number: "11010519491231002X".into(),
            phone: "13800138000".into(),
            room: "A".into(),
            move_in: "2026-11-01".into(),
            nationality: String::new(),
            remind: false,
        }
    }

    #[test]
    fn receipts_carry_the_date_and_differ() {
        let a = new_receipt(today());
        assert!(a.starts_with("RF261129-"), "{a}");
        assert_eq!(a.len(), 17);
        assert_ne!(a, new_receipt(today()));
    }

    #[test]
    fn a_valid_submission_parses() {
        let r = NewRegistration::parse(NOTICE_VERSION, &[valid()], today()).unwrap();
        assert_eq!(r.occupants.len(), 1);
        assert_eq!(r.occupants[0].room.as_deref(), Some("A"));
    }

    #[test]
    fn every_bad_field_is_named_with_its_position() {
        let mut bad = valid();
        bad.id_number = "110105194912310021".into();
        bad.move_in = "tomorrow".into();
        let errors = NewRegistration::parse(NOTICE_VERSION, &[valid(), bad], today()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["occupants[1].id_number", "occupants[1].move_in"]);
        assert_eq!(errors[0].code, "check_digit");
    }

    #[test]
    fn an_outdated_notice_and_duplicate_documents_are_refused() {
        let errors = NewRegistration::parse("old", &[valid(), valid()], today()).unwrap_err();
        let codes: Vec<_> = errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, ["outdated", "duplicate"]);
    }

    #[test]
    fn one_number_entered_as_two_kinds_of_document_is_a_duplicate() {
        let number = crate::domain::document::with_check_char("81000019900101001").unwrap();
        let mut first = valid();
        first.id_number = number.clone();
        let mut second = first.clone();
        second.id_type = "hmt_residence_permit".into();
        // Each is valid alone.
        for o in [&first, &second] {
            assert!(
                NewRegistration::parse(NOTICE_VERSION, std::slice::from_ref(o), today()).is_ok()
            );
        }
        let errors = NewRegistration::parse(NOTICE_VERSION, &[first, second], today()).unwrap_err();
        let codes: Vec<_> = errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, ["duplicate"]);
    }

    #[test]
    fn too_many_occupants_are_refused_before_any_field_check() {
        let many = vec![OccupantInput::default(); MAX_OCCUPANTS + 1];
        let errors = NewRegistration::parse(NOTICE_VERSION, &many, today()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, "too_many");
    }

    #[test]
    fn an_empty_phone_is_allowed_and_a_far_future_move_in_is_not() {
        let mut o = valid();
        o.phone = " ".into();
        assert!(NewRegistration::parse(NOTICE_VERSION, &[o.clone()], today()).is_ok());
        o.move_in = "2027-06-01".into();
        let errors = NewRegistration::parse(NOTICE_VERSION, &[o], today()).unwrap_err();
        assert_eq!(errors[0].code, "range");
    }
}
