//! The overdue sweep and the door-check queue.

use futures_util::{StreamExt, TryStreamExt};
use sqlx::{AssertSqlSafe, FromRow};

use super::clock;
use super::ledger::count_opened_checks;
use super::scope::{Scope, scope_id, scope_sql};
use super::tx::transaction;
use super::{Store, StoreResult};
use crate::domain::door_check::{ClockKind, ClockRules, Reason, Resolution, Status};

/// Overdue units swept per transaction: keeps each write short so registrations never wait
/// long behind the sweep of a whole city.
const SWEEP_CHUNK: i64 = 50_000;

/// Chunks written at once. On PostgreSQL each is a server process of its own, so a city's
/// sweep uses two cores instead of one (5,000,000 units: BENCHMARKS.md, "A city on
/// PostgreSQL"); SQLite's single writer takes them in turn.
const SWEEP_WRITERS: usize = 2;

/// Sweeps as of `at_ms` under `rules`: ends the vacancies that have lapsed, then opens a
/// `no_upload` check for every active unit with nobody registered whose clock started the
/// N days ago, and an `unconfirmed` check for every occupied one whose last upload or
/// confirmation is the confirmation period old. Returns how many checks it created.
/// Idempotent: the unique index on open checks makes a second sweep, or a concurrent one on
/// another instance, create nothing again.
///
/// Each rule walks only its overdue units, in `(clock_from, id)` order along the
/// `units_clock` index, a chunk per transaction; memory stays flat whatever the number of
/// units.
pub async fn sweep(store: &Store, at_ms: i64, rules: ClockRules) -> StoreResult<u64> {
    sweep_in_chunks(store, at_ms, rules, SWEEP_CHUNK).await
}

/// [`sweep`] with a chosen chunk size (tests use small ones to cross chunk boundaries).
pub async fn sweep_in_chunks(
    store: &Store,
    at_ms: i64,
    rules: ClockRules,
    chunk: i64,
) -> StoreResult<u64> {
    let day_ms = 86_400_000;
    let overdue_ms = i64::from(rules.overdue_days) * day_ms;
    let confirm_ms = i64::from(rules.confirm_days) * day_ms;
    transaction!(store, |tx| {
        clock::lapse_vacancies(tx, at_ms - confirm_ms, confirm_ms).await
    })
    .await?;
    let mut chunks = Vec::new();
    for (kind, period_ms) in [
        (ClockKind::NoUpload, overdue_ms),
        (ClockKind::Unconfirmed, confirm_ms),
    ] {
        chunks.extend(chunks_of_rule(store, at_ms - period_ms, kind, period_ms, chunk).await?);
    }
    let created = futures_util::stream::iter(chunks)
        .map(|c| sweep_chunk(store, at_ms, c))
        .buffer_unordered(SWEEP_WRITERS)
        .try_fold(0, |sum, n| async move { Ok(sum + n) })
        .await?;
    if created >= 10_000 {
        // Fresh statistics right away: until autovacuum notices, the planner would take a
        // table that grew by a city's worth of checks for an empty one.
        store.analyze("door_checks").await?;
    }
    Ok(created)
}

/// One transaction's share of a rule: its overdue units after `after` up to and with
/// `upto` in `(clock_from, id)` order.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    kind: ClockKind,
    period_ms: i64,
    after: (i64, i64),
    upto: (i64, i64),
}

/// Cuts a rule's overdue units (active, under `kind`, clock started at or before
/// `cutoff_ms`) into chunks of `chunk` units, walking the `units_clock` index. A unit whose
/// clock moves meanwhile is judged again when its chunk is written; the last chunk is open
/// at its end, so a unit that falls due meanwhile is not missed either.
async fn chunks_of_rule(
    store: &Store,
    cutoff_ms: i64,
    kind: ClockKind,
    period_ms: i64,
    chunk: i64,
) -> StoreResult<Vec<Chunk>> {
    let mut chunks = Vec::new();
    let mut after = (i64::MIN, i64::MIN);
    loop {
        // Where this chunk ends: the CHUNK-th overdue unit after the previous chunk.
        let end: Option<(i64, i64)> = sqlx::query_as(
            r"select clock_from, id from units
              where state = 'active' and clock_kind = $5 and clock_from <= $1
                and (clock_from, id) > ($2, $3)
              order by clock_from, id limit 1 offset $4",
        )
        .bind(cutoff_ms)
        .bind(after.0)
        .bind(after.1)
        .bind(chunk - 1)
        .bind(kind.as_str())
        .fetch_optional(store.pool())
        .await?;
        let upto = end.unwrap_or((i64::MAX, i64::MAX));
        chunks.push(Chunk {
            kind,
            period_ms,
            after,
            upto,
        });
        match end {
            Some(end) => after = end,
            None => return Ok(chunks),
        }
    }
}

