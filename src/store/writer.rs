//! Group commit for SQLite: one thread owns the write connection and commits waiting jobs
//! together.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use super::error::{StoreError, StoreResult};
use super::native::NativeConnection;
use super::tx::{Tx, TxFn};

/// Most jobs in one transaction; bounds the latency one slow batch adds to the next.
const MAX_BATCH: usize = 128;
/// Jobs waiting for the writer before callers wait to submit (back-pressure).
const QUEUE: usize = 4096;

/// One queued job, type-erased so jobs of any result type share the queue.
trait Job: Send {
    /// Runs the work; the returned hand-off answers the caller once the batch commits.
    fn run<'c>(self: Box<Self>, conn: &'c mut NativeConnection) -> BoxFuture<'c, Box<dyn Finish>>;
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
    fn run<'c>(self: Box<Self>, conn: &'c mut NativeConnection) -> BoxFuture<'c, Box<dyn Finish>> {
        Box::pin(async move {
            let result = (self.work)(Tx::native(conn)).await;
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

/// What the writer is asked to do.
enum Message {
    Job(Box<dyn Job>),
    /// Close the connection and stop; answered once closed.
    Close(oneshot::Sender<()>),
}

/// Handle to the writer thread.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Message>,
}

impl Writer {
    /// Starts the writer on a thread of its own, writing to the database file at `path`
    /// (which the pool has created). The thread runs the jobs' futures; their statements
    /// call SQLite directly on it (see [`super::native`]), so a statement costs no thread
    /// hand-off and a busy runtime never delays the one writer.
    pub fn start(path: PathBuf, setup: &'static str) -> std::io::Result<Self> {
        let (queue, jobs) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(run(path, setup, jobs)),
                    // Dropping the queue's receiver fails every write with a clear error.
                    Err(err) => {
                        tracing::error!(error = %err, "the database writer could not start")
                    }
                }
            })?;
        Ok(Self { queue })
    }

    /// Queues `work` and waits until its batch has committed.
    pub async fn submit<T: Send + 'static>(&self, work: TxFn<T>) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Message::Job(Box::new(TypedJob { work, reply })))
            .await
            .map_err(|_| anyhow::anyhow!("the database writer has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the database writer dropped a job"))?
    }

    /// Closes the write connection once the jobs queued before have run; later writes fail.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.queue.send(Message::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
    }
}

async fn run(path: PathBuf, setup: &'static str, mut messages: mpsc::Receiver<Message>) {
    let mut conn: Option<NativeConnection> = None;
    let mut next = messages.recv().await;
    while let Some(message) = next.take() {
        let first = match message {
            Message::Job(job) => job,
            Message::Close(done) => {
                drop(conn.take());
                let _ = done.send(());
                return;
            }
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match messages.try_recv() {
                Ok(Message::Job(job)) => batch.push(job),
                // A close waits for this batch, then is handled as the next message.
                Ok(close) => {
                    next = Some(close);
                    break;
                }
                Err(_) => break,
            }
        }
        if conn.is_none() {
            match NativeConnection::open(&path, setup) {
                Ok(opened) => conn = Some(opened),
                Err(err) => {
                    let message = format!("no database connection: {err}");
                    batch.into_iter().for_each(|job| job.fail(&message));
                    batch = Vec::new();
                }
            }
        }
        if let Some(live) = conn.as_mut().filter(|_| !batch.is_empty())
            && let Err(err) = commit_batch(live, batch).await
        {
            tracing::error!(error = %err, "write batch failed");
            // A connection that failed mid-transaction may be in any state: open another.
            conn = None;
        }
        if next.is_none() {
            next = messages.recv().await;
        }
    }
}

async fn commit_batch(conn: &mut NativeConnection, batch: Vec<Box<dyn Job>>) -> Result<(), String> {
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
        // Some failures (a full disk, an I/O error) make SQLite roll back the whole
        // transaction; the jobs after it must not run outside one.
        if conn.is_autocommit() {
            return abort(conn, finishes, "SQLite rolled the batch back".into()).await;
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
    conn: &mut NativeConnection,
    finishes: Vec<Box<dyn Finish>>,
    message: String,
) -> Result<(), String> {
    let _ = sqlx::query("rollback").execute(&mut *conn).await;
    finishes.into_iter().for_each(|f| f.finish(Err(&message)));
    Err(message)
}
