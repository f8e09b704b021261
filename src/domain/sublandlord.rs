//! Sublandlords (二房东): who signs up, what an advance filing (事前报备) declares, and when
//! a unit holds more people than its filing or the housing-density rules allow.

use chrono::NaiveDate;
use serde_json::json;

use super::FieldError;
use super::document::DocumentNumber;
use super::door_check::Reason;
use super::person::{PersonName, PhoneNumber};
use super::registration::parse_document;
use super::unit::{Address, RentalMode, UnitKind, parse_rooms};

/// Shortest password of any account.
pub const MIN_PASSWORD_CHARS: usize = 10;
const MAX_PASSWORD_CHARS: usize = 128;
/// Most people a filing may plan for one unit.
const MAX_PLANNED_OCCUPANTS: i64 = 200;
/// How far from today a filing's start date may lie, either way.
const START_DATE_SPAN_DAYS: i64 = 366;

/// A checked self-registration.
#[derive(Debug, Clone)]
pub struct Signup {
    pub name: PersonName,
    pub phone: PhoneNumber,
    pub document: DocumentNumber,
}

impl Signup {
    /// Checks every field, collecting all errors.
    pub fn parse(
        name: &str,
        phone: &str,
        id_type: &str,
        id_number: &str,
        password: &str,
        today: NaiveDate,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = PersonName::parse(name)
            .map_err(|e| errors.push(e.on("name")))
            .ok();
        let phone = PhoneNumber::parse(phone)
            .map_err(|e| errors.push(e.on("phone")))
            .ok();
        let document = parse_document(id_type, id_number, today)
            .map_err(|e| errors.push(e))
            .ok();
        if let Err(e) = check_password("password", password) {
            errors.push(e);
        }
        match (name, phone, document) {
            (Some(name), Some(phone), Some(document)) if errors.is_empty() => Ok(Self {
                name,
                phone,
                document,
            }),
            _ => Err(errors),
        }
    }
}

/// A new password: 10 to 128 characters, no control characters.
pub fn check_password(field: &str, password: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(
            field,
            "too_short",
            "密码至少 10 个字符",
            "The password needs at least 10 characters",
        ));
    }
    if n > MAX_PASSWORD_CHARS || super::has_control(password) {
        return Err(FieldError::new(
            field,
            "format",
            "密码过长或含有无效字符",
            "The password is too long or has invalid characters",
        ));
    }
    Ok(())
}

crate::wire_enum!(
    /// Where a filing stands. A filing of a flat whose unit the filer did not create waits
    /// for staff, so that signing up and filing an address never hands over a unit.
    FilingStatus {
        Filed = "filed" / "已生效",
        Pending = "pending" / "待审核",
        Approved = "approved" / "已批准",
        Rejected = "rejected" / "已驳回",
    }
);

/// Longest reason staff may give for rejecting a filing.
const MAX_REASON_CHARS: usize = 200;

