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
    /// The account's session epoch when the session began: once the account's epoch moves
    /// on (a new password, a disabled account), the session is over.
    pub epoch: i64,
}

impl Session {
    /// How a session is kept in Redis.
    fn value(&self) -> String {
        format!("{}:{}:{}", self.user_id, self.role.as_str(), self.epoch)
    }
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
    /// Keys the hashes that failed logins are counted under.
    secret: Arc<[u8; 32]>,
}

fn redis_failed(what: &str, e: &str) {
    tracing::warn!(error = %e, "Redis failed ({what}); using this process instead");
}

impl SessionStore {
    /// In-process sessions; failed logins counted under keys hashed with `secret`.
    pub fn memory(secret: [u8; 32]) -> Self {
        Self {
            local: Local::default(),
            redis: None,
            secret: Arc::new(secret),
        }
    }

    /// Sessions in Redis under `prefix` (the same `secret` on every instance, so that they
    /// count failed logins under the same keys).
    pub fn redis(link: RedisLink, prefix: &str, secret: [u8; 32]) -> Self {
        Self {
            local: Local::default(),
            redis: Some(Shared {
                link,
                prefix: prefix.to_string(),
            }),
            secret: Arc::new(secret),
        }
    }

    /// Whether sessions can be kept: always in the process; with Redis, once it has
    /// answered this instance (asking it again now if it has not). An instance that has
    /// never reached Redis knows none of the shared sessions, logouts and login locks, so
    /// it neither signs anyone in nor confirms a session until it has.
    pub async fn ready(&self) -> bool {
        match &self.redis {
            None => true,
            Some(Shared { link, .. }) => link.has_answered() || link.answers().await,
        }
    }

