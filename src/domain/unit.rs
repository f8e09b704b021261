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

/// The comparison key of an address text.
pub fn address_key(text: &str) -> String {
    let folded = fold_width(text).to_uppercase();
    folded
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | '、' | '.' | '。' | '-' | '—' | '#'))
        .map(|c| match c {
            // 號 (traditional) and 衖 (old Shanghai spelling of 弄) appear on old papers.
            '號' => '号',
            '衖' => '弄',
            '巷' => '弄',
            _ => c,
        })
        .collect::<String>()
        .replace("上海市", "")
        .replace("RM", "室")
        .replace("ROOM", "室")
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
    fn the_same_flat_written_two_ways_has_one_key() {
        let a = Address::parse("虬长路 １２３弄 ４号 ５０２室").unwrap();
        let b = Address::parse("上海市虬长路123弄4號502室").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.display(), "虬长路 １２３弄 ４号 ５０２室");
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
