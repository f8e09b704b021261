//! The SQLite writer's own connection: the SQLite library called directly, on the writer's
//! thread, with its statements prepared once and kept.
//!
//! sqlx's SQLite driver runs every statement on a worker thread of its own behind a channel,
//! two thread hand-offs a statement; a registration is about eight statements, and on two
//! busy cores those hand-offs, not SQLite, were the writer's cost. This connection answers
//! sqlx's `Executor` for the `Any` database, so every write in the store runs on it
//! unchanged: the same SQL text, the same binding by `$n`, the same rows and errors as the
//! sqlx driver gives (integers as `BigInt`, reals as `Double`, SQLite's constraint codes).
//! It is the same SQLite library sqlx links, linked once.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use futures_util::future::{self, BoxFuture};
use futures_util::stream::{self, BoxStream, StreamExt};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OpenFlags};
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::{Either, Error, Execute, Executor};
use sqlx_core::any::{
    Any, AnyColumn, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo, AnyTypeInfoKind, AnyValue,
    AnyValueKind,
};
use sqlx_core::ext::ustr::UStr;
use sqlx_core::sql_str::SqlStr;

/// Statements kept prepared: every distinct write statement of the store fits.
const KEPT_STATEMENTS: usize = 512;

/// A SQLite connection owned by one thread, answering sqlx's `Executor` for `Any`.
pub struct NativeConnection {
    conn: Connection,
}

impl fmt::Debug for NativeConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NativeConnection")
    }
}

impl NativeConnection {
    /// Opens the database file (it must exist: the pool created and migrated it) and
    /// applies `setup`, the pragmas every connection of the store runs with.
    pub fn open(path: &Path, setup: &str) -> Result<Self, Error> {
        Self::open_in(path, setup, None)
    }

