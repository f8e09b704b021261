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

use ipnet::{IpNet, Ipv4Net};
use parking_lot::Mutex;

use crate::redis_link::RedisLink;

/// What is being counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    /// Requests to public routes from one client address.
    ClientIp,
    /// Submissions (form posts and registrations) through one poster.
    PosterToken,
    /// Poster look-ups from one client address that matched no poster: guesses.
    TokenMiss,
    /// Anonymous tips from one client address.
    Tip,
    /// Bytes of tip photos stored for one client address.
    TipPhotoBytes,
}

impl Counter {
    fn tag(self) -> &'static str {
        match self {
            Counter::ClientIp => "ip",
            Counter::PosterToken => "token",
            Counter::TokenMiss => "miss",
            Counter::Tip => "tip",
            Counter::TipPhotoBytes => "photo",
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
        self.max == 0 || self.window.as_millis() == 0
    }
}

/// The limits in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub client_ip: Rule,
    pub poster_token: Rule,
    pub token_miss: Rule,
    pub tip: Rule,
    pub tip_photo_bytes: Rule,
}

impl Rules {
    fn of(&self, counter: Counter) -> Rule {
        match counter {
            Counter::ClientIp => self.client_ip,
            Counter::PosterToken => self.poster_token,
            Counter::TokenMiss => self.token_miss,
            Counter::Tip => self.tip,
            Counter::TipPhotoBytes => self.tip_photo_bytes,
        }
    }
}

/// One count to take (`add` of 1, or of a size in bytes) or just to read (`add == 0`).
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
pub const REDIS_PAUSE: Duration = Duration::from_secs(2);
/// The longest a request waits on Redis for its counts.
const REDIS_WAIT: Duration = Duration::from_millis(300);
/// In-process windows kept before expired ones are dropped.
const LOCAL_SWEEP_AT: usize = 50_000;

/// In-process counters by (counter, hashed key, window number), and the size at which
/// expired windows are dropped next (twice the size left after the last sweep, so a busy
/// map is not swept on every request).
#[derive(Default)]
struct Windows {
    counts: HashMap<(Counter, [u8; 16], u64), u32>,
    sweep_at: usize,
}

/// The limiter the application shares between workers.
#[derive(Clone)]
pub struct Limiter {
    rules: Rules,
    /// Keys are hashed with this secret: client addresses are personal data, tokens are
    /// secrets, and an unkeyed hash of an IPv4 address is reversed by trying them all.
    secret: Arc<[u8; 32]>,
    local: Arc<Mutex<Windows>>,
    redis: Option<SharedCounts>,
}

#[derive(Clone)]
struct SharedCounts {
    link: RedisLink,
    prefix: String,
    /// Milliseconds since `epoch` before which Redis is not tried (after a failure).
    paused_until: Arc<AtomicU64>,
    epoch: Instant,
}

impl Limiter {
    /// Counters in the process; keys hashed with `secret`.
    pub fn memory(rules: Rules, secret: [u8; 32]) -> Self {
        Self {
            rules,
            secret: Arc::new(secret),
            local: Arc::default(),
            redis: None,
        }
    }

