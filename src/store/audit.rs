//! The audit log: who read or changed what, when and why, chained by hashes.
//!
//! Each row's hash covers its predecessor's hash and its own fields, so that changing or
//! deleting a row breaks every later link. Rows are appended inside the transaction of the
//! change they record; on PostgreSQL a transaction-level advisory lock puts appends in one
//! order, on SQLite the single writer does.

use sqlx::{AnyConnection, FromRow};

use super::{Backend, Store, StoreResult};

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

/// The hash of a row: SHA-256 over its predecessor's hash and its fields, each
/// length-prefixed so that no two different rows encode alike.
pub fn row_hash(prev: &[u8], at: i64, entry: &Entry) -> Vec<u8> {
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
    crate::crypto::sha256(&bytes)
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
              values {}",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for entry in chunk {
            let hash = row_hash(&prev, at, entry);
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
        query.execute(&mut *conn).await?;
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
    /// Every row links to its predecessor and hashes as stored.
    Intact { rows: u64 },
    /// The first row whose link or hash does not hold.
    BrokenAt { id: i64 },
}

/// Walks the whole chain in id order, a page at a time.
pub async fn verify(store: &Store) -> StoreResult<Verdict> {
    const PAGE: i64 = 10_000;
    let mut prev: Vec<u8> = Vec::new();
    let mut after = i64::MIN;
    let mut rows = 0;
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
            if row.prev_hash != prev || row.hash != row_hash(&prev, row.at, &entry) {
                return Ok(Verdict::BrokenAt { id: row.id });
            }
            prev = row.hash;
            rows += 1;
        }
    }
    Ok(Verdict::Intact { rows })
}