/// Why staff reject a filing: 1 to 200 characters, no control characters.
pub fn parse_reject_reason(text: &str) -> Result<String, FieldError> {
    let reason = text.trim();
    if reason.is_empty() {
        return Err(FieldError::new(
            "reason",
            "required",
            "请填写驳回理由",
            "Give a reason for the rejection",
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS || super::has_control(reason) {
        return Err(FieldError::new(
            "reason",
            "format",
            "驳回理由最多 200 个字，且不能含有无效字符",
            "The reason may have at most 200 characters and no control characters",
        ));
    }
    Ok(reason.to_string())
}

/// A filing as typed (from JSON or from the form), before any checks.
#[derive(Debug, Clone, Default)]
pub struct FilingInput {
    pub address: String,
    pub kind: Option<String>,
    pub rooms: i64,
    pub rental_mode: String,
    pub floor_area_m2: Option<f64>,
    pub start_date: String,
    pub planned_occupants: i64,
    /// The planned occupants are one family (exempt from the per-room limit).
    pub family: bool,
}

/// A checked filing.
#[derive(Debug, Clone)]
pub struct NewFiling {
    pub address: Address,
    pub kind: UnitKind,
    pub rooms: i64,
    pub rental_mode: RentalMode,
    pub floor_area_m2: Option<f64>,
    pub start_date: NaiveDate,
    pub planned_occupants: i64,
    pub family: bool,
}

impl NewFiling {
    /// The filing under the density rules: refused naming the rule its planned occupants
    /// break (the per-room limit, unless one family; the floor area per person, always).
    /// A group rental (群租) is accepted only within the rules, where it is in effect a
    /// shared flat.
    pub fn within_density(self, limits: DensityLimits) -> Result<Self, FieldError> {
        if !self.family && self.planned_occupants > limits.max_per_room * self.rooms {
            return Err(FieldError::new(
                "planned_occupants",
                "density_per_room",
                "按本市房屋租赁规定，每间居住不得超过 2 人（家庭成员除外）：计划入住人数超过房间数允许的人数",
                "Shanghai's rental rules allow at most 2 people per room (families excepted): the planned occupants exceed what the rooms allow",
            ));
        }
        if let Some(area) = self.floor_area_m2
            && area / (self.planned_occupants as f64) < limits.min_area_per_person
        {
            return Err(FieldError::new(
                "planned_occupants",
                "density_area",
                "按本市房屋租赁规定，人均居住面积不得低于 5 平方米：计划入住人数超过建筑面积允许的人数",
                "Shanghai's rental rules require at least 5 m² per person: the planned occupants exceed what the floor area allows",
            ));
        }
        Ok(self)
    }

    /// Checks every field, collecting all errors.
    pub fn parse(input: &FilingInput, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let address = Address::parse(&input.address)
            .map_err(|e| errors.push(e))
            .ok();
        let kind = match input
            .kind
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
        {
            None => Some(UnitKind::Flat),
            Some(k) => UnitKind::parse(k).or_else(|| {
                errors.push(FieldError::new(
                    "kind",
                    "unknown",
                    "房屋类型应为 flat、villa、garage、dormitory 或 other",
                    "kind must be flat, villa, garage, dormitory or other",
                ));
                None
            }),
        };
        let rooms = parse_rooms(input.rooms).map_err(|e| errors.push(e)).ok();
        let rental_mode = RentalMode::parse(input.rental_mode.trim()).or_else(|| {
            errors.push(FieldError::new(
                "rental_mode",
                "unknown",
                "出租方式应为 whole（整租）、shared（合租）、daily（日租）或 group（群租）",
                "rental_mode must be whole, shared, daily or group",
            ));
            None
        });
        let floor_area_m2 = match input.floor_area_m2 {
            Some(a) if !(a.is_finite() && (1.0..=10_000.0).contains(&a)) => {
                errors.push(FieldError::new(
                    "floor_area_m2",
                    "range",
                    "建筑面积应在 1 到 10000 平方米之间",
                    "Floor area must be between 1 and 10,000 m²",
                ));
                None
            }
            a => a,
        };
        let start_date = parse_start_date(input.start_date.trim(), today)
            .map_err(|e| errors.push(e))
            .ok();
        if !(1..=MAX_PLANNED_OCCUPANTS).contains(&input.planned_occupants) {
            errors.push(FieldError::new(
                "planned_occupants",
                "range",
                "计划入住人数应在 1 到 200 之间",
                "Planned occupants must be between 1 and 200",
            ));
        }
        match (address, kind, rooms, rental_mode, start_date) {
            (Some(address), Some(kind), Some(rooms), Some(rental_mode), Some(start_date))
                if errors.is_empty() =>
            {
                Ok(Self {
                    address,
                    kind,
                    rooms,
                    rental_mode,
                    floor_area_m2,
                    start_date,
                    planned_occupants: input.planned_occupants,
                    family: input.family,
                })
            }
            _ => Err(errors),
        }
    }
}

fn parse_start_date(text: &str, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        FieldError::new(
            "start_date",
            "format",
            "起租日期格式应为 年-月-日，例如 2026-12-01",
            "Use the form YYYY-MM-DD, e.g. 2026-12-01",
        )
    })?;
    if (date - today).num_days().abs() > START_DATE_SPAN_DAYS {
        return Err(FieldError::new(
            "start_date",
            "range",
            "起租日期应在今天前后一年之内",
            "The start date must be within a year of today",
        ));
    }
    Ok(date)
}

/// The housing rules the checks apply, as configured: the density limits of Shanghai's
/// rental rules and when a unit's turnover says it is let by the day.
#[derive(Debug, Clone, Copy)]
pub struct DensityLimits {
    /// More people than this per room is overcrowding, unless they are one family.
    pub max_per_room: i64,
    /// Less floor area per person than this (m²) is overcrowding.
    pub min_area_per_person: f64,
    /// More registrations than this within a week look like letting by the day (日租).
    pub daily_turnover: i64,
}

/// The window over which registrations are counted for [`DensityLimits::daily_turnover`].
pub const TURNOVER_WINDOW_MS: i64 = 7 * 86_400_000;

/// What a unit's current occupants say against its filing and the density limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub reason: Reason,
    /// The numbers that triggered it, as JSON for the check's `details`.
    pub details: String,
}

/// The unit as the density checks see it.
#[derive(Debug, Clone, Copy)]
pub struct Occupancy {
    pub occupants: i64,
    pub rooms: i64,
    pub floor_area_m2: Option<f64>,
    /// The newest registration declared the occupants one family.
    pub family: bool,
    /// Planned occupants of the newest filing, if the unit was filed.
    pub planned_occupants: Option<i64>,
    pub kind: UnitKind,
    pub rental_mode: RentalMode,
    /// Registrations (by tenants or the sublandlord) within the last week.
    pub registrations_this_week: i64,
}

