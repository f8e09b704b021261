//! An officer at a flat's door: one result for one or several of its open checks, with the
//! occupants met and an evidence photo; and the sublandlord's phone, revealed with a reason
//! so that the officer can call.

use super::{Caller, Context, Error, Result};
use crate::crypto::Purpose;
use crate::domain::FieldError;
use crate::domain::door_check::Outcome;
use crate::domain::registration::new_receipt;
use crate::domain::role::Role;
use crate::store::{self, audit, door_checks, registrations, sublandlords, units, visits};

/// What an officer found at the door, as typed.
#[derive(Debug, Default)]
pub struct Visit {
    /// `verified`, `vacant`, `violation` or `unreachable`.
    pub outcome: String,
    /// What the officer saw (required for `violation`).
    pub note: Option<String>,
    /// Ids of the unit's current occupants met in person.
    pub met_occupants: Vec<i64>,
    /// An evidence photo as uploaded (JPEG or PNG); re-encoded without its metadata.
    pub photo: Option<Vec<u8>>,
}

/// A recorded visit.
pub struct Recorded {
    pub unit_id: i64,
    /// The checks it answered.
    pub check_ids: Vec<i64>,
    pub outcome: Outcome,
    /// The referral a violation opened.
    pub referral_id: Option<i64>,
}

const MAX_NOTE_CHARS: usize = 500;

/// Records the result of a visit for one open check and, with `also`, other open checks of
/// the same unit (see [`record_for_unit`]).
pub async fn record_result(
    ctx: &Context,
    caller: &Caller,
    check_id: i64,
    also: &[i64],
    visit: Visit,
) -> Result<Recorded> {
    caller.require(Role::works_queue)?;
    let check = door_checks::get(&ctx.store, check_id)
        .await?
        .filter(|c| caller.sees(c.community_id))
        .ok_or(Error::NotFound)?;
    let mut ids = vec![check.id];
    ids.extend(also.iter().copied().filter(|id| *id != check.id));
    record_for_unit(ctx, caller, check.unit_id, &ids, visit).await
}

/// Records one visit to a unit in the caller's communities as the result of the open
/// checks `check_ids` (none named: every open check of the unit) and its consequences: an
/// upload, a vacancy, one referral. `Conflict` when one of them was closed meanwhile, or is
/// not the unit's; nothing is recorded then.
pub async fn record_for_unit(
    ctx: &Context,
    caller: &Caller,
    unit_id: i64,
    check_ids: &[i64],
    visit: Visit,
) -> Result<Recorded> {
    caller.require(Role::works_queue)?;
    let unit = units::get(&ctx.store, unit_id)
        .await?
        .filter(|u| caller.sees(u.community_id))
        .ok_or(Error::NotFound)?;
    let outcome = Outcome::parse(&visit.outcome).ok_or_else(|| Error::invalid("outcome"))?;
    let note = checked_note(visit.note, outcome)?;
    let current = registrations::current_occupants(&ctx.store, unit.id).await?;
    let mut met = visit.met_occupants;
    met.sort_unstable();
    met.dedup();
    if !met.iter().all(|id| current.iter().any(|o| o.id == *id)) {
        return Err(Error::field(FieldError::new(
            "met_occupants",
            "not_current",
            "所选人员不是该房屋的现住人员",
            "Only current occupants of the unit can be met",
        )));
    }
    if !met.is_empty() && matches!(outcome, Outcome::Vacant | Outcome::Unreachable) {
        return Err(Error::field(FieldError::new(
            "met_occupants",
            "contradicts_outcome",
            "未遇到人或空置时不能勾选见到的人员",
            "Nobody can have been met on an unreachable or vacant visit",
        )));
    }
    let checks = door_checks::for_unit(&ctx.store, unit.id).await?;
    let mut ids: Vec<i64> = if check_ids.is_empty() {
        checks
            .iter()
            .filter(|c| c.status == crate::domain::door_check::Status::Open)
            .map(|c| c.id)
            .collect()
    } else {
        check_ids.to_vec()
    };
    if !ids.iter().all(|id| checks.iter().any(|c| c.id == *id)) {
        return Err(Error::field(FieldError::new(
            "also_close",
            "not_this_unit",
            "所选核查事项不属于该房屋",
            "Every check answered must be one of this unit's",
        )));
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(Error::Conflict("该房屋暂无待核查事项".into()));
    }
    let photo = super::photos::reencode(visit.photo).await?;
    let stored = visits::Visit {
        unit_id: unit.id,
        check_ids: ids.clone(),
        user_id: caller.user_id,
        outcome,
        note,
        met_occupants: met,
        photo,
        receipt: new_receipt(ctx.today()),
    };
    let recorded = visits::record(&ctx.store, stored, store::millis(ctx.now()))
        .await?
        .map_err(|_| Error::Conflict("该核查已由他人完成，请刷新后查看".into()))?;
    tracing::info!(
        unit = unit.id,
        checks = ids.len(),
        by = caller.user_id,
        outcome = outcome.as_str(),
        "door check result"
    );
    Ok(Recorded {
        unit_id: unit.id,
        check_ids: ids,
        outcome,
        referral_id: recorded.referral_id,
    })
}