    /// Starts a session and returns its bearer token.
    pub async fn create(&self, session: Session) -> String {
        let bytes: [u8; 32] = rand::random();
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let key = crate::crypto::sha256(token.as_bytes());
        if let Some(Shared { link, prefix }) = &self.redis {
            let value = session.value();
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

    /// Gives a live session new contents and keeps its token and its end: the session that
    /// changed its account's password carries on under the new epoch. A session that
    /// cannot be updated (Redis away) is ended instead: the user signs in again.
    pub async fn replace(&self, token: &str, session: Session) {
        let key = crate::crypto::sha256(token.as_bytes());
        if let Some((kept, _)) = self.local.sessions.lock().get_mut(&key) {
            *kept = session;
            return;
        }
        let Some(Shared { link, prefix }) = &self.redis else {
            return;
        };
        let mut conn = link.conn();
        // XX: a session that ended meanwhile is not brought back; KEEPTTL: nor lengthened.
        let mut set = redis::cmd("SET");
        set.arg(redis_key(prefix, &key))
            .arg(session.value())
            .arg("XX")
            .arg("KEEPTTL");
        let stored: Result<Option<String>, _> = within(set.query_async(&mut conn)).await;
        if let Err(e) = stored {
            redis_failed("session update", &e);
            self.revoke(token).await;
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
            let value = session.value();
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

/// Failed logins that decide whether an account name is locked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    /// Of this account name from this client address: what locks it for that address.
    pub from_client: u32,
    /// Of this account name from every address: the bound on a guess spread over many.
    pub account: u32,
}

impl SessionStore {
    /// Failed logins of an account name within the current window: the larger of the
    /// shared counts and the counts this process kept while Redis was away.
    pub async fn failures(&self, name: &str, client: &str) -> Failures {
        let keys = self.failure_keys(name, client);
        let local = {
            let map = self.local.failures.lock();
            let now = Instant::now();
            let count = |key: &Vec<u8>| {
                map.get(key)
                    .filter(|(_, until)| *until > now)
                    .map_or(0, |(n, _)| *n)
            };
            Failures {
                from_client: count(&keys[0]),
                account: count(&keys[1]),
            }
        };
        let Some(Shared { link, prefix, .. }) = &self.redis else {
            return local;
        };
        let mut conn = link.conn();
        let rkeys = keys.map(|k| failure_redis_key(prefix, &k));
        let shared: Result<Vec<Option<u32>>, _> = within(conn.mget(&rkeys)).await;
        match shared {
            Ok(counts) => {
                let count = |i: usize| counts.get(i).copied().flatten().unwrap_or(0);
                Failures {
                    from_client: count(0).max(local.from_client),
                    account: count(1).max(local.account),
                }
            }
            Err(e) => {
                redis_failed("login failures", &e);
                local
            }
        }
    }

    /// Counts one more failed login and returns the counts; a window starts at its first.
    pub async fn record_failure(&self, name: &str, client: &str) -> Failures {
        let keys = self.failure_keys(name, client);
        if let Some(Shared { link, prefix, .. }) = &self.redis {
            let mut conn = link.conn();
            // INCR then EXPIRE NX in one round trip: the window starts at the first failure.
            let mut pipe = redis::pipe();
            pipe.atomic();
            for key in &keys {
                let rkey = failure_redis_key(prefix, key);
                pipe.incr(&rkey, 1)
                    .cmd("EXPIRE")
                    .arg(&rkey)
                    .arg(FAILURE_WINDOW.as_secs())
                    .arg("NX")
                    .ignore();
            }
            let counted: Result<(u32, u32), _> = within(pipe.query_async(&mut conn)).await;
            match counted {
                Ok((from_client, account)) => {
                    return Failures {
                        from_client,
                        account,
                    };
                }
                Err(e) => redis_failed("login failure", &e),
            }
        }
        let mut map = self.local.failures.lock();
        let now = Instant::now();
        map.retain(|_, (_, until)| *until > now);
        let [from_client, account] = keys.map(|key| {
            let entry = map.entry(key).or_insert((0, now + FAILURE_WINDOW));
            entry.0 += 1;
            entry.0
        });
        Failures {
            from_client,
            account,
        }
    }

    /// Forgets the failed logins of an account name from this client address (after a
    /// successful one). The account-wide count stays until its window ends: one right
    /// password must not reopen the account to a guess spread over many addresses.
    pub async fn clear_failures(&self, name: &str, client: &str) {
        let [key, _] = self.failure_keys(name, client);
        self.local.failures.lock().remove(&key);
        if let Some(Shared { link, prefix, .. }) = &self.redis {
            let mut conn = link.conn();
            let cleared: Result<(), _> = within(conn.del(failure_redis_key(prefix, &key))).await;
            if let Err(e) = cleared {
                redis_failed("login failures", &e);
            }
        }
    }

    /// The keys of an account name from a client, and of the account name alone. They are
    /// keyed hashes: a phone number used as a login and a client address are personal
    /// data, and an unkeyed hash of an IPv4 address is reversed by trying them all.
    fn failure_keys(&self, name: &str, client: &str) -> [Vec<u8>; 2] {
        use hmac::Mac;
        let name = name.trim().to_lowercase();
        let hash = |parts: &[&str]| {
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.secret.as_slice())
                .expect("HMAC takes any key length");
            for part in parts {
                mac.update(&(part.len() as u64).to_be_bytes());
                mac.update(part.as_bytes());
            }
            mac.finalize().into_bytes().to_vec()
        };
        [hash(&["from", &name, client]), hash(&["account", &name])]
    }
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
    let mut parts = value.splitn(3, ':');
    let (id, role) = (parts.next()?, parts.next()?);
    // Sessions stored before epochs existed belong to the first one.
    let epoch = parts.next().map_or(Some(0), |e| e.parse().ok())?;
    Some(Session {
        user_id: id.parse().ok()?,
        role: Role::parse(role)?,
        epoch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_memory_session_lives_until_revoked() {
        let store = SessionStore::memory([1; 32]);
        let s = Session {
            user_id: 7,
            role: Role::Police,
            epoch: 0,
        };
        let token = store.create(s).await;
        assert_eq!(store.get(&token).await, Some(s));
        assert_eq!(store.get("not-a-token").await, None);
        store.revoke(&token).await;
        assert_eq!(store.get(&token).await, None);
    }

    #[test]
    fn stored_values_round_trip() {
        let s = Session {
            user_id: 12,
            role: Role::Admin,
            epoch: 3,
        };
        assert_eq!(parse_value(&s.value()), Some(s));
        assert_eq!(
            parse_value("12:admin"),
            Some(Session { epoch: 0, ..s }),
            "a session stored before epochs"
        );
        assert_eq!(parse_value("12:root"), None);
        assert_eq!(parse_value("12:admin:x"), None);
    }
}
