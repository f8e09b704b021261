//! Identity documents accepted at registration, and the checks a number must pass
//! before the rest of the service may hold it.

use std::fmt;

use chrono::NaiveDate;

/// The kinds of identity document accepted (wire names are the contract's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdType {
    /// 居民身份证.
    ResidentId,
    /// 港澳台居民居住证.
    HmtResidencePermit,
    /// 外国人永久居留身份证.
    ForeignPermanentId,
    /// 护照.
    Passport,
    /// 港澳居民来往内地通行证.
    HkMacauPermit,
    /// 台湾居民来往大陆通行证.
    TaiwanPermit,
}

impl IdType {
    /// Every kind, in the order forms list them.
    pub const ALL: [IdType; 6] = [
        IdType::ResidentId,
        IdType::HmtResidencePermit,
        IdType::ForeignPermanentId,
        IdType::Passport,
        IdType::HkMacauPermit,
        IdType::TaiwanPermit,
    ];

    /// Parses the wire name; a blank one is `Empty` so a form can say "required".
    pub fn parse(s: &str) -> Result<Self, DocumentError> {
        if s.trim().is_empty() {
            return Err(DocumentError::Empty);
        }
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or(DocumentError::UnknownType)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            IdType::ResidentId => "resident_id",
            IdType::HmtResidencePermit => "hmt_residence_permit",
            IdType::ForeignPermanentId => "foreign_permanent_id",
            IdType::Passport => "passport",
            IdType::HkMacauPermit => "hk_macau_permit",
            IdType::TaiwanPermit => "taiwan_permit",
        }
    }

    /// The Chinese name printed on the document.
    pub fn label_zh(self) -> &'static str {
        match self {
            IdType::ResidentId => "居民身份证",
            IdType::HmtResidencePermit => "港澳台居民居住证",
            IdType::ForeignPermanentId => "外国人永久居留身份证",
            IdType::Passport => "护照",
            IdType::HkMacauPermit => "港澳居民来往内地通行证",
            IdType::TaiwanPermit => "台湾居民来往大陆通行证",
        }
    }

    /// A plain English name for the English page.
    pub fn label_en(self) -> &'static str {
        match self {
            IdType::ResidentId => "Resident ID card",
            IdType::HmtResidencePermit => {
                "Residence permit for Hong Kong, Macao and Taiwan residents"
            }
            IdType::ForeignPermanentId => "Foreign permanent resident ID card",
            IdType::Passport => "Passport",
            IdType::HkMacauPermit => "Mainland travel permit for Hong Kong and Macao residents",
            IdType::TaiwanPermit => "Mainland travel permit for Taiwan residents",
        }
    }
}

/// Why a document type or number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// Nothing was entered.
    #[error("document number is required")]
    Empty,
    /// The document type is not one the contract knows.
    #[error("unknown document type")]
    UnknownType,
    /// The number does not have the shape its document type prescribes.
    #[error("document number is not in the format of its document type")]
    Format,
    /// The check character does not match the rest of the number.
    #[error("document number check character does not match")]
    CheckDigit,
    /// The birth date inside the number is not a real date in the past.
    #[error("birth date in the document number is not valid")]
    BirthDate,
}

impl DocumentError {
    /// The error as a field error of `field`.
    pub fn on(self, field: &str) -> super::FieldError {
        super::FieldError::new(field, self.code(), self.message_zh(), self.message_en())
    }

    /// Stable machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            DocumentError::Empty => "required",
            DocumentError::UnknownType => "unknown_type",
            DocumentError::Format => "format",
            DocumentError::CheckDigit => "check_digit",
            DocumentError::BirthDate => "birth_date",
        }
    }

    /// Plain Chinese sentence for the form field.
    pub fn message_zh(&self) -> &'static str {
        match self {
            DocumentError::Empty => "请填写证件号码",
            DocumentError::UnknownType => "不支持该证件类型，请重新选择",
            DocumentError::Format => "证件号码格式不正确，请核对",
            DocumentError::CheckDigit => "证件号码校验位不正确，请核对",
            DocumentError::BirthDate => "证件号码中的出生日期不正确，请核对",
        }
    }

    /// The same sentence in English.
    pub fn message_en(&self) -> &'static str {
        match self {
            DocumentError::Empty => "Please enter the document number.",
            DocumentError::UnknownType => {
                "This document type is not supported; please choose another."
            }
            DocumentError::Format => {
                "The document number is not in the right format; please check it."
            }
            DocumentError::CheckDigit => {
                "The document number's check digit is wrong; please check it."
            }
            DocumentError::BirthDate => {
                "The birth date in the document number is not valid; please check it."
            }
        }
    }
}

