//! Calendar months (`YYYY-MM`) in the configured time zone: the unit of statistics and of
//! the monthly report.

use chrono::{Datelike, NaiveDate, TimeZone};

/// A month such as `2026-11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month(NaiveDate);

impl Month {
    /// Parses exactly `YYYY-MM`.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 7 {
            return None;
        }
        NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
            .ok()
            .map(Month)
    }

    /// The month an instant falls in, in `tz`.
    pub fn of(at: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> Self {
        let local = at.with_timezone(&tz).date_naive();
        Month(local.with_day(1).expect("every month has a first day"))
    }

    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    fn next(self) -> NaiveDate {
        self.0
            .checked_add_months(chrono::Months::new(1))
            .expect("months in range")
    }

    /// Days in the month.
    pub fn days(self) -> usize {
        self.next().signed_duration_since(self.0).num_days() as usize
    }

    /// `[start, end)` in `tz`, as milliseconds since the epoch.
    pub fn bounds_ms(self, tz: chrono_tz::Tz) -> (i64, i64) {
        let at = |d: NaiveDate| {
            let midnight = d.and_hms_opt(0, 0, 0).expect("midnight exists");
            tz.from_local_datetime(&midnight).earliest().map_or_else(
                || midnight.and_utc().timestamp_millis(),
                |t| t.timestamp_millis(),
            )
        };
        (at(self.0), at(self.next()))
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_its_days_in_the_configured_zone() {
        let month = Month::parse("2026-11").unwrap();
        let (from, to) = month.bounds_ms(chrono_tz::Asia::Shanghai);
        // 2026-11-01 00:00 in Shanghai is 2026-10-31 16:00 UTC.
        assert_eq!(from, 1_793_462_400_000);
        assert_eq!(to - from, 30 * 86_400_000);
        assert_eq!(month.days(), 30);
        assert_eq!(month.to_string(), "2026-11");
        assert!(Month::parse("2026-13").is_none());
        assert!(Month::parse("2026-1").is_none());
        assert!(Month::parse("november").is_none());
    }

    #[test]
    fn the_month_of_an_instant_is_read_on_the_local_calendar() {
        // 2026-11-30 17:00 UTC is already 1 December in Shanghai.
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 30, 17, 0, 0)
            .unwrap();
        assert_eq!(
            Month::of(at, chrono_tz::Asia::Shanghai).to_string(),
            "2026-12"
        );
        assert_eq!(Month::of(at, chrono_tz::UTC).to_string(), "2026-11");
    }
}
