//! Identity-document validation: `IdType::parse`, `DocumentNumber::parse_at`, `mask`
//! and `with_check_char` on arbitrary text, for every document type.
//!
//! Input layout: two bytes choose "today" (days after 1900-01-01, so 1900..2079), the
//! rest is the typed number (invalid UTF-8 is replaced, as a form decoder would).

#![no_main]

use chrono::{Datelike, Days, NaiveDate};
use libfuzzer_sys::fuzz_target;
use renfang::domain::document::{DocumentError, DocumentNumber, IdType, mask, with_check_char};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let days = u64::from(u16::from_le_bytes([data[0], data[1]]));
    let today = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + Days::new(days);
    let raw = String::from_utf8_lossy(&data[2..]);

    check_id_type(&raw);
    check_mask(&raw);
    check_with_check_char(&raw, today);
    for t in IdType::ALL {
        check_number(t, &raw, today);
    }
});

/// The documented normalisation: white space dropped, full-width ASCII folded, ASCII
/// uppercased (the library's own `normalise` is private, so it is restated here).
fn normalise(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap(),
            _ => c,
        })
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn check_id_type(raw: &str) {
    match IdType::parse(raw) {
        Ok(t) => assert_eq!(t.as_str(), raw),
        Err(DocumentError::Empty) => assert!(raw.trim().is_empty()),
        Err(DocumentError::UnknownType) => {
            assert!(!raw.trim().is_empty());
            assert!(IdType::ALL.iter().all(|t| t.as_str() != raw));
        }
        Err(e) => panic!("IdType::parse gave {e:?}"),
    }
}

/// `mask` keeps 3+4 characters from 10 up, 1+2 from 5 to 9, none below, and the count.
fn check_mask(raw: &str) {
    let masked = mask(raw);
    let chars: Vec<char> = raw.chars().collect();
    let out: Vec<char> = masked.chars().collect();
    let n = chars.len();
    assert_eq!(out.len(), n);
    let (head, tail) = match n {
        10.. => (3, 4),
        5..=9 => (1, 2),
        _ => (0, 0),
    };
    for (i, (&c, &m)) in chars.iter().zip(&out).enumerate() {
        if i < head || i >= n - tail {
            assert_eq!(c, m);
        } else {
            assert_eq!(m, '*');
        }
    }
}

fn check_with_check_char(raw: &str, today: NaiveDate) {
    let seventeen = raw.len() == 17 && raw.bytes().all(|b| b.is_ascii_digit());
    match with_check_char(raw) {
        None => assert!(!seventeen),
        Some(full) => {
            assert!(seventeen);
            assert_eq!(full.len(), 18);
            assert!(full.starts_with(raw));
            assert!(matches!(full.as_bytes()[17], b'0'..=b'9' | b'X'));
            // A completed number can fail on its shape or date, never on its check digit.
            for t in [
                IdType::ResidentId,
                IdType::HmtResidencePermit,
                IdType::ForeignPermanentId,
            ] {
                assert_ne!(
                    DocumentNumber::parse_at(t, &full, today),
                    Err(DocumentError::CheckDigit)
                );
            }
        }
    }
}

fn check_number(t: IdType, raw: &str, today: NaiveDate) {
    let parsed = DocumentNumber::parse_at(t, raw, today);
    // Deterministic.
    assert_eq!(parsed, DocumentNumber::parse_at(t, raw, today));
    let norm = normalise(raw);
    assert_eq!(
        norm.is_empty(),
        parsed == Err(DocumentError::Empty),
        "{t:?}"
    );

    let n = match parsed {
        Ok(n) => n,
        Err(DocumentError::CheckDigit) => {
            // Only the check character was wrong: completing the body must be accepted.
            assert!(matches!(
                t,
                IdType::ResidentId | IdType::HmtResidencePermit | IdType::ForeignPermanentId
            ));
            assert_eq!(norm.len(), 18);
            let fixed = with_check_char(&norm[..17]).expect("17 digits");
            assert_ne!(fixed, norm);
            assert!(
                DocumentNumber::parse_at(t, &fixed, today).is_ok(),
                "{t:?} {fixed}"
            );
            return;
        }
        Err(DocumentError::BirthDate) => {
            assert!(matches!(
                t,
                IdType::ResidentId | IdType::HmtResidencePermit | IdType::ForeignPermanentId
            ));
            return;
        }
        Err(DocumentError::UnknownType) => panic!("parse_at gave UnknownType"),
        Err(_) => return,
    };

    let value = n.as_ref();
    assert_eq!(n.id_type(), t);
    assert_eq!(value, norm, "stored value is the normalised input");
    assert!(
        value
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    );

    // Shape of each type.
    let len = value.len();
    match t {
        IdType::ResidentId | IdType::HmtResidencePermit => assert_eq!(len, 18),
        IdType::ForeignPermanentId => assert!(len == 15 || len == 18),
        IdType::Passport => {
            assert!((5..=17).contains(&len));
            assert!(value.bytes().any(|b| b.is_ascii_digit()));
        }
        IdType::HkMacauPermit => {
            assert!(len == 9 || len == 11);
            assert!(value.starts_with(['H', 'M']));
        }
        IdType::TaiwanPermit => {
            assert!(len == 8 || len == 10);
            assert!(value.bytes().all(|b| b.is_ascii_digit()));
        }
    }
    match t {
        IdType::ResidentId => assert!(!value.starts_with('0')),
        IdType::HmtResidencePermit => {
            assert!(
                ["810000", "820000", "830000"]
                    .iter()
                    .any(|p| value.starts_with(p))
            )
        }
        IdType::ForeignPermanentId if len == 18 => assert!(value.starts_with('9')),
        _ => {}
    }

    // 18-character numbers carry a valid MOD 11-2 check character and a real birth date.
    if len == 18 {
        assert_eq!(with_check_char(&value[..17]).as_deref(), Some(value));
        let born = n
            .birth_date()
            .expect("18-character numbers have a birth date");
        assert!(born <= today && born.year() >= 1900);
        assert_eq!(born.format("%Y%m%d").to_string(), value[6..14]);
    } else {
        assert_eq!(n.birth_date(), None);
    }

    // The masked form and the Debug output never show the whole number.
    let masked = n.masked();
    assert_eq!(masked.chars().count(), len);
    assert!(masked.contains('*'));
    assert!(!masked.contains(value));
    assert!(!format!("{n:?}").contains(value));
    if len >= 10 {
        assert_eq!(masked.matches('*').count(), len - 7);
    }

    // Normalisation is idempotent and ignores case, white space and full width.
    let again = |text: &str| DocumentNumber::parse_at(t, text, today);
    assert_eq!(again(value).as_ref(), Ok(&n));
    assert_eq!(again(&value.to_ascii_lowercase()).as_ref(), Ok(&n));
    let spaced: String = value
        .chars()
        .flat_map(|c| [' ', c])
        .chain(['\u{3000}'])
        .collect();
    assert_eq!(again(&spaced).as_ref(), Ok(&n));
    let wide: String = value
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
        .collect();
    assert_eq!(again(&wide).as_ref(), Ok(&n));

    // Accepted today means accepted on any later day (birth dates only move into the past).
    if let Some(later) = today.checked_add_days(Days::new(400)) {
        assert_eq!(again_at(t, raw, later).as_ref(), Ok(&n));
    }
}

fn again_at(t: IdType, raw: &str, day: NaiveDate) -> Result<DocumentNumber, DocumentError> {
    DocumentNumber::parse_at(t, raw, day)
}
