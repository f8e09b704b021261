//! Rate limits on the public routes: fixed-window counters, kept in Redis when
//! `RENFANG_REDIS_URL` is set so that every instance counts against the same limit, in the
//! process otherwise.
//!
//! Redis is never required for a request to succeed: when it cannot be reached the counters
//! fall back to the process (each instance then limits on its own) for a short while, and
//! go back to Redis by themselves once it answers again. Keys hold hashes of client
//! addresses and poster tokens, never the values.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use redis::aio::ConnectionManager;

/// What is being counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    /// Requests to public routes from one client address.
    ClientIp,
    /// Submissions (form posts and registrations) through one poster.
    PosterToken,
    /// Poster look-ups from one client address that matched no poster: guesses.
    TokenMiss,
}

impl Counter {
    fn tag(self) -> &'static str {
        match self {
            Counter::ClientIp => "ip",
            Counter::PosterToken => "token",
            Counter::TokenMiss => "miss",
        }
    }
}

/// How many of one counter a window allows; `max == 0` means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub max: u32,
    pub window: Duration,
}

impl Rule {
    /// `max` per `window`.
    pub fn new(max: u32, window: Duration) -> Self {
        Self { max, window }
    }

    fn is_off(self) -> bool {
        self.max == 0 || self.window.is_zero()
    }
}

/// The limits in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub client_ip: Rule,
    pub poster_token: Rule,
    pub token_miss: Rule,
}

impl Rules {
    fn of(&self, counter: Counter) -> Rule {
        match counter {
            Counter::ClientIp => self.client_ip,
            Counter::PosterToken => self.poster_token,
            Counter::TokenMiss => self.token_miss,
        }
    }
}

/// One count to take (`add == 1`) or just to read (`add == 0`).
#[derive(Debug, Clone, Copy)]
pub struct Take<'a> {
    pub counter: Counter,
    pub key: &'a str,
    pub add: u32,
}

/// A refusal: which limit, and when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub counter: Counter,
    pub retry_after: Duration,
}

/// How long Redis is left alone after it failed, before it is tried again.
const REDIS_PAUSE: Duration = Duration::from_secs(2);
/// The longest a request waits on Redis for its counts.
const REDIS_WAIT: Duration = Duration::from_millis(300);
/// In-process windows kept before expired ones are dropped.
const LOCAL_SWEEP_AT: usize = 50_000;

type Windows = HashMap<(Counter, String, u64), u32>;

/// The limiter the application shares between workers.
#[derive(Clone)]
pub struct Limiter {
    rules: Rules,
    local: Arc<Mutex<Windows>>,
    redis: Option<SharedCounts>,
}

#[derive(Clone)]
struct SharedCounts {
    conn: ConnectionManager,
    prefix: String,
    /// Milliseconds since `epoch` before which Redis is not tried (after a failure).
    paused_until: Arc<AtomicU64>,
    epoch: Instant,
}

impl Limiter {
    /// Counters in the process.
    pub fn memory(rules: Rules) -> Self {
        Self {
            rules,
            local: Arc::default(),
            redis: None,
        }
    }

