//! The overdue sweep: one plain function for the scheduler, the CLI and the tests.

use chrono::{DateTime, Utc};

use crate::domain::door_check::overdue_cutoff;
use crate::store::{self, Store, door_checks};

/// Opens a `no_upload` door check for every unit overdue at `at`; returns how many it made.
/// Running it again, or on several instances at once, creates nothing twice.
pub async fn run(store: &Store, overdue_days: u32, at: DateTime<Utc>) -> anyhow::Result<u64> {
    let cutoff = overdue_cutoff(at, overdue_days);
    Ok(door_checks::sweep(store, store::millis(at), store::millis(cutoff)).await?)
}
