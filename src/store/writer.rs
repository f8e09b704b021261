//! Group commit for SQLite: one task owns the write connection and commits waiting jobs
//! together.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection};
use tokio::sync::{mpsc, oneshot};

use super::dialect::Backend;
use super::error::{StoreError, StoreResult};
use super::tx::{Tx, TxFn};

/// Most jobs in one transaction; bounds the latency one slow batch adds to the next.
const MAX_BATCH: usize = 128;
/// Jobs waiting for the writer before callers wait to submit (back-pressure).
const QUEUE: usize = 4096;

/// One queued job, type-erased so jobs of any result type share the queue.
trait Job: Send {
    /// Runs the work; the returned hand-off answers the caller once the batch commits.
    fn run<'c>(self: Box<Self>, conn: &'c mut AnyConnection) -> BoxFuture<'c, Box<dyn Finish>>;
    /// Answers the caller without running (the batch could not start).
    fn fail(self: Box<Self>, message: &str);
}

/// The answer to one caller, held until the batch's commit is known.
trait Finish: Send {
    fn succeeded(&self) -> bool;
    fn finish(self: Box<Self>, commit: Result<(), &str>);
}

struct TypedJob<T> {
    work: TxFn<T>,
    reply: oneshot::Sender<StoreResult<T>>,
}

struct TypedFinish<T> {
    result: StoreResult<T>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T: Send + 'static> Job for TypedJob<T> {
    fn run<'c>(self: Box<Self>, conn: &'c mut AnyConnection) -> BoxFuture<'c, Box<dyn Finish>> {
        Box::pin(async move {
            let result = (self.work)(Tx::new(conn, Backend::Sqlite)).await;
            Box::new(TypedFinish {
                result,
                reply: self.reply,
            }) as Box<dyn Finish>
        })
    }

    fn fail(self: Box<Self>, message: &str) {
        let _ = self
            .reply
            .send(Err(StoreError::Other(anyhow::anyhow!("{message}"))));
    }
}

impl<T: Send + 'static> Finish for TypedFinish<T> {
    fn succeeded(&self) -> bool {
        self.result.is_ok()
    }

    fn finish(self: Box<Self>, commit: Result<(), &str>) {
        let answer = match commit {
            Ok(()) => self.result,
            // The job's own error explains more than the failed commit does.
            Err(_) if self.result.is_err() => self.result,
            Err(message) => Err(StoreError::Other(anyhow::anyhow!(
                "commit failed: {message}"
            ))),
        };
        let _ = self.reply.send(answer);
    }
}

/// Handle to the writer task.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer task on the current runtime.
    pub fn start(pool: AnyPool) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, jobs));
        Self { queue }
    }

    /// Queues `work` and waits until its batch has committed.
    pub async fn submit<T: Send + 'static>(&self, work: TxFn<T>) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Box::new(TypedJob { work, reply }))
            .await
            .map_err(|_| anyhow::anyhow!("the database writer has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the database writer dropped a job"))?
    }
}

async fn run(pool: AnyPool, mut jobs: mpsc::Receiver<Box<dyn Job>>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // The connection goes back to the pool after each batch, so that closing the pool
        // never waits on an idle writer.
        let mut conn: PoolConnection<Any> = match pool.acquire().await {
            Ok(c) => c,
            Err(err) => {
                let message = format!("no database connection: {err}");
                batch.into_iter().for_each(|job| job.fail(&message));
                continue;
            }
        };
        if let Err(err) = commit_batch(&mut conn, batch).await {
            tracing::error!(error = %err, "write batch failed");
            // A connection that failed mid-transaction may be in any state: drop it.
            let _ = conn.detach().close().await;
        }
    }
}

async fn commit_batch(conn: &mut AnyConnection, batch: Vec<Box<dyn Job>>) -> Result<(), String> {
    // IMMEDIATE takes the write lock up front, so another process's writer makes this wait
    // (busy_timeout) instead of failing halfway through.
    if let Err(err) = sqlx::query("begin immediate").execute(&mut *conn).await {
        let message = format!("could not begin: {err}");
        batch.into_iter().for_each(|job| job.fail(&message));
        return Err(message);
    }
    let mut finishes = Vec::with_capacity(batch.len());
    for job in batch {
        if let Err(err) = sqlx::query("savepoint job").execute(&mut *conn).await {
            job.fail("could not open a savepoint");
            return abort(conn, finishes, format!("savepoint: {err}")).await;
        }
        // A panicking job must not take the writer down with it: its caller sees its reply
        // dropped, and the batch is rolled back.
        let Ok(finish) = AssertUnwindSafe(job.run(conn)).catch_unwind().await else {
            return abort(conn, finishes, "a write job panicked".into()).await;
        };
        // A successful job's savepoint is simply left open: the commit releases them all,
        // and `rollback to` always finds the newest one. One statement fewer per job.
        let undo = if finish.succeeded() {
            Ok(())
        } else {
            sqlx::query("rollback to job")
                .execute(&mut *conn)
                .await
                .map(|_| ())
        };
        finishes.push(finish);
        if let Err(err) = undo {
            return abort(conn, finishes, format!("savepoint: {err}")).await;
        }
    }
    match sqlx::query("commit").execute(&mut *conn).await {
        Ok(_) => {
            finishes.into_iter().for_each(|f| f.finish(Ok(())));
            Ok(())
        }
        Err(err) => abort(conn, finishes, format!("commit: {err}")).await,
    }
}

async fn abort(
    conn: &mut AnyConnection,
    finishes: Vec<Box<dyn Finish>>,
    message: String,
) -> Result<(), String> {
    let _ = sqlx::query("rollback").execute(&mut *conn).await;
    finishes.into_iter().for_each(|f| f.finish(Err(&message)));
    Err(message)
}
