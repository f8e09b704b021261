//! A sublandlord's own units: the list with their occupants, and what they do to a unit
//! (occupants unchanged, vacancy, a move-out, a new poster).

use crate::domain::unit::UnitState;
use serde::Serialize;
use utoipa::ToSchema;

use super::ledger::masked_name;
use super::{Caller, Context, Error, Result};
use crate::domain::FieldError;
use crate::domain::door_check::days_left;
use crate::domain::registration::new_receipt;
use crate::store::clock::Actor;
use crate::store::filings;
use crate::store::registrations;
use crate::store::sublandlords::Sublandlord;
use crate::store::{self, units};

/// An occupant as their sublandlord sees them: masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyOccupant {
    pub id: i64,
    pub name: String,
    pub id_type: String,
    pub id_number: String,
    pub room: Option<String>,
    pub move_in: String,
}

/// One of the caller's units.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyUnitOut {
    pub unit_id: i64,
    pub community: String,
    pub address: String,
    pub rooms: i64,
    pub rental_mode: String,
    pub state: String,
    pub last_upload_at: Option<String>,
    /// The same instant in milliseconds, for pages that show local time.
    #[serde(skip)]
    pub last_upload_ms: Option<i64>,
    /// Which rule the clock runs under: `no_upload` (nobody registered: the N-day rule) or
    /// `unconfirmed` (people registered: the confirmation period).
    pub clock: String,
    /// Past its due instant under that rule (for a vacant unit: its vacancy lapsed).
    pub overdue: bool,
    /// Days before the unit becomes overdue, a started day counting whole (5 right after
    /// the clock started under the 5-day rule, 0 once overdue); none while vacant.
    pub days_left: Option<i64>,
    /// When the unit becomes overdue, or its vacancy lapses.
    pub due_at: Option<String>,
    pub planned_occupants: Option<i64>,
    pub open_checks: i64,
    pub occupants: Vec<MyOccupant>,
}

/// `me`'s units: last upload, days left, open checks, current occupants (masked).
pub async fn list(ctx: &Context, me: &Sublandlord) -> Result<Vec<MyUnitOut>> {
    let rows = filings::my_units(&ctx.store, me.id).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(unit_out(ctx, row).await?);
    }
    Ok(items)
}

/// One of `me`'s units as listed, or `NotFound`.
pub async fn view(ctx: &Context, me: &Sublandlord, unit_id: i64) -> Result<MyUnitOut> {
    let row = filings::my_unit(&ctx.store, me.id, unit_id)
        .await?
        .ok_or(Error::NotFound)?;
    unit_out(ctx, row).await
}