    /// [`NativeConnection::open`] through the named SQLite VFS instead of the default one.
    fn open_in(path: &Path, setup: &str, vfs: Option<&str>) -> Result<Self, Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match vfs {
            Some(vfs) => Connection::open_with_flags_and_vfs(path, flags, vfs),
            None => Connection::open_with_flags(path, flags),
        }
        .map_err(to_sqlx)?;
        conn.execute_batch(setup).map_err(to_sqlx)?;
        conn.set_prepared_statement_cache_capacity(KEPT_STATEMENTS);
        Ok(Self { conn })
    }

    /// Whether no transaction is open: SQLite rolls a transaction back by itself after
    /// some failures (a full disk, an I/O error).
    pub fn is_autocommit(&self) -> bool {
        self.conn.is_autocommit()
    }

    /// Runs one statement with its arguments (`$n` takes the n-th), returning what sqlx's
    /// SQLite driver would: each row, then the count of rows changed. At most `limit` rows
    /// are read, at once (a stream of them is read from memory). Several statements in one
    /// text are taken only without arguments, and return no rows. The store binds `$n`
    /// only, each to an argument it gives; `?` takes its position in the statement.
    fn run(
        &mut self,
        sql: &str,
        arguments: Option<sqlx::any::AnyArguments>,
        limit: Option<usize>,
    ) -> Result<Vec<Either<AnyQueryResult, AnyRow>>, Error> {
        let values = arguments.map(|args| args.values.0).unwrap_or_default();
        let mut statement = match self.conn.prepare_cached(sql) {
            Ok(statement) => statement,
            Err(rusqlite::Error::MultipleStatement) if values.is_empty() => {
                self.conn.execute_batch(sql).map_err(to_sqlx)?;
                return Ok(vec![Either::Left(changed(self.conn.changes()))]);
            }
            Err(err) => return Err(to_sqlx(err)),
        };
        for index in 1..=statement.parameter_count() {
            let position = statement
                .parameter_name(index)
                .and_then(|name| name.get(1..))
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(index);
            let value = values.get(position - 1).ok_or_else(|| {
                Error::Protocol(format!("no argument bound for parameter {position}"))
            })?;
            statement
                .raw_bind_parameter(index, argument(value)?)
                .map_err(to_sqlx)?;
        }
        let names: Vec<UStr> = statement
            .column_names()
            .into_iter()
            .map(UStr::new)
            .collect();
        let mut out = Vec::new();
        // The columns and their index by name, made at the first row and shared by the rest.
        let mut shape: Option<(ColumnIndex, Vec<AnyColumn>)> = None;
        let mut rows = statement.raw_query();
        while limit.is_none_or(|limit| out.len() < limit) {
            let Some(row) = rows.next().map_err(to_sqlx)? else {
                break;
            };
            let values = (0..names.len())
                .map(|i| {
                    Ok(AnyValue {
                        kind: value(row.get_ref(i).map_err(to_sqlx)?)?,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let (column_names, columns) = shape.get_or_insert_with(|| {
                let index = names
                    .iter()
                    .cloned()
                    .enumerate()
                    .map(|(i, n)| (n, i))
                    .collect();
                let columns = names
                    .iter()
                    .zip(&values)
                    .enumerate()
                    .map(|(ordinal, (name, value))| AnyColumn {
                        ordinal,
                        name: name.clone(),
                        type_info: AnyTypeInfo {
                            kind: kind_of(&value.kind),
                        },
                    })
                    .collect();
                (Arc::new(index), columns)
            });
            out.push(Either::Right(AnyRow {
                column_names: column_names.clone(),
                columns: columns.clone(),
                values,
            }));
        }
        // Reading stops early only for `fetch_optional`; the statement is reset when the
        // cached statement goes back, as sqlx's driver resets it.
        drop(rows);
        drop(statement);
        out.push(Either::Left(changed(self.conn.changes())));
        Ok(out)
    }

    /// Runs a sqlx query (its text and arguments) at once; see [`NativeConnection::run`].
    fn execute_query<'q, E: Execute<'q, Any>>(
        &mut self,
        mut query: E,
        limit: Option<usize>,
    ) -> Result<Vec<Either<AnyQueryResult, AnyRow>>, Error> {
        let arguments = query.take_arguments().map_err(Error::Encode)?;
        self.run(query.sql().as_str(), arguments, limit)
    }
}

/// A row's columns by name, shared by every row of a statement.
type ColumnIndex = Arc<sqlx_core::HashMap<UStr, usize>>;

fn changed(rows: u64) -> AnyQueryResult {
    AnyQueryResult {
        rows_affected: rows,
        last_insert_id: None,
    }
}

/// One argument as SQLite takes it, the way sqlx's SQLite driver maps `Any` arguments;
/// text and bytes are bound without a copy.
fn argument(value: &AnyValueKind) -> Result<ToSqlOutput<'_>, Error> {
    Ok(match value {
        AnyValueKind::Null(_) => ToSqlOutput::Owned(Value::Null),
        AnyValueKind::Bool(b) => ToSqlOutput::Owned(Value::Integer(i64::from(*b))),
        AnyValueKind::SmallInt(i) => ToSqlOutput::Owned(Value::Integer(i64::from(*i))),
        AnyValueKind::Integer(i) => ToSqlOutput::Owned(Value::Integer(i64::from(*i))),
        AnyValueKind::BigInt(i) => ToSqlOutput::Owned(Value::Integer(*i)),
        AnyValueKind::Real(r) => ToSqlOutput::Owned(Value::Real(f64::from(*r))),
        AnyValueKind::Double(d) => ToSqlOutput::Owned(Value::Real(*d)),
        AnyValueKind::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        AnyValueKind::TextSlice(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        AnyValueKind::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        other => return Err(Error::Protocol(format!("unsupported argument {other:?}"))),
    })
}

/// A column value as sqlx's SQLite driver hands it to `Any`: by the value's own type.
fn value(value: ValueRef<'_>) -> Result<AnyValueKind, Error> {
    Ok(match value {
        ValueRef::Null => AnyValueKind::Null(AnyTypeInfoKind::Null),
        ValueRef::Integer(i) => AnyValueKind::BigInt(i),
        ValueRef::Real(r) => AnyValueKind::Double(r),
        ValueRef::Text(bytes) => AnyValueKind::Text(Arc::new(
            std::str::from_utf8(bytes)
                .map_err(|e| Error::Decode(Box::new(e)))?
                .to_string(),
        )),
        ValueRef::Blob(bytes) => AnyValueKind::Blob(Arc::new(bytes.to_vec())),
    })
}

fn kind_of(value: &AnyValueKind) -> AnyTypeInfoKind {
    match value {
        AnyValueKind::BigInt(_) => AnyTypeInfoKind::BigInt,
        AnyValueKind::Double(_) => AnyTypeInfoKind::Double,
        AnyValueKind::Text(_) => AnyTypeInfoKind::Text,
        AnyValueKind::Blob(_) => AnyTypeInfoKind::Blob,
        _ => AnyTypeInfoKind::Null,
    }
}

/// A SQLite error as sqlx's driver reports it: the extended code, the message, and the
/// kind of constraint violated.
#[derive(Debug)]
struct NativeError {
    code: i32,
    message: String,
}

impl fmt::Display for NativeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for NativeError {}

impl DatabaseError for NativeError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        use rusqlite::ffi;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

fn to_sqlx(err: rusqlite::Error) -> Error {
    match err {
        rusqlite::Error::SqliteFailure(failure, message) => {
            Error::Database(Box::new(NativeError {
                code: failure.extended_code,
                message: message.unwrap_or_else(|| failure.to_string()),
            }))
        }
        other => Error::Protocol(other.to_string()),
    }
}

impl<'c> Executor<'c> for &'c mut NativeConnection {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self.execute_query(query, None) {
            Ok(steps) => stream::iter(steps.into_iter().map(Ok)).boxed(),
            Err(err) => stream::once(future::ready(Err(err))).boxed(),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<AnyRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        let answer = self.execute_query(query, Some(1)).map(|steps| {
            steps.into_iter().find_map(|step| match step {
                Either::Right(row) => Some(row),
                Either::Left(_) => None,
            })
        });
        Box::pin(future::ready(answer))
    }

    fn prepare_with<'e>(
        self,
        _sql: SqlStr,
        _parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement, Error>>
    where
        'c: 'e,
    {
        Box::pin(future::ready(Err(Error::Protocol(
            "the writer's connection does not describe statements".into(),
        ))))
    }

    fn describe<'e>(
        self,
        _sql: SqlStr,
    ) -> BoxFuture<'e, Result<sqlx_core::describe::Describe<Any>, Error>>
    where
        'c: 'e,
    {
        Box::pin(future::ready(Err(Error::Protocol(
            "the writer's connection does not describe statements".into(),
        ))))
    }
}

