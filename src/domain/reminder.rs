//! Reminders before the clock falls due and the police's morning digest: which message is
//! due when, and what it says (ids, addresses, dates and counts; never a name or a phone).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::json;

use super::door_check::{ClockKind, ClockRules};
use super::event::{EventType, NewEvent};

/// How long before a deadline reminders start.
pub const AHEAD: Duration = Duration::days(2);

/// What a reminder or digest is about, kept once: a second message with the same key is
/// never queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Once {
    pub kind: &'static str,
    /// The unit, occupant or community.
    pub subject_id: i64,
    /// The deadline (for a digest: the start of its local day), in milliseconds.
    pub due_at: i64,
    /// The days left of an `overdue_soon` reminder; 0 for the others.
    pub stage: i64,
}

/// A unit with a sublandlord whose clock runs, as the job finds it.
#[derive(Debug, Clone)]
pub struct ClockedUnit {
    pub unit_id: i64,
    pub community_id: i64,
    pub address: String,
    pub sublandlord_id: i64,
    pub kind: ClockKind,
    pub clock_from: DateTime<Utc>,
}

/// A current occupant of a unit under the confirmation clock who left a phone and asked
/// to be reminded.
#[derive(Debug, Clone)]
pub struct RemindedOccupant {
    pub occupant_id: i64,
    pub registration_id: i64,
    pub unit_id: i64,
    pub community_id: i64,
    pub address: String,
    pub clock_from: DateTime<Utc>,
}

/// One community's figures for the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestFigures {
    pub community_id: i64,
    /// Door checks opened during the previous local day.
    pub new_checks: i64,
    /// Door checks open now.
    pub open_checks: i64,
    /// When the oldest open check was opened, if any is open.
    pub oldest_open: Option<DateTime<Utc>>,
    /// Door-check results recorded during the previous local day.
    pub results_yesterday: i64,
}

/// Which reminder is due at `at` before a deadline at `due`: 2 when two days or less (but
/// more than one) remain, 1 when one day or less remains, none earlier or once it passed.
pub fn stage(due: DateTime<Utc>, at: DateTime<Utc>) -> Option<i64> {
    let left = due - at;
    if left <= Duration::zero() {
        None
    } else if left <= Duration::days(1) {
        Some(1)
    } else if left <= AHEAD {
        Some(2)
    } else {
        None
    }
}

/// The reminder to the sublandlord of `unit` at `at`, if one is due: its key and event.
pub fn overdue_soon(
    unit: &ClockedUnit,
    rules: ClockRules,
    at: DateTime<Utc>,
    tz: Tz,
) -> Option<(Once, NewEvent)> {
    let due = unit.clock_from + period(rules, unit.kind);
    let days_left = stage(due, at)?;
    let once = Once {
        kind: "overdue_soon",
        subject_id: unit.unit_id,
        due_at: due.timestamp_millis(),
        stage: days_left,
    };
    let event = NewEvent {
        kind: EventType::ReminderOverdueSoon,
        community_id: unit.community_id,
        data: json!({
            "unit_id": unit.unit_id,
            "address": unit.address,
            "reason": ClockRules::reason(unit.kind).as_str(),
            "days_left": days_left,
            "due_on": local_day(due, tz),
            "sublandlord_id": unit.sublandlord_id,
            "path": format!("/my/units/{}", unit.unit_id),
            "clock_from": unit.clock_from.timestamp_millis(),
        }),
    };
    Some((once, event))
}

/// The reminder to `occupant` at `at`, if their unit's confirmation falls due within two
/// days: one per deadline.
pub fn confirmation_due(
    occupant: &RemindedOccupant,
    rules: ClockRules,
    at: DateTime<Utc>,
    tz: Tz,
) -> Option<(Once, NewEvent)> {
    let due = occupant.clock_from + period(rules, ClockKind::Unconfirmed);
    stage(due, at)?;
    let once = Once {
        kind: "confirmation_due",
        subject_id: occupant.occupant_id,
        due_at: due.timestamp_millis(),
        stage: 0,
    };
    let event = NewEvent {
        kind: EventType::ReminderConfirmationDue,
        community_id: occupant.community_id,
        data: json!({
            "unit_id": occupant.unit_id,
            "address": occupant.address,
            "occupant_id": occupant.occupant_id,
            "registration_id": occupant.registration_id,
            "due_on": local_day(due, tz),
            "clock_from": occupant.clock_from.timestamp_millis(),
        }),
    };
    Some((once, event))
}