    /// Counters in Redis under `prefix`, through an open link (the same `secret` on every
    /// instance, so they count under the same keys).
    pub fn redis(rules: Rules, secret: [u8; 32], link: RedisLink, prefix: &str) -> Self {
        Self {
            rules,
            secret: Arc::new(secret),
            local: Arc::default(),
            redis: Some(SharedCounts {
                link,
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
        let takes: Vec<Counted> = takes
            .iter()
            .map(|t| Counted {
                counter: t.counter,
                key: self.hashed(t.key),
                add: i64::from(t.add),
                rule: self.rules.of(t.counter),
            })
            .filter(|c| !c.rule.is_off())
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
        for (take, count) in takes.iter().zip(counts) {
            let max = i64::from(take.rule.max);
            let over = if take.add == 0 {
                count >= max
            } else {
                count > max
            };
            if over {
                let window_ms = take.rule.window.as_millis() as u64;
                let left = window_ms - now % window_ms;
                return Err(Exceeded {
                    counter: take.counter,
                    retry_after: Duration::from_millis(left).max(Duration::from_secs(1)),
                });
            }
        }
        Ok(())
    }

    fn local_counts(&self, takes: &[Counted], now: u64) -> Vec<i64> {
        let mut windows = self.local.lock();
        if windows.counts.len() > windows.sweep_at.max(LOCAL_SWEEP_AT) {
            let rules = self.rules;
            windows.counts.retain(|(counter, _, window), _| {
                let ms = rules.of(*counter).window.as_millis().max(1) as u64;
                *window >= now / ms
            });
            windows.sweep_at = windows.counts.len() * 2;
        }
        takes
            .iter()
            .map(|take| {
                let window = now / take.rule.window.as_millis() as u64;
                let key = (take.counter, take.key, window);
                if take.add == 0 {
                    // A read leaves nothing behind.
                    return windows.counts.get(&key).map_or(0, |c| i64::from(*c));
                }
                let count = windows.counts.entry(key).or_insert(0);
                *count = count.saturating_add(take.add as u32);
                i64::from(*count)
            })
            .collect()
    }

    /// A keyed hash of a counter's key, 128 bits.
    fn hashed(&self, value: &str) -> [u8; 16] {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.secret.as_slice())
            .expect("HMAC takes any key length");
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&digest[..16]);
        out
    }
}

/// One count to take, with its key hashed and its rule.
#[derive(Debug, Clone, Copy)]
struct Counted {
    counter: Counter,
    key: [u8; 16],
    add: i64,
    rule: Rule,
}

impl SharedCounts {
    /// The counts after adding, from Redis in one round trip; `None` when Redis failed or
    /// is paused after a failure.
    async fn counts(&self, takes: &[Counted], now: u64) -> Option<Vec<i64>> {
        let since_epoch = self.epoch.elapsed().as_millis() as u64;
        if since_epoch < self.paused_until.load(Ordering::Relaxed) {
            return None;
        }
        let mut pipe = redis::pipe();
        for take in takes {
            let window_ms = take.rule.window.as_millis() as u64;
            let hex: String = take.key.iter().map(|b| format!("{b:02x}")).collect();
            let key = format!(
                "{}rl:{}:{}:{}",
                self.prefix,
                take.counter.tag(),
                hex,
                now / window_ms
            );
            // INCRBY 0 reads a counter (0 for a missing one) in the same shape as a count;
            // it may create the key, so every key gets its expiry whatever the take.
            pipe.cmd("INCRBY").arg(&key).arg(take.add);
            pipe.cmd("PEXPIRE")
                .arg(&key)
                .arg(window_ms + 1000)
                .arg("NX")
                .ignore();
        }
        let mut conn = self.link.conn();
        let result =
            tokio::time::timeout(REDIS_WAIT, pipe.query_async::<Vec<i64>>(&mut conn)).await;
        match result {
            Ok(Ok(counts)) if counts.len() == takes.len() => Some(counts),
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

/// Proxies whose forwarding header is believed: single addresses or CIDR blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list such as `127.0.0.1, 10.0.0.0/8, ::1`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut blocks = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let not_an_address = || format!("{part:?} is not an IP address or CIDR block");
            let block = match part.split_once('/') {
                None => IpNet::from(part.parse::<IpAddr>().map_err(|_| not_an_address())?),
                Some((addr, _)) => {
                    addr.parse::<IpAddr>().map_err(|_| not_an_address())?;
                    part.parse::<IpNet>()
                        .map_err(|_| format!("{part:?} has a bad prefix length"))?
                }
            };
            blocks.push(
                ipv4_if_mapped(block)
                    .ok_or_else(|| format!("{part:?} is wider than the IPv4-mapped range"))?,
            );
        }
        Ok(Self(blocks))
    }

    /// Whether `ip` is one of the proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|block| block.contains(&ip))
    }