/// Opens the checks of one chunk, queued by when each unit became due, in a transaction of
/// its own; returns how many it opened.
async fn sweep_chunk(store: &Store, at_ms: i64, c: Chunk) -> StoreResult<u64> {
    let reason = ClockRules::reason(c.kind).as_str();
    transaction!(store, |tx| {
        // Units already in the queue are skipped by the unique index itself
        // (`on conflict do nothing`), which also settles a race with a sweep elsewhere.
        // A `not exists` anti-join was slower on PostgreSQL: planned against an empty
        // table, it scanned the rows it was inserting.
        let opened: Vec<i64> = sqlx::query_scalar(
            r"insert into door_checks
                          (unit_id, community_id, reason, status, opened_at, queue_key)
                      select id, community_id, $7, 'open', $1, clock_from + $8
                      from units
                      where state = 'active' and clock_kind = $9 and clock_from <= $2
                        and (clock_from, id) > ($3, $4) and (clock_from, id) <= ($5, $6)
                      on conflict do nothing
                      returning unit_id",
        )
        .bind(at_ms)
        .bind(at_ms - c.period_ms)
        .bind(c.after.0)
        .bind(c.after.1)
        .bind(c.upto.0)
        .bind(c.upto.1)
        .bind(reason)
        .bind(c.period_ms)
        .bind(c.kind.as_str())
        .fetch_all(tx.conn())
        .await?;
        // The sublandlords of these units have new open checks in the ledger: counted from
        // the rows this statement inserted, so a concurrent or repeated sweep never counts
        // a check twice, and in this chunk's transaction, so that their ledger rows are
        // locked for one chunk's time, not the whole sweep's.
        count_opened_checks(tx, &opened).await?;
        Ok(opened.len() as u64)
    })
    .await
}

/// How the open queue is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Most overdue first; unreachable attempts move a check down for a day.
    Urgency,
    /// By address, so that one road and lane can be walked in order.
    Address,
}

/// Filters of the queue.
#[derive(Debug, Clone)]
pub struct QueueFilter {
    pub scope: Scope,
    pub status: Status,
    pub reason: Option<Reason>,
    pub order: Order,
}

/// One line of the queue.
#[derive(Debug, Clone, FromRow)]
pub struct QueueItem {
    pub id: i64,
    pub unit_id: i64,
    pub address: String,
    pub community: String,
    pub reason: Reason,
    pub status: Status,
    pub outcome: Option<Resolution>,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub clock_from: i64,
    pub attempts: i64,
    pub deferred_until: i64,
    /// The other unit's address, for a check about two units (`identity_conflict`).
    pub related_address: Option<String>,
    /// The username of the officer the check was given to.
    pub assignee: Option<String>,
}

pub(crate) const ITEM_COLUMNS: &str = r"select d.id, d.unit_id, u.address, c.name as community, d.reason,
        d.status, d.outcome, d.opened_at, d.closed_at, u.clock_from, d.attempts, d.deferred_until,
        r.address as related_address,
        (select a.username from users a where a.id = d.assigned_to) as assignee
    from door_checks d
    join units u on u.id = d.unit_id
    join communities c on c.id = d.community_id
    left join units r on r.id = d.related_unit_id";

/// The `where` clause of a filter, with `$1` = scope id (or unused), `$2` = reason (or
/// unused). Built only from fixed fragments; every value is bound. The status is written out
/// so that PostgreSQL's generic plans still see that the open queue's partial indexes apply.
fn where_clause(filter: &QueueFilter) -> String {
    let mut sql = String::from(if filter.status == Status::Open {
        " where d.status = 'open'"
    } else {
        " where d.status = 'closed'"
    });
    sql.push_str(&scope_sql(filter.scope, "d"));
    sql.push_str(if filter.reason.is_some() {
        " and d.reason = $2"
    } else {
        " and $2 = $2"
    });
    sql
}

