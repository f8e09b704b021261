//! The overdue sweep: one plain function for the scheduler, the CLI and the tests.

use chrono::{DateTime, Utc};

use crate::domain::door_check::ClockRules;
use crate::store::{self, Store, door_checks};

/// Opens a door check for every unit overdue at `at` under `rules` (`no_upload` or
/// `unconfirmed`); returns how many it made. Running it again, or on several instances at
/// once, creates nothing twice.
pub async fn run(store: &Store, rules: ClockRules, at: DateTime<Utc>) -> anyhow::Result<u64> {
    Ok(door_checks::sweep(store, store::millis(at), rules).await?)
}
