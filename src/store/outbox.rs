//! The transactional outbox: events written in the transaction of the change that caused
//! them, one message per destination that takes them, claimed by the dispatcher with a
//! lease, and every delivery attempt kept.

use sqlx::{AssertSqlSafe, FromRow};

use super::tx::transaction;
use super::{Store, StoreResult, Tx, audit};
use crate::domain::event::{ChannelKind, NewEvent, Route};

/// Replaces the stored routing with the configured destinations (at start-up): the
/// writing transactions read it, so that an event is queued with the change that caused it.
/// Instances starting at once with the same configuration leave the same rows.
pub async fn configure(
    store: &Store,
    destinations: Vec<(String, ChannelKind, Route)>,
) -> StoreResult<()> {
    transaction!(store, |tx| {
        for (name, kind, route) in &destinations {
            sqlx::query(
                r"insert into outbox_destinations (name, kind, events, communities)
                  values ($1, $4, $2, $3)
                  on conflict (name) do update
                  set kind = excluded.kind, events = excluded.events,
                      communities = excluded.communities",
            )
            .bind(name.as_str())
            .bind(serde_json::to_string(&route.events).expect("strings serialise"))
            .bind(serde_json::to_string(&route.communities).expect("strings serialise"))
            .bind(kind.as_str())
            .execute(tx.conn())
            .await?;
        }
        let stored: Vec<String> = sqlx::query_scalar("select name from outbox_destinations")
            .fetch_all(tx.conn())
            .await?;
        for name in stored {
            if !destinations
                .iter()
                .any(|(configured, _, _)| *configured == name)
            {
                sqlx::query("delete from outbox_destinations where name = $1")
                    .bind(name)
                    .execute(tx.conn())
                    .await?;
            }
        }
        Ok(())
    })
    .await
}

