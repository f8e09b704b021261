//! Public tips: anyone may report a suspected daily or group rental (and the plan's other
//! cases), with a photo, and gets a reference number to quote for the reward scheme and to
//! look up where the tip stands; staff who handle tips list them, triage them, tie a tip
//! that matched no unit to one (or create it), and open a door check for the unit.

use serde::Deserialize;
use utoipa::ToSchema;

use super::{Caller, Context, Error, Result};
use crate::crypto::Purpose;
use crate::domain::FieldError;
use crate::domain::person::PhoneNumber;
use crate::domain::role::Role;
use crate::domain::tip::{self, Category, TipReference, TipState};
use crate::domain::token::QrToken;
use crate::domain::unit::Address;
use crate::store::tips::{self, NewTip, Tip, TipFilter, TipStatus};
use crate::store::units::{self, TokenLookup};
use crate::store::{self, Constraint, StoreError, communities};

/// A public tip, as the API's JSON body or the tip form sends it, not yet checked.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[schema(as = TipRequest)]
#[serde(deny_unknown_fields)]
pub struct TipInput {
    /// The address reported (or give `token`).
    pub address: Option<String>,
    /// The poster token of the unit (the last part of the QR code's URL).
    pub token: Option<String>,
    /// Optional: the community, where the address alone does not say.
    pub community: Option<String>,
    /// `daily_rental`, `group_rental`, `unregistered`, `illegal_wiring` (私搭乱接),
    /// `structural_alteration` (改变房屋结构) or `other`.
    pub category: String,
    /// What was seen (up to 1,000 characters).
    pub description: String,
    /// Optional: a phone number for follow-up questions.
    pub contact: Option<String>,
}

/// A tip whose fields passed their checks, with its photo re-encoded: ready to be stored.
pub struct Checked {
    tip: NewTip,
}

impl Checked {
    /// Bytes of photo this tip stores (counted against the sender's daily allowance).
    pub fn photo_bytes(&self) -> usize {
        self.tip.photo.as_ref().map_or(0, Vec::len)
    }
}

/// Checks every field of a tip and re-encodes its photo (without metadata); `Validation`
/// names every field that failed, a poster token that names no current poster among them
/// (field `token`, code `unknown`).
pub async fn check(ctx: &Context, input: TipInput, photo: Option<Vec<u8>>) -> Result<Checked> {
    let mut errors = Vec::new();
    let category = Category::parse(input.category.trim());
    if category.is_none() {
        errors.push(FieldError::new(
            "category",
            "invalid",
            "请选择举报类型",
            "Please choose what you are reporting",
        ));
    }
    let description = tip::parse_description(&input.description)
        .map_err(|e| errors.push(e))
        .ok();
    let contact = match input.contact.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => PhoneNumber::parse(text)
            .map_err(|e| errors.push(e.on("contact")))
            .ok(),
    };
    let place = locate(ctx, &input).await.map_err(|e| errors.push(e)).ok();
    let photo = match super::photos::reencode(photo).await {
        Ok(photo) => photo,
        Err(Error::Validation(fields)) => {
            errors.extend(fields);
            None
        }
        Err(other) => return Err(other),
    };
    let (Some(category), Some(description), Some(place), true) =
        (category, description, place, errors.is_empty())
    else {
        return Err(Error::Validation(errors));
    };
    Ok(Checked {
        tip: NewTip {
            community_id: place.community_id,
            unit_id: place.unit_id,
            address: place.address,
            category: category.as_str(),
            description,
            contact_enc: contact
                .as_ref()
                .map(|c| ctx.vault.seal(Purpose::Phone, c.as_ref())),
            contact_masked: contact.as_ref().map(PhoneNumber::masked),
            photo,
        },
    })
}

/// A stored tip: its id, its reference number, and the receipt its sender keeps (the
/// reference with its check).
#[derive(Debug, Clone)]
pub struct Filed {
    pub id: i64,
    pub reference: TipReference,
    pub receipt: String,
}

/// The receipt of the tip with this reference: `TIP-20261204-0042-K7QD9X`, what only its
/// sender (and staff) hold.
pub fn receipt_of(ctx: &Context, reference: &str) -> String {
    format!("{reference}-{}", ctx.vault.tip_check(reference))
}

/// Stores a checked tip under the next reference number of today (in `RENFANG_TZ`).
pub async fn file(ctx: &Context, checked: Checked) -> Result<Filed> {
    let now = ctx.now();
    let day = now.with_timezone(&ctx.settings.tz).date_naive();
    let (id, reference) = tips::create(&ctx.store, checked.tip, day, store::millis(now)).await?;
    let receipt = receipt_of(ctx, reference.as_ref());
    Ok(Filed {
        id,
        reference,
        receipt,
    })
}

