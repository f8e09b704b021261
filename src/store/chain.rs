//! The audit chain's key and the appends: each row's keyed hash links it to its
//! predecessor (the audit module says why), written inside the change it records.

use std::sync::Arc;

use super::error::{StoreError, StoreResult};
use super::tx::Tx;
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

/// The audit key and where the newest position is kept; the store holds one.
pub struct Chain {
    key: [u8; 32],
    /// Where the newest position is kept outside the database, if anywhere.
    pub(super) head: Option<Arc<HeadAnchor>>,
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
    pub(super) fn link(&self, prev: &[u8], at: i64, entry: &Entry) -> Vec<u8> {
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
    /// Set by [`super::Store::write`] around each write, so that the many places that append
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
pub(crate) async fn append_in(tx: &mut Tx<'_>, entry: &Entry, at: i64) -> StoreResult<()> {
    append_all_in(tx, std::slice::from_ref(entry), at).await
}

/// Appends entries in order inside the caller's transaction, reading the chain's end once.
pub(crate) async fn append_all_in(tx: &mut Tx<'_>, entries: &[Entry], at: i64) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let scope = SCOPE.try_with(Arc::clone).map_err(|_| {
        StoreError::Other(anyhow::anyhow!(
            "an audit row needs the audit key: open the store with Store::with_audit"
        ))
    })?;
    if let Some(lock) = tx.backend().audit_order_lock() {
        sqlx::query(lock)
            .bind(AUDIT_LOCK)
            .execute(tx.conn())
            .await?;
    }
    let prev: Option<Vec<u8>> =
        sqlx::query_scalar("select hash from audit_log order by id desc limit 1")
            .fetch_optional(tx.conn())
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
            .fetch_all(tx.conn())
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