/// Keeps `event` and queues one message for each destination that takes it, in the caller's
/// transaction: a rollback queues nothing, a commit always sends. Returns the event's id.
pub async fn enqueue_in(tx: &mut Tx<'_>, event: &NewEvent, now_ms: i64) -> StoreResult<i64> {
    let community: String = sqlx::query_scalar("select name from communities where id = $1")
        .bind(event.community_id)
        .fetch_optional(tx.conn())
        .await?
        .unwrap_or_default();
    let mut data = event.data.clone();
    if let Some(fields) = data.as_object_mut() {
        fields.insert("community_id".into(), event.community_id.into());
        fields.insert("community".into(), community.clone().into());
    }
    let kind = event.kind.as_str();
    let id: i64 = sqlx::query_scalar(
        r"insert into events (type, community_id, data, created_at)
          values ($1, $2, $3, $4) returning id",
    )
    .bind(kind)
    .bind(event.community_id)
    .bind(data.to_string())
    .bind(now_ms)
    .fetch_one(tx.conn())
    .await?;
    let routes: Vec<(String, String, String)> =
        sqlx::query_as("select name, events, communities from outbox_destinations order by name")
            .fetch_all(tx.conn())
            .await?;
    let body = serde_json::json!({
        "id": id,
        "type": kind,
        "occurred_at": super::instant(now_ms).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string();
    for (name, events, communities) in routes {
        let route = Route {
            events: serde_json::from_str(&events).unwrap_or_default(),
            communities: serde_json::from_str(&communities).unwrap_or_default(),
        };
        if !route.takes(event.kind, &community) {
            continue;
        }
        sqlx::query(
            r"insert into outbox_messages
                  (event_id, event_type, destination, payload, idempotency_key, state,
                   attempts, next_attempt_at, created_at)
              values ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)
              on conflict do nothing",
        )
        .bind(id)
        .bind(kind)
        .bind(name.as_str())
        .bind(body.as_str())
        .bind(format!("renfang-{id}-{name}"))
        .bind(now_ms)
        .execute(tx.conn())
        .await?;
    }
    Ok(id)
}

/// The address of unit `unit_id` (empty if unknown), for an event's data.
pub(crate) async fn unit_address_in(tx: &mut Tx<'_>, unit_id: i64) -> StoreResult<String> {
    Ok(
        sqlx::query_scalar::<_, String>("select address from units where id = $1")
            .bind(unit_id)
            .fetch_optional(tx.conn())
            .await?
            .unwrap_or_default(),
    )
}

/// Queues `door_check.opened` for check `check_id` of `unit_id`, opened for `reason`.
pub(crate) async fn door_check_opened_in(
    tx: &mut Tx<'_>,
    check_id: i64,
    unit_id: i64,
    community_id: i64,
    reason: &str,
    now_ms: i64,
) -> StoreResult<()> {
    let address = unit_address_in(tx, unit_id).await?;
    let event = NewEvent {
        kind: crate::domain::event::EventType::DoorCheckOpened,
        community_id,
        data: serde_json::json!({
            "door_check_id": check_id,
            "unit_id": unit_id,
            "address": address,
            "reason": reason,
        }),
    };
    enqueue_in(tx, &event, now_ms).await?;
    Ok(())
}

/// A message claimed for delivery.
#[derive(Debug, Clone, FromRow)]
pub struct Claimed {
    pub id: i64,
    pub destination: String,
    pub event_type: String,
    pub payload: String,
    pub idempotency_key: String,
    /// Failed attempts before this one.
    pub attempts: i64,
}

/// Claims up to `limit` pending messages due at `now_ms`, moving their next attempt to
/// `lease_until`: an instance that dies with them lets another retry after the lease. On
/// PostgreSQL rows another instance is claiming are passed over.
pub async fn claim(
    store: &Store,
    now_ms: i64,
    lease_until: i64,
    limit: i64,
) -> StoreResult<Vec<Claimed>> {
    transaction!(store, |tx| {
        let sql = format!(
            r"update outbox_messages set next_attempt_at = $1
              where id in (select id from outbox_messages
                           where state = 'pending' and next_attempt_at <= $2
                           order by next_attempt_at, id limit $3{})
              returning id, destination, event_type, payload, idempotency_key, attempts",
            tx.backend().claim_rows()
        );
        let mut rows: Vec<Claimed> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(lease_until)
            .bind(now_ms)
            .bind(limit)
            .fetch_all(tx.conn())
            .await?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    })
    .await
}

/// Holds message `id` (claimed, not attempted) until `until`, counting no attempt: the
/// quiet hours of its channel.
pub async fn hold(store: &Store, id: i64, until: i64) -> StoreResult<()> {
    sqlx::query("update outbox_messages set next_attempt_at = $1 where id = $2")
        .bind(until)
        .bind(id)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// One delivery attempt: when, the HTTP status (none: no answer), the error, how long.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: i64,
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Delivered.
    Sent,
    /// Failed; next attempt at this instant.
    Retry(i64),
    /// Failed for the last time.
    Dead,
}

/// Records `attempt` of message `id` and moves the message on as `after` says.
pub async fn finish(store: &Store, id: i64, attempt: Attempt, after: After) -> StoreResult<()> {
    transaction!(store, |tx| {
        sqlx::query(
            r"insert into outbox_attempts (message_id, at, status, error, duration_ms)
              values ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(attempt.at)
        .bind(attempt.status)
        .bind(attempt.error.clone())
        .bind(attempt.duration_ms)
        .execute(tx.conn())
        .await?;
        let (state, next, sent_at) = match after {
            After::Sent => ("sent", attempt.at, Some(attempt.at)),
            After::Retry(next) => ("pending", next, None),
            After::Dead => ("dead", attempt.at, None),
        };
        sqlx::query(
            r"update outbox_messages set state = $1, attempts = attempts + 1,
                  next_attempt_at = $2, sent_at = $3, last_error = $4
              where id = $5",
        )
        .bind(state)
        .bind(next)
        .bind(sent_at)
        .bind(attempt.error.clone())
        .bind(id)
        .execute(tx.conn())
        .await?;
        Ok(())
    })
    .await
}

/// The messages of one destination by state.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub destination: String,
    /// How it is reached: `webhook`, `wecom`, `dingtalk` or `sms`; empty for a destination
    /// no longer configured.
    pub kind: String,
    /// Waiting for their first or next attempt.
    pub pending: i64,
    /// Pending after at least one failed attempt.
    pub failing: i64,
    /// Given up after the last attempt.
    pub dead: i64,
    /// Delivered since the start of the day asked for.
    pub sent_today: i64,
}

/// Counts per destination (the configured ones first, with zeros, then any left from an
/// earlier configuration); `day_start` is the start of today in ms.
pub async fn counts(store: &Store, day_start: i64) -> StoreResult<Vec<Counts>> {
    let configured: Vec<(String, String)> =
        sqlx::query_as("select name, kind from outbox_destinations order by name")
            .fetch_all(store.pool())
            .await?;
    let rows: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(
        r"select destination,
                 sum(case when state = 'pending' then 1 else 0 end),
                 sum(case when state = 'pending' and attempts > 0 then 1 else 0 end),
                 sum(case when state = 'dead' then 1 else 0 end),
                 sum(case when state = 'sent' and sent_at >= $1 then 1 else 0 end)
          from outbox_messages group by destination order by destination",
    )
    .bind(day_start)
    .fetch_all(store.pool())
    .await?;
    let mut out: Vec<Counts> = configured
        .into_iter()
        .map(|(destination, kind)| Counts {
            destination,
            kind,
            ..Counts::default()
        })
        .collect();
    for (destination, pending, failing, dead, sent_today) in rows {
        let kind = out
            .iter()
            .find(|c| c.destination == destination)
            .map(|c| c.kind.clone())
            .unwrap_or_default();
        let counts = Counts {
            destination: destination.clone(),
            kind,
            pending,
            failing,
            dead,
            sent_today,
        };
        match out.iter_mut().find(|c| c.destination == destination) {
            Some(slot) => *slot = counts,
            None => out.push(counts),
        }
    }
    Ok(out)
}

/// A message that failed at least once and is not delivered.
#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Failing {
    pub id: i64,
    pub destination: String,
    pub event_type: String,
    /// `pending` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Milliseconds since the epoch (for a dead message: when it was given up).
    pub next_attempt_at: i64,
}