/// The note, trimmed: at most 500 characters, and required for a violation.
fn checked_note(note: Option<String>, outcome: Outcome) -> Result<Option<String>> {
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(Error::field(FieldError::new(
            "note",
            "too_long",
            "备注最多 500 字",
            "At most 500 characters",
        )));
    }
    if outcome == Outcome::Violation && note.is_none() {
        return Err(Error::field(FieldError::new(
            "note",
            "required",
            "发现违规时请写明情况",
            "Describe the violation",
        )));
    }
    Ok(note)
}

/// A unit in the caller's communities, for an officer at its door.
pub async fn door_unit(ctx: &Context, caller: &Caller, unit_id: i64) -> Result<units::Unit> {
    caller.require(Role::works_queue)?;
    let unit = units::get(&ctx.store, unit_id)
        .await?
        .filter(|u| caller.sees(u.community_id))
        .ok_or(Error::NotFound)?;
    super::my_units::ensure_open(&unit)?;
    Ok(unit)
}

/// A visit's evidence photo, for a caller who works the queue of its unit's community, or
/// who reads the enforcement cases there when the visit referred the flat to them.
pub async fn photo(ctx: &Context, caller: &Caller, photo_id: i64) -> Result<Vec<u8>> {
    if !caller.role.works_queue() {
        caller.require(Role::reads_cases)?;
        if !visits::photo_referred(&ctx.store, photo_id).await? {
            return Err(Error::Forbidden);
        }
    }
    let (unit_id, bytes) = visits::photo(&ctx.store, photo_id)
        .await?
        .ok_or(Error::NotFound)?;
    units::get(&ctx.store, unit_id)
        .await?
        .filter(|u| caller.sees(u.community_id))
        .ok_or(Error::NotFound)?;
    Ok(bytes)
}

/// The full phone number of the sublandlord who lets a unit in the caller's communities,
/// for an officer who needs to call them: audited with the reason before it is shown.
pub async fn sublandlord_phone(
    ctx: &Context,
    caller: &Caller,
    unit_id: i64,
    reason: &str,
) -> Result<String> {
    caller.require(Role::works_queue)?;
    let reason = super::reveal::checked_reason(reason)?;
    let unit = units::get(&ctx.store, unit_id)
        .await?
        .filter(|u| caller.sees(u.community_id))
        .ok_or(Error::NotFound)?;
    let sublandlord = unit.sublandlord_id.ok_or(Error::NotFound)?;
    let sealed = sublandlords::sealed_phone(&ctx.store, sublandlord)
        .await?
        .ok_or(Error::NotFound)?;
    let entry = audit::Entry {
        user_id: Some(caller.user_id),
        action: "sublandlord.reveal_phone".into(),
        subject: Some(format!("unit:{unit_id}")),
        detail: Some(serde_json::json!({ "sublandlord": sublandlord }).to_string()),
        reason: Some(reason),
    };
    // Recorded first: a reveal that could not be recorded does not happen.
    audit::append(&ctx.store, entry, store::millis(ctx.now())).await?;
    ctx.vault
        .open(Purpose::Phone, &sealed)
        .map_err(|e| Error::Internal(anyhow::anyhow!("opening a phone number: {e:?}")))
}
