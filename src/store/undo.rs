//! Undoing an accidental move-out or vacancy: by the account that made it, within a window
//! (a day), at most once, and only while nothing has happened since that the undo would
//! contradict.
//!
//! A move-out or vacancy event keeps the clock it replaced (`clock_kind_before`,
//! `clock_from_before`). The people a move-out event moved out are those whose
//! `moved_out_at` is the event's instant and `moved_out_by` its account: the same statement
//! wrote both. "Everyone out and vacant" is two events at one instant; undoing either undoes
//! both.

use sqlx::FromRow;

use super::clock::{self, Actor, Refusal};
use super::ledger::{Persons, refresh_ledger};
use super::tx::transaction;
use super::upload::lock_unit;
use super::{Store, StoreResult};
use crate::domain::door_check::ClockKind;
use crate::domain::unit::{UnitEvent, UnitState};

/// One change the caller may still undo.
#[derive(Debug, Clone, FromRow)]
pub struct Undoable {
    pub event_id: i64,
    pub event: UnitEvent,
    pub created_at: i64,
}

/// The move-outs and vacancies of `unit_id` that `user_id` made since `since_ms`, has not
/// undone, and could still undo (nothing uploaded since; a vacancy still the standing one, a
/// move-out on a unit still let), newest first; one line per instant (everyone out and
/// vacant is one line).
pub async fn undoable(
    store: &Store,
    unit_id: i64,
    user_id: i64,
    since_ms: i64,
) -> StoreResult<Vec<Undoable>> {
    Ok(sqlx::query_as(
        r"select max(e.id) as event_id, max(e.event) as event, e.created_at
          from unit_events e join units u on u.id = e.unit_id
          where e.unit_id = $1 and e.user_id = $2 and e.created_at > $3
            and e.undone_at is null and e.clock_kind_before is not null
            and coalesce(u.last_upload_at, 0) <= e.created_at
          group by e.created_at
          having (max(e.event) = 'vacant' and max(u.state) = 'vacant'
                  and max(u.clock_from) = e.created_at)
              or (max(e.event) = 'moved_out' and max(u.state) = 'active')
          order by e.created_at desc",
    )
    .bind(unit_id)
    .bind(user_id)
    .bind(since_ms)
    .fetch_all(store.pool())
    .await?)
}

/// The names (as stored) of the people a move-out at `at_ms` by `user_id` moved out.
pub async fn moved_out_by(
    store: &Store,
    unit_id: i64,
    user_id: i64,
    at_ms: i64,
) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        r"select name from occupants
          where unit_id = $1 and moved_out_at = $2 and moved_out_by = $3 order by id",
    )
    .bind(unit_id)
    .bind(at_ms)
    .bind(user_id)
    .fetch_all(store.pool())
    .await?)
}

#[derive(Debug, FromRow)]
struct Done {
    id: i64,
    event: UnitEvent,
    created_at: i64,
    clock_kind_before: Option<String>,
    clock_from_before: Option<i64>,
}

/// What an undo put back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Undone {
    /// People registered again.
    pub people: u64,
    /// Whether a vacancy was withdrawn.
    pub vacancy: bool,
}

