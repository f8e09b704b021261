//! Reminders and digests: the units and occupants whose clock falls due soon, the
//! communities' figures, and the once-only record that queues each message once.
//!
//! Both reminder queries walk the `units_clock` index `(state, clock_kind, clock_from, id)`
//! over the two days of clocks that fall due next, a bounded batch at a time in
//! `(clock_from, id)` order, like the sweep: the work follows the units about to be due,
//! never the city's units or occupants. Occupants are reached from those units through the
//! partial index `occupants_reminded`, which holds only current ones who asked.

use sqlx::FromRow;

use super::tx::transaction;
use super::{Store, StoreResult, instant, outbox};
use crate::domain::door_check::ClockKind;
use crate::domain::event::NewEvent;
use crate::domain::reminder::{ClockedUnit, DigestFigures, Once, RemindedOccupant};

/// Where a batch starts: after this `(clock_from, id)` of the unit (and occupant id).
pub type After = (i64, i64, i64);

/// The start of a walk.
pub const FIRST: After = (i64::MIN, i64::MIN, i64::MIN);

#[derive(FromRow)]
struct UnitRow {
    id: i64,
    community_id: i64,
    address: String,
    sublandlord_id: i64,
    clock_from: i64,
}

/// Up to `limit` active units under `kind` with a sublandlord whose clock started in
/// `(from_ms, to_ms]`, after `after`, in `(clock_from, id)` order.
pub async fn clocked_units(
    store: &Store,
    kind: ClockKind,
    (from_ms, to_ms): (i64, i64),
    after: After,
    limit: i64,
) -> StoreResult<Vec<ClockedUnit>> {
    let rows: Vec<UnitRow> = sqlx::query_as(
        r"select id, community_id, address, sublandlord_id, clock_from from units
          where state = 'active' and clock_kind = $1 and clock_from > $2 and clock_from <= $3
            and (clock_from, id) > ($4, $5) and sublandlord_id is not null
          order by clock_from, id limit $6",
    )
    .bind(kind.as_str())
    .bind(from_ms)
    .bind(to_ms)
    .bind(after.0)
    .bind(after.1)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ClockedUnit {
            unit_id: r.id,
            community_id: r.community_id,
            address: r.address,
            sublandlord_id: r.sublandlord_id,
            kind,
            clock_from: instant(r.clock_from),
        })
        .collect())
}

#[derive(FromRow)]
struct OccupantRow {
    id: i64,
    registration_id: i64,
    unit_id: i64,
    community_id: i64,
    address: String,
    clock_from: i64,
}

/// Up to `limit` current occupants who left a phone and asked to be reminded, of active
/// units under the confirmation clock that started in `(from_ms, to_ms]`, after `after`, in
/// `(clock_from, unit, occupant)` order.
pub async fn reminded_occupants(
    store: &Store,
    (from_ms, to_ms): (i64, i64),
    after: After,
    limit: i64,
) -> StoreResult<Vec<RemindedOccupant>> {
    let rows: Vec<OccupantRow> = sqlx::query_as(
        r"select o.id, o.registration_id, u.id as unit_id, u.community_id, u.address,
                 u.clock_from
          from units u
          join occupants o on o.unit_id = u.id and o.moved_out_at is null
                          and o.remind_ok and o.phone_enc is not null
          where u.state = 'active' and u.clock_kind = 'unconfirmed'
            and u.clock_from > $1 and u.clock_from <= $2
            and (u.clock_from, u.id, o.id) > ($3, $4, $5)
          order by u.clock_from, u.id, o.id limit $6",
    )
    .bind(from_ms)
    .bind(to_ms)
    .bind(after.0)
    .bind(after.1)
    .bind(after.2)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| RemindedOccupant {
            occupant_id: r.id,
            registration_id: r.registration_id,
            unit_id: r.unit_id,
            community_id: r.community_id,
            address: r.address,
            clock_from: instant(r.clock_from),
        })
        .collect())
}

