//! What an officer reads about each open reason of a flat before knocking: the figures
//! behind it, in words.

use super::door_check::Reason;
use super::sublandlord::DensityLimits;

/// A unit as its open reasons are explained: the figures as they stand now.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// People registered there now.
    pub occupants: i64,
    pub rooms: i64,
    pub floor_area_m2: Option<f64>,
    /// Occupants planned in the newest filing, if the unit was filed.
    pub planned_occupants: Option<i64>,
    /// The newest registration declared one family.
    pub family: bool,
    /// Whole days since the unit's clock started (its last upload, move-out or filing).
    pub days_since_clock: i64,
}

/// The rules the figures are measured against.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub overdue_days: u32,
    pub confirm_days: u32,
    pub density: DensityLimits,
}

/// What a reason rests on, for one open check: from the unit's figures now, and for the
/// reasons that are about more than the unit (another address, a tip, a turnover count)
/// from what was noted when the check opened (`details`, the other address, the tip).
pub fn figures(
    reason: Reason,
    facts: &Facts,
    limits: Limits,
    details: Option<&str>,
    other_address: Option<&str>,
) -> Vec<String> {
    let details: serde_json::Value = details
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default();
    let n = facts.occupants;
    match reason {
        Reason::NoUpload => vec![format!(
            "已 {} 天无人上传（规定 {} 天内）",
            facts.days_since_clock, limits.overdue_days
        )],
        Reason::Unconfirmed => vec![format!(
            "在住 {n} 人，已 {} 天未更新或确认（规定 {} 天）",
            facts.days_since_clock, limits.confirm_days
        )],
        Reason::FilingMismatch => vec![match facts.planned_occupants {
            Some(planned) => format!("报备 {planned} 人，实际登记在住 {n} 人"),
            None => format!("登记在住 {n} 人，无有效报备"),
        }],
        Reason::Overcrowding => overcrowding(facts, limits.density),
        Reason::GarageDwelling => vec![format!("车库内登记在住 {n} 人")],
        Reason::DailyRental => {
            let mut lines = Vec::new();
            if details["rental_mode"].as_str() == Some("daily") {
                lines.push("报备的出租方式为日租".to_string());
            }
            if let (Some(week), Some(max)) = (
                details["registrations_this_week"].as_i64(),
                details["max_per_week"].as_i64(),
            ) && week > max
            {
                lines.push(format!(
                    "发起时近 7 天登记 {week} 次（超过 {max} 次视为日租）"
                ));
            }
            lines
        }
        Reason::IdentityConflict => other_address
            .map(|a| vec![format!("同一证件另在 {a} 登记在住：请核实此人现住何处")])
            .unwrap_or_default(),
        Reason::Tip | Reason::Manual => Vec::new(),
    }
}

fn overcrowding(facts: &Facts, density: DensityLimits) -> Vec<String> {
    let n = facts.occupants;
    let mut lines = Vec::new();
    if facts.rooms > 0 {
        let per_room = n as f64 / facts.rooms as f64;
        lines.push(format!(
            "{} 间，在住 {n} 人，每间 {} 人（上限 {} 人{}）",
            facts.rooms,
            one_place(per_room),
            density.max_per_room,
            if facts.family {
                "，登记为同一家庭"
            } else {
                ""
            }
        ));
    }
    if let Some(area) = facts.floor_area_m2
        && n > 0
    {
        lines.push(format!(
            "面积 {} m²，人均 {} m²（不少于 {} m²）",
            one_place(area),
            one_place(area / n as f64),
            one_place(density.min_area_per_person)
        ));
    }
    lines
}

/// A number with at most one decimal place, without a trailing `.0`.
fn one_place(x: f64) -> String {
    let rounded = (x * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            overdue_days: 5,
            confirm_days: 30,
            density: DensityLimits {
                max_per_room: 2,
                min_area_per_person: 5.0,
                daily_turnover: 3,
            },
        }
    }

    #[test]
    fn an_overcrowded_flat_reads_as_people_per_room_and_area_per_person() {
        let facts = Facts {
            occupants: 7,
            rooms: 3,
            floor_area_m2: Some(30.0),
            ..Facts::default()
        };
        let lines = figures(Reason::Overcrowding, &facts, limits(), None, None);
        assert_eq!(
            lines,
            [
                "3 间，在住 7 人，每间 2.3 人（上限 2 人）",
                "面积 30 m²，人均 4.3 m²（不少于 5 m²）"
            ]
        );
    }

    #[test]
    fn a_filing_mismatch_puts_the_plan_beside_the_people() {
        let facts = Facts {
            occupants: 6,
            planned_occupants: Some(4),
            ..Facts::default()
        };
        assert_eq!(
            figures(Reason::FilingMismatch, &facts, limits(), None, None),
            ["报备 4 人，实际登记在住 6 人"]
        );
    }

    #[test]
    fn the_clock_reasons_say_how_long_against_the_rule() {
        let facts = Facts {
            occupants: 2,
            days_since_clock: 12,
            ..Facts::default()
        };
        assert_eq!(
            figures(Reason::NoUpload, &facts, limits(), None, None),
            ["已 12 天无人上传（规定 5 天内）"]
        );
        assert_eq!(
            figures(Reason::Unconfirmed, &facts, limits(), None, None),
            ["在住 2 人，已 12 天未更新或确认（规定 30 天）"]
        );
    }

    #[test]
    fn daily_letting_and_a_second_address_come_from_what_was_noted() {
        let details = r#"{"rental_mode":"shared","registrations_this_week":6,"max_per_week":3}"#;
        assert_eq!(
            figures(
                Reason::DailyRental,
                &Facts::default(),
                limits(),
                Some(details),
                None
            ),
            ["发起时近 7 天登记 6 次（超过 3 次视为日租）"]
        );
        assert_eq!(
            figures(
                Reason::IdentityConflict,
                &Facts::default(),
                limits(),
                None,
                Some("祥东路 1号 101室")
            ),
            ["同一证件另在 祥东路 1号 101室 登记在住：请核实此人现住何处"]
        );
    }
}