/// One page of the queue and the total number of matching checks.
pub async fn list(
    store: &Store,
    filter: &QueueFilter,
    now_ms: i64,
    offset: i64,
    limit: i64,
) -> StoreResult<(Vec<QueueItem>, i64)> {
    let total = if filter.status == Status::Open {
        open_total(store, filter).await?
    } else {
        sqlx::query_scalar(AssertSqlSafe(format!(
            "select count(*) from door_checks d{}",
            where_clause(filter)
        )))
        .bind(scope_id(filter.scope))
        .bind(filter.reason.map_or("", Reason::as_str))
        .fetch_one(store.pool())
        .await?
    };
    Ok((page(store, filter, now_ms, offset, limit).await?, total))
}

/// One page of a queue, without its total (for a caller that knows it already).
pub async fn page(
    store: &Store,
    filter: &QueueFilter,
    now_ms: i64,
    offset: i64,
    limit: i64,
) -> StoreResult<Vec<QueueItem>> {
    let clause = where_clause(filter);
    let reason = filter.reason.map_or("", Reason::as_str);
    let page = |extra: &str, order: &str, offset: i64, limit: i64| {
        let sql = format!("{ITEM_COLUMNS}{clause}{extra} order by {order} limit $4 offset $5");
        sqlx::query_as::<_, QueueItem>(AssertSqlSafe(sql))
            .bind(scope_id(filter.scope))
            .bind(reason)
            .bind(now_ms)
            .bind(limit)
            .bind(offset)
            .fetch_all(store.pool())
    };
    let items = match (filter.status, filter.order) {
        (Status::Open, Order::Urgency) => {
            // Two index-ordered segments instead of one sort over the whole queue: checks
            // ready now, then those deferred by an unreachable attempt.
            let ready = " and d.deferred_until <= $3";
            let deferred = " and d.deferred_until > $3";
            let mut items = page(ready, "d.queue_key, d.id", offset, limit).await?;
            if (items.len() as i64) < limit {
                // An empty first page means nothing is ready: only a later page needs to
                // count how many ready checks it skipped past.
                let ready_count = if items.is_empty() && offset > 0 {
                    count_ready(store, filter, &clause, now_ms).await?
                } else {
                    offset + items.len() as i64
                };
                let rest = limit - items.len() as i64;
                let skip = (offset - ready_count).max(0);
                items.extend(page(deferred, "d.queue_key, d.id", skip, rest).await?);
            }
            items
        }
        (Status::Open, Order::Address) => {
            page(" and $3 = $3", "u.address_key, d.id", offset, limit).await?
        }
        _ => page(" and $3 = $3", "d.closed_at desc, d.id desc", offset, limit).await?,
    };
    Ok(items)
}

/// The number of open checks a filter matches, from the counters the database keeps.
async fn open_total(store: &Store, filter: &QueueFilter) -> StoreResult<i64> {
    let reason = if filter.reason.is_some() {
        " and c.reason = $2"
    } else {
        " and $2 = $2"
    };
    // sum() is numeric on PostgreSQL: cast back to the integer both backends read.
    let sql = format!(
        "select cast(coalesce(sum(c.open), 0) as bigint) from open_check_counts c where 1 = 1{}{reason}",
        scope_sql(filter.scope, "c")
    );
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(scope_id(filter.scope))
        .bind(filter.reason.map_or("", Reason::as_str))
        .fetch_one(store.pool())
        .await?;
    Ok(total)
}

async fn count_ready(
    store: &Store,
    filter: &QueueFilter,
    clause: &str,
    now_ms: i64,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(AssertSqlSafe(format!(
        "select count(*) from door_checks d{clause} and d.deferred_until <= $3"
    )))
    .bind(scope_id(filter.scope))
    .bind(filter.reason.map_or("", Reason::as_str))
    .bind(now_ms)
    .fetch_one(store.pool())
    .await?)
}

/// Counts of open checks by reason within a scope.
pub async fn open_counts(store: &Store, scope: Scope) -> StoreResult<Vec<(Reason, i64)>> {
    let sql = format!(
        r"select c.reason, cast(sum(c.open) as bigint) from open_check_counts c
          where c.open > 0{} group by c.reason order by c.reason",
        scope_sql(scope, "c")
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(scope_id(scope))
        .fetch_all(store.pool())
        .await?)
}

