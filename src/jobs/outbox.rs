//! The outbox dispatcher: claims due messages, posts each to its webhook signed with the
//! destination's secret, and records the attempt; a failure is retried with exponential
//! back-off and full jitter until `RENFANG_OUTBOX_MAX_ATTEMPTS`, then the message is dead.
//! Delivery is at least once: a receiver drops repeats by the `Idempotency-Key` header.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use hmac::Mac;

use crate::config::{Settings, Webhook};
use crate::domain::event::backoff_secs;
use crate::store::outbox::{self, After, Attempt, Claimed};
use crate::store::{self, Store};

/// Messages claimed at once.
const BATCH: i64 = 200;
/// Deliveries in flight at once.
const IN_FLIGHT: usize = 32;
/// How long a claim holds a message before another instance may retry it.
const LEASE_SECS: i64 = 60;
/// First retry delay; it doubles with each failure.
const BASE_SECS: u64 = 30;
/// Longest retry delay.
const CAP_SECS: u64 = 6 * 3600;
/// How long one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How often the loop looks for due messages.
const POLL: Duration = Duration::from_secs(5);
/// The longest error text kept with an attempt.
const ERROR_CHARS: usize = 500;

/// What one run delivered and what failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ran {
    pub sent: u64,
    pub failed: u64,
    pub dead: u64,
}

/// The configured destinations and the HTTP client that reaches them.
#[derive(Clone)]
pub struct Dispatcher {
    client: reqwest::Client,
    hooks: HashMap<String, Webhook>,
    max_attempts: u32,
}

impl Dispatcher {
    /// The dispatcher of `settings`' webhooks.
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("renfang/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            hooks: settings
                .webhook
                .iter()
                .map(|h| (h.name.clone(), h.clone()))
                .collect(),
            max_attempts: settings.outbox_max_attempts,
        })
    }

    /// Whether any destination is configured (with none, nothing is queued for delivery).
    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    /// Delivers every message due at `at` (claimed in batches; each once per run).
    pub async fn run_once(&self, store: &Store, at: DateTime<Utc>) -> anyhow::Result<Ran> {
        let now = store::millis(at);
        let mut ran = Ran::default();
        loop {
            let claimed = outbox::claim(store, now, now + LEASE_SECS * 1000, BATCH).await?;
            if claimed.is_empty() {
                return Ok(ran);
            }
            let results: Vec<anyhow::Result<After>> = futures_util::stream::iter(claimed)
                .map(|message| self.deliver_one(store, message, at))
                .buffer_unordered(IN_FLIGHT)
                .collect()
                .await;
            for result in results {
                match result? {
                    After::Sent => ran.sent += 1,
                    After::Retry(_) => ran.failed += 1,
                    After::Dead => ran.dead += 1,
                }
            }
        }
    }

    async fn deliver_one(
        &self,
        store: &Store,
        message: Claimed,
        at: DateTime<Utc>,
    ) -> anyhow::Result<After> {
        let started = Instant::now();
        let (status, error) = match self.hooks.get(&message.destination) {
            Some(hook) => self.post(hook, &message, at).await,
            None => (None, Some("destination no longer configured".to_string())),
        };
        let delivered = error.is_none();
        let attempts = u32::try_from(message.attempts).unwrap_or(u32::MAX) + 1;
        let after = if delivered {
            After::Sent
        } else if attempts >= self.max_attempts {
            After::Dead
        } else {
            let delay = backoff_secs(attempts, BASE_SECS, CAP_SECS, rand::random::<f64>());
            After::Retry(store::millis(at) + i64::try_from(delay).unwrap_or(i64::MAX / 2) * 1000)
        };
        let attempt = Attempt {
            at: store::millis(at),
            status,
            error,
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        };
        outbox::finish(store, message.id, attempt, after).await?;
        if !delivered {
            tracing::warn!(
                destination = message.destination,
                message = message.id,
                attempts,
                "outbox delivery failed"
            );
        }
        Ok(after)
    }

    /// Posts the message; answers the HTTP status (if any) and the error (none: 2xx).
    async fn post(
        &self,
        hook: &Webhook,
        message: &Claimed,
        at: DateTime<Utc>,
    ) -> (Option<i64>, Option<String>) {
        let timestamp = at.timestamp();
        let answer = self
            .client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("idempotency-key", &message.idempotency_key)
            .header("x-renfang-event", &message.event_type)
            .header("x-renfang-timestamp", timestamp.to_string())
            .header(
                "x-renfang-signature",
                signature(&hook.secret, timestamp, &message.payload),
            )
            .body(message.payload.clone())
            .send()
            .await;
        match answer {
            Ok(response) => {
                let status = response.status();
                let code = Some(i64::from(status.as_u16()));
                if status.is_success() {
                    (code, None)
                } else {
                    (code, Some(format!("HTTP {}", status.as_u16())))
                }
            }
            Err(e) => (None, Some(clip(&error_chain(&e)))),
        }
    }
}

/// `sha256=<hex>`: HMAC-SHA256 of `<timestamp>.<body>` under `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// Runs the dispatcher every few seconds until the task is dropped.
pub fn spawn(store: Store, dispatcher: Dispatcher) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = dispatcher.run_once(&store, Utc::now()).await {
                tracing::error!(error = format!("{e:#}"), "outbox dispatch failed");
            }
        }
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

fn clip(text: &str) -> String {
    text.chars().take(ERROR_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        let a = signature("0123456789abcdef", 1_700_000_000, "{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, signature("0123456789abcdef", 1_700_000_001, "{}"));
        assert_ne!(a, signature("0123456789abcdef", 1_700_000_000, "{ }"));
        assert_ne!(a, signature("0123456789abcdeX", 1_700_000_000, "{}"));
    }
}