/// The newest `limit` failing or dead messages.
pub async fn failing(store: &Store, limit: i64) -> StoreResult<Vec<Failing>> {
    Ok(sqlx::query_as(
        r"select id, destination, event_type, state, attempts, last_error, created_at,
                 next_attempt_at
          from outbox_messages
          where state = 'dead' or (state = 'pending' and attempts > 0)
          order by id desc limit $1",
    )
    .bind(limit)
    .fetch_all(store.pool())
    .await?)
}

/// An attempt as stored, for the console and the tests.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct StoredAttempt {
    pub at: i64,
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// The attempts of message `id`, oldest first.
pub async fn attempts(store: &Store, id: i64) -> StoreResult<Vec<StoredAttempt>> {
    Ok(sqlx::query_as(
        "select at, status, error, duration_ms from outbox_attempts where message_id = $1 order by id",
    )
    .bind(id)
    .fetch_all(store.pool())
    .await?)
}

/// What a retry covers: one message or every failing or dead one of a destination.
#[derive(Debug, Clone)]
pub enum RetryTarget {
    Message(i64),
    Destination(String),
}

/// Makes the failing or dead messages of `target` due now (dead ones pending again, their
/// attempts kept); audited as `outbox.retry`. Returns how many it touched.
pub async fn retry(
    store: &Store,
    target: RetryTarget,
    user_id: i64,
    now_ms: i64,
) -> StoreResult<u64> {
    transaction!(store, |tx| {
        let (filter, subject) = match &target {
            RetryTarget::Message(id) => ("id = $2", format!("outbox_message:{id}")),
            RetryTarget::Destination(name) => {
                ("destination = $2", format!("outbox_destination:{name}"))
            }
        };
        let sql = format!(
            r"update outbox_messages set state = 'pending', next_attempt_at = $1
              where {filter} and (state = 'dead' or (state = 'pending' and attempts > 0))"
        );
        let query = sqlx::query(AssertSqlSafe(sql)).bind(now_ms);
        let query = match &target {
            RetryTarget::Message(id) => query.bind(*id),
            RetryTarget::Destination(name) => query.bind(name.clone()),
        };
        let touched = query.execute(tx.conn()).await?.rows_affected();
        if touched > 0 {
            let entry = audit::Entry {
                user_id: Some(user_id),
                action: "outbox.retry".into(),
                subject: Some(subject),
                detail: Some(serde_json::json!({ "messages": touched }).to_string()),
                reason: None,
            };
            audit::append_in(tx, &entry, now_ms).await?;
        }
        Ok(touched)
    })
    .await
}

