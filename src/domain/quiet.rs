//! Quiet hours: the local times of day in which no text message goes out to a person's
//! phone (`RENFANG_QUIET_HOURS`, by default 21:00–08:00); a message due then waits for the
//! end of the period.

use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};

/// A daily period from `start` to `end` in local time; it crosses midnight when `end` is
/// not after `start` (21:00-08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    start: NaiveTime,
    end: NaiveTime,
}

impl QuietHours {
    /// Reads `HH:MM-HH:MM`; empty or `off` is no quiet period (`None`).
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let wrong = || format!("{text:?} is not a period like 21:00-08:00 (or off)");
        let (start, end) = text.split_once('-').ok_or_else(wrong)?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| wrong());
        let (start, end) = (time(start)?, time(end)?);
        if start == end {
            return Err(format!("{text:?} starts and ends at the same time"));
        }
        Ok(Some(Self { start, end }))
    }

    /// When the quiet period that holds `at` (in zone `tz`) ends; `None` if `at` is outside.
    pub fn ends_after<Z: TimeZone>(&self, at: DateTime<Utc>, tz: &Z) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(tz);
        let (day, time) = (local.date_naive(), local.time());
        let end_day = if self.start < self.end {
            (self.start <= time && time < self.end).then_some(day)?
        } else if time >= self.start {
            day.checked_add_days(Days::new(1))?
        } else if time < self.end {
            day
        } else {
            return None;
        };
        let end = end_day.and_time(self.end);
        // A clock change can skip the end time: the first instant after it is as good.
        let end = tz.from_local_datetime(&end).earliest().or_else(|| {
            tz.from_local_datetime(&(end + chrono::Duration::hours(1)))
                .earliest()
        })?;
        Some(end.with_timezone(&Utc))
    }
}

impl std::fmt::Display for QuietHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    fn local(text: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
        Shanghai
            .from_local_datetime(&naive)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn night() -> QuietHours {
        QuietHours::parse("21:00-08:00").unwrap().unwrap()
    }

    #[test]
    fn a_night_period_holds_the_evening_until_the_next_morning() {
        let q = night();
        assert_eq!(
            q.ends_after(local("2026-12-06 22:00"), &Shanghai),
            Some(local("2026-12-07 08:00"))
        );
        assert_eq!(
            q.ends_after(local("2026-12-06 21:00"), &Shanghai),
            Some(local("2026-12-07 08:00"))
        );
        assert_eq!(
            q.ends_after(local("2026-12-07 07:59"), &Shanghai),
            Some(local("2026-12-07 08:00"))
        );
        // New Year's Eve: the end is on the next day of the next year.
        assert_eq!(
            q.ends_after(local("2026-12-31 23:30"), &Shanghai),
            Some(local("2027-01-01 08:00"))
        );
    }

    #[test]
    fn the_day_outside_the_period_is_not_held() {
        let q = night();
        for t in ["2026-12-07 08:00", "2026-12-07 12:00", "2026-12-07 20:59"] {
            assert_eq!(q.ends_after(local(t), &Shanghai), None, "{t}");
        }
    }

    #[test]
    fn a_period_within_one_day_holds_only_inside_it() {
        let q = QuietHours::parse("12:00-14:00").unwrap().unwrap();
        assert_eq!(
            q.ends_after(local("2026-12-07 13:10"), &Shanghai),
            Some(local("2026-12-07 14:00"))
        );
        assert_eq!(q.ends_after(local("2026-12-07 14:00"), &Shanghai), None);
        assert_eq!(q.ends_after(local("2026-12-07 23:00"), &Shanghai), None);
    }

    #[test]
    fn the_period_is_local_time_not_utc() {
        // 22:00 in Shanghai is 14:00 UTC: quiet there, though not by the UTC clock.
        let at = local("2026-12-06 22:00");
        assert_eq!(at.format("%H:%M").to_string(), "14:00");
        assert!(night().ends_after(at, &Shanghai).is_some());
        assert!(night().ends_after(at, &Utc).is_none());
    }

    #[test]
    fn the_setting_reads_off_and_refuses_nonsense() {
        assert_eq!(QuietHours::parse("").unwrap(), None);
        assert_eq!(QuietHours::parse(" OFF ").unwrap(), None);
        assert_eq!(night().to_string(), "21:00-08:00");
        for bad in ["21:00", "25:00-08:00", "21:00-08", "9pm-8am", "08:00-08:00"] {
            assert!(QuietHours::parse(bad).is_err(), "{bad}");
        }
    }
}