/// A document number that has passed its type's checks; normalised (trimmed, inner spaces removed, ASCII uppercase, full-width ASCII folded to half-width).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DocumentNumber {
    id_type: IdType,
    value: String,
}

impl DocumentNumber {
    /// Parses a number, judging birth dates against today's local date.
    pub fn parse(id_type: IdType, raw: &str) -> Result<Self, DocumentError> {
        Self::parse_at(id_type, raw, chrono::Local::now().date_naive())
    }

    /// Parses a number, judging birth dates against `today` (so tests need no clock).
    pub fn parse_at(id_type: IdType, raw: &str, today: NaiveDate) -> Result<Self, DocumentError> {
        let value = normalise(raw);
        if value.is_empty() {
            return Err(DocumentError::Empty);
        }
        match id_type {
            IdType::ResidentId => check_18(&value, today, |v| !v.starts_with('0'))?,
            IdType::HmtResidencePermit => check_18(&value, today, |v| {
                ["810000", "820000", "830000"]
                    .iter()
                    .any(|p| v.starts_with(p))
            })?,
            IdType::ForeignPermanentId if value.len() == 15 => check_foreign_2017(&value, today)?,
            IdType::ForeignPermanentId => check_18(&value, today, |v| v.starts_with('9'))?,
            IdType::Passport => check_passport(&value)?,
            IdType::HkMacauPermit => {
                let digits = value
                    .strip_prefix(['H', 'M'])
                    .ok_or(DocumentError::Format)?;
                check_digits(digits, &[8, 10])?;
            }
            IdType::TaiwanPermit => check_digits(&value, &[8, 10])?,
        }
        Ok(Self { id_type, value })
    }

    /// The kind of document this number belongs to.
    pub fn id_type(&self) -> IdType {
        self.id_type
    }

    /// The number with its middle hidden, for screens and logs.
    pub fn masked(&self) -> String {
        mask(&self.value)
    }

    /// The holder's birth date, where the format carries a full one.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        match self.id_type {
            IdType::ResidentId | IdType::HmtResidencePermit => {
                yyyymmdd(&self.value.as_bytes()[6..14])
            }
            // The 2017 foreign format only has a two-digit year: which century was
            // meant depended on the day it was checked, so no date is claimed.
            IdType::ForeignPermanentId if self.value.len() == 18 => {
                yyyymmdd(&self.value.as_bytes()[6..14])
            }
            _ => None,
        }
    }
}

impl AsRef<str> for DocumentNumber {
    fn as_ref(&self) -> &str {
        &self.value
    }
}

// Debug output ends up in logs and panics, where a full identity number must never appear.
impl fmt::Debug for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentNumber")
            .field("id_type", &self.id_type)
            .field("value", &self.masked())
            .finish()
    }
}

/// Hides the middle of a value (3+4 kept from 10 chars up, 1+2 from 5-9, none below); phone numbers share it.
pub fn mask(value: &str) -> String {
    let n = value.chars().count();
    let (head, tail) = match n {
        10.. => (3, 4),
        5..=9 => (1, 2),
        _ => (0, 0),
    };
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { c } else { '*' })
        .collect()
}

/// Full-width ASCII (U+FF01..U+FF5E) to its half-width twin, so input typed with a
/// Chinese IME compares equal to the same text typed on a Latin keyboard.
pub(crate) fn fold_full_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

fn normalise(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| fold_full_width(c).to_ascii_uppercase())
        .collect()
}

