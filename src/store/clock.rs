//! A unit's clock and state, changed only inside the transaction of the change that moves
//! them, and its history of those changes.
//!
//! Which rule the clock runs under (`clock_kind`) follows the unit's current occupants:
//! `unconfirmed` while anybody is registered there, `no_upload` while nobody is. An upload
//! sets it (see `upload::mark_upload`); a move-out, a vacancy and the officer's `vacant` result
//! set it here. Every state change writes a `unit_events` row; the newest one with a state
//! always names the unit's current state.

use sqlx::FromRow;

use super::tx::Tx;
use super::{Store, StoreResult};
use crate::domain::door_check::ClockKind;
use crate::domain::unit::{UnitEvent, UnitState};

pub use super::error::Refusal;

/// Who changed a unit's occupants: an account (its role is recorded), a tenant through
/// their self-service link, or the service itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    User(i64),
    Tenant,
    Service,
}

impl Actor {
    /// The account, if one acted.
    pub fn user_id(self) -> Option<i64> {
        match self {
            Actor::User(id) => Some(id),
            _ => None,
        }
    }

    /// The role to record when no account's role applies.
    fn role(self) -> Option<&'static str> {
        (self == Actor::Tenant).then_some("tenant")
    }
}

/// Appends an event to the unit's history; `state` when the event set the unit's state.
/// The role is the acting account's, `tenant` for a tenant, none for the service itself.
pub(crate) async fn record(
    tx: &mut Tx<'_>,
    unit_id: i64,
    event: UnitEvent,
    state: Option<UnitState>,
    by: Actor,
    detail: Option<String>,
    at_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        r"insert into unit_events (unit_id, event, state, user_id, role, detail, created_at)
          values ($1, $2, $3, $4, coalesce($7, (select role from users where id = $4)), $5,
                  $6)",
    )
    .bind(unit_id)
    .bind(event.as_str())
    .bind(state.map(UnitState::as_str))
    .bind(by.user_id())
    .bind(detail)
    .bind(at_ms)
    .bind(by.role())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The SQL expression of a unit's newest recorded state (`u` is the unit): a unit is
/// created active, so one with no state in its history is active.
pub(crate) const RECORDED_STATE: &str = "coalesce((select e.state from unit_events e
     where e.unit_id = u.id and e.state is not null order by e.id desc limit 1), 'active')";

/// Records `event` with the unit's current state if that differs from the newest recorded
/// one (a change made by a statement that could not tell the old state from the new).
pub(crate) async fn record_state_change(
    tx: &mut Tx<'_>,
    unit_id: i64,
    event: UnitEvent,
    user_id: Option<i64>,
    at_ms: i64,
) -> StoreResult<()> {
    let sql = format!(
        r"insert into unit_events (unit_id, event, state, user_id, role, created_at)
          select u.id, $2, u.state, $3, (select role from users where id = $3), $4
          from units u where u.id = $1 and u.state <> {RECORDED_STATE}"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(unit_id)
        .bind(event.as_str())
        .bind(user_id)
        .bind(at_ms)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// How many people are registered in the unit now.
pub(crate) async fn current_occupants(tx: &mut Tx<'_>, unit_id: i64) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "select count(*) from occupants where unit_id = $1 and moved_out_at is null",
    )
    .bind(unit_id)
    .fetch_one(tx.conn())
    .await?)
}

/// The unit's state, read under the unit's lock.
pub(crate) async fn state(tx: &mut Tx<'_>, unit_id: i64) -> StoreResult<Option<UnitState>> {
    Ok(sqlx::query_scalar("select state from units where id = $1")
        .bind(unit_id)
        .fetch_optional(tx.conn())
        .await?)
}

/// Records that everybody registered in the unit moved out (on `on`, a date, if given);
/// returns how many. `undoable`: the account may take it back within the undo window (a
/// sublandlord's slip; an officer's finding at the door is not a slip).
pub(crate) async fn move_everyone_out(
    tx: &mut Tx<'_>,
    unit_id: i64,
    by: Actor,
    on: Option<&str>,
    undoable: bool,
    at_ms: i64,
) -> StoreResult<u64> {
    let before = clock_now(tx, unit_id).await?;
    let done = sqlx::query(
        r"update occupants set moved_out_at = $1, moved_out_by = $2, moved_out_on = $3
          where unit_id = $4 and moved_out_at is null",
    )
    .bind(at_ms)
    .bind(by.user_id())
    .bind(on)
    .bind(unit_id)
    .execute(tx.conn())
    .await?;
    let moved = done.rows_affected();
    if moved > 0 {
        record(
            tx,
            unit_id,
            UnitEvent::MovedOut,
            None,
            by,
            Some(serde_json::json!({ "moved_out": moved, "remaining": 0 }).to_string()),
            at_ms,
        )
        .await?;
        if undoable {
            keep_clock(tx, unit_id, UnitEvent::MovedOut, at_ms, before).await?;
        }
        settle_after_move_out(tx, unit_id, at_ms).await?;
    }
    Ok(moved)
}