/// Undoes event `event_id` of `unit_id` (and whatever else `user_id` did to the unit at the
/// same instant), if `user_id` made it after `since_ms` and it is not undone yet; refused
/// when the unit changed since in a way the undo would contradict.
pub async fn undo(
    store: &Store,
    unit_id: i64,
    event_id: i64,
    user_id: i64,
    since_ms: i64,
    now_ms: i64,
) -> StoreResult<Undone> {
    transaction!(store, |tx| {
        lock_unit(tx, unit_id).await?;
        let events: Vec<Done> = sqlx::query_as(
            r"select e.id, e.event, e.created_at, e.clock_kind_before, e.clock_from_before
              from unit_events e, unit_events chosen
              where chosen.id = $1 and chosen.unit_id = $2 and chosen.user_id = $3
                and chosen.created_at > $4
                and e.unit_id = chosen.unit_id and e.user_id = chosen.user_id
                and e.created_at = chosen.created_at
                and e.undone_at is null and e.clock_kind_before is not null
              order by e.id",
        )
        .bind(event_id)
        .bind(unit_id)
        .bind(user_id)
        .bind(since_ms)
        .fetch_all(tx.conn())
        .await?;
        let Some(first) = events.first() else {
            return Err(Refusal::NothingToUndo.into());
        };
        let at = first.created_at;
        // The clock before the first change of the instant is the one to put back.
        let before = ClockKind::parse(first.clock_kind_before.as_deref().unwrap_or_default())
            .zip(first.clock_from_before)
            .ok_or(Refusal::NothingToUndo)?;
        let vacancy = events.iter().any(|e| e.event == UnitEvent::Vacant);
        if vacancy {
            // Still the vacancy declared then: not renewed, lapsed, let again or closed.
            let current: Option<(String, i64)> =
                sqlx::query_as("select state, clock_from from units where id = $1")
                    .bind(unit_id)
                    .fetch_optional(tx.conn())
                    .await?;
            if current != Some((UnitState::Vacant.as_str().to_string(), at)) {
                return Err(Refusal::ChangedSince.into());
            }
        } else if clock::state(tx, unit_id).await? != Some(UnitState::Active) {
            // A vacancy or closure came after the move-out: that is undone first, or stays.
            return Err(Refusal::ChangedSince.into());
        }
        // Since then: an upload (a registration, a confirmation, an officer's visit) restarted
        // the clock from newer news; a person to restore was purged, or is registered again
        // (here or elsewhere). Putting the old picture back would contradict any of these.
        let changed: i64 = sqlx::query_scalar(
            r"select (select count(*) from units
                      where id = $1 and coalesce(last_upload_at, 0) > $2)
                   + (select count(*) from occupants o
                      where o.unit_id = $1 and o.moved_out_at = $2 and o.moved_out_by = $3
                        and (o.purged_at is not null
                             or exists (select 1 from occupants c
                                        where c.id_number_index = o.id_number_index
                                          and c.moved_out_at is null)))",
        )
        .bind(unit_id)
        .bind(at)
        .bind(user_id)
        .fetch_one(tx.conn())
        .await?;
        if changed > 0 {
            return Err(Refusal::ChangedSince.into());
        }
        let people = sqlx::query(
            r"update occupants set moved_out_at = null, moved_out_by = null, moved_out_on = null
              where unit_id = $1 and moved_out_at = $2 and moved_out_by = $3
                and purged_at is null",
        )
        .bind(unit_id)
        .bind(at)
        .bind(user_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        // Back to the clock of before, unless someone registered since (the clock then runs
        // from that upload, which stays).
        sqlx::query(
            r"update units set state = 'active', clock_kind = $1, clock_from = $2
              where id = $3 and (state = 'vacant' or clock_kind = 'no_upload')",
        )
        .bind(before.0.as_str())
        .bind(before.1)
        .bind(unit_id)
        .execute(tx.conn())
        .await?;
        for e in &events {
            sqlx::query("update unit_events set undone_at = $1 where id = $2")
                .bind(now_ms)
                .bind(e.id)
                .execute(tx.conn())
                .await?;
        }
        let detail = serde_json::json!({
            "undoes": first.id,
            "restored": people,
            "vacancy": vacancy,
        });
        clock::record(
            tx,
            unit_id,
            UnitEvent::Undone,
            vacancy.then_some(UnitState::Active),
            Actor::User(user_id),
            Some(detail.to_string()),
            now_ms,
        )
        .await?;
        if people > 0 {
            refresh_ledger(tx, Persons::OfUnit(unit_id)).await?;
        }
        let entry = super::audit::Entry {
            user_id: Some(user_id),
            action: if vacancy {
                "unit.vacancy_undone"
            } else {
                "occupant.move_out_undone"
            }
            .into(),
            subject: Some(format!("unit:{unit_id}")),
            detail: Some(detail.to_string()),
            reason: None,
        };
        super::audit::append_in(tx, &entry, now_ms).await?;
        Ok(Undone { people, vacancy })
    })
    .await
}
