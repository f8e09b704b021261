//! The pull feed: events in commit order after a cursor, so that a consumer polling with
//! the cursor it was given sees every committed event once.
//!
//! Why (txid, id) and a watermark: an event's id is taken when its row is inserted, not
//! when its transaction commits. On PostgreSQL a transaction that took id 5 may commit
//! after one that took id 6; a reader that had moved past 6 would never see 5. So each row
//! carries the id of the transaction that wrote it (`txid`, a column default), the feed is
//! ordered by (txid, id), and it shows only rows whose transaction is older than the oldest
//! one still running (`pg_snapshot_xmin` of the reading statement's snapshot): every such
//! transaction has ended, so no row can still appear below that line, and any transaction
//! that writes later gets a larger txid. A long transaction holds the line back, and with
//! it every event written after it began: the feed waits for it instead of passing it.
//! On SQLite one writer commits at a time, so the id alone is commit order (txid is 0).

use sqlx::{AssertSqlSafe, FromRow};

use super::scope::{scope_id, scope_sql};
use super::{Scope, Store, StoreResult};
use crate::domain::event::EventType;
use crate::domain::feed::Cursor;

/// One event of the feed.
#[derive(Debug, Clone)]
pub struct FeedEvent {
    pub id: i64,
    pub kind: EventType,
    /// Milliseconds since the epoch.
    pub occurred_at: i64,
    /// What other systems may see of it (JSON).
    pub data: serde_json::Value,
    /// The feed's place just after this event.
    pub cursor: Cursor,
}

#[derive(FromRow)]
struct Row {
    id: i64,
    txid: i64,
    kind: EventType,
    data: String,
    created_at: i64,
}

/// Up to `limit` events of `types` in the communities of `scope`, after `after`, in commit
/// order; only events whose transaction has ended.
pub async fn after(
    store: &Store,
    scope: Scope,
    after: Cursor,
    types: &[EventType],
    limit: u32,
) -> StoreResult<Vec<FeedEvent>> {
    if types.is_empty() {
        return Ok(Vec::new());
    }
    // Placeholders only: the type names themselves are bound.
    let listed: Vec<String> = (0..types.len()).map(|i| format!("${}", i + 4)).collect();
    let sql = format!(
        r"select e.id, e.txid, e.type as kind, e.data, e.created_at
          from events e
          where (e.txid, e.id) > ($2, $3) and e.type in ({}){}{}
          order by e.txid, e.id limit ${}",
        listed.join(", "),
        scope_sql(scope, "e"),
        store.backend().feed_watermark(),
        types.len() + 4,
    );
    let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql))
        .bind(scope_id(scope))
        .bind(after.txid)
        .bind(after.id);
    for kind in types {
        query = query.bind(kind.as_str());
    }
    let rows = query.bind(i64::from(limit)).fetch_all(store.pool()).await?;
    Ok(rows
        .into_iter()
        .map(|r| FeedEvent {
            id: r.id,
            kind: r.kind,
            occurred_at: r.created_at,
            data: serde_json::from_str(&r.data).unwrap_or(serde_json::Value::Null),
            cursor: Cursor {
                txid: r.txid,
                id: r.id,
            },
        })
        .collect())
}
