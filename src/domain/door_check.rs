//! The 5-day rule and door checks.

use chrono::{DateTime, Duration, Utc};

use crate::domain::unit::UnitState;
use crate::wire_enum;

wire_enum!(
    /// Why a unit is in the door-check queue.
    Reason {
        NoUpload = "no_upload" / "逾期未上传",
        Unconfirmed = "unconfirmed" / "逾期未确认",
        Tip = "tip" / "线索举报",
        FilingMismatch = "filing_mismatch" / "与报备不符",
        Overcrowding = "overcrowding" / "超员居住",
        GarageDwelling = "garage_dwelling" / "车库住人",
        DailyRental = "daily_rental" / "日租",
        IdentityConflict = "identity_conflict" / "证件多处在住",
        Manual = "manual" / "人工发起",
    }
);

wire_enum!(
    /// What an officer found at the door.
    Outcome {
        Verified = "verified" / "已核实",
        Vacant = "vacant" / "空置",
        Violation = "violation" / "发现违规",
        Unreachable = "unreachable" / "未遇到人",
    }
);

wire_enum!(
    /// Whether a check is still in the queue.
    Status {
        Open = "open" / "待核查",
        Closed = "closed" / "已完成",
    }
);

wire_enum!(
    /// What a visit recorded, or what closed a check: an officer's [`Outcome`], an upload
    /// that made the visit unnecessary, or a cancellation.
    Resolution {
        Verified = "verified" / "已核实",
        Vacant = "vacant" / "空置",
        Violation = "violation" / "发现违规",
        Unreachable = "unreachable" / "未遇到人",
        ResolvedByUpload = "resolved_by_upload" / "已有新上传",
        Cancelled = "cancelled" / "已撤销",
    }
);

impl From<Outcome> for Resolution {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Verified => Resolution::Verified,
            Outcome::Vacant => Resolution::Vacant,
            Outcome::Violation => Resolution::Violation,
            Outcome::Unreachable => Resolution::Unreachable,
        }
    }
}

/// How long an unreachable attempt moves a check down the queue.
pub const UNREACHABLE_DEFERRAL: Duration = Duration::days(1);

/// A unit whose clock started at or before this instant is overdue at `at`.
///
/// The rule counts elapsed time (N × 24 hours), not calendar days: an upload at 23:30 is
/// not overdue at 00:30 five calendar days later, only at 23:30.
pub fn overdue_cutoff(at: DateTime<Utc>, overdue_days: u32) -> DateTime<Utc> {
    at - Duration::days(i64::from(overdue_days))
}

/// Whether a unit whose clock started at `clock_from` is overdue at `at`.
pub fn is_overdue(clock_from: DateTime<Utc>, at: DateTime<Utc>, overdue_days: u32) -> bool {
    clock_from <= overdue_cutoff(at, overdue_days)
}

wire_enum!(
    /// Which rule a unit's clock runs under: the N-day rule while nobody is registered there,
    /// the confirmation period while people are.
    ClockKind {
        NoUpload = "no_upload" / "无人登记",
        Unconfirmed = "unconfirmed" / "有人居住",
    }
);

/// The two periods of the clock (see the README, "The clock").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockRules {
    /// `RENFANG_OVERDUE_DAYS`: a unit with nobody registered is due a visit this long after
    /// its clock started.
    pub overdue_days: u32,
    /// `RENFANG_CONFIRM_DAYS`: an occupied unit needs an upload or confirmation this often;
    /// also the longest a vacancy pauses the clock.
    pub confirm_days: u32,
}

impl ClockRules {
    /// How long a unit in `state` with its clock under `kind` waits before it is due.
    /// `None` for a closed unit, which is never due.
    pub fn period(self, state: UnitState, kind: ClockKind) -> Option<Duration> {
        let days = match (state, kind) {
            (UnitState::Closed, _) => return None,
            (UnitState::Active, ClockKind::NoUpload) => self.overdue_days,
            (UnitState::Active, ClockKind::Unconfirmed) | (UnitState::Vacant, _) => {
                self.confirm_days
            }
        };
        Some(Duration::days(i64::from(days)))
    }