/// Where the tip with this receipt stands (public: the state and two dates, nothing of
/// what it says or who sent it); `NotFound` for a receipt that is malformed, unknown, or
/// whose check is wrong: references are sequential, the check is what only the sender has.
pub async fn status(ctx: &Context, receipt: &str) -> Result<TipStatus> {
    let (reference, check) = TipReference::parse_receipt(receipt).ok_or(Error::NotFound)?;
    if !ctx.vault.verify_tip_check(reference.as_ref(), &check) {
        return Err(Error::NotFound);
    }
    tips::status(&ctx.store, &reference)
        .await?
        .ok_or(Error::NotFound)
}

/// Where a tip points: a unit when the poster or the address names one.
struct Place {
    community_id: Option<i64>,
    unit_id: Option<i64>,
    address: String,
}

async fn locate(ctx: &Context, input: &TipInput) -> std::result::Result<Place, FieldError> {
    let store_failed =
        |_| FieldError::new("address", "unavailable", "暂时无法查询地址", "Try again");
    if let Some(token) = input
        .token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let bad = || FieldError::new("token", "unknown", "二维码无效或已更换", "Unknown poster");
        let token = QrToken::parse(token).ok_or_else(bad)?;
        let TokenLookup::Current(target) = units::find_by_token(&ctx.store, &ctx.vault, &token)
            .await
            .map_err(store_failed)?
        else {
            return Err(bad());
        };
        let unit = units::get(&ctx.store, target.unit_id)
            .await
            .map_err(store_failed)?
            .ok_or_else(bad)?;
        return Ok(Place {
            community_id: Some(unit.community_id),
            unit_id: Some(unit.id),
            address: unit.address,
        });
    }
    let raw = input.address.as_deref().unwrap_or("");
    let address = Address::parse(raw)?;
    let named = match input
        .community
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(name) => communities::find_by_name(&ctx.store, name)
            .await
            .map_err(store_failed)?
            .map(|c| c.id),
        None => None,
    };
    let unit = units::find_by_address_key(&ctx.store, address.key(), named)
        .await
        .map_err(store_failed)?;
    Ok(Place {
        community_id: unit.map(|(_, c)| c).or(named),
        unit_id: unit.map(|(u, _)| u),
        address: address.display().to_string(),
    })
}

/// Tips in the caller's communities, newest first, from `offset` (at most `limit`), with
/// their count; `wanted` narrows to one state, `reference` to references containing it.
pub async fn list(
    ctx: &Context,
    caller: &Caller,
    wanted: Option<&str>,
    reference: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Tip>, i64)> {
    caller.require(Role::handles_tips)?;
    let state = match wanted.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(
            TipState::parse(s)
                .ok_or_else(|| Error::invalid("state"))?
                .as_str(),
        ),
        None => None,
    };
    let reference = match reference.map(str::trim).filter(|s| !s.is_empty()) {
        Some(r) => Some(tip::reference_fragment(r).ok_or_else(|| Error::invalid("reference"))?),
        None => None,
    };
    let filter = TipFilter { state, reference };
    Ok(tips::list(&ctx.store, caller.scope(), &filter, offset, limit).await?)
}

/// A tip the caller may handle, or `NotFound` (also for one outside their communities;
/// tips that match no community are for admins only).
pub async fn visible(ctx: &Context, caller: &Caller, id: i64) -> Result<Tip> {
    caller.require(Role::handles_tips)?;
    let tip = tips::get(&ctx.store, id).await?.ok_or(Error::NotFound)?;
    let visible = match tip.community_id {
        Some(c) => caller.sees(c),
        None => caller.role.sees_all_communities(),
    };
    if visible {
        Ok(tip)
    } else {
        Err(Error::NotFound)
    }
}

/// A visible tip's photo (JPEG, re-encoded without metadata).
pub async fn photo(ctx: &Context, caller: &Caller, id: i64) -> Result<Vec<u8>> {
    visible(ctx, caller, id).await?;
    tips::photo(&ctx.store, id).await?.ok_or(Error::NotFound)
}

