//! A write transaction that knows its backend.

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use sqlx::any::{Any, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::{AnyConnection, Either, Error, Execute, Executor};
use sqlx_core::sql_str::SqlStr;

use super::native::NativeConnection;
use super::{Backend, StoreResult};

/// The connection of one write transaction and the backend behind it: a statement that
/// differs between backends asks the transaction (and [`super::dialect`]), not the caller.
pub struct Tx<'c> {
    conn: Conn<'c>,
    backend: Backend,
}

/// The connection a transaction writes on: a pooled one (PostgreSQL), or the SQLite
/// writer's own (see [`super::native`]). Statements run on either the same way.
#[derive(Debug)]
pub enum Conn<'c> {
    Pooled(&'c mut AnyConnection),
    Native(&'c mut NativeConnection),
}

impl<'c> Tx<'c> {
    pub(crate) fn new(conn: &'c mut AnyConnection, backend: Backend) -> Self {
        Self {
            conn: Conn::Pooled(conn),
            backend,
        }
    }

    /// A transaction on the SQLite writer's own connection.
    pub(crate) fn native(conn: &'c mut NativeConnection) -> Self {
        Self {
            conn: Conn::Native(conn),
            backend: Backend::Sqlite,
        }
    }

    /// The backend the transaction runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection, to run a statement on.
    pub fn conn(&mut self) -> Conn<'_> {
        match &mut self.conn {
            Conn::Pooled(conn) => Conn::Pooled(conn),
            Conn::Native(conn) => Conn::Native(conn),
        }
    }

    /// Locks the rows `select` picks (`$1` bound to `value`) until the transaction ends, on
    /// PostgreSQL. SQLite needs no lock: its single writer runs one write at a time.
    pub(crate) async fn lock_rows<T>(&mut self, select: &str, value: T) -> StoreResult<()>
    where
        T: for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any> + Send,
    {
        if let Some(sql) = self.backend.locking(select) {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(value)
                .fetch_all(self.conn())
                .await?;
        }
        Ok(())
    }
}

impl<'c> Executor<'c> for Conn<'c> {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            Conn::Pooled(conn) => conn.fetch_many(query),
            Conn::Native(conn) => conn.fetch_many(query),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<AnyRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            Conn::Pooled(conn) => conn.fetch_optional(query),
            Conn::Native(conn) => conn.fetch_optional(query),
        }
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement, Error>>
    where
        'c: 'e,
    {
        match self {
            Conn::Pooled(conn) => conn.prepare_with(sql, parameters),
            Conn::Native(conn) => conn.prepare_with(sql, parameters),
        }
    }

    fn describe<'e>(
        self,
        sql: SqlStr,
    ) -> BoxFuture<'e, Result<sqlx_core::describe::Describe<Any>, Error>>
    where
        'c: 'e,
    {
        match self {
            Conn::Pooled(conn) => conn.describe(sql),
            Conn::Native(conn) => conn.describe(sql),
        }
    }
}

/// A unit of write work: runs inside a transaction; returning `Err` undoes all it did.
pub type TxFn<T> = Box<dyn for<'c> FnOnce(Tx<'c>) -> BoxFuture<'c, StoreResult<T>> + Send>;

/// `transaction!(store, |tx| { … })` runs the block as one [`super::Store::transact`], with
/// `tx` its [`Tx`]; the block's `StoreResult` is the answer. It spares every write the
/// boxing that lets the writer queue work of any type.
macro_rules! transaction {
    ($store:expr, |$tx:ident| $body:block) => {
        $store.transact(Box::new(move |mut owned| {
            Box::pin(async move {
                let $tx = &mut owned;
                $body
            })
        }))
    };
}
pub(crate) use transaction;