async fn unit_out(ctx: &Context, u: filings::MyUnit) -> Result<MyUnitOut> {
    let occupants = registrations::current_occupants(&ctx.store, u.id).await?;
    let now = ctx.now();
    let rules = ctx.settings.clock();
    let clock = store::instant(u.clock_from);
    let due = rules.due(u.state, u.clock_kind, clock);
    let overdue = due.is_some_and(|due| due <= now);
    let days_left = match (u.state, rules.period(u.state, u.clock_kind)) {
        (UnitState::Active, Some(period)) => Some(days_left(clock, now, period.num_days())),
        _ => None,
    };
    Ok(MyUnitOut {
        unit_id: u.id,
        community: u.community,
        address: u.address,
        rooms: u.rooms,
        rental_mode: u.rental_mode.as_str().into(),
        state: u.state.as_str().into(),
        last_upload_ms: u.last_upload_at,
        last_upload_at: u
            .last_upload_at
            .map(|ms| store::instant(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        clock: u.clock_kind.as_str().into(),
        overdue,
        days_left,
        due_at: due.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        planned_occupants: u.planned_occupants,
        open_checks: u.open_checks,
        occupants: occupants
            .into_iter()
            .map(|o| MyOccupant {
                id: o.id,
                name: masked_name(&o.name),
                id_type: o.id_type.as_str().into(),
                id_number: o.id_number_masked,
                room: o.room,
                move_in: o.move_in,
            })
            .collect(),
    })
}

/// `me`'s unit `id`, or `NotFound` when it is not theirs (never `Forbidden`: that would
/// confirm it exists).
pub async fn unit(ctx: &Context, me: &Sublandlord, id: i64) -> Result<units::Unit> {
    units::get(&ctx.store, id)
        .await?
        .filter(|u| u.sublandlord_id == Some(me.id))
        .ok_or(Error::NotFound)
}

/// The URL of the current poster of a unit already checked to be the caller's.
pub async fn poster_url(ctx: &Context, unit: &units::Unit) -> Result<String> {
    let token = units::current_token(&ctx.store, &ctx.vault, unit.id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(ctx.poster_url(&token))
}

/// `Conflict` when a unit already checked to be the caller's is closed: nobody registers
/// there any more.
pub fn ensure_open(unit: &units::Unit) -> Result<()> {
    if unit.state == UnitState::Closed {
        return Err(Error::Conflict("该房屋已注销，无法登记".into()));
    }
    Ok(())
}

/// The receipt of an upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct Confirmed {
    pub receipt: String,
}

/// "Occupants unchanged" for a unit already checked to be the caller's: counts as an upload
/// and restarts the unit's clock. `Conflict` where nobody is registered (a vacancy says
/// that) and on a closed unit.
pub async fn confirm_unchanged(
    ctx: &Context,
    caller: &Caller,
    unit: &units::Unit,
) -> Result<Confirmed> {
    if unit.state == UnitState::Closed {
        return Err(Error::Conflict("该房屋已注销，无法确认".into()));
    }
    let receipt = new_receipt(ctx.today());
    registrations::confirm(
        &ctx.store,
        unit.id,
        receipt.clone(),
        Actor::User(caller.user_id),
        store::millis(ctx.now()),
    )
    .await?;
    Ok(Confirmed { receipt })
}

/// Declares a unit already checked to be the caller's vacant: its clock pauses for at most
/// the confirmation period. `Conflict` while people are registered there, unless
/// `everyone_left_on` gives the date they all moved out (recorded in the same step).
pub async fn declare_vacant(
    ctx: &Context,
    caller: &Caller,
    unit: &units::Unit,
    everyone_left_on: Option<&str>,
) -> Result<()> {
    let on = everyone_left_on
        .map(|d| move_out_date(ctx, "moved_out_on", d))
        .transpose()?;
    filings::declare_vacancy(
        &ctx.store,
        unit.id,
        caller.user_id,
        on,
        store::millis(ctx.now()),
    )
    .await?;
    Ok(())
}

/// A move-out date as told: `YYYY-MM-DD`, not after today and within a year.
pub(crate) fn move_out_date(ctx: &Context, field: &str, raw: &str) -> Result<String> {
    let bad = |code, zh, en| Error::field(FieldError::new(field, code, zh, en));
    let date = chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        bad(
            "format",
            "日期格式应为 年-月-日，例如 2026-12-01",
            "Use the form YYYY-MM-DD",
        )
    })?;
    let today = ctx.today();
    if date > today {
        return Err(bad(
            "future",
            "搬离日期不能晚于今天",
            "The move-out date cannot be in the future",
        ));
    }
    if date < today - chrono::Days::new(366) {
        return Err(bad(
            "too_old",
            "搬离日期不能早于一年前",
            "The move-out date cannot be more than a year ago",
        ));
    }
    Ok(date.format("%Y-%m-%d").to_string())
}

/// Records a move-out from a unit already checked to be the caller's, on `on` (a date) if
/// given; `NotFound` unless the occupant currently lives there.
pub async fn move_out(
    ctx: &Context,
    caller: &Caller,
    unit: &units::Unit,
    occupant_id: i64,
    on: Option<&str>,
) -> Result<()> {
    let on = on
        .map(|d| move_out_date(ctx, "moved_out_on", d))
        .transpose()?;
    let moved = filings::move_out(
        &ctx.store,
        unit.id,
        occupant_id,
        Actor::User(caller.user_id),
        on,
        store::millis(ctx.now()),
    )
    .await?;
    if moved {
        tracing::info!(unit_id = unit.id, occupant_id, "occupant moved out");
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// Gives a unit already checked to be the caller's a new poster token (the old poster is
/// gone from now on); the new poster's URL.
pub async fn rotate_poster(ctx: &Context, caller: &Caller, unit: &units::Unit) -> Result<String> {
    let token = units::rotate_token(
        &ctx.store,
        &ctx.vault,
        unit.id,
        Some(caller.user_id),
        store::millis(ctx.now()),
    )
    .await?
    .ok_or(Error::NotFound)?;
    ctx.scan_cache.evict_unit(unit.id);
    tracing::info!(unit_id = unit.id, "poster token rotated by its sublandlord");
    Ok(ctx.poster_url(&token))
}
