//! Login sessions: in the process by default, in Redis when `RENFANG_REDIS_URL` is set so
//! that every instance accepts every session.
//!
//! Only a SHA-256 of the bearer token is used as the key, so a Redis dump holds no usable
//! session. A failure to reach Redis is an error, never an anonymous or accepted request.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::Mutex;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::domain::role::Role;

/// How long a login lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub user_id: i64,
    pub role: Role,
}

/// The session store could not be reached; the request must fail closed.
#[derive(Debug, thiserror::Error)]
#[error("session store unavailable: {0}")]
pub struct SessionError(String);

/// In-process sessions by token hash, with their expiry.
type MemorySessions = Arc<Mutex<HashMap<Vec<u8>, (Session, Instant)>>>;

/// Failed logins by hashed account name: the count and when the window ends.
type MemoryFailures = Arc<Mutex<HashMap<Vec<u8>, (u32, Instant)>>>;

/// How long failed logins are remembered (and an account stays locked).
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Clone)]
enum Backend {
    Memory(MemorySessions, MemoryFailures),
    Redis {
        conn: ConnectionManager,
        prefix: String,
    },
}

/// Creates, checks and ends sessions.
#[derive(Clone)]
pub struct SessionStore {
    backend: Backend,
}

impl SessionStore {
    /// In-process sessions.
    pub fn memory() -> Self {
        Self {
            backend: Backend::Memory(Arc::default(), Arc::default()),
        }
    }

    /// Sessions in Redis under `prefix`; fails if Redis cannot be reached at start-up.
    pub async fn redis(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).context("parsing RENFANG_REDIS_URL")?;
        // Short timeouts: a request waiting on a dead Redis should fail fast, not hang.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .context("connecting to Redis")?;
        Ok(Self {
            backend: Backend::Redis {
                conn,
                prefix: prefix.to_string(),
            },
        })
    }

    /// Starts a session and returns its bearer token.
    pub async fn create(&self, session: Session) -> Result<String, SessionError> {
        let bytes: [u8; 32] = rand::random();
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let key = crate::crypto::sha256(token.as_bytes());
        match &self.backend {
            Backend::Memory(map, _) => {
                let mut map = map.lock();
                let now = Instant::now();
                // Expired sessions are dropped on the way in, so the map cannot grow forever.
                map.retain(|_, (_, expires)| *expires > now);
                map.insert(key, (session, now + SESSION_TTL));
            }
            Backend::Redis { conn, prefix } => {
                let value = format!("{}:{}", session.user_id, session.role.as_str());
                let mut conn = conn.clone();
                let _: () = conn
                    .set_ex(redis_key(prefix, &key), value, SESSION_TTL.as_secs())
                    .await
                    .map_err(|e| SessionError(e.to_string()))?;
            }
        }
        Ok(token)
    }

    /// The session of a bearer token, if it is live.
    pub async fn get(&self, token: &str) -> Result<Option<Session>, SessionError> {
        let key = crate::crypto::sha256(token.as_bytes());
        match &self.backend {
            Backend::Memory(map, _) => Ok(map
                .lock()
                .get(&key)
                .filter(|(_, expires)| *expires > Instant::now())
                .map(|(s, _)| *s)),
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let value: Option<String> = conn
                    .get(redis_key(prefix, &key))
                    .await
                    .map_err(|e| SessionError(e.to_string()))?;
                Ok(value.and_then(|v| parse_value(&v)))
            }
        }
    }

    /// Ends a session; ending an unknown one is not an error.
    pub async fn revoke(&self, token: &str) -> Result<(), SessionError> {
        let key = crate::crypto::sha256(token.as_bytes());
        match &self.backend {
            Backend::Memory(map, _) => {
                map.lock().remove(&key);
            }
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let _: () = conn
                    .del(redis_key(prefix, &key))
                    .await
                    .map_err(|e| SessionError(e.to_string()))?;
            }
        }
        Ok(())
    }
}

impl SessionStore {
    /// Failed logins of an account name within the current window.
    pub async fn failures(&self, name: &str) -> Result<u32, SessionError> {
        let key = failure_key(name);
        match &self.backend {
            Backend::Memory(_, failures) => Ok(failures
                .lock()
                .get(&key)
                .filter(|(_, until)| *until > Instant::now())
                .map_or(0, |(n, _)| *n)),
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let n: Option<u32> = conn
                    .get(failure_redis_key(prefix, &key))
                    .await
                    .map_err(|e| SessionError(e.to_string()))?;
                Ok(n.unwrap_or(0))
            }
        }
    }

    /// Counts one more failed login and returns the count; the window starts at the first.
    pub async fn record_failure(&self, name: &str) -> Result<u32, SessionError> {
        let key = failure_key(name);
        match &self.backend {
            Backend::Memory(_, failures) => {
                let mut map = failures.lock();
                let now = Instant::now();
                map.retain(|_, (_, until)| *until > now);
                let entry = map.entry(key).or_insert((0, now + FAILURE_WINDOW));
                entry.0 += 1;
                Ok(entry.0)
            }
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let key = failure_redis_key(prefix, &key);
                // INCR then EXPIRE NX in one round trip: the window starts at the first failure.
                let (n, _): (u32, i64) = redis::pipe()
                    .atomic()
                    .incr(&key, 1)
                    .cmd("EXPIRE")
                    .arg(&key)
                    .arg(FAILURE_WINDOW.as_secs())
                    .arg("NX")
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| SessionError(e.to_string()))?;
                Ok(n)
            }
        }
    }

    /// Forgets the failed logins of an account name (after a successful one).
    pub async fn clear_failures(&self, name: &str) -> Result<(), SessionError> {
        let key = failure_key(name);
        match &self.backend {
            Backend::Memory(_, failures) => {
                failures.lock().remove(&key);
            }
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let _: () = conn
                    .del(failure_redis_key(prefix, &key))
                    .await
                    .map_err(|e| SessionError(e.to_string()))?;
            }
        }
        Ok(())
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
        let token = store.create(s).await.unwrap();
        assert_eq!(store.get(&token).await.unwrap(), Some(s));
        assert_eq!(store.get("not-a-token").await.unwrap(), None);
        store.revoke(&token).await.unwrap();
        assert_eq!(store.get(&token).await.unwrap(), None);
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
