//! Rental units: kinds, rental modes, states and standard addresses.

use super::{FieldError, fold_width, has_control};
use crate::wire_enum;

wire_enum!(
    /// What kind of dwelling a unit is.
    UnitKind {
        Flat = "flat" / "住宅",
        Villa = "villa" / "别墅",
        Garage = "garage" / "车库",
        Dormitory = "dormitory" / "宿舍",
        Other = "other" / "其他",
    }
);

wire_enum!(
    /// How a unit is let.
    RentalMode {
        Whole = "whole" / "整租",
        Shared = "shared" / "合租",
        Daily = "daily" / "日租",
        Group = "group" / "群租",
    }
);

wire_enum!(
    /// Whether the N-day clock runs for a unit.
    UnitState {
        Active = "active" / "在租",
        Vacant = "vacant" / "空置",
        Closed = "closed" / "已关闭",
    }
);

wire_enum!(
    /// What happened to a unit, in its history (uploads and confirmations are kept with the
    /// registrations and shown beside these).
    UnitEvent {
        Created = "created" / "建档",
        Filed = "filed" / "二房东报备",
        Vacant = "vacant" / "申报空置",
        VacancyLapsed = "vacancy_lapsed" / "空置期满，恢复计时",
        Reoccupied = "reoccupied" / "空置结束，有人登记",
        MovedOut = "moved_out" / "登记搬离",
        Undone = "undone" / "撤销误操作",
        Closed = "closed" / "已关闭",
    }
);

/// The short number printed on a unit's poster, for enquiries by phone.
pub fn unit_number(id: i64) -> String {
    format!("{id:06}")
}

/// Most rooms one unit may declare; a larger number is a typing mistake, not a flat.
pub const MAX_ROOMS: i64 = 50;
const MAX_ADDRESS_CHARS: usize = 120;

/// A one-line standard address (road, lane 弄, number 号, room 室) with its comparison key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    display: String,
    key: String,
}

impl Address {
    /// Trims and checks the text, and derives the key under which the same flat written in
    /// different ways (full-width digits, spaces, 号/弄 variants) compares equal.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let display = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if display.is_empty() {
            return Err(FieldError::new(
                "address",
                "required",
                "请填写地址",
                "Please enter the address",
            ));
        }
        if display.chars().count() > MAX_ADDRESS_CHARS || has_control(&display) {
            return Err(FieldError::new(
                "address",
                "format",
                "地址过长或含有无效字符",
                "The address is too long or has invalid characters",
            ));
        }
        let key = address_key(&display);
        if key.is_empty() {
            return Err(FieldError::new(
                "address",
                "format",
                "地址格式不正确",
                "The address is not valid",
            ));
        }
        Ok(Self { display, key })
    }

    /// The address as shown to people.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The comparison key stored with a unique constraint per community.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The order an officer walks addresses in: road, then 弄, 号 and 室 by their numbers
/// (`9号` before `10号`), from the comparison key, so the same flat written two ways sorts
/// in one place. Each part is the text before a number and the number.
pub fn walking_order(address: &str) -> Vec<(String, u64)> {
    let key = address_key(address);
    let mut parts = Vec::new();
    let (mut text, mut digits) = (String::new(), String::new());
    for c in key.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                parts.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u64::MAX),
                ));
                digits.clear();
            }
            text.push(c);
        }
    }
    if !digits.is_empty() || !text.is_empty() {
        parts.push((text, digits.parse().unwrap_or(0)));
    }
    parts
}

/// The comparison key of an address text: the same flat written as
/// `上海市嘉定区江桥镇虬长路１２３弄４号楼５０２` or `虬长路123弄4-502` has the key
/// `虬长路123弄4号502室`. Folds full-width characters, spaces and punctuation; drops the
/// city, district and town or subdistrict in front; reads 號, 衖 and 巷 as 号 and 弄, and
/// 号楼, 幢 and 栋 as 号; turns `4-502` after a lane into `4号502室`; adds the 室 a
/// trailing room number left out; and drops leading zeros of numbers.
pub fn address_key(text: &str) -> String {
    let mut key: String = fold_width(text)
        .to_uppercase()
        .chars()
        .filter(|c| {
            !matches!(
                c,
                ',' | '，' | '、' | '.' | '。' | '#' | '(' | ')' | '（' | '）' | '·'
            )
        })
        .map(|c| match c {
            // 號 (traditional) and 衖 (old Shanghai spelling of 弄) appear on old papers.
            '號' => '号',
            '衖' | '巷' => '弄',
            '—' | '–' | '－' | '_' | '~' => '-',
            _ => c,
        })
        .collect();
    for (from, to) in [
        ("ROOM", "室"),
        ("RM", "室"),
        ("号楼", "号"),
        ("幢", "号"),
        ("栋", "号"),
    ] {
        key = key.replace(from, to);
    }
    for city in ["上海市", "上海"] {
        if let Some(rest) = key.strip_prefix(city) {
            key = rest.to_string();
        }
    }
    // A district (嘉定区, 浦东新区), then a town or subdistrict (江桥镇, 新虹街道), in front.
    for mark in ["区", "街道", "镇"] {
        key = strip_leading_area(&key, mark);
    }
    key = lane_dash_to_number(&key);
    key = key.replace('-', "");
    if key.contains('号') && key.ends_with(|c: char| c.is_ascii_digit()) {
        key.push('室');
    }
    strip_leading_zeros(&key)
}