/// The destination of message `id`, if there is one.
pub async fn destination_of(store: &Store, id: i64) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query_scalar("select destination from outbox_messages where id = $1")
            .bind(id)
            .fetch_optional(store.pool())
            .await?,
    )
}

/// What [`purge`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxPurged {
    /// Delivered messages (with their attempts) older than the delivery cut-off.
    pub sent: u64,
    /// Given-up messages (with their attempts) older than the retention cut-off.
    pub dead: u64,
    /// Events older than the retention cut-off that no message refers to any more.
    pub events: u64,
}

/// Rows deleted per transaction, so that a large purge never holds the writer for long.
const PURGE_BATCH: i64 = 1000;

/// Deletes messages delivered before `sent_before` and messages given up before
/// `kept_before`, each with its attempts, then the events older than `kept_before` that no
/// message still refers to. Pending messages and their events are never touched.
pub async fn purge(store: &Store, sent_before: i64, kept_before: i64) -> StoreResult<OutboxPurged> {
    let mut purged = OutboxPurged::default();
    loop {
        let n = messages_batch(store, "state = 'sent' and sent_at < $1", sent_before).await?;
        purged.sent += n;
        if n < PURGE_BATCH as u64 {
            break;
        }
    }
    loop {
        let n = messages_batch(
            store,
            "state = 'dead' and next_attempt_at < $1",
            kept_before,
        )
        .await?;
        purged.dead += n;
        if n < PURGE_BATCH as u64 {
            break;
        }
    }
    loop {
        let n = transaction!(store, |tx| {
            let done = sqlx::query(
                r"delete from events where id in (
                      select e.id from events e
                      where e.created_at < $1
                        and not exists (select 1 from outbox_messages m where m.event_id = e.id)
                      order by e.id limit $2)",
            )
            .bind(kept_before)
            .bind(PURGE_BATCH)
            .execute(tx.conn())
            .await?;
            Ok(done.rows_affected())
        })
        .await?;
        purged.events += n;
        if n < PURGE_BATCH as u64 {
            break;
        }
    }
    Ok(purged)
}

/// Deletes up to [`PURGE_BATCH`] messages matching `filter` (on `$1` = `before`) and their
/// attempts, in one transaction; answers how many messages.
async fn messages_batch(store: &Store, filter: &'static str, before: i64) -> StoreResult<u64> {
    transaction!(store, |tx| {
        let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
            "select id from outbox_messages where {filter} order by id limit $2"
        )))
        .bind(before)
        .bind(PURGE_BATCH)
        .fetch_all(tx.conn())
        .await?;
        for chunk in ids.chunks(200) {
            let list = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            sqlx::query(AssertSqlSafe(format!(
                "delete from outbox_attempts where message_id in ({list})"
            )))
            .execute(tx.conn())
            .await?;
            sqlx::query(AssertSqlSafe(format!(
                "delete from outbox_messages where id in ({list})"
            )))
            .execute(tx.conn())
            .await?;
        }
        Ok(ids.len() as u64)
    })
    .await
}