/// After a move-out: a unit left with nobody registered runs under the N-day rule from now
/// (to be let again or declared vacant); one with people left keeps its clock.
pub(crate) async fn settle_after_move_out(
    tx: &mut Tx<'_>,
    unit_id: i64,
    at_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        r"update units set clock_kind = 'no_upload',
              clock_from = case when clock_from < $1 then $1 else clock_from end
          where id = $2 and clock_kind = 'unconfirmed'
            and not exists (select 1 from occupants o
                            where o.unit_id = units.id and o.moved_out_at is null)",
    )
    .bind(at_ms)
    .bind(unit_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Declares an active unit with nobody registered vacant: the clock pauses from now for at
/// most the confirmation period. Returns whether the unit was active (a vacant one is left
/// as it is). `undoable` as for [`move_everyone_out`].
pub(crate) async fn vacate(
    tx: &mut Tx<'_>,
    unit_id: i64,
    by: Actor,
    undoable: bool,
    at_ms: i64,
) -> StoreResult<bool> {
    let before = clock_now(tx, unit_id).await?;
    let done = sqlx::query(
        r"update units set state = 'vacant', clock_kind = 'no_upload',
              clock_from = $1
          where id = $2 and state = 'active'",
    )
    .bind(at_ms)
    .bind(unit_id)
    .execute(tx.conn())
    .await?;
    let vacated = done.rows_affected() == 1;
    if vacated {
        record(
            tx,
            unit_id,
            UnitEvent::Vacant,
            Some(UnitState::Vacant),
            by,
            None,
            at_ms,
        )
        .await?;
        if undoable {
            keep_clock(tx, unit_id, UnitEvent::Vacant, at_ms, before).await?;
        }
    }
    Ok(vacated)
}

/// Renews a standing vacancy from now: the unit is declared vacant again before (or after)
/// its vacancy lapsed.
pub(crate) async fn renew_vacancy(
    tx: &mut Tx<'_>,
    unit_id: i64,
    by: Actor,
    at_ms: i64,
) -> StoreResult<()> {
    let done = sqlx::query(
        r"update units set clock_from = $1
          where id = $2 and state = 'vacant' and clock_from < $1",
    )
    .bind(at_ms)
    .bind(unit_id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 1 {
        record(
            tx,
            unit_id,
            UnitEvent::Vacant,
            Some(UnitState::Vacant),
            by,
            Some(serde_json::json!({ "renewed": true }).to_string()),
            at_ms,
        )
        .await?;
    }
    Ok(())
}

/// Ends every vacancy declared at or before `cutoff_ms` (the confirmation period ago): the
/// unit is active again with its clock from the declaration, so the N-day rule finds it
/// overdue at once. Each lapse is recorded once, at the instant it lapsed, whichever sweep
/// sees it first. Returns how many lapsed.
pub(crate) async fn lapse_vacancies(
    tx: &mut Tx<'_>,
    cutoff_ms: i64,
    period_ms: i64,
) -> StoreResult<u64> {
    sqlx::query(
        r"insert into unit_events (unit_id, event, state, created_at)
          select id, 'vacancy_lapsed', 'active', clock_from + $1 from units
          where state = 'vacant' and clock_kind = 'no_upload' and clock_from <= $2
          on conflict do nothing",
    )
    .bind(period_ms)
    .bind(cutoff_ms)
    .execute(tx.conn())
    .await?;
    let done = sqlx::query(
        r"update units set state = 'active'
          where state = 'vacant' and clock_kind = 'no_upload' and clock_from <= $1",
    )
    .bind(cutoff_ms)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// The unit's clock now: what an undoable event keeps before it changes it.
pub(crate) async fn clock_now(tx: &mut Tx<'_>, unit_id: i64) -> StoreResult<(ClockKind, i64)> {
    let (kind, from): (String, i64) =
        sqlx::query_as("select clock_kind, clock_from from units where id = $1")
            .bind(unit_id)
            .fetch_one(tx.conn())
            .await?;
    let kind = ClockKind::parse(&kind)
        .ok_or_else(|| anyhow::anyhow!("unit {unit_id}: unknown clock kind {kind:?}"))?;
    Ok((kind, from))
}

/// Marks the move-out or vacancy just recorded for `unit_id` at `at_ms` as one that can be
/// undone, with the clock it replaced. Named by unit, kind and instant: a sweep may record a
/// lapse for the unit at the same time without holding its lock.
pub(crate) async fn keep_clock(
    tx: &mut Tx<'_>,
    unit_id: i64,
    event: UnitEvent,
    at_ms: i64,
    (kind, from): (ClockKind, i64),
) -> StoreResult<()> {
    sqlx::query(
        r"update unit_events set clock_kind_before = $1, clock_from_before = $2
          where id = (select max(id) from unit_events
                      where unit_id = $3 and event = $4 and created_at = $5)",
    )
    .bind(kind.as_str())
    .bind(from)
    .bind(unit_id)
    .bind(event.as_str())
    .bind(at_ms)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One line of a unit's history.
#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub event: UnitEvent,
    pub state: Option<UnitState>,
    pub role: Option<String>,
    pub detail: Option<String>,
    pub created_at: i64,
}

/// The unit's newest `limit` events, newest first.
pub async fn history(store: &Store, unit_id: i64, limit: i64) -> StoreResult<Vec<EventRow>> {
    Ok(sqlx::query_as(
        r"select event, state, role, detail, created_at from unit_events
          where unit_id = $1 order by id desc limit $2",
    )
    .bind(unit_id)
    .bind(limit)
    .fetch_all(store.pool())
    .await?)
}