/// The checks a unit's occupancy calls for: `overcrowding` past the per-room limit (not for a
/// family) or under the floor area per person, whatever the kind (a villa let as rooms is
/// 别墅群租 under the same rules); `filing_mismatch` past the filing's plan;
/// `garage_dwelling` for anybody living in a garage; `daily_rental` for a unit let by the
/// day, or whose turnover says so.
pub fn assess(limits: DensityLimits, o: Occupancy) -> Vec<Finding> {
    let mut findings = Vec::new();
    if o.kind == UnitKind::Garage && o.occupants > 0 {
        findings.push(Finding {
            reason: Reason::GarageDwelling,
            details: json!({"kind": "garage", "occupants": o.occupants}).to_string(),
        });
    }
    if o.rental_mode == RentalMode::Daily || o.registrations_this_week > limits.daily_turnover {
        findings.push(Finding {
            reason: Reason::DailyRental,
            details: json!({
                "rental_mode": o.rental_mode.as_str(),
                "registrations_this_week": o.registrations_this_week,
                "max_per_week": limits.daily_turnover,
            })
            .to_string(),
        });
    }
    let per_room_limit = limits.max_per_room * o.rooms;
    let too_many = !o.family && o.occupants > per_room_limit;
    let too_small = match o.floor_area_m2 {
        Some(area) if o.occupants > 0 => area / (o.occupants as f64) < limits.min_area_per_person,
        _ => false,
    };
    if too_many || too_small {
        findings.push(Finding {
            reason: Reason::Overcrowding,
            details: json!({
                "occupants": o.occupants,
                "rooms": o.rooms,
                "max_per_room": limits.max_per_room,
                "family": o.family,
                "floor_area_m2": o.floor_area_m2,
                "area_per_person_m2": o.floor_area_m2
                    .map(|a| (a / o.occupants as f64 * 100.0).round() / 100.0),
                "min_area_per_person_m2": limits.min_area_per_person,
            })
            .to_string(),
        });
    }
    if let Some(planned) = o.planned_occupants
        && o.occupants > planned
    {
        findings.push(Finding {
            reason: Reason::FilingMismatch,
            details: json!({"occupants": o.occupants, "planned_occupants": planned}).to_string(),
        });
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DensityLimits = DensityLimits {
        max_per_room: 2,
        min_area_per_person: 5.0,
        daily_turnover: 3,
    };

    fn occupancy(occupants: i64, rooms: i64) -> Occupancy {
        Occupancy {
            occupants,
            rooms,
            floor_area_m2: None,
            family: false,
            planned_occupants: None,
            kind: UnitKind::Flat,
            rental_mode: RentalMode::Whole,
            registrations_this_week: 1,
        }
    }

    fn reasons(o: Occupancy) -> Vec<Reason> {
        assess(LIMITS, o).into_iter().map(|f| f.reason).collect()
    }

    #[test]
    fn two_per_room_is_allowed_and_one_more_is_overcrowding() {
        assert_eq!(reasons(occupancy(4, 2)), []);
        assert_eq!(reasons(occupancy(5, 2)), [Reason::Overcrowding]);
        let found = assess(LIMITS, occupancy(5, 2));
        assert!(found[0].details.contains("\"occupants\":5"), "{found:?}");
    }

    #[test]
    fn a_family_is_exempt_from_the_per_room_limit_but_not_from_the_floor_area() {
        let family = Occupancy {
            family: true,
            ..occupancy(5, 2)
        };
        assert_eq!(reasons(family), []);
        // 25 m² for 5 people is exactly 5 m² each: allowed; 24.9 m² is not.
        let roomy = Occupancy {
            floor_area_m2: Some(25.0),
            ..family
        };
        assert_eq!(reasons(roomy), []);
        let cramped = Occupancy {
            floor_area_m2: Some(24.9),
            ..family
        };
        assert_eq!(reasons(cramped), [Reason::Overcrowding]);
    }

    #[test]
    fn more_people_than_filed_is_a_mismatch() {
        let filed = Occupancy {
            planned_occupants: Some(3),
            ..occupancy(3, 3)
        };
        assert_eq!(reasons(filed), []);
        let more = Occupancy {
            occupants: 4,
            ..filed
        };
        assert_eq!(reasons(more), [Reason::FilingMismatch]);
        let both = Occupancy {
            occupants: 7,
            ..filed
        };
        assert_eq!(
            reasons(both),
            [Reason::Overcrowding, Reason::FilingMismatch]
        );
    }

    #[test]
    fn configured_limits_apply() {
        let strict = DensityLimits {
            max_per_room: 1,
            min_area_per_person: 10.0,
            daily_turnover: 3,
        };
        assert_eq!(assess(strict, occupancy(3, 2)).len(), 1);
        assert!(assess(strict, occupancy(2, 2)).is_empty());
    }

    #[test]
    fn a_garage_with_anybody_in_it_and_a_unit_let_by_the_day_are_flagged() {
        let garage = Occupancy {
            kind: UnitKind::Garage,
            ..occupancy(1, 1)
        };
        assert_eq!(reasons(garage), [Reason::GarageDwelling]);
        assert_eq!(
            reasons(Occupancy {
                occupants: 0,
                ..garage
            }),
            []
        );
        // A villa follows the flats' density rules.
        let villa = Occupancy {
            kind: UnitKind::Villa,
            ..occupancy(9, 4)
        };
        assert_eq!(reasons(villa), [Reason::Overcrowding]);
        let daily = Occupancy {
            rental_mode: RentalMode::Daily,
            ..occupancy(0, 1)
        };
        assert_eq!(reasons(daily), [Reason::DailyRental]);
        // Three groups in a week is a busy flat; a fourth is letting by the day.
        let busy = Occupancy {
            registrations_this_week: 3,
            ..occupancy(2, 1)
        };
        assert_eq!(reasons(busy), []);
        let turnover = Occupancy {
            registrations_this_week: 4,
            ..busy
        };
        assert_eq!(reasons(turnover), [Reason::DailyRental]);
    }

    fn filing(rooms: i64, planned: i64, area: Option<f64>, family: bool) -> NewFiling {
        let input = FilingInput {
            address: "影佳路 1弄 1号".into(),
            kind: None,
            rooms,
            rental_mode: "group".into(),
            floor_area_m2: area,
            start_date: "2026-12-01".into(),
            planned_occupants: planned,
            family,
        };
        NewFiling::parse(&input, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()).unwrap()
    }

    #[test]
    fn a_filing_beyond_the_density_rules_is_refused_naming_the_rule() {
        // 群租: 12 people in 3 rooms.
        let err = filing(3, 12, None, false)
            .within_density(LIMITS)
            .unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.code),
            ("planned_occupants", "density_per_room")
        );
        assert!(err.message_zh.contains("2 人"));
        // A family may share rooms, but not below 5 m² each.
        assert!(filing(3, 7, None, true).within_density(LIMITS).is_ok());
        let err = filing(3, 7, Some(30.0), true)
            .within_density(LIMITS)
            .unwrap_err();
        assert_eq!(err.code, "density_area");
        // A group rental within the rules is accepted.
        let ok = filing(3, 6, Some(30.0), false)
            .within_density(LIMITS)
            .unwrap();
        assert_eq!(ok.rental_mode, RentalMode::Group);
    }

    #[test]
    fn a_rejection_needs_a_short_plain_reason() {
        assert_eq!(
            parse_reject_reason("  不是本人房屋 ").unwrap(),
            "不是本人房屋"
        );
        assert_eq!(parse_reject_reason(" ").unwrap_err().code, "required");
        assert_eq!(
            parse_reject_reason(&"长".repeat(201)).unwrap_err().code,
            "format"
        );
        assert_eq!(parse_reject_reason("a\u{7}b").unwrap_err().code, "format");
        assert_eq!(FilingStatus::parse("pending"), Some(FilingStatus::Pending));
    }

    #[test]
    fn signups_and_filings_name_every_bad_field() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let err = Signup::parse(
            "",
            "123",
            "resident_id",
            "110105194912310021",
            "short",
            today,
        )
        .unwrap_err();
        let fields: Vec<&str> = err.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "phone", "id_number", "password"]);
        let input = FilingInput {
            address: "影佳路 1弄 2号 301室".into(),
            rooms: 0,
            rental_mode: "hourly".into(),
            start_date: "2028-01-01".into(),
            planned_occupants: 0,
            floor_area_m2: Some(0.5),
            kind: Some("castle".into()),
            family: false,
        };
        let err = NewFiling::parse(&input, today).unwrap_err();
        let fields: Vec<&str> = err.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "kind",
                "rooms",
                "rental_mode",
                "floor_area_m2",
                "start_date",
                "planned_occupants"
            ]
        );
        let good = FilingInput {
            rooms: 3,
            rental_mode: "shared".into(),
            start_date: "2026-12-01".into(),
            planned_occupants: 4,
            floor_area_m2: None,
            kind: None,
            ..input
        };
        let filing = NewFiling::parse(&good, today).unwrap();
        assert_eq!(filing.kind, UnitKind::Flat);
        assert_eq!(filing.address.key(), "影佳路1弄2号301室");
    }
}
