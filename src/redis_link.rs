//! The Redis connections of one instance: one per thread that asks for it.
//!
//! Each HTTP worker runs its own single-threaded runtime. A connection's reader and writer
//! run on the runtime that opened it, so a request on one worker using a connection opened
//! on another runtime wakes that runtime's thread twice per command: once to send, once to
//! hand the answer back. Every public request counts its rate limits in Redis, so a worker
//! uses a connection of its own, opened on its own runtime the first time it asks; until
//! that connection is open (or while it cannot be opened) the one opened at start-up
//! serves.
//!
//! An instance starts whether or not Redis answers: scanning and registering must not wait
//! on it. The start-up connection is then opened on first use and again after each failure,
//! and the link remembers whether Redis has answered it yet (sessions need it to have).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use anyhow::Context;
use parking_lot::Mutex;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// The longest a PING waits for Redis's answer.
const ANSWER_WAIT: Duration = Duration::from_millis(500);
/// How long a thread whose connection could not be opened waits before trying again.
const RETRY_OPEN_AFTER: Duration = Duration::from_secs(2);

/// A thread's own connection, or when it last tried to open one.
enum Slot {
    Open(ConnectionManager),
    Opening,
    Failed(Instant),
}

/// One instance's way to Redis (cheap to clone: clones share their connections).
#[derive(Clone)]
pub struct RedisLink {
    client: redis::Client,
    /// Made at start-up; serves a thread until its own connection is open.
    shared: ConnectionManager,
    threads: Arc<Mutex<HashMap<ThreadId, Slot>>>,
    /// Whether Redis has answered this instance since it started.
    answered: Arc<AtomicBool>,
}

impl RedisLink {
    /// Makes the start-up connection with short timeouts (a request waiting on a dead Redis
    /// should fall back quickly, not hang) and tries it once. Fails only on a bad URL: an
    /// instance whose Redis does not answer starts all the same and keeps trying.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        use redis::IntoConnectionInfo;
        // Many requests share a connection, so a command is often written while an earlier
        // one is unanswered: without TCP_NODELAY the kernel holds it back until that answer.
        let info = url
            .into_connection_info()
            .context("parsing RENFANG_REDIS_URL")?
            .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
        let client = redis::Client::open(info).context("parsing RENFANG_REDIS_URL")?;
        let shared = ConnectionManager::new_lazy_with_config(client.clone(), config())
            .context("setting up the Redis connection")?;
        let link = Self {
            client,
            shared,
            threads: Arc::default(),
            answered: Arc::default(),
        };
        if !link.answers().await {
            tracing::warn!(
                "Redis does not answer: starting without it; logins wait until it does, \
                 limits are counted in this process meanwhile"
            );
        }
        Ok(link)
    }

    /// Whether Redis has answered this instance since it started.
    pub fn has_answered(&self) -> bool {
        self.answered.load(Ordering::Relaxed)
    }

    /// Asks Redis for a PING, waiting at most `ANSWER_WAIT`; remembers a first answer.
    pub async fn answers(&self) -> bool {
        let mut conn = self.shared.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        let answered = matches!(tokio::time::timeout(ANSWER_WAIT, ping).await, Ok(Ok(_)));
        if answered && !self.answered.swap(true, Ordering::Relaxed) {
            tracing::info!("Redis answers");
        }
        answered
    }

    /// The calling thread's connection. The first call on a thread starts opening one on
    /// the thread's runtime and answers with the start-up connection meanwhile.
    pub fn conn(&self) -> ConnectionManager {
        let thread = std::thread::current().id();
        let mut threads = self.threads.lock();
        match threads.get(&thread) {
            Some(Slot::Open(conn)) => return conn.clone(),
            Some(Slot::Opening) => return self.shared.clone(),
            Some(Slot::Failed(at)) if at.elapsed() < RETRY_OPEN_AFTER => {
                return self.shared.clone();
            }
            _ => {}
        }
        // Outside a runtime (nothing to open it on) the start-up connection serves.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return self.shared.clone();
        };
        threads.insert(thread, Slot::Opening);
        drop(threads);
        let (client, threads) = (self.client.clone(), self.threads.clone());
        runtime.spawn(async move {
            let slot = match ConnectionManager::new_with_config(client, config()).await {
                Ok(conn) => Slot::Open(conn),
                Err(e) => {
                    tracing::warn!(error = %e, "opening a Redis connection for a worker");
                    Slot::Failed(Instant::now())
                }
            };
            threads.lock().insert(thread, slot);
        });
        self.shared.clone()
    }
}

fn config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_millis(500)))
        .set_number_of_retries(1)
}
