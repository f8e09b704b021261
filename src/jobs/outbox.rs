//! The outbox dispatcher: claims due messages, hands each to its destination's channel
//! (`channels`: webhook, WeCom or DingTalk robot, SMS gateway) and records the attempt; a
//! failure is retried with exponential back-off and full jitter until
//! `RENFANG_OUTBOX_MAX_ATTEMPTS`, then the message is dead. SMS due in the quiet hours is
//! held, not attempted, until they end. Delivery is at least once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;

use super::channels::{Channel, Outcome, Reach};
use crate::config::Settings;
use crate::crypto::Vault;
use crate::domain::event::backoff_secs;
use crate::domain::quiet::QuietHours;
use crate::store::outbox::{self, After, Attempt, Claimed};
use crate::store::{self, Store};

/// Messages claimed at once.
const BATCH: i64 = 200;
/// Deliveries in flight at once.
const IN_FLIGHT: usize = 32;
/// How long a claim holds a message before another instance may retry it: well past the
/// longest a batch can take (200 messages, 32 at a time, 10 s each: about 70 s), so that a
/// message still in flight is never claimed twice, and texts and chat messages, which
/// carry no key a person could drop repeats by, are not sent twice.
const LEASE_SECS: i64 = 300;
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

/// What one run delivered, what failed and what it held for the quiet hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ran {
    pub sent: u64,
    pub failed: u64,
    pub dead: u64,
    /// Held, not attempted: due in the quiet hours of their channel.
    pub held: u64,
}

/// The configured destinations and what reaching them takes.
#[derive(Clone)]
pub struct Dispatcher {
    client: reqwest::Client,
    channels: Arc<HashMap<String, Channel>>,
    max_attempts: u32,
    /// Opens recipients' phones and makes tenants' links.
    vault: Arc<Vault>,
    /// The base of the links in messages.
    public_url: String,
    quiet_hours: Option<QuietHours>,
    tz: chrono_tz::Tz,
}

/// What became of one claimed message.
enum Done {
    Attempted(After),
    Held,
}

impl Dispatcher {
    /// The dispatcher of `settings`' destinations, opening phones with `vault` and making
    /// links under `public_url`.
    pub fn new(settings: &Settings, vault: Arc<Vault>, public_url: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("renfang/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            channels: Arc::new(Channel::all(settings)),
            max_attempts: settings.outbox_max_attempts,
            vault,
            public_url: public_url.trim_end_matches('/').to_string(),
            quiet_hours: settings.quiet_hours,
            tz: settings.tz,
        })
    }

    /// Whether any destination is configured (with none, nothing is queued for delivery).
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// Delivers every message due at `at` (claimed in batches; each once per run).
    /// The clock runs on from `at` while the run lasts: a batch delivered to a slow receiver
    /// takes a minute or more, and later claims, leases, quiet hours and attempt times must
    /// not use the instant the run began.
    pub async fn run_once(&self, store: &Store, at: DateTime<Utc>) -> anyhow::Result<Ran> {
        let started = Instant::now();
        let clock = move || at + chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
        let mut ran = Ran::default();
        loop {
            let now = store::millis(clock());
            let claimed = outbox::claim(store, now, now + LEASE_SECS * 1000, BATCH).await?;
            if claimed.is_empty() {
                return Ok(ran);
            }
            let results: Vec<anyhow::Result<Done>> = futures_util::stream::iter(claimed)
                .map(|message| self.deliver_one(store, message, clock()))
                .buffer_unordered(IN_FLIGHT)
                .collect()
                .await;
            for result in results {
                match result? {
                    Done::Attempted(After::Sent) => ran.sent += 1,
                    Done::Attempted(After::Retry(_)) => ran.failed += 1,
                    Done::Attempted(After::Dead) => ran.dead += 1,
                    Done::Held => ran.held += 1,
                }
            }
        }
    }

    async fn deliver_one(
        &self,
        store: &Store,
        message: Claimed,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Done> {
        let channel = self.channels.get(&message.destination);
        if let Some(quiet_end) = channel
            .filter(|c| c.keeps_quiet_hours())
            .and_then(|_| self.quiet_hours?.ends_after(at, &self.tz))
        {
            outbox::hold(store, message.id, store::millis(quiet_end)).await?;
            return Ok(Done::Held);
        }
        let started = Instant::now();
        let reach = Reach {
            client: &self.client,
            store,
            vault: &self.vault,
            public_url: &self.public_url,
            at,
        };
        let outcome = match channel {
            Some(channel) => channel.deliver(&reach, &message).await,
            None => Outcome::Failed {
                status: None,
                error: "destination no longer configured".into(),
            },
        };
        let (status, error, hopeless) = match outcome {
            Outcome::Delivered { status } => (Some(status), None, false),
            Outcome::Failed { status, error } => (status, Some(clip(&error)), false),
            Outcome::Undeliverable { error } => (None, Some(clip(&error)), true),
        };
        let delivered = error.is_none();
        let attempts = u32::try_from(message.attempts).unwrap_or(u32::MAX) + 1;
        let after = if delivered {
            After::Sent
        } else if hopeless || attempts >= self.max_attempts {
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
            // The destination and the message only: an error never holds a phone or a text.
            tracing::warn!(
                destination = message.destination,
                message = message.id,
                attempts,
                "outbox delivery failed"
            );
        }
        Ok(Done::Attempted(after))
    }
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

fn clip(text: &str) -> String {
    text.chars().take(ERROR_CHARS).collect()
}