/// Drops a leading area name ending in `mark` (2 to 4 characters before it), as in
/// 嘉定区 or 江桥镇; a road that merely starts with such a character is left alone.
fn strip_leading_area(key: &str, mark: &str) -> String {
    if let Some(at) = key.find(mark) {
        let before = key[..at].chars().count();
        let rest = &key[at + mark.len()..];
        if (2..=4).contains(&before)
            && !key[..at]
                .chars()
                .any(|c| c.is_ascii_digit() || "路街弄号室".contains(c))
            && !rest.is_empty()
        {
            return rest.to_string();
        }
    }
    key.to_string()
}

/// `…弄4-502` (no 号 after the lane) is `…弄4号502室`.
fn lane_dash_to_number(key: &str) -> String {
    let Some(lane) = key.rfind('弄') else {
        return key.to_string();
    };
    let (head, tail) = key.split_at(lane + '弄'.len_utf8());
    if tail.contains('号') {
        return key.to_string();
    }
    match tail.split_once('-') {
        Some((number, room))
            if !number.is_empty()
                && !room.is_empty()
                && number.chars().all(|c| c.is_ascii_digit())
                && room.chars().all(|c| c.is_ascii_digit()) =>
        {
            format!("{head}{number}号{room}室")
        }
        _ => key.to_string(),
    }
}

fn strip_leading_zeros(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut prev_digit = false;
    let chars: Vec<char> = key.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next_digit = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if c == '0' && !prev_digit && next_digit {
            continue;
        }
        prev_digit = c.is_ascii_digit();
        out.push(c);
    }
    out
}

/// Checks a declared room count.
pub fn parse_rooms(rooms: i64) -> Result<i64, FieldError> {
    if (1..=MAX_ROOMS).contains(&rooms) {
        Ok(rooms)
    } else {
        Err(FieldError::new(
            "rooms",
            "range",
            "房间数应在 1 到 50 之间",
            "Rooms must be between 1 and 50",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_sort_in_the_order_an_officer_walks_them() {
        let mut walk = vec![
            "影佳路 10号 101室",
            "影佳路 88弄 6号 302室",
            "影佳路 9号 201室",
            "影佳路 88弄 6号 1201室",
            "影佳路 88弄 12号 101室",
            "祥东路 1号",
            "影佳路 9号 101室",
        ];
        walk.sort_by_key(|a| walking_order(a));
        assert_eq!(
            walk,
            [
                "影佳路 9号 101室",
                "影佳路 9号 201室",
                "影佳路 10号 101室",
                "影佳路 88弄 6号 302室",
                "影佳路 88弄 6号 1201室",
                "影佳路 88弄 12号 101室",
                "祥东路 1号",
            ]
        );
    }

    #[test]
    fn the_same_flat_written_two_ways_has_one_key() {
        let a = Address::parse("虬长路 １２３弄 ４号 ５０２室").unwrap();
        let b = Address::parse("上海市虬长路123弄4號502室").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.display(), "虬长路 １２３弄 ４号 ５０２室");
    }

    #[test]
    fn common_ways_of_writing_one_flat_share_a_key() {
        let key = address_key("虬长路123弄4号502室");
        assert_eq!(key, "虬长路123弄4号502室");
        for variant in [
            "上海市嘉定区江桥镇虬长路１２３弄４号楼５０２",
            "嘉定区 虬长路 123弄 4幢 502室",
            "虬长路123弄4-502",
            "虬长路123衖4號0502室",
            "上海虬长路 123 弄 4 栋 502 ROOM",
            "江桥镇虬长路123弄4号502",
        ] {
            assert_eq!(address_key(variant), key, "{variant}");
        }
        // Different flats stay different.
        assert_ne!(address_key("虬长路123弄4号503室"), key);
        assert_ne!(address_key("虬长路123弄40号502室"), key);
        assert_ne!(address_key("虬长路1230弄4号502室"), key);
        // A road that starts with 镇 or 区 keeps its name.
        assert_eq!(address_key("镇宁路1号"), "镇宁路1号");
        assert_eq!(address_key("上海市镇宁路1号"), "镇宁路1号");
    }

    #[test]
    fn an_empty_or_control_address_is_refused() {
        assert_eq!(Address::parse("  ").unwrap_err().code, "required");
        assert_eq!(Address::parse("a\u{0}b").unwrap_err().code, "format");
    }

    #[test]
    fn wire_names_round_trip() {
        for k in UnitKind::ALL {
            assert_eq!(UnitKind::parse(k.as_str()), Some(*k));
        }
        for m in RentalMode::ALL {
            assert_eq!(RentalMode::parse(m.as_str()), Some(*m));
        }
        assert_eq!(RentalMode::parse("hourly"), None);
    }

    #[test]
    fn room_counts_outside_one_to_fifty_are_refused() {
        assert!(parse_rooms(0).is_err());
        assert!(parse_rooms(51).is_err());
        assert_eq!(parse_rooms(3).unwrap(), 3);
    }
}