    /// When a unit whose clock started at `clock_from` becomes due (for a vacant unit: when
    /// its vacancy lapses and it is due at once under the N-day rule).
    pub fn due(
        self,
        state: UnitState,
        kind: ClockKind,
        clock_from: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.period(state, kind).map(|p| clock_from + p)
    }

    /// Whether such a unit is overdue at `at`: at exactly its due instant, not a second
    /// before.
    pub fn is_overdue(
        self,
        state: UnitState,
        kind: ClockKind,
        clock_from: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> bool {
        self.due(state, kind, clock_from)
            .is_some_and(|due| due <= at)
    }

    /// The check an overdue unit gets: `unconfirmed` for occupied ones, else `no_upload`.
    pub fn reason(kind: ClockKind) -> Reason {
        match kind {
            ClockKind::NoUpload => Reason::NoUpload,
            ClockKind::Unconfirmed => Reason::Unconfirmed,
        }
    }
}

/// Whole days since the clock started (what the queue shows as `days_since_upload`).
pub fn days_since(clock_from: DateTime<Utc>, at: DateTime<Utc>) -> i64 {
    (at - clock_from).num_days().max(0)
}

/// Days (started ones count whole) until a unit whose clock started at `clock` becomes
/// overdue: 5 right after an upload under the 5-day rule, 1 on its last day, 0 once overdue.
pub fn days_left(clock: DateTime<Utc>, now: DateTime<Utc>, days: i64) -> i64 {
    let remaining = clock + Duration::days(days) - now;
    let day = Duration::days(1).num_milliseconds();
    let ms = remaining.num_milliseconds();
    if ms <= 0 { 0 } else { (ms + day - 1) / day }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Asia::Shanghai;

    fn shanghai(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Shanghai
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_unit_is_overdue_at_exactly_n_days_and_not_a_second_before() {
        let upload = shanghai(2026, 11, 1, 10, 0);
        let exactly = upload + Duration::days(5);
        assert!(is_overdue(upload, exactly, 5));
        assert!(!is_overdue(upload, exactly - Duration::seconds(1), 5));
        assert!(is_overdue(upload, exactly + Duration::seconds(1), 5));
    }

    #[test]
    fn the_rule_counts_elapsed_time_across_a_local_day_boundary() {
        // 23:30 in Shanghai is 15:30 UTC: the local date changes long before N days pass.
        let upload = shanghai(2026, 11, 1, 23, 30);
        let five_dates_later = shanghai(2026, 11, 6, 0, 30);
        assert!(!is_overdue(upload, five_dates_later, 5));
        assert_eq!(days_since(upload, five_dates_later), 4);
        assert!(is_overdue(upload, shanghai(2026, 11, 6, 23, 30), 5));
        assert_eq!(days_since(upload, shanghai(2026, 11, 6, 23, 30)), 5);
    }

    #[test]
    fn the_number_of_days_is_configurable() {
        let upload = shanghai(2026, 11, 1, 12, 0);
        assert!(is_overdue(upload, upload + Duration::days(3), 3));
        assert!(!is_overdue(upload, upload + Duration::days(3), 4));
    }

    #[test]
    fn wire_names_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(*r));
        }
        assert_eq!(Outcome::parse("unreachable"), Some(Outcome::Unreachable));
        assert_eq!(Outcome::parse("resolved_by_upload"), None);
    }

    #[test]
    fn days_left_counts_a_started_day_whole() {
        let clock = Utc::now();
        let at = |h: i64| clock + Duration::hours(h);
        assert_eq!(days_left(clock, at(0), 5), 5);
        assert_eq!(days_left(clock, at(1), 5), 5);
        assert_eq!(days_left(clock, at(24), 5), 4);
        assert_eq!(days_left(clock, at(119), 5), 1);
        assert_eq!(days_left(clock, at(120), 5), 0);
        assert_eq!(days_left(clock, at(500), 5), 0);
    }
}
