//! The two backends and what differs between them.

/// Which database sits behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub(crate) static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("migrations/postgres");

// WAL lets readers run beside the one writer. synchronous=FULL makes every commit reach the
// disk before it returns (NORMAL would lose the last commits on power loss, and a 2xx must
// mean stored). busy_timeout makes a writer from another process wait instead of failing.
// secure_delete overwrites deleted and replaced content with zeros, so that a purged name
// does not linger in a page's free space or on the free list until a VACUUM.
pub(crate) const SQLITE_PRAGMAS: &str = "pragma journal_mode = wal; pragma synchronous = full; \
    pragma busy_timeout = 15000; pragma foreign_keys = on; pragma secure_delete = on;";
