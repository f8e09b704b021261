//! Enforcement cases (执法案件): what a case can be found to be, the decision that says so,
//! and the calendar quarters the town counts its cases in.

use chrono::{Datelike, NaiveDate};

use crate::domain::FieldError;
use crate::domain::has_control;
use crate::wire_enum;

wire_enum!(
    /// What the enforcement team found a case to be.
    Violation {
        GroupRental = "group_rental" / "群租",
        DailyRental = "daily_rental" / "日租",
        IllegalWiring = "illegal_wiring" / "私搭乱接",
        StructuralAlteration = "structural_alteration" / "改变房屋结构",
        GarageDwelling = "garage_dwelling" / "车库住人",
        Other = "other" / "其他",
        NoViolation = "none" / "无违法",
    }
);

impl Violation {
    /// Whether a decision of this kind is a violation dealt with: it counts toward the
    /// quarter's target and raises the sublandlord's priority.
    pub fn counts(self) -> bool {
        self != Violation::NoViolation
    }
}

wire_enum!(
    /// Where a case stands.
    CaseStatus {
        Open = "open" / "待查处",
        Decided = "decided" / "已决定",
        Closed = "closed" / "已结案",
    }
);

wire_enum!(
    /// One piece of evidence: a photo (with an optional note) or a note alone.
    EvidenceKind {
        Photo = "photo" / "照片",
        Note = "note" / "文字记录",
    }
);

/// Most evidence items one case keeps.
pub const MAX_EVIDENCE: i64 = 30;
/// Longest evidence note, in characters.
pub const MAX_NOTE_CHARS: usize = 500;
/// Highest penalty one decision records, in yuan.
pub const MAX_PENALTY_YUAN: i64 = 1_000_000;
/// Longest decision number (决定书文号), in characters.
pub const MAX_DECISION_NUMBER_CHARS: usize = 64;

/// A decision as typed: every field optional until checked.
#[derive(Debug, Clone, Default)]
pub struct DecisionInput {
    pub violation: Option<String>,
    pub penalty_yuan: Option<i64>,
    pub decision_number: Option<String>,
    pub decided_on: Option<String>,
}

/// A checked decision: a violation with its penalty, decision number and date, or no
/// violation at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Violation {
        violation: Violation,
        penalty_yuan: i64,
        decision_number: String,
        decided_on: NaiveDate,
    },
    NoViolation,
}

impl Decision {
    /// Checks a decision typed on `today` (local): every field is required for a
    /// violation, and none but `violation` may be given with `none`. Answers every
    /// rejected field at once.
    pub fn parse(input: DecisionInput, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let violation = match input.violation.as_deref().map(str::trim) {
            None | Some("") => return Err(vec![required("violation")]),
            Some(v) => Violation::parse(v).ok_or_else(|| {
                vec![FieldError::new(
                    "violation",
                    "invalid",
                    "违法类型不在允许范围内",
                    "Not an allowed violation",
                )]
            })?,
        };
        let number = input
            .decision_number
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        let date = input
            .decided_on
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty());
        if !violation.counts() {
            let mut errors = Vec::new();
            for (field, given) in [
                ("penalty_yuan", input.penalty_yuan.is_some()),
                ("decision_number", number.is_some()),
                ("decided_on", date.is_some()),
            ] {
                if given {
                    errors.push(FieldError::new(
                        field,
                        "not_allowed",
                        "认定无违法时不填写罚款、文号和日期",
                        "Leave this out when there is no violation",
                    ));
                }
            }
            return if errors.is_empty() {
                Ok(Decision::NoViolation)
            } else {
                Err(errors)
            };
        }
        let mut errors = Vec::new();
        let penalty = match input.penalty_yuan {
            None => {
                errors.push(required("penalty_yuan"));
                None
            }
            Some(p) if (0..=MAX_PENALTY_YUAN).contains(&p) => Some(p),
            Some(_) => {
                errors.push(FieldError::new(
                    "penalty_yuan",
                    "out_of_range",
                    "罚款金额应为 0 至 1000000 元的整数",
                    "The penalty is a whole number of yuan from 0 to 1,000,000",
                ));
                None
            }
        };
        let number = match number {
            None => {
                errors.push(required("decision_number"));
                None
            }
            Some(n) if n.chars().count() > MAX_DECISION_NUMBER_CHARS || has_control(&n) => {
                errors.push(FieldError::new(
                    "decision_number",
                    "format",
                    "决定书文号为一行文字，最多 64 字",
                    "One line of at most 64 characters",
                ));
                None
            }
            Some(n) => Some(n),
        };
        let date = match date {
            None => {
                errors.push(required("decided_on"));
                None
            }
            Some(d) => match NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
                Ok(day) if d.len() == 10 && day <= today => Some(day),
                Ok(day) if d.len() == 10 && day > today => {
                    errors.push(FieldError::new(
                        "decided_on",
                        "future",
                        "决定日期不能晚于今天",
                        "The date cannot be in the future",
                    ));
                    None
                }
                _ => {
                    errors.push(FieldError::new(
                        "decided_on",
                        "format",
                        "决定日期应为有效日期，如 2026-12-04",
                        "A real date such as 2026-12-04",
                    ));
                    None
                }
            },
        };
        match (penalty, number, date) {
            (Some(penalty_yuan), Some(decision_number), Some(decided_on)) if errors.is_empty() => {
                Ok(Decision::Violation {
                    violation,
                    penalty_yuan,
                    decision_number,
                    decided_on,
                })
            }
            _ => Err(errors),
        }
    }

    /// The violation decided (`none` for no violation).
    pub fn violation(&self) -> Violation {
        match self {
            Decision::Violation { violation, .. } => *violation,
            Decision::NoViolation => Violation::NoViolation,
        }
    }
}

