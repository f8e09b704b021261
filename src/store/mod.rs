//! Storage: SQL only, on SQLite or PostgreSQL through sqlx's `Any` driver.
//!
//! Every query is written once with `$1`-style parameters, which both backends accept, and
//! only portable types: integers (timestamps are milliseconds since the Unix epoch, UTC),
//! text, doubles and bytes. The backend is chosen from the URL scheme in [`Store::connect`].

pub mod audit;
pub mod communities;
pub mod door_checks;
pub mod filing_review;
pub mod filings;
pub mod import;
pub mod registrations;
pub mod reports;
pub mod retention;
pub mod stats;
pub mod sublandlords;
pub mod tips;
pub mod units;
pub mod users;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures_util::future::BoxFuture;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool};

pub use writer::Writer;

/// Which database sits behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The constraints whose violation is an answer rather than a failure, by one name on both
/// backends (PostgreSQL reports the name; SQLite reports the columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    CommunityName,
    Username,
    UnitAddress,
    IdempotencyKey,
    ReceiptNumber,
    CurrentOccupant,
    Other,
}

const CONSTRAINTS: [(&str, &str, Constraint); 6] = [
    (
        "communities_name_key",
        "communities.name",
        Constraint::CommunityName,
    ),
    ("users_username_key", "users.username", Constraint::Username),
    (
        "units_address_key",
        "units.community_id, units.address_key",
        Constraint::UnitAddress,
    ),
    (
        "idempotency_keys_pkey",
        "idempotency_keys.scope, idempotency_keys.key",
        Constraint::IdempotencyKey,
    ),
    (
        "registrations_receipt_key",
        "registrations.receipt",
        Constraint::ReceiptNumber,
    ),
    (
        "occupants_one_current",
        "occupants.unit_id, occupants.id_number_index",
        Constraint::CurrentOccupant,
    ),
];

/// A storage failure: a named constraint, or anything else (logged as internal).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint {0:?} violated")]
    Unique(Constraint),
    /// The poster a registration came through is no longer its unit's current one, or the
    /// unit no longer takes registrations: nothing was stored.
    #[error("the poster is no longer current")]
    PosterNotCurrent,
    /// A document number in a poster registration is current in the unit under another
    /// name (the occupant at this index): nothing was stored.
    #[error("occupant {0}'s document number is registered here under another name")]
    NameMismatch(usize),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let Some(db) = err.as_database_error()
            && db.is_unique_violation()
        {
            let message = db.message();
            let name = db.constraint().unwrap_or_default();
            let constraint = CONSTRAINTS
                .iter()
                .find(|(pg, lite, _)| name == *pg || message.ends_with(lite))
                .map_or(Constraint::Other, |c| c.2);
            return StoreError::Unique(constraint);
        }
        StoreError::Other(anyhow::Error::new(err))
    }
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// A unit of write work: runs inside a transaction; returning `Err` undoes all it did.
pub type WriteFn<T> =
    Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, StoreResult<T>> + Send>;

/// The database handle shared by routes, jobs and the CLI.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: Option<Writer>,
    /// The audit key and head; a store without it can read but not append audit rows.
    audit: Option<Arc<audit::Chain>>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

// WAL lets readers run beside the one writer. synchronous=FULL makes every commit reach the
// disk before it returns (NORMAL would lose the last commits on power loss, and a 2xx must
// mean stored). busy_timeout makes a writer from another process wait instead of failing.
// secure_delete overwrites deleted and replaced content with zeros, so that a purged name
// does not linger in a page's free space or on the free list until a VACUUM.
const SQLITE_PRAGMAS: &str = "pragma journal_mode = wal; pragma synchronous = full; \
    pragma busy_timeout = 15000; pragma foreign_keys = on; pragma secure_delete = on;";

/// How long a pooled connection may sit unused before it is checked again before use.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(10);