/// The digest of one community on the local day of `at`.
pub fn digest(figures: &DigestFigures, at: DateTime<Utc>, tz: Tz) -> (Once, NewEvent) {
    let today = at.with_timezone(&tz).date_naive();
    let longest = figures
        .oldest_open
        .map_or(0, |opened| (at - opened).num_days().max(0));
    let once = Once {
        kind: "digest",
        subject_id: figures.community_id,
        due_at: start_of(today, tz),
        stage: 0,
    };
    let event = NewEvent {
        kind: EventType::DigestPolice,
        community_id: figures.community_id,
        data: json!({
            "day": today.format("%Y-%m-%d").to_string(),
            "new_checks": figures.new_checks,
            "open_checks": figures.open_checks,
            "longest_overdue_days": longest,
            "results_yesterday": figures.results_yesterday,
            "path": "/police",
        }),
    };
    (once, event)
}

/// The previous local day of `at` in `tz`, as `[start, end)` in milliseconds.
pub fn yesterday_ms(at: DateTime<Utc>, tz: Tz) -> (i64, i64) {
    let today = at.with_timezone(&tz).date_naive();
    let yesterday = today.pred_opt().expect("dates in range");
    (start_of(yesterday, tz), start_of(today, tz))
}

/// Where the deadlines of units under `kind` fall within the next two days of `at`: their
/// clocks started in `(from, to]`, in milliseconds.
pub fn clock_window(rules: ClockRules, kind: ClockKind, at: DateTime<Utc>) -> (i64, i64) {
    let earliest_due = at - period(rules, kind);
    (
        earliest_due.timestamp_millis(),
        (earliest_due + AHEAD).timestamp_millis(),
    )
}

fn period(rules: ClockRules, kind: ClockKind) -> Duration {
    rules
        .period(super::unit::UnitState::Active, kind)
        .expect("an active unit's clock runs")
}

fn local_day(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d").to_string()
}

