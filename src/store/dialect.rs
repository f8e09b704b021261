//! The two backends and every piece of SQL that differs between them: callers ask the
//! backend (or their transaction, which knows it) instead of matching on it.

/// Which database sits behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
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

/// `for update`: what a `select` adds on PostgreSQL to keep the rows it read until the
/// transaction ends.
const FOR_UPDATE: &str = " for update";

impl Backend {
    /// The backend a database URL names, by its scheme.
    pub(crate) fn of_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!("unsupported database URL scheme (use sqlite:// or postgres://)")
        }
    }

    /// The backend's migrations.
    pub(crate) fn migrator(self) -> &'static sqlx::migrate::Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// What every new connection runs first.
    pub(crate) fn connection_setup(self) -> Option<&'static str> {
        (self == Backend::Sqlite).then_some(SQLITE_PRAGMAS)
    }

    /// Whether every write goes through one connection (group commit): SQLite lets one
    /// writer in at a time, so one disk flush may as well serve many requests.
    pub(crate) fn single_writer(self) -> bool {
        self == Backend::Sqlite
    }

    /// `select` keeping the rows it reads locked until the transaction ends, where the
    /// backend needs that: on SQLite the single writer already runs one write at a time.
    pub(crate) fn locking(self, select: &str) -> Option<String> {
        (self == Backend::Postgres).then(|| format!("{select}{FOR_UPDATE}"))
    }

    /// What a `select` of work to claim ends with: on PostgreSQL it locks the rows it reads
    /// and passes over rows another instance holds, so several instances share the work.
    pub(crate) fn claim_rows(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " for update skip locked",
        }
    }

    /// What the event feed's `where` adds (on `events e`) so that it shows only events of
    /// transactions that have ended; see `store::feed` for why. SQLite's single writer
    /// commits in id order, so every committed row is already safe to show.
    pub(crate) fn feed_watermark(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => {
                " and e.txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
            }
        }
    }

    /// What a `select` that runs on both backends ends with to lock the rows it reads.
    pub(crate) fn row_lock(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => FOR_UPDATE,
        }
    }

    /// The statement that makes appends to the audit log wait for each other (`$1`: the
    /// lock's key); SQLite's single writer orders them already.
    pub(crate) fn audit_order_lock(self) -> Option<&'static str> {
        (self == Backend::Postgres).then_some("select pg_advisory_xact_lock($1)")
    }

    /// Fresh planner statistics for a table that just grew by much or was rewritten: until
    /// autovacuum notices, PostgreSQL's planner would take it for what it was. SQLite plans
    /// without them.
    pub(crate) fn analyze(self, table: &str) -> Option<String> {
        (self == Backend::Postgres).then(|| format!("analyze {table}"))
    }

    /// The statement that copies SQLite's write-ahead log into the database file and
    /// empties it; PostgreSQL has nothing like it to do.
    pub(crate) fn wal_checkpoint(self) -> Option<&'static str> {
        (self == Backend::Sqlite).then_some("pragma wal_checkpoint(truncate)")
    }

    /// A subquery of the integers in the JSON array bound as `param`: a list of ids as one
    /// bound value, which neither backend limits in length.
    pub(crate) fn json_ids(self, param: &str) -> String {
        match self {
            Backend::Sqlite => format!("select value from json_each({param})"),
            Backend::Postgres => format!(
                "select cast(value as bigint) from jsonb_array_elements_text(cast({param} as jsonb))"
            ),
        }
    }

    /// Whether one statement may write to several tables (`with … insert … returning`),
    /// saving a round trip per row: PostgreSQL can, SQLite cannot (and, with its writer in
    /// the same process, has no round trips to save).
    pub(crate) fn writes_in_one_statement(self) -> bool {
        self == Backend::Postgres
    }
}
