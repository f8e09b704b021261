//! The database handle: connecting, migrating, and the one way to write.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};

use super::chain::{Chain, WriteScope};
use super::dialect::Backend;
use super::error::StoreResult;
use super::tx::{Tx, TxFn};
use super::writer::Writer;

/// The database handle shared by routes, jobs and the CLI.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: Option<Writer>,
    /// The audit key and head; a store without it can read but not append audit rows.
    audit: Option<Arc<Chain>>,
}

/// How long a pooled connection may sit unused before it is checked again before use.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(10);

impl Store {
    /// Connects to `sqlite://…` (file and folder created) or `postgres://…`.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
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
                    if let Some(setup) = backend.connection_setup() {
                        sqlx::raw_sql(setup).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .context("connecting to the database")?;
        let writer = match backend.single_writer() {
            true => {
                // The file the pool opened (the URL percent-decoded as the driver does).
                let path = crate::config::sqlite_path(&url)
                    .filter(|_| !url.contains("mode=memory"))
                    .context("SQLite needs a database file, not an in-memory database")?;
                let setup = backend.connection_setup().unwrap_or_default();
                Some(Writer::start(path, setup).context("starting the database writer")?)
            }
            false => None,
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
        self.backend
            .migrator()
            .run(&self.pool)
            .await
            .context("applying database migrations")
    }

    /// Applies the backend's migrations up to and including `version` only: a database as
    /// an older release left it (the upgrade tests start from one).
    pub async fn migrate_up_to(&self, version: i64) -> anyhow::Result<()> {
        let all = self.backend.migrator();
        let older = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(
                all.migrations
                    .iter()
                    .filter(|m| m.version <= version)
                    .cloned()
                    .collect(),
            ),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        older
            .run(&self.pool)
            .await
            .context("applying the older migrations")
    }

    /// This store, appending audit rows keyed and anchored as `chain` says.
    pub fn with_audit(self, chain: Chain) -> Self {
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
        Ok(self.with_audit(Chain::new(master, head)))
    }

    /// The audit key and head, if the store was given them.
    pub(crate) fn audit_chain(&self) -> Option<&Chain> {
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
    pub async fn transact<T: Send + 'static>(&self, f: TxFn<T>) -> StoreResult<T> {
        let Some(chain) = &self.audit else {
            return self.write_unaudited(f).await;
        };
        let scope = WriteScope::new(chain.clone());
        let inner = scope.clone();
        let out = self
            .write_unaudited(Box::new(move |tx| Box::pin(inner.run(f(tx)))))
            .await?;
        scope.committed();
        Ok(out)
    }

    /// [`Store::transact`] without the audit key: an audit append inside fails.
    async fn write_unaudited<T: Send + 'static>(&self, f: TxFn<T>) -> StoreResult<T> {
        match &self.writer {
            Some(writer) => writer.submit(f).await,
            None => {
                let mut tx = self.pool.begin().await?;
                let out = f(Tx::new(&mut tx, self.backend)).await?;
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
        let Some(checkpoint) = self.backend.wal_checkpoint() else {
            return Ok(());
        };
        let (busy, frames, copied): (i64, i64, i64) =
            sqlx::query_as(checkpoint).fetch_one(&self.pool).await?;
        if busy != 0 {
            tracing::warn!(
                frames,
                copied,
                "the write-ahead log could not be emptied yet"
            );
        }
        Ok(())
    }

    /// Fresh planner statistics for `table`, which just grew by much or was rewritten
    /// (where the backend keeps such statistics).
    pub(crate) async fn analyze(&self, table: &str) -> StoreResult<()> {
        if let Some(sql) = self.backend.analyze(table) {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&self.pool)
                .await?;
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
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
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