/// The open checks of some units (at most 200): unit, check and reason, oldest first.
pub async fn open_reasons_of(store: &Store, units: &[i64]) -> StoreResult<Vec<(i64, i64, Reason)>> {
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let units = &units[..units.len().min(200)];
    // A placeholder per unit: the list is short and every value is still bound.
    let marks = (1..=units.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "select unit_id, id, reason from door_checks
         where status = 'open' and unit_id in ({marks}) order by opened_at, id"
    );
    let mut query = sqlx::query_as(AssertSqlSafe(sql));
    for unit in units {
        query = query.bind(*unit);
    }
    Ok(query.fetch_all(store.pool()).await?)
}

/// A door check with what scope checks need.
#[derive(Debug, Clone, FromRow)]
pub struct DoorCheck {
    pub id: i64,
    pub unit_id: i64,
    pub community_id: i64,
    pub reason: Reason,
    pub status: Status,
    pub outcome: Option<Resolution>,
    pub details: Option<String>,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub attempts: i64,
    pub note: Option<String>,
    /// The other unit's address, for a check about two units (`identity_conflict`).
    pub related_address: Option<String>,
    /// The officer the check was given to: account id and username.
    pub assigned_to: Option<i64>,
    pub assignee: Option<String>,
}

const CHECK_COLUMNS: &str = r"select id, unit_id, community_id, reason, status, outcome, details,
        opened_at, closed_at, attempts, note,
        (select r.address from units r where r.id = door_checks.related_unit_id)
            as related_address, assigned_to,
        (select a.username from users a where a.id = door_checks.assigned_to) as assignee
    from door_checks";

/// One door check.
pub async fn get(store: &Store, id: i64) -> StoreResult<Option<DoorCheck>> {
    Ok(
        sqlx::query_as(AssertSqlSafe(format!("{CHECK_COLUMNS} where id = $1")))
            .bind(id)
            .fetch_optional(store.pool())
            .await?,
    )
}

/// Every door check of a unit, newest first.
pub async fn for_unit(store: &Store, unit_id: i64) -> StoreResult<Vec<DoorCheck>> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "{CHECK_COLUMNS} where unit_id = $1 order by opened_at desc, id desc"
    )))
    .bind(unit_id)
    .fetch_all(store.pool())
    .await?)
}

/// One recorded visit.
#[derive(Debug, Clone, FromRow)]
pub struct Event {
    pub door_check_id: i64,
    pub user_id: Option<i64>,
    pub outcome: Resolution,
    pub note: Option<String>,
    /// Ids of the occupants met in person (JSON array).
    pub met_occupants: Option<String>,
    /// The visit's evidence photo.
    pub photo_id: Option<i64>,
    pub created_at: i64,
}

/// The visits recorded for a unit's checks, newest first.
pub async fn events_for_unit(store: &Store, unit_id: i64) -> StoreResult<Vec<Event>> {
    Ok(sqlx::query_as(
        r"select e.door_check_id, e.user_id, e.outcome, e.note, e.met_occupants, e.photo_id,
                 e.created_at
          from door_check_events e join door_checks d on d.id = e.door_check_id
          where d.unit_id = $1 order by e.created_at desc, e.id desc",
    )
    .bind(unit_id)
    .fetch_all(store.pool())
    .await?)
}

/// An open referral for the law-enforcement team.
#[derive(Debug, Clone, FromRow)]
pub struct Referral {
    pub id: i64,
    pub door_check_id: i64,
    pub unit_id: i64,
    pub address: String,
    pub community: String,
    pub note: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

/// Open referrals within a scope, newest first.
pub async fn referrals(store: &Store, scope: Scope, limit: i64) -> StoreResult<Vec<Referral>> {
    let sql = format!(
        r"select r.id, r.door_check_id, r.unit_id, u.address, c.name as community, r.note,
                 r.created_by, r.created_at
          from referrals r join units u on u.id = r.unit_id
          join communities c on c.id = r.community_id
          where r.status = 'open'{}
          order by r.created_at desc, r.id desc limit $2",
        scope_sql(scope, "r")
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(scope_id(scope))
        .bind(limit)
        .fetch_all(store.pool())
        .await?)
}