#[derive(FromRow)]
struct FiguresRow {
    id: i64,
    new_checks: i64,
    open_checks: i64,
    oldest_open: Option<i64>,
    results: i64,
}

/// Every community's digest figures, in one query: checks opened and results recorded in
/// `[from_ms, to_ms)`, checks open now and when the oldest of them was opened. Each count
/// is an index range scan (`door_checks_by_opened`, `open_check_counts`,
/// `door_checks_open_by_age`, `door_check_events_by_time`).
pub async fn digest_figures(
    store: &Store,
    (from_ms, to_ms): (i64, i64),
) -> StoreResult<Vec<DigestFigures>> {
    let rows: Vec<FiguresRow> = sqlx::query_as(
        r"select c.id,
                 (select count(*) from door_checks d
                  where d.community_id = c.id and d.opened_at >= $1 and d.opened_at < $2)
                     as new_checks,
                 cast(coalesce((select sum(k.open) from open_check_counts k
                                where k.community_id = c.id), 0) as bigint) as open_checks,
                 (select min(d.opened_at) from door_checks d
                  where d.community_id = c.id and d.status = 'open') as oldest_open,
                 (select count(*) from door_check_events e
                  join door_checks d on d.id = e.door_check_id
                  where e.created_at >= $1 and e.created_at < $2
                    and e.user_id is not null and d.community_id = c.id) as results
          from communities c order by c.id",
    )
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DigestFigures {
            community_id: r.id,
            new_checks: r.new_checks,
            open_checks: r.open_checks,
            oldest_open: r.oldest_open.map(instant),
            results_yesterday: r.results,
        })
        .collect())
}

/// Queues each event whose key was never kept, keeping the key in the same transaction;
/// returns how many it queued. A key kept already, by an earlier run or by another
/// instance at the same moment, queues nothing: on PostgreSQL the second insert waits for
/// the first transaction and then finds the row.
pub async fn queue_once(
    store: &Store,
    messages: Vec<(Once, NewEvent)>,
    now_ms: i64,
) -> StoreResult<u64> {
    if messages.is_empty() {
        return Ok(0);
    }
    transaction!(store, |tx| {
        let mut queued = 0;
        for (once, event) in &messages {
            let kept = sqlx::query(
                r"insert into reminders_sent (kind, subject_id, due_at, stage, sent_at)
                  values ($1, $2, $3, $4, $5)
                  on conflict do nothing",
            )
            .bind(once.kind)
            .bind(once.subject_id)
            .bind(once.due_at)
            .bind(once.stage)
            .bind(now_ms)
            .execute(tx.conn())
            .await?;
            if kept.rows_affected() == 1 {
                outbox::enqueue_in(tx, event, now_ms).await?;
                queued += 1;
            }
        }
        Ok(queued)
    })
    .await
}

/// Forgets the keys of reminders and digests whose deadline or day ended before
/// `before_ms`: none of them can be queued again, so the key has done its work.
pub async fn forget(store: &Store, before_ms: i64) -> StoreResult<u64> {
    let done = sqlx::query("delete from reminders_sent where due_at < $1")
        .bind(before_ms)
        .execute(store.pool())
        .await?;
    Ok(done.rows_affected())
}

/// Whether unit `unit_id` still runs the clock a reminder was queued for (`clock_kind`
/// started at `clock_from_ms`, not paused): an upload, a confirmation or a vacancy since
/// makes the reminder untrue, and it is not sent.
pub async fn still_due(
    store: &Store,
    unit_id: i64,
    clock_kind: &str,
    clock_from_ms: i64,
) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        r"select id from units
          where id = $1 and state = 'active' and clock_kind = $2 and clock_from = $3",
    )
    .bind(unit_id)
    .bind(clock_kind)
    .bind(clock_from_ms)
    .fetch_optional(store.pool())
    .await?;
    Ok(found.is_some())
}