    /// The client's address: the peer, unless the peer is a trusted proxy; then the last
    /// address in `X-Forwarded-For` (all its copies, in order) that is not itself a trusted
    /// proxy, so a client cannot pick its own address by sending the header. A hop that is
    /// not an address ends the walk: nothing to its left can be believed.
    pub fn client_ip<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
    ) -> IpAddr {
        let mut client = canonical(peer);
        if !self.contains(client) {
            return client;
        }
        for header in forwarded_for.rev() {
            for hop in header.split(',').rev() {
                match hop.trim().parse::<IpAddr>() {
                    Ok(hop) => {
                        client = canonical(hop);
                        if !self.contains(client) {
                            return client;
                        }
                    }
                    Err(_) => return client,
                }
            }
        }
        client
    }
}

impl TryFrom<String> for TrustedProxies {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
    }
}

/// An IPv4-mapped block (`::ffff:10.0.0.0/104`) as the IPv4 block it carries; `None` for
/// one wider than the mapped range.
fn ipv4_if_mapped(block: IpNet) -> Option<IpNet> {
    match block {
        IpNet::V6(v6) => match v6.addr().to_ipv4_mapped() {
            Some(v4) => Ipv4Net::new(v4, v6.prefix_len().checked_sub(96)?)
                .ok()
                .map(IpNet::V4),
            None => Some(block),
        },
        v4 => Some(v4),
    }
}

/// What a client address is counted under: the address for IPv4, the /64 network for
/// IPv6 (one subscriber's share; a host can change the rest at will).
pub fn client_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        v4 => v4.to_string(),
    }
}

/// IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
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
            tip: rule,
            tip_photo_bytes: rule,
        }
    }

    fn take(counter: Counter, key: &str, add: u32) -> Take<'_> {
        Take { counter, key, add }
    }

    #[tokio::test]
    async fn a_counter_refuses_past_its_maximum_and_others_are_separate() {
        let limiter = Limiter::memory(rules(3), [1; 32]);
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
        let limiter = Limiter::memory(rules(2), [1; 32]);
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
        let limiter = Limiter::memory(rules(0), [1; 32]);
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
        let client =
            |peer: &str, headers: &[&str]| proxies.client_ip(ip(peer), headers.iter().copied());
        // Straight from a client: the header is the client's own claim and is ignored.
        assert_eq!(client("203.0.113.9", &["198.51.100.1"]), ip("203.0.113.9"));
        // Through the proxy: the last hop that is not a proxy.
        assert_eq!(
            client("127.0.0.1", &["198.51.100.1, 203.0.113.7, 10.1.2.3"]),
            ip("203.0.113.7")
        );
        // Several copies of the header read as one list, in order.
        assert_eq!(
            client("127.0.0.1", &["198.51.100.1", "203.0.113.8, 10.1.2.3"]),
            ip("203.0.113.8")
        );
        // A proxy without the header is the client; garbage ends the walk at the last
        // address believed, so nothing written left of it counts.
        assert_eq!(client("10.9.9.9", &[]), ip("10.9.9.9"));
        assert_eq!(client("10.9.9.9", &["not-an-ip"]), ip("10.9.9.9"));
        assert_eq!(
            client("127.0.0.1", &["198.51.100.1, junk, 10.1.2.3"]),
            ip("10.1.2.3")
        );
        // IPv4 over an IPv6 socket is the same address.
        assert_eq!(
            client("::ffff:127.0.0.1", &["198.51.100.1"]),
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
        // An IPv4-mapped block is its IPv4 block; one wider than the mapping is refused.
        let mapped = TrustedProxies::parse("::ffff:10.0.0.0/104").unwrap();
        assert!(mapped.contains(ip("10.200.0.1")) && !mapped.contains(ip("11.0.0.1")));
        assert!(TrustedProxies::parse("::ffff:10.0.0.0/64").is_err());
    }

    #[test]
    fn ipv6_clients_count_by_their_64_bit_network() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            client_key(ip("2001:db8:1:2:aaaa::1")),
            client_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            client_key(ip("2001:db8:1:2::1")),
            client_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(client_key(ip("::ffff:203.0.113.5")), "203.0.113.5");
    }
}
