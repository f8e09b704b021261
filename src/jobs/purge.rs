//! The retention purge: one plain function for the scheduler, the CLI and the tests.

use chrono::{DateTime, Duration, Utc};

use crate::store::retention::{self, Purged};
use crate::store::{self, Store};
use crate::store::{idempotency, outbox, reminders};

/// Days a staff `Idempotency-Key` is remembered: a phone's queue is sent long before.
pub const KEY_DAYS: i64 = 7;

/// Days a delivered outbox message and its attempts are kept, for the console and for a
/// receiver's questions; given-up messages and the events stay for the retention period.
pub const SENT_DAYS: i64 = 30;

/// Deletes the personal data of occupants who moved out more than `retention_days` before
/// `at` (and of tips and door-check notes that old) and the staff idempotency keys older
/// than [`KEY_DAYS`], outbox messages delivered more than [`SENT_DAYS`] ago, and given-up
/// messages and events older than the retention period, and reminder keys a week past their
/// deadline, then empties SQLite's write-ahead log, which would otherwise keep
/// copies of what was just deleted.
pub async fn run(store: &Store, retention_days: u32, at: DateTime<Utc>) -> anyhow::Result<Purged> {
    let cutoff = at - Duration::days(i64::from(retention_days));
    let mut purged = retention::purge(store, store::millis(cutoff), store::millis(at)).await?;
    purged.idempotency_keys =
        idempotency::purge(store, store::millis(at - Duration::days(KEY_DAYS))).await?;
    purged.outbox = outbox::purge(
        store,
        store::millis(at - Duration::days(SENT_DAYS)),
        store::millis(cutoff),
    )
    .await?;
    purged.reminder_keys =
        reminders::forget(store, store::millis(at - Duration::days(KEY_DAYS))).await?;
    store.checkpoint().await?;
    Ok(purged)
}
