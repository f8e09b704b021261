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

use std::sync::Arc;

use sqlx::{AnyConnection, FromRow};

use super::{Backend, Store, StoreError, StoreResult};
use crate::audit_head::{Head, HeadAnchor};

/// The advisory lock that orders audit appends on PostgreSQL.
const AUDIT_LOCK: i64 = 0x0052_4641_5544_4954; // "RFAUDIT"

/// One thing to record.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// The acting account, or `None` for the service itself.
    pub user_id: Option<i64>,
    /// What was done, e.g. `unit.create`, `export.door_checks`.
    pub action: String,
    /// What it was done to, e.g. `unit:12`.
    pub subject: Option<String>,
    /// Details as JSON (never a document number or phone in clear).
    pub detail: Option<String>,
    /// Why, where the action needs a reason.
    pub reason: Option<String>,
}

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

/// The audit key and where the newest position is kept; the store holds one.
pub struct Chain {
    key: [u8; 32],
    head: Option<Arc<HeadAnchor>>,
}

impl Chain {
    /// Derives the chain's key from the data key (a label of its own, so it is none of the
    /// vault's keys).
    pub fn new(master: &[u8; 32], head: Option<Arc<HeadAnchor>>) -> Self {
        Self {
            key: crate::crypto::sub_key(master, b"audit-chain"),
            head,
        }
    }

    /// The keyed hash of a row.
    fn link(&self, prev: &[u8], at: i64, entry: &Entry) -> Vec<u8> {
        crate::crypto::hmac_sha256(&self.key, &encode(prev, at, entry))
    }

    /// Writes the newest committed head now (the process is about to exit).
    pub(crate) async fn flush(&self) {
        if let Some(head) = &self.head {
            head.flush().await;
        }
    }
}

/// One write's view of the chain: the key, and the newest row it appended, which becomes
/// the head once (and only if) the write commits.
pub(crate) struct WriteScope {
    chain: Arc<Chain>,
    newest: parking_lot::Mutex<Option<Head>>,
}

tokio::task_local! {
    /// Set by [`Store::write`] around each write, so that the many places that append
    /// need not carry the key.
    static SCOPE: Arc<WriteScope>;
}

impl WriteScope {
    pub(crate) fn new(chain: Arc<Chain>) -> Arc<Self> {
        Arc::new(Self {
            chain,
            newest: Default::default(),
        })
    }

    /// Runs `work` with this scope visible to the appends inside it.
    pub(crate) async fn run<F: std::future::Future>(self: Arc<Self>, work: F) -> F::Output {
        SCOPE.scope(self, work).await
    }

    /// The write committed: its newest row becomes the head kept outside the database.
    pub(crate) fn committed(&self) {
        if let (Some(anchor), Some(head)) = (&self.chain.head, self.newest.lock().take()) {
            anchor.advance(head);
        }
    }
}

/// A row's fields as hashed: its predecessor's hash and its fields, each length-prefixed
/// so that no two different rows encode alike.
fn encode(prev: &[u8], at: i64, entry: &Entry) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(128);
    let mut field = |b: &[u8]| {
        bytes.extend_from_slice(&(b.len() as u64).to_be_bytes());
        bytes.extend_from_slice(b);
    };
    field(prev);
    field(&at.to_be_bytes());
    field(&entry.user_id.unwrap_or(-1).to_be_bytes());
    field(entry.action.as_bytes());
    for optional in [&entry.subject, &entry.detail, &entry.reason] {
        match optional {
            Some(text) => field(format!("+{text}").as_bytes()),
            None => field(b"-"),
        }
    }
    bytes
}

/// The plain SHA-256 link of rows written before the chain was keyed.
pub fn plain_hash(prev: &[u8], at: i64, entry: &Entry) -> Vec<u8> {
    crate::crypto::sha256(&encode(prev, at, entry))
}

/// Appends an entry inside the caller's transaction.
pub(crate) async fn append_in(
    conn: &mut AnyConnection,
    backend: Backend,
    entry: &Entry,
    at: i64,
) -> StoreResult<()> {
    append_all_in(conn, backend, std::slice::from_ref(entry), at).await
}

/// Appends entries in order inside the caller's transaction, reading the chain's end once.
pub(crate) async fn append_all_in(
    conn: &mut AnyConnection,
    backend: Backend,
    entries: &[Entry],
    at: i64,
) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let scope = SCOPE.try_with(Arc::clone).map_err(|_| {
        StoreError::Other(anyhow::anyhow!(
            "an audit row needs the audit key: open the store with Store::with_audit"
        ))
    })?;
    if backend == Backend::Postgres {
        sqlx::query("select pg_advisory_xact_lock($1)")
            .bind(AUDIT_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let prev: Option<Vec<u8>> =
        sqlx::query_scalar("select hash from audit_log order by id desc limit 1")
            .fetch_optional(&mut *conn)
            .await?;
    let mut prev = prev.unwrap_or_default();
    // Many rows per statement: a bulk import appends thousands.
    for chunk in entries.chunks(100) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = |k: usize| format!("${}", i * 8 + k);
                format!(
                    "({}, {}, {}, {}, {}, {}, {}, {})",
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5),
                    p(6),
                    p(7),
                    p(8)
                )
            })
            .collect();
        let sql = format!(
            r"insert into audit_log (at, user_id, action, subject, detail, reason, prev_hash,
                  hash)
              values {}
              returning id",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for entry in chunk {
            let hash = scope.chain.link(&prev, at, entry);
            query = query
                .bind(at)
                .bind(entry.user_id)
                .bind(entry.action.clone())
                .bind(entry.subject.clone())
                .bind(entry.detail.clone())
                .bind(entry.reason.clone())
                .bind(std::mem::replace(&mut prev, hash.clone()))
                .bind(hash);
        }
        let ids: Vec<i64> = query
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| sqlx::Row::try_get(row, 0))
            .collect::<Result<_, _>>()?;
        if let Some(&id) = ids.iter().max() {
            *scope.newest.lock() = Some(Head {
                id,
                hash: prev.clone(),
            });
        }
    }
    Ok(())
}

/// Appends an entry in a transaction of its own.
pub async fn append(store: &Store, entry: Entry, at: i64) -> StoreResult<()> {
    let backend = store.backend();
    store
        .write(Box::new(move |conn| {
            Box::pin(async move { append_in(conn, backend, &entry, at).await })
        }))
        .await
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