#[cfg(test)]
mod tests {
    //! Power-loss durability of the writer's commits, shown by counting the syncs SQLite asks
    //! the operating system for: a VFS that is the default one except that it counts each
    //! sync of a write-ahead log.

    use std::ffi::{c_char, c_int};
    use std::ptr;
    use std::sync::Once;
    use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

    use rusqlite::ffi;

    use super::*;
    use crate::store::Backend;

    static DEFAULT_VFS: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(ptr::null_mut());
    /// The default VFS's methods for a WAL file, which the counting copy calls.
    static WAL_METHODS: AtomicPtr<ffi::sqlite3_io_methods> = AtomicPtr::new(ptr::null_mut());
    static COUNTING_METHODS: AtomicPtr<ffi::sqlite3_io_methods> = AtomicPtr::new(ptr::null_mut());
    static WAL_SYNCS: AtomicUsize = AtomicUsize::new(0);
    const VFS_NAME: &std::ffi::CStr = c"renfang-counting";

    unsafe extern "C" fn counting_open(
        _vfs: *mut ffi::sqlite3_vfs,
        name: ffi::sqlite3_filename,
        file: *mut ffi::sqlite3_file,
        flags: c_int,
        out_flags: *mut c_int,
    ) -> c_int {
        // SAFETY: the default VFS outlives the process; its xOpen gets the arguments SQLite
        // gave this one, for a file of the default VFS's size.
        unsafe {
            let default = DEFAULT_VFS.load(Ordering::Acquire);
            let open = (*default).xOpen.expect("the default VFS opens files");
            let rc = open(default, name, file, flags, out_flags);
            if rc == ffi::SQLITE_OK
                && flags & ffi::SQLITE_OPEN_WAL != 0
                && !(*file).pMethods.is_null()
            {
                let methods = (*file).pMethods as *mut ffi::sqlite3_io_methods;
                WAL_METHODS.store(methods, Ordering::Release);
                if COUNTING_METHODS.load(Ordering::Acquire).is_null() {
                    let mut counting = *methods;
                    counting.xSync = Some(counting_sync);
                    COUNTING_METHODS.store(Box::into_raw(Box::new(counting)), Ordering::Release);
                }
                (*file).pMethods = COUNTING_METHODS.load(Ordering::Acquire);
            }
            rc
        }
    }

