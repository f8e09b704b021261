//! Login sessions: in the process by default, in Redis when `RENFANG_REDIS_URL` is set so
//! that every instance accepts every session.
//!
//! Only a SHA-256 of the bearer token is used as the key, so a Redis dump holds no usable
//! session. While Redis cannot be reached (or does not answer within 300 ms), nothing
//! fails open and nothing answers 5xx: a session kept in Redis cannot be confirmed and is
//! treated as absent (the user signs in again), new sessions and failed-login counts are
//! kept in this process, and a logout that cannot reach Redis is remembered here so the
//! token stays dead. When Redis answers again, the sessions and logouts kept here are
//! handed over to it, so every instance sees them.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::Mutex;
use redis::AsyncCommands;

use crate::domain::role::Role;
use crate::redis_link::RedisLink;

/// How long a login lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub user_id: i64,
    pub role: Role,
}

/// How long failed logins are remembered (and an account stays locked).
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A map by hash (of a token or an account name) shared between workers.
type ByHash<V> = Arc<Mutex<HashMap<Vec<u8>, V>>>;

/// What this process keeps: everything without Redis, and what Redis could not take.
#[derive(Clone, Default)]
struct Local {
    /// Sessions by token hash, with their expiry.
    sessions: ByHash<(Session, Instant)>,
    /// Failed logins by hashed account name: the count and when the window ends.
    failures: ByHash<(u32, Instant)>,
    /// Token hashes logged out while Redis was away, until their session would have ended.
    revoked: ByHash<Instant>,
    /// Whether sessions or logouts kept here wait to be handed over to Redis.
    waiting: Arc<AtomicBool>,
}

/// The longest a request waits on Redis for a session.
const REDIS_WAIT: Duration = Duration::from_millis(300);

