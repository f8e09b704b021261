//! The retention purge: one plain function for the scheduler, the CLI and the tests.

use chrono::{DateTime, Duration, Utc};

use crate::store::retention::{self, Purged};
use crate::store::{self, Store};

/// Deletes the personal data of occupants who moved out more than `retention_days` before
/// `at` (and of tips handled that long ago).
pub async fn run(store: &Store, retention_days: u32, at: DateTime<Utc>) -> anyhow::Result<Purged> {
    let cutoff = at - Duration::days(i64::from(retention_days));
    Ok(retention::purge(store, store::millis(cutoff), store::millis(at)).await?)
}
