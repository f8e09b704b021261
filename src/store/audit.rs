//! The audit log: who read or changed what, when and why, chained by keyed hashes.
//!
//! Each row's hash is an HMAC, under a key derived from the data key (never in the
//! database), of its predecessor's hash and its own fields: changing or deleting a row
//! breaks every later link, and someone who can write to the database but lacks the key
//! cannot forge new links. Triggers refuse `update` and `delete` on the table, and the
//! newest position is also kept outside the database ([`crate::audit_head`]), so that
//! removing the newest rows is found too. Rows are appended inside the transaction of the
//! change they record; on PostgreSQL a transaction-level advisory lock puts appends in one
//! order, on SQLite the single writer does.
//!
//! Rows written before the chain was keyed carry plain SHA-256 links. Verification accepts
//! such rows only before the first keyed row: the first keyed row's link covers the last
//! plain one, so the old rows cannot be changed either without breaking it. A writer who
//! rewrote the whole log as plain rows would leave no keyed row to fail; the head kept
//! outside the database is then what finds it, at the anchored row.

use sqlx::FromRow;

pub use super::chain::{Chain, Entry, plain_hash};
pub(crate) use super::chain::{append_all_in, append_in};
use super::tx::transaction;
use super::{Store, StoreError, StoreResult};
use crate::audit_head::Head;

/// A stored audit row.
#[derive(Debug, Clone, FromRow)]
pub struct Row {
    pub id: i64,
    pub at: i64,
    pub user_id: Option<i64>,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Option<String>,
    pub reason: Option<String>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Appends an entry in a transaction of its own.
pub async fn append(store: &Store, entry: Entry, at: i64) -> StoreResult<()> {
    transaction!(store, |tx| { append_in(tx, &entry, at).await }).await
}

/// Audit rows, newest first.
pub async fn list(store: &Store, offset: i64, limit: i64) -> StoreResult<(Vec<Row>, i64)> {
    let total: i64 = sqlx::query_scalar("select count(*) from audit_log")
        .fetch_one(store.pool())
        .await?;
    let rows = sqlx::query_as(
        r"select id, at, user_id, action, subject, detail, reason, prev_hash, hash
          from audit_log order by id desc limit $1 offset $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(store.pool())
    .await?;
    Ok((rows, total))
}

/// The outcome of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every row links to its predecessor and hashes as stored, and the log reaches the
    /// head kept outside the database.
    Intact { rows: u64 },
    /// The first row whose link or hash does not hold, or the anchored row when it is not
    /// the one the head names.
    BrokenAt { id: i64 },
    /// The links hold but the log ends at row `after` (0: empty) while the head names the
    /// later row `head`: the newest rows were removed.
    Truncated { after: i64, head: i64 },
}

/// Walks the whole chain in id order, a page at a time, then holds its end against each
/// head kept outside the database.
pub async fn verify(store: &Store) -> StoreResult<Verdict> {
    const PAGE: i64 = 10_000;
    let chain = store
        .audit_chain()
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("verifying needs the audit key")))?;
    let heads: Vec<Head> = match &chain.head {
        Some(anchor) => anchor
            .read()
            .await?
            .into_iter()
            .filter_map(|h| h.1)
            .collect(),
        None => Vec::new(),
    };
    let mut prev: Vec<u8> = Vec::new();
    let mut after = i64::MIN;
    let mut rows = 0;
    let mut keyed = false;
    let mut seen = Vec::new();
    loop {
        let page: Vec<Row> = sqlx::query_as(
            r"select id, at, user_id, action, subject, detail, reason, prev_hash, hash
              from audit_log where id > $1 order by id limit $2",
        )
        .bind(after)
        .bind(PAGE)
        .fetch_all(store.pool())
        .await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in page {
            let entry = Entry {
                user_id: row.user_id,
                action: row.action.clone(),
                subject: row.subject.clone(),
                detail: row.detail.clone(),
                reason: row.reason.clone(),
            };
            let links = row.prev_hash == prev;
            let holds = if row.hash == chain.link(&prev, row.at, &entry) {
                keyed = true;
                true
            } else {
                // A plain link only where no keyed row came before.
                !keyed && row.hash == plain_hash(&prev, row.at, &entry)
            };
            let anchored_elsewhere = heads.iter().any(|h| h.id == row.id && h.hash != row.hash);
            if !links || !holds || anchored_elsewhere {
                return Ok(Verdict::BrokenAt { id: row.id });
            }
            if heads.iter().any(|h| h.id == row.id) {
                seen.push(row.id);
            }
            prev = row.hash;
            rows += 1;
        }
    }
    let end = after.max(0);
    for head in &heads {
        if head.id > end {
            return Ok(Verdict::Truncated {
                after: end,
                head: head.id,
            });
        }
    }
    // A head inside the log whose row is gone (the rest relinked around it).
    if let Some(head) = heads.iter().find(|h| !seen.contains(&h.id)) {
        return Ok(Verdict::BrokenAt { id: head.id });
    }
    Ok(Verdict::Intact { rows })
}

/// Whether the log's end is anchored outside the database at all (without it, removing the
/// newest rows cannot be found).
pub fn anchored(store: &Store) -> bool {
    store.audit_chain().is_some_and(|c| c.head.is_some())
}