fn start_of(day: NaiveDate, tz: Tz) -> i64 {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    tz.from_local_datetime(&midnight).earliest().map_or_else(
        || midnight.and_utc().timestamp_millis(),
        |t| t.timestamp_millis(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    const RULES: ClockRules = ClockRules {
        overdue_days: 5,
        confirm_days: 30,
    };

    fn shanghai(d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Shanghai
            .with_ymd_and_hms(2026, 11, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn unit(kind: ClockKind, clock_from: DateTime<Utc>) -> ClockedUnit {
        ClockedUnit {
            unit_id: 7,
            community_id: 3,
            address: "影佳路 1号 101室".into(),
            sublandlord_id: 9,
            kind,
            clock_from,
        }
    }

    #[test]
    fn a_five_day_clock_is_reminded_on_its_third_and_fourth_day_only() {
        let started = shanghai(1, 10, 0);
        let on_day = |d: i64| started + Duration::days(d) + Duration::minutes(1);
        assert_eq!(stage(started + Duration::days(5), on_day(0)), None);
        assert_eq!(stage(started + Duration::days(5), on_day(2)), None);
        assert_eq!(stage(started + Duration::days(5), on_day(3)), Some(2));
        assert_eq!(stage(started + Duration::days(5), on_day(4)), Some(1));
        assert_eq!(stage(started + Duration::days(5), on_day(5)), None);
        // The edges: exactly two days left is the first reminder, exactly one the second.
        let due = started + Duration::days(5);
        assert_eq!(stage(due, due - Duration::days(2)), Some(2));
        assert_eq!(
            stage(due, due - Duration::days(2) - Duration::seconds(1)),
            None
        );
        assert_eq!(stage(due, due - Duration::days(1)), Some(1));
        assert_eq!(stage(due, due), None);
    }

    #[test]
    fn the_sublandlord_reminder_names_the_rule_the_day_and_the_page() {
        let started = shanghai(1, 23, 30);
        let (once, event) = overdue_soon(
            &unit(ClockKind::NoUpload, started),
            RULES,
            started + Duration::days(4),
            Shanghai,
        )
        .unwrap();
        assert_eq!(event.kind, EventType::ReminderOverdueSoon);
        assert_eq!(event.data["days_left"], 1);
        assert_eq!(event.data["reason"], "no_upload");
        // Due at 23:30 local on the 6th: the local date, not the UTC one.
        assert_eq!(event.data["due_on"], "2026-11-06");
        assert_eq!(event.data["path"], "/my/units/7");
        assert_eq!(event.data["sublandlord_id"], 9);
        assert_eq!(
            (once.kind, once.subject_id, once.stage),
            ("overdue_soon", 7, 1)
        );
        assert_eq!(
            once.due_at,
            (started + Duration::days(5)).timestamp_millis()
        );
        let occupied = unit(ClockKind::Unconfirmed, started);
        assert!(overdue_soon(&occupied, RULES, started + Duration::days(4), Shanghai).is_none());
        let (_, event) =
            overdue_soon(&occupied, RULES, started + Duration::days(29), Shanghai).unwrap();
        assert_eq!(event.data["reason"], "unconfirmed");
    }

    #[test]
    fn a_tenant_is_reminded_once_within_two_days_of_the_confirmation() {
        let started = shanghai(1, 9, 0);
        let occupant = RemindedOccupant {
            occupant_id: 11,
            registration_id: 5,
            unit_id: 7,
            community_id: 3,
            address: "a".into(),
            clock_from: started,
        };
        let at = |days: i64| started + Duration::days(days) + Duration::hours(1);
        assert!(confirmation_due(&occupant, RULES, at(27), Shanghai).is_none());
        let (first, event) = confirmation_due(&occupant, RULES, at(28), Shanghai).unwrap();
        let (second, _) = confirmation_due(&occupant, RULES, at(29), Shanghai).unwrap();
        assert_eq!(first, second, "one key per deadline, whatever the day");
        assert_eq!(event.data["due_on"], "2026-12-01");
        assert_eq!(event.data["occupant_id"], 11);
        assert!(confirmation_due(&occupant, RULES, at(30), Shanghai).is_none());
    }

    #[test]
    fn the_digest_counts_whole_days_and_covers_the_previous_local_day() {
        let at = shanghai(10, 8, 0);
        let figures = DigestFigures {
            community_id: 3,
            new_checks: 2,
            open_checks: 5,
            oldest_open: Some(at - Duration::days(6) - Duration::hours(23)),
            results_yesterday: 1,
        };
        let (once, event) = digest(&figures, at, Shanghai);
        assert_eq!(event.data["day"], "2026-11-10");
        assert_eq!(event.data["longest_overdue_days"], 6);
        assert_eq!(event.data["open_checks"], 5);
        assert_eq!(once.due_at, shanghai(10, 0, 0).timestamp_millis());
        let (from, to) = yesterday_ms(at, Shanghai);
        assert_eq!(from, shanghai(9, 0, 0).timestamp_millis());
        assert_eq!(to, shanghai(10, 0, 0).timestamp_millis());
        let none = DigestFigures {
            oldest_open: None,
            ..figures
        };
        assert_eq!(
            digest(&none, at, Shanghai).1.data["longest_overdue_days"],
            0
        );
    }

    #[test]
    fn the_window_holds_the_clocks_due_within_two_days() {
        let at = shanghai(10, 8, 0);
        let (from, to) = clock_window(RULES, ClockKind::NoUpload, at);
        assert_eq!(from, (at - Duration::days(5)).timestamp_millis());
        assert_eq!(to, (at - Duration::days(3)).timestamp_millis());
    }
}