    /// Counters in Redis under `prefix`, through an open connection manager.
    pub fn redis(rules: Rules, conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            rules,
            local: Arc::default(),
            redis: Some(SharedCounts {
                conn,
                prefix: prefix.to_string(),
                paused_until: Arc::default(),
                epoch: Instant::now(),
            }),
        }
    }

    /// The limits in force.
    pub fn rules(&self) -> Rules {
        self.rules
    }

    /// Adds every take to its counter and reports the first one over its limit. Takes with
    /// `add == 0` only read: the request is refused if that counter is already at its limit.
    pub async fn check(&self, takes: &[Take<'_>]) -> Result<(), Exceeded> {
        let takes: Vec<(Take<'_>, Rule)> = takes
            .iter()
            .map(|t| (*t, self.rules.of(t.counter)))
            .filter(|(_, rule)| !rule.is_off())
            .collect();
        if takes.is_empty() {
            return Ok(());
        }
        let now = unix_ms();
        let counts = match &self.redis {
            Some(shared) => match shared.counts(&takes, now).await {
                Some(counts) => counts,
                None => self.local_counts(&takes, now),
            },
            None => self.local_counts(&takes, now),
        };
        for ((take, rule), count) in takes.iter().zip(counts) {
            let over = if take.add == 0 {
                count >= rule.max
            } else {
                count > rule.max
            };
            if over {
                let window_ms = rule.window.as_millis() as u64;
                let left = window_ms - now % window_ms;
                return Err(Exceeded {
                    counter: take.counter,
                    retry_after: Duration::from_millis(left).max(Duration::from_secs(1)),
                });
            }
        }
        Ok(())
    }

    fn local_counts(&self, takes: &[(Take<'_>, Rule)], now: u64) -> Vec<u32> {
        let mut windows = self.local.lock();
        if windows.len() > LOCAL_SWEEP_AT {
            let rules = self.rules;
            windows.retain(|(counter, _, window), _| {
                let ms = rules.of(*counter).window.as_millis().max(1) as u64;
                *window >= now / ms
            });
        }
        takes
            .iter()
            .map(|(take, rule)| {
                let window = now / rule.window.as_millis() as u64;
                let count = windows
                    .entry((take.counter, take.key.to_string(), window))
                    .or_insert(0);
                *count = count.saturating_add(take.add);
                *count
            })
            .collect()
    }
}

impl SharedCounts {
    /// The counts after adding, from Redis in one round trip; `None` when Redis failed or
    /// is paused after a failure.
    async fn counts(&self, takes: &[(Take<'_>, Rule)], now: u64) -> Option<Vec<u32>> {
        let since_epoch = self.epoch.elapsed().as_millis() as u64;
        if since_epoch < self.paused_until.load(Ordering::Relaxed) {
            return None;
        }
        let mut pipe = redis::pipe();
        for (take, rule) in takes {
            let window_ms = rule.window.as_millis() as u64;
            let key = format!(
                "{}rl:{}:{}:{}",
                self.prefix,
                take.counter.tag(),
                hashed(take.key),
                now / window_ms
            );
            // INCRBY 0 reads a counter and answers 0 for a missing one, in the same shape.
            pipe.cmd("INCRBY").arg(&key).arg(take.add);
            if take.add > 0 {
                pipe.cmd("PEXPIRE")
                    .arg(&key)
                    .arg(window_ms + 1000)
                    .arg("NX")
                    .ignore();
            }
        }
        let mut conn = self.conn.clone();
        let result =
            tokio::time::timeout(REDIS_WAIT, pipe.query_async::<Vec<i64>>(&mut conn)).await;
        match result {
            Ok(Ok(counts)) if counts.len() == takes.len() => Some(
                counts
                    .into_iter()
                    .map(|c| u32::try_from(c.max(0)).unwrap_or(u32::MAX))
                    .collect(),
            ),
            failed => {
                let reason = match failed {
                    Ok(Ok(_)) => "unexpected reply".to_string(),
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "timed out".to_string(),
                };
                let until = self.epoch.elapsed() + REDIS_PAUSE;
                let previous = self
                    .paused_until
                    .swap(until.as_millis() as u64, Ordering::Relaxed);
                // One warning per pause, not one per request.
                if previous <= since_epoch {
                    tracing::warn!(error = %reason, "rate-limit counters fall back to this process: Redis failed");
                }
                None
            }
        }
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A short hash for keys: client addresses are personal data, tokens are secrets.
fn hashed(value: &str) -> String {
    crate::crypto::sha256(value.as_bytes())[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Proxies whose forwarding header is believed: single addresses or CIDR blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses a comma-separated list such as `127.0.0.1, 10.0.0.0/8, ::1`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut blocks = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (addr, bits) = match part.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (part, None),
            };
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| format!("{part:?} is not an IP address or CIDR block"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("{part:?} has a bad prefix length"))?,
                None => max,
            };
            blocks.push((addr, bits));
        }
        Ok(Self(blocks))
    }

    /// Whether `ip` is one of the proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|(block, bits)| match (canonical(*block), ip) {
                (IpAddr::V4(b), IpAddr::V4(a)) => prefix_eq(&b.octets(), &a.octets(), *bits),
                (IpAddr::V6(b), IpAddr::V6(a)) => prefix_eq(&b.octets(), &a.octets(), *bits),
                _ => false,
            })
    }

    /// The client's address: the peer, unless the peer is a trusted proxy; then the last
    /// address in `X-Forwarded-For` that is not itself a trusted proxy (the one the nearest
    /// untrusted hop gave), so a client cannot pick its own address by sending the header.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.contains(peer) {
            return canonical(peer);
        }
        let Some(header) = forwarded_for else {
            return canonical(peer);
        };
        let hops: Vec<IpAddr> = header
            .split(',')
            .filter_map(|h| h.trim().parse::<IpAddr>().ok())
            .collect();
        let mut client = canonical(peer);
        for hop in hops.into_iter().rev() {
            client = canonical(hop);
            if !self.contains(hop) {
                break;
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let whole = usize::from(bits / 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    let rest = bits % 8;
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(max: u32) -> Rules {
        let rule = Rule::new(max, Duration::from_secs(60));
        Rules {
            client_ip: rule,
            poster_token: rule,
            token_miss: rule,
        }
    }

    fn take(counter: Counter, key: &str, add: u32) -> Take<'_> {
        Take { counter, key, add }
    }

    #[tokio::test]
    async fn a_counter_refuses_past_its_maximum_and_others_are_separate() {
        let limiter = Limiter::memory(rules(3));
        for _ in 0..3 {
            assert!(
                limiter
                    .check(&[take(Counter::ClientIp, "a", 1)])
                    .await
                    .is_ok()
            );
        }
        let refused = limiter
            .check(&[take(Counter::ClientIp, "a", 1)])
            .await
            .unwrap_err();
        assert_eq!(refused.counter, Counter::ClientIp);
        assert!(refused.retry_after >= Duration::from_secs(1));
        assert!(refused.retry_after <= Duration::from_secs(60));
        assert!(
            limiter
                .check(&[take(Counter::ClientIp, "b", 1)])
                .await
                .is_ok()
        );
        assert!(
            limiter
                .check(&[take(Counter::TokenMiss, "a", 1)])
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_read_refuses_at_the_maximum_without_counting() {
        let limiter = Limiter::memory(rules(2));
        let read = [take(Counter::TokenMiss, "a", 0)];
        for _ in 0..5 {
            assert!(limiter.check(&read).await.is_ok(), "reads do not count");
        }
        limiter
            .check(&[take(Counter::TokenMiss, "a", 1)])
            .await
            .unwrap();
        assert!(limiter.check(&read).await.is_ok());
        limiter
            .check(&[take(Counter::TokenMiss, "a", 1)])
            .await
            .unwrap();
        assert!(limiter.check(&read).await.is_err());
    }

    #[tokio::test]
    async fn a_zero_maximum_is_no_limit() {
        let limiter = Limiter::memory(rules(0));
        for _ in 0..100 {
            assert!(
                limiter
                    .check(&[take(Counter::ClientIp, "a", 1)])
                    .await
                    .is_ok()
            );
        }
    }

    #[test]
    fn the_forwarding_header_counts_only_from_a_trusted_proxy() {
        let proxies = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Straight from a client: the header is the client's own claim and is ignored.
        assert_eq!(
            proxies.client_ip(ip("203.0.113.9"), Some("198.51.100.1")),
            ip("203.0.113.9")
        );
        // Through the proxy: the last hop that is not a proxy.
        assert_eq!(
            proxies.client_ip(ip("127.0.0.1"), Some("198.51.100.1, 203.0.113.7, 10.1.2.3")),
            ip("203.0.113.7")
        );
        // A proxy without the header, or with garbage in it, is the client.
        assert_eq!(proxies.client_ip(ip("10.9.9.9"), None), ip("10.9.9.9"));
        assert_eq!(
            proxies.client_ip(ip("10.9.9.9"), Some("not-an-ip")),
            ip("10.9.9.9")
        );
        // IPv4 over an IPv6 socket is the same address.
        assert_eq!(
            proxies.client_ip(ip("::ffff:127.0.0.1"), Some("198.51.100.1")),
            ip("198.51.100.1")
        );
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
    }

    #[test]
    fn cidr_blocks_match_by_prefix() {
        let proxies = TrustedProxies::parse("192.168.4.0/22, fd00::/8").unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(proxies.contains(ip("192.168.7.255")));
        assert!(!proxies.contains(ip("192.168.8.0")));
        assert!(proxies.contains(ip("fd12::1")));
        assert!(!proxies.contains(ip("fe80::1")));
    }
}