    unsafe extern "C" fn counting_sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
        WAL_SYNCS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the file was opened by the default VFS, whose methods these are.
        unsafe {
            let sync = (*WAL_METHODS.load(Ordering::Acquire))
                .xSync
                .expect("files sync");
            sync(file, flags)
        }
    }

    fn register_counting_vfs() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            // SAFETY: registering a copy of the default VFS with another name and open.
            unsafe {
                let default = ffi::sqlite3_vfs_find(ptr::null::<c_char>());
                assert!(!default.is_null());
                DEFAULT_VFS.store(default, Ordering::Release);
                let mut counting = *default;
                counting.pNext = ptr::null_mut();
                counting.zName = VFS_NAME.as_ptr();
                counting.xOpen = Some(counting_open);
                let counting = Box::into_raw(Box::new(counting));
                assert_eq!(ffi::sqlite3_vfs_register(counting, 0), ffi::SQLITE_OK);
            }
        });
    }

    async fn run(conn: &mut NativeConnection, sql: &str) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut *conn)
            .await
            .unwrap();
    }

    /// The writer's commit returns only after SQLite has synced the write-ahead log
    /// (`synchronous = full` in WAL mode: "the WAL file is synchronized before each
    /// transaction commit"), once per commit however many writes it holds; the same commit
    /// with `synchronous = normal` would not sync, which shows that the count can fail.
    #[tokio::test]
    async fn a_commit_returns_after_the_log_is_synced_once_for_the_whole_batch() {
        register_counting_vfs();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sync.db");
        std::fs::File::create(&path).unwrap();
        let setup = Backend::Sqlite.connection_setup().unwrap();
        let mut conn =
            NativeConnection::open_in(&path, setup, Some(VFS_NAME.to_str().unwrap())).unwrap();

        let synchronous: i64 = sqlx::query_scalar("pragma synchronous")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        let journal: String = sqlx::query_scalar("pragma journal_mode")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!((synchronous, journal.as_str()), (2, "wal"), "FULL and WAL");

        run(&mut conn, "create table t (x integer not null)").await;
        run(&mut conn, "begin immediate").await;
        for x in 0..100_i64 {
            sqlx::query("insert into t (x) values ($1)")
                .bind(x)
                .execute(&mut conn)
                .await
                .unwrap();
        }
        let before = WAL_SYNCS.load(Ordering::SeqCst);
        run(&mut conn, "commit").await;
        let synced = WAL_SYNCS.load(Ordering::SeqCst) - before;
        assert!(synced >= 1, "the commit returned before the log was synced");
        assert!(
            synced <= 2,
            "one commit of 100 writes synced {synced} times"
        );

        run(&mut conn, "pragma synchronous = normal").await;
        let before = WAL_SYNCS.load(Ordering::SeqCst);
        run(
            &mut conn,
            "begin immediate; insert into t (x) values (1); commit",
        )
        .await;
        assert_eq!(
            WAL_SYNCS.load(Ordering::SeqCst),
            before,
            "NORMAL does not sync"
        );
    }
}