/// Sets a tip's state (`new`, `closed` or `dismissed`; `checking` comes from opening a
/// door check), with an optional one-line note; audited.
pub async fn set_state(
    ctx: &Context,
    caller: &Caller,
    id: i64,
    wanted: &str,
    note: Option<&str>,
) -> Result<()> {
    visible(ctx, caller, id).await?;
    let to = TipState::parse(wanted.trim())
        .filter(|s| *s != TipState::Checking)
        .ok_or_else(|| Error::invalid("state"))?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| !tip::one_line(n, 500)) {
        return Err(Error::invalid("note"));
    }
    tips::set_state(
        &ctx.store,
        id,
        to.as_str(),
        note.map(str::to_string),
        caller.user_id,
        store::millis(ctx.now()),
    )
    .await?;
    Ok(())
}

/// Opens a `tip` door check for the tip's unit (or returns the one already open).
pub async fn open_check(ctx: &Context, caller: &Caller, id: i64) -> Result<i64> {
    let tip = visible(ctx, caller, id).await?;
    let Some(unit_id) = tip.unit_id else {
        return Err(Error::field(FieldError::new(
            "unit",
            "unknown",
            "这条线索没有对应到登记的房屋，无法派发上门核查",
            "This tip names no registered unit",
        )));
    };
    Ok(tips::open_check(
        &ctx.store,
        id,
        unit_id,
        caller.user_id,
        store::millis(ctx.now()),
    )
    .await?)
}

/// A visible tip that names no unit yet, or `Conflict`.
async fn unmatched(ctx: &Context, caller: &Caller, id: i64) -> Result<Tip> {
    let tip = visible(ctx, caller, id).await?;
    if tip.unit_id.is_some() {
        return Err(already_linked());
    }
    Ok(tip)
}

fn already_linked() -> Error {
    Error::Conflict("这条线索已对应到房屋".into())
}

/// Ties a tip whose address matched no unit to an existing unit of the caller's
/// communities (the tip moves to the unit's community); audited. `NotFound` for a unit the
/// caller does not see, `Conflict` for a tip that has a unit already.
pub async fn link_unit(ctx: &Context, caller: &Caller, id: i64, unit_id: i64) -> Result<()> {
    caller.require(Role::manages_units)?;
    unmatched(ctx, caller, id).await?;
    let unit = super::units::visible(ctx, caller, unit_id).await?;
    let linked = tips::link_unit(
        &ctx.store,
        id,
        unit.id,
        unit.community_id,
        caller.user_id,
        store::millis(ctx.now()),
    )
    .await?;
    if linked {
        Ok(())
    } else {
        Err(already_linked())
    }
}

/// What staff give to create a unit from a tip; the tip's community and address stand in
/// for those left out.
#[derive(Debug, Clone, Default)]
pub struct UnitFromTip {
    pub community: Option<String>,
    pub address: Option<String>,
    pub rooms: i64,
    pub kind: String,
    pub rental_mode: String,
}

/// Creates a unit, in one of the caller's communities, for a tip whose address matched
/// none, issues its poster and ties the tip to it, all at once (audited): the tip can then
/// open a door check like any other.
pub async fn create_unit(
    ctx: &Context,
    caller: &Caller,
    id: i64,
    new: UnitFromTip,
) -> Result<super::units::CreatedUnit> {
    caller.require(Role::manages_units)?;
    let tip = unmatched(ctx, caller, id).await?;
    let given = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    if let Some(name) = given(new.community.clone()) {
        // Another community's is as good as absent (an unknown name is the field's error).
        let found = communities::find_by_name(&ctx.store, name.trim()).await?;
        if found.is_some_and(|c| !caller.sees(c.id)) {
            return Err(Error::NotFound);
        }
    }
    let row = super::units::check_new_unit(
        ctx,
        caller,
        super::units::NewUnit {
            community: given(new.community).or(tip.community).unwrap_or_default(),
            address: given(new.address).unwrap_or(tip.address),
            rooms: new.rooms,
            kind: new.kind,
            rental_mode: new.rental_mode,
        },
    )
    .await?;
    let created = tips::create_unit_for(
        &ctx.store,
        &ctx.vault,
        id,
        row,
        caller.user_id,
        store::millis(ctx.now()),
    )
    .await;
    match created {
        Ok(Some((unit_id, token))) => Ok(super::units::CreatedUnit {
            unit_id,
            poster_url: ctx.poster_url(&token),
        }),
        Ok(None) => Err(already_linked()),
        Err(StoreError::Unique(Constraint::UnitAddress)) => Err(Error::Conflict(
            "该社区已有相同地址的房屋，请改为关联这套房屋".into(),
        )),
        Err(e) => Err(e.into()),
    }
}
