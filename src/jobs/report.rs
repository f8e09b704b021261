//! The monthly report, written by the scheduler on the 24th and kept for download.

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::domain::month::Month;
use crate::store::{self, Store, reports};

/// Writes the report of the month `at` falls in (in `RENFANG_TZ`) and stores it for
/// download, replacing an earlier one of that month. Returns the month.
pub async fn run(store: &Store, settings: &Settings, at: DateTime<Utc>) -> anyhow::Result<Month> {
    let month = Month::of(at, settings.tz);
    let xlsx = crate::report::monthly(store, month, settings.tz, at, settings.case_target).await?;
    reports::save(store, &month.to_string(), xlsx, None, store::millis(at)).await?;
    Ok(month)
}
