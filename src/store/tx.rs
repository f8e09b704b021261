//! A write transaction that knows its backend.

use futures_util::future::BoxFuture;
use sqlx::AnyConnection;

use super::{Backend, StoreResult};

/// The connection of one write transaction and the backend behind it: a statement that
/// differs between backends asks the transaction (and [`super::dialect`]), not the caller.
pub struct Tx<'c> {
    conn: &'c mut AnyConnection,
    backend: Backend,
}

impl<'c> Tx<'c> {
    pub(crate) fn new(conn: &'c mut AnyConnection, backend: Backend) -> Self {
        Self { conn, backend }
    }

    /// The backend the transaction runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection, to run a statement on.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut *self.conn
    }

    /// Locks the rows `select` picks (`$1` bound to `id`) until the transaction ends, on
    /// PostgreSQL. SQLite needs no lock: its single writer runs one write at a time.
    pub(crate) async fn lock_rows(&mut self, select: &str, id: i64) -> StoreResult<()> {
        if let Some(sql) = self.backend.locking(select) {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_all(&mut *self.conn)
                .await?;
        }
        Ok(())
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