impl Store {
    /// Connects to `sqlite://…` (file and folder created) or `postgres://…`.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!("unsupported database URL scheme (use sqlite:// or postgres://)");
        };
        let url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url).context("parsing the database URL")?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(15))
            // sqlx checks every connection with a round trip each time it leaves the pool,
            // which doubled the round trips of a one-statement read. Only a connection that
            // sat idle long enough for the server or the network to have dropped it is
            // checked; a failed check opens a fresh connection instead.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > CHECK_AFTER_IDLE {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::raw_sql(SQLITE_PRAGMAS).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .context("connecting to the database")?;
        let writer = match backend {
            Backend::Sqlite => Some(Writer::start(pool.clone())),
            Backend::Postgres => None,
        };
        Ok(Self {
            pool,
            backend,
            writer,
            audit: None,
        })
    }

    /// Applies the backend's pending migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .context("applying database migrations")
    }

    /// This store, appending audit rows keyed and anchored as `chain` says.
    pub fn with_audit(self, chain: audit::Chain) -> Self {
        Self {
            audit: Some(Arc::new(chain)),
            ..self
        }
    }

    /// This store with the audit key derived from `master` and the head kept where
    /// `settings` say; a store that has them already is returned as it is.
    pub fn with_audit_of(
        self,
        settings: &crate::config::Settings,
        master: &[u8; 32],
    ) -> anyhow::Result<Self> {
        if self.audit.is_some() {
            return Ok(self);
        }
        let head = crate::audit_head::HeadAnchor::open(settings, self.pool().clone())?;
        Ok(self.with_audit(audit::Chain::new(master, head)))
    }

    /// The audit key and head, if the store was given them.
    pub(crate) fn audit_chain(&self) -> Option<&audit::Chain> {
        self.audit.as_deref()
    }

    /// Writes the audit log's newest committed position outside the database now, instead
    /// of soon (tests, and commands about to exit).
    pub async fn flush_audit_head(&self) {
        if let Some(chain) = &self.audit {
            chain.flush().await;
        }
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for reads.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs `f` in a transaction that is committed (durably) before this returns `Ok`.
    ///
    /// On SQLite, all writes go through one connection that commits whatever jobs are
    /// waiting as one transaction (group commit, each job in its own savepoint): one disk
    /// flush serves many requests, and writers never fight over SQLite's single write lock.
    /// On PostgreSQL each call gets its own transaction from the pool.
    pub async fn write<T: Send + 'static>(&self, f: WriteFn<T>) -> StoreResult<T> {
        let Some(chain) = &self.audit else {
            return self.write_unaudited(f).await;
        };
        let scope = audit::WriteScope::new(chain.clone());
        let inner = scope.clone();
        let out = self
            .write_unaudited(Box::new(move |conn| Box::pin(inner.run(f(conn)))))
            .await?;
        scope.committed();
        Ok(out)
    }

    /// [`Store::write`] without the audit key: an audit append inside fails.
    async fn write_unaudited<T: Send + 'static>(&self, f: WriteFn<T>) -> StoreResult<T> {
        match &self.writer {
            Some(writer) => writer.submit(f).await,
            None => {
                let mut tx = self.pool.begin().await?;
                let out = f(&mut tx).await?;
                tx.commit().await?;
                Ok(out)
            }
        }
    }

    /// On SQLite, copies the write-ahead log into the database file and empties it: the log
    /// still holds earlier images of every page written since the last checkpoint, purged
    /// values included. A reader holding an old snapshot makes SQLite leave part of the log
    /// for a later checkpoint; that is logged, not an error. Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> StoreResult<()> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let (busy, frames, copied): (i64, i64, i64) =
            sqlx::query_as("pragma wal_checkpoint(truncate)")
                .fetch_one(&self.pool)
                .await?;
        if busy != 0 {
            tracing::warn!(
                frames,
                copied,
                "the write-ahead log could not be emptied yet"
            );
        }
        Ok(())
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> bool {
        sqlx::query("select 1").execute(&self.pool).await.is_ok()
    }

    /// Records the audit head and closes every connection.
    pub async fn close(&self) {
        self.flush_audit_head().await;
        self.pool.close().await;
    }
}

/// Adds `mode=rwc` and creates the folder, so a fresh machine needs no set-up.
fn sqlite_url(url: &str) -> anyhow::Result<String> {
    if let Some(path) = crate::config::sqlite_path(url)
        && let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// Milliseconds since the Unix epoch, the storage form of every instant.
pub fn millis(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

/// The instant stored as milliseconds.
pub fn instant(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