/// Completes 17 digits into an 18-character number with its MOD 11-2 check character
/// (for demo data, benchmarks and tests); `None` unless given exactly 17 ASCII digits.
pub fn with_check_char(first17: &str) -> Option<String> {
    let b = first17.as_bytes();
    (b.len() == 17 && b.iter().all(u8::is_ascii_digit))
        .then(|| format!("{first17}{}", char::from(mod11_2(b))))
}

/// ISO 7064 MOD 11-2 check character over 17 ASCII digits, as GB 11643-1999 prescribes.
fn mod11_2(body: &[u8]) -> u8 {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize]
}

fn number(digits: &[u8]) -> u32 {
    digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'))
}

fn yyyymmdd(digits: &[u8]) -> Option<NaiveDate> {
    let year = i32::try_from(number(&digits[..4])).ok()?;
    NaiveDate::from_ymd_opt(year, number(&digits[4..6]), number(&digits[6..8]))
}

/// The 18-character layout shared by the resident ID, the HMT residence permit and the
/// 2023 foreign permanent ID: 17 digits, a MOD 11-2 check character, birth date at 7-14.
/// Checks run format, then birth date, then check digit, so the error names the
/// first thing a person should look at.
fn check_18(
    value: &str,
    today: NaiveDate,
    prefix_ok: impl Fn(&str) -> bool,
) -> Result<(), DocumentError> {
    let b = value.as_bytes();
    let shape_ok = b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X');
    if !shape_ok || !prefix_ok(value) {
        return Err(DocumentError::Format);
    }
    match yyyymmdd(&b[6..14]) {
        Some(date) if number(&b[6..10]) >= 1900 && date <= today => {}
        _ => return Err(DocumentError::BirthDate),
    }
    if mod11_2(&b[..17]) != b[17] {
        return Err(DocumentError::CheckDigit);
    }
    Ok(())
}

/// The 2017 foreign permanent ID: nationality letters, then 12 digits whose characters
/// 6-11 are the birth date YYMMDD. Its check character's algorithm has never been
/// published, so only the shape and the date are verified.
fn check_foreign_2017(value: &str, today: NaiveDate) -> Result<(), DocumentError> {
    let b = value.as_bytes();
    if b.len() != 15
        || !b[..3].iter().all(u8::is_ascii_uppercase)
        || !b[3..].iter().all(u8::is_ascii_digit)
    {
        return Err(DocumentError::Format);
    }
    let (yy, mm, dd) = (number(&b[5..7]), number(&b[7..9]), number(&b[9..11]));
    // A two-digit year leaves the century open: either reading that is a real past date will do.
    let real = [1900, 2000].into_iter().any(|century| {
        NaiveDate::from_ymd_opt(century + yy as i32, mm, dd).is_some_and(|d| d <= today)
    });
    if real {
        Ok(())
    } else {
        Err(DocumentError::BirthDate)
    }
}

fn check_passport(value: &str) -> Result<(), DocumentError> {
    let b = value.as_bytes();
    let ok = (5..=17).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && b.iter().any(u8::is_ascii_digit);
    if ok {
        Ok(())
    } else {
        Err(DocumentError::Format)
    }
}