/// A Redis call with a time limit; a late answer counts as a failure.
async fn within<T>(
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, String> {
    match tokio::time::timeout(REDIS_WAIT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer in time".to_string()),
    }
}

#[derive(Clone)]
struct Shared {
    link: RedisLink,
    prefix: String,
}

/// Creates, checks and ends sessions.
#[derive(Clone)]
pub struct SessionStore {
    local: Local,
    redis: Option<Shared>,
}

fn redis_failed(what: &str, e: &str) {
    tracing::warn!(error = %e, "Redis failed ({what}); using this process instead");
}

impl SessionStore {
    /// In-process sessions.
    pub fn memory() -> Self {
        Self {
            local: Local::default(),
            redis: None,
        }
    }

    /// Sessions in Redis under `prefix`.
    pub fn redis(link: RedisLink, prefix: &str) -> Self {
        Self {
            local: Local::default(),
            redis: Some(Shared {
                link,
                prefix: prefix.to_string(),
            }),
        }
    }

    /// Starts a session and returns its bearer token.
    pub async fn create(&self, session: Session) -> String {
        let bytes: [u8; 32] = rand::random();
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let key = crate::crypto::sha256(token.as_bytes());
        if let Some(Shared { link, prefix }) = &self.redis {
            let value = format!("{}:{}", session.user_id, session.role.as_str());
            let mut conn = link.conn();
            let stored: Result<(), _> =
                within(conn.set_ex(redis_key(prefix, &key), value, SESSION_TTL.as_secs())).await;
            match stored {
                Ok(()) => {
                    self.hand_over().await;
                    return token;
                }
                Err(e) => {
                    redis_failed("new session", &e);
                    self.local.waiting.store(true, Ordering::Relaxed);
                }
            }
        }
        let mut map = self.local.sessions.lock();
        let now = Instant::now();
        // Expired sessions are dropped on the way in, so the map cannot grow forever.
        map.retain(|_, (_, expires)| *expires > now);
        map.insert(key, (session, now + SESSION_TTL));
        token
    }

    /// The session of a bearer token, if it is live (and can be confirmed).
    pub async fn get(&self, token: &str) -> Option<Session> {
        let key = crate::crypto::sha256(token.as_bytes());
        let now = Instant::now();
        if let Some((session, _)) = self
            .local
            .sessions
            .lock()
            .get(&key)
            .filter(|(_, expires)| *expires > now)
        {
            return Some(*session);
        }
        let Some(Shared { link, prefix }) = &self.redis else {
            return None;
        };
        if self
            .local
            .revoked
            .lock()
            .get(&key)
            .is_some_and(|until| *until > now)
        {
            return None;
        }
        let mut conn = link.conn();
        let value: Result<Option<String>, _> = within(conn.get(redis_key(prefix, &key))).await;
        match value {
            Ok(value) => {
                self.hand_over().await;
                value.and_then(|v| parse_value(&v))
            }
            Err(e) => {
                // Unconfirmed is refused: never fail open.
                redis_failed("session check", &e);
                None
            }
        }
    }

    /// Ends a session; ending an unknown one is not an error.
    pub async fn revoke(&self, token: &str) {
        let key = crate::crypto::sha256(token.as_bytes());
        self.local.sessions.lock().remove(&key);
        if let Some(Shared { link, prefix }) = &self.redis {
            let mut conn = link.conn();
            let deleted: Result<(), _> = within(conn.del(redis_key(prefix, &key))).await;
            if let Err(e) = deleted {
                redis_failed("logout", &e);
                let mut revoked = self.local.revoked.lock();
                let now = Instant::now();
                revoked.retain(|_, until| *until > now);
                revoked.insert(key, now + SESSION_TTL);
                self.local.waiting.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Once Redis answers again: writes the sessions made here while it was away into it
    /// (for what is left of their time) and deletes the sessions logged out here, so every
    /// instance sees both. What fails stays here for the next time.
    async fn hand_over(&self) {
        let Some(Shared { link, prefix }) = &self.redis else {
            return;
        };
        if !self.local.waiting.swap(false, Ordering::Relaxed) {
            return;
        }
        let now = Instant::now();
        let sessions: Vec<(Vec<u8>, Session, Duration)> = self
            .local
            .sessions
            .lock()
            .iter()
            .filter(|(_, (_, expires))| *expires > now)
            .map(|(k, (s, expires))| (k.clone(), *s, *expires - now))
            .collect();
        let revoked: Vec<Vec<u8>> = self
            .local
            .revoked
            .lock()
            .iter()
            .filter(|(_, until)| **until > now)
            .map(|(k, _)| k.clone())
            .collect();
        let mut pipe = redis::pipe();
        for (key, session, left) in &sessions {
            let value = format!("{}:{}", session.user_id, session.role.as_str());
            pipe.set_ex(redis_key(prefix, key), value, left.as_secs().max(1))
                .ignore();
        }
        for key in &revoked {
            pipe.del(redis_key(prefix, key)).ignore();
        }
        let mut conn = link.conn();
        match within(pipe.query_async::<()>(&mut conn)).await {
            Ok(()) => {
                let mut local = self.local.sessions.lock();
                for (key, _, _) in &sessions {
                    local.remove(key);
                }
                drop(local);
                let mut gone = self.local.revoked.lock();
                for key in &revoked {
                    gone.remove(key);
                }
                tracing::info!(
                    sessions = sessions.len(),
                    logouts = revoked.len(),
                    "Redis is back: sessions and logouts kept here handed over"
                );
            }
            Err(e) => {
                redis_failed("hand-over", &e);
                self.local.waiting.store(true, Ordering::Relaxed);
            }
        }
    }
}

impl SessionStore {
    /// Failed logins of an account name within the current window: the larger of the
    /// shared count and the count this process kept while Redis was away.
    pub async fn failures(&self, name: &str) -> u32 {
        let key = failure_key(name);
        let local = self
            .local
            .failures
            .lock()
            .get(&key)
            .filter(|(_, until)| *until > Instant::now())
            .map_or(0, |(n, _)| *n);
        let Some(Shared { link, prefix }) = &self.redis else {
            return local;
        };
        let mut conn = link.conn();
        let shared: Result<Option<u32>, _> =
            within(conn.get(failure_redis_key(prefix, &key))).await;
        match shared {
            Ok(n) => n.unwrap_or(0).max(local),
            Err(e) => {
                redis_failed("login failures", &e);
                local
            }
        }
    }

    /// Counts one more failed login and returns the count; the window starts at the first.
    pub async fn record_failure(&self, name: &str) -> u32 {
        let key = failure_key(name);
        if let Some(Shared { link, prefix }) = &self.redis {
            let mut conn = link.conn();
            let rkey = failure_redis_key(prefix, &key);
            // INCR then EXPIRE NX in one round trip: the window starts at the first failure.
            let mut pipe = redis::pipe();
            pipe.atomic()
                .incr(&rkey, 1)
                .cmd("EXPIRE")
                .arg(&rkey)
                .arg(FAILURE_WINDOW.as_secs())
                .arg("NX");
            let counted: Result<(u32, i64), _> = within(pipe.query_async(&mut conn)).await;
            match counted {
                Ok((n, _)) => return n,
                Err(e) => redis_failed("login failure", &e),
            }
        }
        let mut map = self.local.failures.lock();
        let now = Instant::now();
        map.retain(|_, (_, until)| *until > now);
        let entry = map.entry(key).or_insert((0, now + FAILURE_WINDOW));
        entry.0 += 1;
        entry.0
    }

    /// Forgets the failed logins of an account name (after a successful one).
    pub async fn clear_failures(&self, name: &str) {
        let key = failure_key(name);
        self.local.failures.lock().remove(&key);
        if let Some(Shared { link, prefix }) = &self.redis {
            let mut conn = link.conn();
            let cleared: Result<(), _> = within(conn.del(failure_redis_key(prefix, &key))).await;
            if let Err(e) = cleared {
                redis_failed("login failures", &e);
            }
        }
    }
}

/// Account names are hashed: a phone number used as a login is personal data.
fn failure_key(name: &str) -> Vec<u8> {
    crate::crypto::sha256(name.trim().to_lowercase().as_bytes())
}

fn failure_redis_key(prefix: &str, hash: &[u8]) -> String {
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}login-failures:{hex}")
}

fn redis_key(prefix: &str, hash: &[u8]) -> String {
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}session:{hex}")
}

fn parse_value(value: &str) -> Option<Session> {
    let (id, role) = value.split_once(':')?;
    Some(Session {
        user_id: id.parse().ok()?,
        role: Role::parse(role)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_memory_session_lives_until_revoked() {
        let store = SessionStore::memory();
        let s = Session {
            user_id: 7,
            role: Role::Police,
        };
        let token = store.create(s).await;
        assert_eq!(store.get(&token).await, Some(s));
        assert_eq!(store.get("not-a-token").await, None);
        store.revoke(&token).await;
        assert_eq!(store.get(&token).await, None);
    }

    #[test]
    fn stored_values_round_trip() {
        assert_eq!(
            parse_value("12:admin"),
            Some(Session {
                user_id: 12,
                role: Role::Admin
            })
        );
        assert_eq!(parse_value("12:root"), None);
    }
}