fn required(field: &str) -> FieldError {
    FieldError::new(field, "required", "此项必填", "Required")
}

/// An evidence note, trimmed: 1–500 characters.
pub fn parse_note(raw: &str) -> Result<String, FieldError> {
    let note = raw.trim();
    if note.is_empty() {
        return Err(required("note"));
    }
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(FieldError::new(
            "note",
            "too_long",
            "文字记录最多 500 字",
            "At most 500 characters",
        ));
    }
    Ok(note.to_string())
}

/// A calendar quarter, such as the fourth of 2026.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quarter {
    pub year: i32,
    /// 1–4.
    pub number: u32,
}

/// The quarter a (local) day falls in.
pub fn quarter_of(day: NaiveDate) -> Quarter {
    Quarter {
        year: day.year(),
        number: (day.month() - 1) / 3 + 1,
    }
}

impl Quarter {
    /// The quarter an instant falls in, in `tz`.
    pub fn of(at: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> Self {
        quarter_of(at.with_timezone(&tz).date_naive())
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.number - 1) * 3 + 1, 1)
            .expect("a quarter starts on a real day")
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        let next = self
            .first_day()
            .checked_add_months(chrono::Months::new(3))
            .expect("quarters in range");
        next.pred_opt().expect("a day before the next quarter")
    }

    /// `2026年第4季度`.
    pub fn label_zh(self) -> String {
        format!("{}年第{}季度", self.year, self.number)
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn input(v: &str, p: Option<i64>, n: Option<&str>, d: Option<&str>) -> DecisionInput {
        DecisionInput {
            violation: Some(v.into()),
            penalty_yuan: p,
            decision_number: n.map(Into::into),
            decided_on: d.map(Into::into),
        }
    }

    #[test]
    fn a_full_violation_decision_parses() {
        let d = Decision::parse(
            input(
                "group_rental",
                Some(5000),
                Some(" 松综执罚〔2026〕12号 "),
                Some("2026-12-04"),
            ),
            day("2026-12-05"),
        )
        .unwrap();
        assert_eq!(
            d,
            Decision::Violation {
                violation: Violation::GroupRental,
                penalty_yuan: 5000,
                decision_number: "松综执罚〔2026〕12号".into(),
                decided_on: day("2026-12-04"),
            }
        );
    }

    #[test]
    fn no_violation_takes_no_other_field() {
        assert_eq!(
            Decision::parse(input("none", None, None, None), day("2026-12-05")),
            Ok(Decision::NoViolation)
        );
        let errors =
            Decision::parse(input("none", Some(0), None, None), day("2026-12-05")).unwrap_err();
        assert_eq!(errors[0].field, "penalty_yuan");
    }

    #[test]
    fn bad_fields_are_all_named() {
        let errors = Decision::parse(
            input(
                "group_rental",
                Some(-1),
                Some(&"号".repeat(65)),
                Some("2026-12-06"),
            ),
            day("2026-12-05"),
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["penalty_yuan", "decision_number", "decided_on"]);
        let errors = Decision::parse(
            input("other", Some(1), Some("1"), Some("2026-02-30")),
            day("2026-12-05"),
        )
        .unwrap_err();
        assert_eq!(errors[0].code, "format");
        assert!(Decision::parse(input("arson", None, None, None), day("2026-12-05")).is_err());
    }

    #[test]
    fn quarters_are_calendar_quarters() {
        let q = quarter_of(day("2026-11-30"));
        assert_eq!((q.year, q.number), (2026, 4));
        assert_eq!(q.first_day(), day("2026-10-01"));
        assert_eq!(q.last_day(), day("2026-12-31"));
        assert_eq!(quarter_of(day("2027-03-31")).last_day(), day("2027-03-31"));
        assert_eq!(quarter_of(day("2027-04-01")).number, 2);
        assert_eq!(q.label_zh(), "2026年第4季度");
    }
}