fn check_digits(value: &str, lengths: &[usize]) -> Result<(), DocumentError> {
    if lengths.contains(&value.len()) && value.bytes().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(DocumentError::Format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CHECK_CHARS: &str = "0123456789X";

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 15).unwrap()
    }

    fn parse(t: IdType, raw: &str) -> Result<DocumentNumber, DocumentError> {
        DocumentNumber::parse_at(t, raw, today())
    }

    /// Appends the MOD 11-2 check character, computed from the weights' definition
    /// (2^(17-i) mod 11) rather than the table in the code under test.
    fn with_check(body: &str) -> String {
        assert_eq!(body.len(), 17);
        let sum: u32 = body
            .bytes()
            .enumerate()
            .map(|(i, d)| u32::from(d - b'0') * (2u32.pow(17 - i as u32) % 11))
            .sum();
        let check = (12 - sum % 11) % 11;
        let c = if check == 10 {
            'X'
        } else {
            char::from_digit(check, 10).unwrap()
        };
        format!("{body}{c}")
    }

    fn other_check_char(right: char, pick: usize) -> char {
        let others: Vec<char> = CHECK_CHARS.chars().filter(|&c| c != right).collect();
        others[pick % others.len()]
    }

    #[test]
    fn the_hand_computed_examples_agree_with_the_test_helper() {
        assert_eq!(with_check("11010519491231002"), "11010519491231002X");
        assert_eq!(with_check("44052418800101001"), "440524188001010014");
        assert_eq!(with_check("83000019900101123"), "830000199001011234");
    }

    #[test]
    fn a_valid_resident_id_is_accepted() {
        let n = parse(IdType::ResidentId, "830000199001011234").unwrap();
        assert_eq!(n.as_ref(), "830000199001011234");
        assert_eq!(n.id_type(), IdType::ResidentId);
        assert_eq!(n.birth_date(), NaiveDate::from_ymd_opt(1990, 1, 1));
    }

    #[test]
    fn a_resident_id_born_before_1900_is_rejected_as_a_birth_date_error() {
        assert_eq!(
            parse(IdType::ResidentId, "440524188001010014"),
            Err(DocumentError::BirthDate)
        );
    }

    #[test]
    fn a_lowercase_x_check_character_is_stored_as_uppercase() {
        let n = parse(IdType::ResidentId, "11010519491231002x").unwrap();
        assert_eq!(n.as_ref(), "11010519491231002X");
        assert_eq!(n.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31));
    }

    #[test]
    fn parse_uses_the_real_clock_and_accepts_an_old_birth_date() {
        assert!(DocumentNumber::parse(IdType::ResidentId, "11010519491231002X").is_ok());
    }

    #[test]
    fn a_resident_id_with_a_wrong_check_digit_is_rejected() {
        assert_eq!(
            parse(IdType::ResidentId, "110105194912310021"),
            Err(DocumentError::CheckDigit)
        );
    }

    #[test]
    fn a_taiwan_style_83_prefix_passes_as_a_resident_id() {
        assert!(parse(IdType::ResidentId, "830000199001011234").is_ok());
    }

    #[test]
    fn a_resident_id_may_not_start_with_zero() {
        let id = with_check("01010519491231002");
        assert_eq!(parse(IdType::ResidentId, &id), Err(DocumentError::Format));
    }

    #[test]
    fn a_resident_id_of_the_wrong_length_or_with_letters_is_a_format_error() {
        for raw in [
            "11010519491231002",
            "11010519491231002X1",
            "1101051949123100AX",
            "X10105194912310021",
        ] {
            assert_eq!(
                parse(IdType::ResidentId, raw),
                Err(DocumentError::Format),
                "{raw}"
            );
        }
    }

    #[test]
    fn february_29_is_accepted_in_a_leap_year() {
        let id = with_check("11010520000229001");
        assert_eq!(
            parse(IdType::ResidentId, &id).unwrap().birth_date(),
            NaiveDate::from_ymd_opt(2000, 2, 29)
        );
    }

    #[test]
    fn february_29_is_rejected_in_a_non_leap_year() {
        for body in ["11010519000229001", "11010520230229001"] {
            assert_eq!(
                parse(IdType::ResidentId, &with_check(body)),
                Err(DocumentError::BirthDate)
            );
        }
    }

    #[test]
    fn impossible_months_and_days_are_birth_date_errors() {
        for body in [
            "11010519901301001",
            "11010519900431001",
            "11010519900000001",
        ] {
            assert_eq!(
                parse(IdType::ResidentId, &with_check(body)),
                Err(DocumentError::BirthDate)
            );
        }
    }

    #[test]
    fn a_birth_date_after_today_is_rejected_but_today_itself_is_accepted() {
        let tomorrow = with_check("11010520250616001");
        assert_eq!(
            parse(IdType::ResidentId, &tomorrow),
            Err(DocumentError::BirthDate)
        );
        assert!(parse(IdType::ResidentId, &with_check("11010520250615001")).is_ok());
    }

    #[test]
    fn format_is_judged_before_birth_date_and_birth_date_before_check_digit() {
        // Bad date and bad check: the date is reported.
        let bad_date = with_check("11010519901301001");
        let wrong = other_check_char(bad_date.chars().last().unwrap(), 0);
        let both_bad = format!("{}{wrong}", &bad_date[..17]);
        assert_eq!(
            parse(IdType::ResidentId, &both_bad),
            Err(DocumentError::BirthDate)
        );
        // Bad shape and bad date: the shape is reported.
        assert_eq!(
            parse(IdType::ResidentId, "0101051990130100A1"),
            Err(DocumentError::Format)
        );
    }

    #[test]
    fn full_width_digits_and_spaces_are_folded_away() {
        let n = parse(
            IdType::ResidentId,
            " １１０１０５　１９４９１２３１ ００２ｘ ",
        )
        .unwrap();
        assert_eq!(n.as_ref(), "11010519491231002X");
    }

    #[test]
    fn blank_input_is_empty_for_every_type() {
        for t in IdType::ALL {
            for raw in ["", "   ", "\u{3000}\t\n"] {
                assert_eq!(parse(t, raw), Err(DocumentError::Empty));
            }
        }
    }

    #[test]
    fn an_hmt_permit_needs_a_hong_kong_macao_or_taiwan_prefix() {
        for body in [
            "81000019900101123",
            "82000019900101123",
            "83000019900101123",
        ] {
            assert!(parse(IdType::HmtResidencePermit, &with_check(body)).is_ok());
        }
        for body in [
            "11010519491231002",
            "83010019900101123",
            "84000019900101123",
        ] {
            assert_eq!(
                parse(IdType::HmtResidencePermit, &with_check(body)),
                Err(DocumentError::Format)
            );
        }
    }

    #[test]
    fn an_hmt_permit_checks_its_birth_date_and_check_digit() {
        assert_eq!(
            parse(IdType::HmtResidencePermit, &with_check("81000019990229123")),
            Err(DocumentError::BirthDate)
        );
        assert_eq!(
            parse(IdType::HmtResidencePermit, "830000199001011235"),
            Err(DocumentError::CheckDigit)
        );
        let n = parse(IdType::HmtResidencePermit, "830000199001011234").unwrap();
        assert_eq!(n.birth_date(), NaiveDate::from_ymd_opt(1990, 1, 1));
    }

    #[test]
    fn a_2017_foreign_permanent_id_is_accepted_with_lowercase_letters() {
        let n = parse(IdType::ForeignPermanentId, "usa318506120012").unwrap();
        assert_eq!(n.as_ref(), "USA318506120012");
        assert_eq!(n.birth_date(), None);
    }

    #[test]
    fn a_2017_foreign_id_accepts_either_century_but_needs_a_real_past_date() {
        // 000229 is only real in 2000; 130229 is real in neither 1913 nor 2013.
        assert!(parse(IdType::ForeignPermanentId, "CAN110002290001").is_ok());
        assert_eq!(
            parse(IdType::ForeignPermanentId, "CAN111302290001"),
            Err(DocumentError::BirthDate)
        );
        assert_eq!(
            parse(IdType::ForeignPermanentId, "CAN118513010001"),
            Err(DocumentError::BirthDate)
        );
        // 2025-06-16 is tomorrow, but 1925-06-16 is a real past date.
        assert!(parse(IdType::ForeignPermanentId, "CAN112506160001").is_ok());
    }

    #[test]
    fn a_2017_foreign_id_with_digits_for_letters_or_the_wrong_length_is_a_format_error() {
        for raw in [
            "US1318506120012",
            "USA31850612001",
            "USA3185061200123",
            "USA3185061200A2",
        ] {
            assert_eq!(
                parse(IdType::ForeignPermanentId, raw),
                Err(DocumentError::Format),
                "{raw}"
            );
        }
    }

    #[test]
    fn a_2023_foreign_permanent_id_is_checked_like_a_resident_id() {
        let good = with_check("93310019850612001");
        let n = parse(IdType::ForeignPermanentId, &good).unwrap();
        assert_eq!(n.birth_date(), NaiveDate::from_ymd_opt(1985, 6, 12));
        let wrong = other_check_char(good.chars().last().unwrap(), 3);
        assert_eq!(
            parse(
                IdType::ForeignPermanentId,
                &format!("{}{wrong}", &good[..17])
            ),
            Err(DocumentError::CheckDigit)
        );
        assert_eq!(
            parse(IdType::ForeignPermanentId, &with_check("93310019850230001")),
            Err(DocumentError::BirthDate)
        );
        assert_eq!(
            parse(IdType::ForeignPermanentId, "11010519491231002X"),
            Err(DocumentError::Format)
        );
    }

    #[test]
    fn a_passport_needs_5_to_17_letters_or_digits_with_at_least_one_digit() {
        for raw in [
            "E1234",
            "e12345678",
            "G 1234 5678",
            "１２３４５",
            "AB1234567890CDEFG",
        ] {
            assert!(parse(IdType::Passport, raw).is_ok(), "{raw}");
        }
        for raw in [
            "E123",
            "AB1234567890CDEFGH",
            "ABCDEFG",
            "E1234-567",
            "E1234ß",
        ] {
            assert_eq!(
                parse(IdType::Passport, raw),
                Err(DocumentError::Format),
                "{raw}"
            );
        }
    }

    #[test]
    fn a_hong_kong_macao_permit_is_h_or_m_and_8_or_10_digits() {
        for raw in ["H12345678", "m1234567890", "Ｈ１２３４５６７８"] {
            assert!(parse(IdType::HkMacauPermit, raw).is_ok(), "{raw}");
        }
        for raw in [
            "C12345678",
            "H1234567",
            "H123456789",
            "H12345678901",
            "12345678",
            "H1234567A",
        ] {
            assert_eq!(
                parse(IdType::HkMacauPermit, raw),
                Err(DocumentError::Format),
                "{raw}"
            );
        }
    }

    #[test]
    fn a_taiwan_permit_is_8_or_10_digits() {
        for raw in ["12345678", "1234567890"] {
            assert!(parse(IdType::TaiwanPermit, raw).is_ok(), "{raw}");
        }
        for raw in [
            "1234567",
            "123456789",
            "12345678901",
            "T12345678",
            "1234567A",
        ] {
            assert_eq!(
                parse(IdType::TaiwanPermit, raw),
                Err(DocumentError::Format),
                "{raw}"
            );
        }
    }

    #[test]
    fn id_types_round_trip_through_their_wire_names() {
        for t in IdType::ALL {
            assert_eq!(IdType::parse(t.as_str()), Ok(t));
            assert!(!t.label_zh().is_empty() && !t.label_en().is_empty());
        }
        assert_eq!(IdType::parse("ResidentId"), Err(DocumentError::UnknownType));
        assert_eq!(
            IdType::parse("driving_licence"),
            Err(DocumentError::UnknownType)
        );
        assert_eq!(IdType::parse(" "), Err(DocumentError::Empty));
    }

    #[test]
    fn every_error_has_a_code_and_both_messages() {
        let all = [
            (DocumentError::Empty, "required"),
            (DocumentError::UnknownType, "unknown_type"),
            (DocumentError::Format, "format"),
            (DocumentError::CheckDigit, "check_digit"),
            (DocumentError::BirthDate, "birth_date"),
        ];
        for (e, code) in all {
            assert_eq!(e.code(), code);
            assert!(!e.message_zh().is_empty() && !e.message_en().is_empty());
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn masking_keeps_three_and_four_of_long_values() {
        assert_eq!(mask("310101199001011234"), "310***********1234");
        assert_eq!(mask("1234567890"), "123***7890");
    }

    #[test]
    fn masking_keeps_one_and_two_of_middling_values_and_nothing_of_short_ones() {
        assert_eq!(mask("E1234"), "E**34");
        assert_eq!(mask("123456789"), "1******89");
        assert_eq!(mask("1234"), "****");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn masking_counts_characters_not_bytes() {
        assert_eq!(mask("张三丰李四王五赵六钱"), "张三丰***五赵六钱");
    }

    #[test]
    fn debug_output_shows_only_the_masked_number() {
        let n = parse(IdType::ResidentId, "11010519491231002X").unwrap();
        let shown = format!("{n:?}");
        assert!(shown.contains("110***********002X"), "{shown}");
        assert!(!shown.contains("11010519491231002X"), "{shown}");
    }

    fn date_in_range() -> impl Strategy<Value = NaiveDate> {
        let start = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
        let days = (today() - start).num_days();
        (0..=days).prop_map(move |n| start + chrono::Duration::days(n))
    }

    fn body(prefix: &str, date: NaiveDate, seq: u32) -> String {
        format!("{prefix}{}{seq:03}", date.format("%Y%m%d"))
    }

    fn resident_ids() -> impl Strategy<Value = String> {
        ("[1-9][0-9]{5}", date_in_range(), 0u32..1000)
            .prop_map(|(p, d, s)| with_check(&body(&p, d, s)))
    }

    fn hmt_permits() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["810000", "820000", "830000"]),
            date_in_range(),
            0u32..1000,
        )
            .prop_map(|(p, d, s)| with_check(&body(p, d, s)))
    }

    fn foreign_2023_ids() -> impl Strategy<Value = String> {
        ("9[0-9]{5}", date_in_range(), 0u32..1000).prop_map(|(p, d, s)| with_check(&body(&p, d, s)))
    }

    /// Each 18-character type with its generator and the body positions that carry
    /// neither a fixed prefix nor the birth date.
    fn eighteen_char_cases() -> impl Strategy<Value = (IdType, String, Vec<usize>)> {
        let free = |from: usize| (from..6).chain(14..17).collect::<Vec<_>>();
        prop_oneof![
            resident_ids().prop_map(move |s| (IdType::ResidentId, s, free(1))),
            hmt_permits().prop_map(move |s| (IdType::HmtResidencePermit, s, free(6))),
            foreign_2023_ids().prop_map(move |s| (IdType::ForeignPermanentId, s, free(1))),
        ]
    }

    fn all_types() -> impl Strategy<Value = IdType> {
        prop::sample::select(IdType::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn generated_18_character_numbers_parse_and_round_trip((t, id, _) in eighteen_char_cases()) {
            let n = parse(t, &id).unwrap();
            prop_assert_eq!(n.as_ref(), id.as_str());
            prop_assert_eq!(parse(t, &id.to_lowercase()), Ok(n.clone()));
            let masked = n.masked();
            prop_assert_eq!(masked.chars().count(), 18);
            prop_assert_eq!(&masked[..3], &id[..3]);
            prop_assert_eq!(&masked[3..14], "***********");
            prop_assert_eq!(&masked[14..], &id[14..]);
            prop_assert_eq!(
                n.birth_date().map(|d| d.format("%Y%m%d").to_string()),
                Some(id[6..14].to_string())
            );
        }

        #[test]
        fn any_other_check_character_is_a_check_digit_error(
            (t, id, _) in eighteen_char_cases(),
            pick in 0usize..10,
        ) {
            let wrong = other_check_char(id.chars().last().unwrap(), pick);
            let changed = format!("{}{wrong}", &id[..17]);
            prop_assert_eq!(parse(t, &changed), Err(DocumentError::CheckDigit));
        }

        #[test]
        fn changing_one_free_body_digit_is_a_check_digit_error(
            (t, id, free) in eighteen_char_cases(),
            which in any::<prop::sample::Index>(),
            step in 1u8..10,
        ) {
            let pos = free[which.index(free.len())];
            let mut bytes = id.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + step) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(parse(t, &changed), Err(DocumentError::CheckDigit));
        }

        #[test]
        fn changing_any_body_digit_is_never_accepted(
            (t, id, _) in eighteen_char_cases(),
            pos in 0usize..17,
            step in 1u8..10,
        ) {
            let mut bytes = id.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + step) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(parse(t, &changed).is_err());
        }

        #[test]
        fn digit_strings_of_the_wrong_length_are_format_errors(
            t in prop::sample::select(vec![
                IdType::ResidentId, IdType::HmtResidencePermit, IdType::ForeignPermanentId,
            ]),
            s in "[0-9]{1,39}X?",
        ) {
            prop_assume!(s.len() != 18);
            prop_assert_eq!(parse(t, &s), Err(DocumentError::Format));
        }

        #[test]
        fn arbitrary_input_never_panics_and_accepted_values_are_stable(
            t in all_types(),
            s in "\\PC*",
        ) {
            if let Ok(n) = parse(t, &s) {
                prop_assert_eq!(parse(t, n.as_ref()), Ok(n.clone()));
                prop_assert_eq!(n.masked().chars().count(), n.as_ref().chars().count());
            }
        }

        #[test]
        fn arbitrary_characters_in_an_id_shape_never_panic(
            t in all_types(),
            s in "[0-9A-Z\\PC]{14,19}",
        ) {
            let _ = parse(t, &s);
        }

        #[test]
        fn generated_2017_foreign_ids_parse(
            letters in "[A-Za-z]{3}",
            area in "[0-9]{2}",
            date in date_in_range(),
            tail in "[0-9]{4}",
        ) {
            let id = format!("{letters}{area}{}{tail}", date.format("%y%m%d"));
            let n = parse(IdType::ForeignPermanentId, &id).unwrap();
            prop_assert_eq!(n.as_ref(), id.to_ascii_uppercase());
        }

        #[test]
        fn malformed_2017_foreign_ids_are_rejected(
            bad in prop_oneof![
                "[A-Z]{3}[0-9]{1,11}",
                "[A-Z]{3}[0-9]{13,14}",
                "[A-Z]{0,2}[0-9]{13}",
                "[A-Z]{3}[0-9]{5}[A-Z][0-9]{6}",
                "[A-Z]{3}[0-9]{2}[0-9]{2}1[3-9][0-9]{2}[0-9]{4}",
            ],
        ) {
            prop_assert!(parse(IdType::ForeignPermanentId, &bad).is_err());
        }

        #[test]
        fn generated_passports_parse(
            head in "[A-Z0-9]{0,8}",
            digit in "[0-9]",
            tail in "[a-zA-Z0-9]{4,8}",
        ) {
            let raw = format!("{head}{digit}{tail}");
            let n = parse(IdType::Passport, &raw).unwrap();
            prop_assert_eq!(n.as_ref(), raw.to_ascii_uppercase());
        }

        #[test]
        fn malformed_passports_are_rejected(
            bad in prop_oneof![
                "[A-Z0-9]{1,4}",
                "[A-Z0-9]{18,30}",
                "[A-Z]{5,17}",
                "[A-Z0-9]{2,8}[-/#.][A-Z0-9]{2,8}",
            ],
        ) {
            prop_assert_eq!(parse(IdType::Passport, &bad), Err(DocumentError::Format));
        }

        #[test]
        fn generated_hong_kong_macao_permits_parse(raw in "[HMhm]([0-9]{8}|[0-9]{10})") {
            prop_assert!(parse(IdType::HkMacauPermit, &raw).is_ok());
        }

        #[test]
        fn malformed_hong_kong_macao_permits_are_rejected(
            bad in prop_oneof![
                "[A-GI-LN-Z][0-9]{8}",
                "[HM]([0-9]{1,7}|9[0-9]{8}|[0-9]{11,14})",
                "[HM][0-9]{3}[A-Z][0-9]{4}",
                "[0-9]{8,10}",
            ],
        ) {
            prop_assert_eq!(parse(IdType::HkMacauPermit, &bad), Err(DocumentError::Format));
        }

        #[test]
        fn generated_taiwan_permits_parse(raw in "[0-9]{8}|[0-9]{10}") {
            prop_assert!(parse(IdType::TaiwanPermit, &raw).is_ok());
        }

        #[test]
        fn malformed_taiwan_permits_are_rejected(
            bad in prop_oneof![
                "[0-9]{1,7}",
                "[0-9]{9}",
                "[0-9]{11,16}",
                "[A-Z][0-9]{7,9}",
                "[0-9]{4}[A-Z][0-9]{3}",
            ],
        ) {
            prop_assert_eq!(parse(IdType::TaiwanPermit, &bad), Err(DocumentError::Format));
        }

        #[test]
        fn masking_keeps_the_character_count(s in "\\PC{0,30}") {
            prop_assert_eq!(mask(&s).chars().count(), s.chars().count());
        }
    }
}
