//! Who is registering: a name and a contact phone number, each valid once built.

use std::fmt;

use super::document::{fold_full_width, mask};

const NAME_MAX_CHARS: usize = 50;

/// A person's name as written on their document.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    /// Trims, collapses inner white space to one space, and refuses what no name contains.
    pub fn parse(s: &str) -> Result<Self, PersonError> {
        let mut name = String::with_capacity(s.len());
        let mut gap = false;
        let mut has_letter = false;
        // Trimming comes first so a pasted trailing newline is forgiven; a control
        // character inside the name is not, as it could forge lines in logs or exports.
        for c in s.trim().chars() {
            if c.is_control() {
                return Err(PersonError::NameCharacters);
            }
            if c.is_whitespace() {
                gap = true;
                continue;
            }
            if !name_char(c) {
                return Err(PersonError::NameCharacters);
            }
            if gap {
                name.push(' ');
                gap = false;
            }
            has_letter |= c.is_alphabetic();
            name.push(c);
        }
        if name.is_empty() {
            return Err(PersonError::NameEmpty);
        }
        // Punctuation alone ("--", "·") is not a name.
        if !has_letter {
            return Err(PersonError::NameCharacters);
        }
        if name.chars().count() > NAME_MAX_CHARS {
            return Err(PersonError::NameTooLong);
        }
        Ok(Self(name))
    }

    /// The first character, then a star for every other character except spaces.
    pub fn masked(&self) -> String {
        let mut chars = self.0.chars();
        let first = chars.next().into_iter();
        first
            .chain(chars.map(|c| if c == ' ' { ' ' } else { '*' }))
            .collect()
    }
}

/// Letters of any script, plus the separators transliterated and hyphenated names use.
/// Digits, symbols, emoji and markup characters (`<`, `>`, `"`, `` ` ``, `\`) fall outside.
fn name_char(c: char) -> bool {
    c.is_alphabetic()
        || matches!(c, '·' | '•' | '-' | '\'' | '.')
        // Combining accents, so a name typed in decomposed form (e + ◌́) is not refused.
        || ('\u{0300}'..='\u{036F}').contains(&c)
}

impl AsRef<str> for PersonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

// Names are personal data: Debug (logs, panics) shows only the masked form.
impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PersonName").field(&self.masked()).finish()
    }
}

/// A contact phone number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts mainland mobiles and landlines and international numbers, stored in one form each.
    pub fn parse(s: &str) -> Result<Self, PersonError> {
        let compact: String = s
            .chars()
            .map(fold_full_width)
            .filter(|&c| !c.is_whitespace() && c != '-')
            .collect();
        let (plus, digits) = match compact.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, compact.as_str()),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PersonError::Phone);
        }
        let stored = if plus {
            match digits.strip_prefix("86") {
                // +86 is China: only a mobile is expected after it, kept without the prefix
                // so the same phone typed two ways is one value.
                Some(national) => mobile(national)?,
                // E.164 country codes never start with 0.
                None if (7..=15).contains(&digits.len()) && !digits.starts_with('0') => {
                    format!("+{digits}")
                }
                None => return Err(PersonError::Phone),
            }
        } else if let Some(national) = digits.strip_prefix("0086") {
            mobile(national)?
        } else if digits.len() == 13 && digits.starts_with("86") {
            mobile(&digits[2..])?
        } else if is_mobile(digits) || is_landline(digits) {
            digits.to_owned()
        } else {
            return Err(PersonError::Phone);
        };
        Ok(Self(stored))
    }

    /// Mobiles as 138****1234, the usual Chinese way; anything else as `document::mask`.
    pub fn masked(&self) -> String {
        if is_mobile(&self.0) {
            format!("{}****{}", &self.0[..3], &self.0[7..])
        } else {
            mask(&self.0)
        }
    }
}

fn is_mobile(digits: &str) -> bool {
    let b = digits.as_bytes();
    b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
}

fn mobile(digits: &str) -> Result<String, PersonError> {
    if is_mobile(digits) {
        Ok(digits.to_owned())
    } else {
        Err(PersonError::Phone)
    }
}

/// `0`, a 2-3 digit area code (never starting with 0, which would be an international
/// prefix), then 7-8 digits: 10 to 12 digits in all.
fn is_landline(digits: &str) -> bool {
    let b = digits.as_bytes();
    (10..=12).contains(&b.len()) && b[0] == b'0' && b[1] != b'0' && b.iter().all(u8::is_ascii_digit)
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

// Phone numbers are personal data: Debug (logs, panics) shows only the masked form.
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PhoneNumber").field(&self.masked()).finish()
    }
}

/// Why a name or phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonError {
    /// No name was entered.
    #[error("name is required")]
    NameEmpty,
    /// The name is longer than any document prints.
    #[error("name is longer than 50 characters")]
    NameTooLong,
    /// The name holds a character that has no place in a name.
    #[error("name contains characters that are not allowed")]
    NameCharacters,
    /// The phone number has no recognised shape.
    #[error("phone number is not in a recognised format")]
    Phone,
}

impl PersonError {
    /// The error as a field error of `field`.
    pub fn on(self, field: &str) -> super::FieldError {
        super::FieldError::new(field, self.code(), self.message_zh(), self.message_en())
    }

    /// Stable machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            PersonError::NameEmpty => "required",
            PersonError::NameTooLong => "too_long",
            PersonError::NameCharacters => "characters",
            PersonError::Phone => "format",
        }
    }

    /// Plain Chinese sentence for the form field.
    pub fn message_zh(&self) -> &'static str {
        match self {
            PersonError::NameEmpty => "请填写姓名",
            PersonError::NameTooLong => "姓名不能超过50个字",
            PersonError::NameCharacters => "姓名含有不允许的字符，请按证件上的写法填写",
            PersonError::Phone => "联系电话格式不正确，请核对",
        }
    }

    /// The same sentence in English.
    pub fn message_en(&self) -> &'static str {
        match self {
            PersonError::NameEmpty => "Please enter the name.",
            PersonError::NameTooLong => "The name can be at most 50 characters long.",
            PersonError::NameCharacters => {
                "The name contains characters that are not allowed; please write it as on the document."
            }
            PersonError::Phone => {
                "The phone number is not in a recognised format; please check it."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name(s: &str) -> Result<String, PersonError> {
        PersonName::parse(s).map(|n| n.as_ref().to_owned())
    }

    fn phone(s: &str) -> Result<String, PersonError> {
        PhoneNumber::parse(s).map(|p| p.as_ref().to_owned())
    }

    #[test]
    fn chinese_latin_and_transliterated_names_are_accepted() {
        for raw in [
            "张三",
            "阿卜杜热合曼·艾则孜",
            "玛丽•居里",
            "José Álvarez-Núñez",
            "O'Brien",
            "J. R. R. Tolkien",
            "Zoë",
            "Ngô Bảo Châu",
            "李〇",
        ] {
            assert_eq!(name(raw).as_deref(), Ok(raw), "{raw}");
        }
    }

    #[test]
    fn a_name_is_trimmed_and_inner_white_space_collapses_to_one_space() {
        assert_eq!(
            name("  John \u{3000}  Smith \u{a0}"),
            Ok("John Smith".into())
        );
        assert_eq!(name("张三\r\n"), Ok("张三".into()));
    }

    #[test]
    fn a_name_typed_with_combining_accents_is_accepted() {
        assert!(name("Jose\u{301}").is_ok());
    }

    #[test]
    fn an_empty_or_blank_name_is_required() {
        for raw in ["", "   ", "\u{3000}", "\t\n"] {
            assert_eq!(name(raw), Err(PersonError::NameEmpty), "{raw:?}");
        }
    }

    #[test]
    fn a_name_of_50_characters_is_accepted_and_51_is_too_long() {
        assert!(name(&"张".repeat(50)).is_ok());
        assert_eq!(name(&"张".repeat(51)), Err(PersonError::NameTooLong));
        // Collapsed spaces do not count against the limit.
        let spaced = format!("{}     {}", "a".repeat(24), "b".repeat(25));
        assert!(name(&spaced).is_ok());
    }

    #[test]
    fn control_characters_inside_a_name_are_rejected() {
        for raw in [
            "张\n三",
            "张\t三",
            "张\u{0}三",
            "张\u{7f}三",
            "张\u{85}三",
            "张\u{9f}三",
        ] {
            assert_eq!(name(raw), Err(PersonError::NameCharacters), "{raw:?}");
        }
    }

    #[test]
    fn markup_characters_digits_and_emoji_are_rejected() {
        for raw in [
            "<script>",
            "张\"三",
            "张`三",
            "张\\三",
            "张>三",
            "张三1",
            "张三２",
            "张三😀",
            "张三★",
            "A+B",
            "张三@",
            "张\u{200b}三",
        ] {
            assert_eq!(name(raw), Err(PersonError::NameCharacters), "{raw:?}");
        }
    }

    #[test]
    fn punctuation_alone_is_not_a_name() {
        for raw in ["-", "· .", "'"] {
            assert_eq!(name(raw), Err(PersonError::NameCharacters), "{raw:?}");
        }
    }

    #[test]
    fn a_masked_name_keeps_the_first_character_and_the_spaces() {
        assert_eq!(PersonName::parse("张三丰").unwrap().masked(), "张**");
        assert_eq!(
            PersonName::parse("John Smith").unwrap().masked(),
            "J*** *****"
        );
        assert_eq!(PersonName::parse("李").unwrap().masked(), "李");
    }

    #[test]
    fn debug_of_a_name_shows_only_the_masked_form() {
        let shown = format!("{:?}", PersonName::parse("张三丰").unwrap());
        assert_eq!(shown, "PersonName(\"张**\")");
    }

    #[test]
    fn a_mainland_mobile_is_stored_as_11_digits_whatever_prefix_it_came_with() {
        for raw in [
            "13812341234",
            "138 1234 1234",
            "138-1234-1234",
            "+86 138 1234 1234",
            "+86-13812341234",
            "8613812341234",
            "008613812341234",
            "１３８１２３４１２３４",
            "＋８６　１３８－１２３４－１２３４",
        ] {
            assert_eq!(phone(raw), Ok("13812341234".into()), "{raw}");
        }
    }

    #[test]
    fn a_mobile_must_start_with_13_to_19_and_have_11_digits() {
        for raw in [
            "12812341234",
            "10012341234",
            "1381234123",
            "138123412345",
            "+8612812341234",
        ] {
            assert_eq!(phone(raw), Err(PersonError::Phone), "{raw}");
        }
    }

    #[test]
    fn a_mainland_landline_is_stored_as_digits_only() {
        assert_eq!(phone("010-12345678"), Ok("01012345678".into()));
        assert_eq!(phone("0571 8765 4321"), Ok("057187654321".into()));
        assert_eq!(phone("0755-1234567"), Ok("07551234567".into()));
        assert_eq!(phone("021 1234567"), Ok("0211234567".into()));
    }

    #[test]
    fn a_landline_of_the_wrong_length_is_rejected() {
        for raw in ["0211234", "021123456", "0571123456789", "00112345678"] {
            assert_eq!(phone(raw), Err(PersonError::Phone), "{raw}");
        }
    }

    #[test]
    fn an_international_number_keeps_its_plus() {
        assert_eq!(phone("+852 9123 4567"), Ok("+85291234567".into()));
        assert_eq!(phone("+1-415-555-0100"), Ok("+14155550100".into()));
        assert_eq!(phone("+4420"), Err(PersonError::Phone));
        assert_eq!(phone("+1234567890123456"), Err(PersonError::Phone));
        assert_eq!(phone("+0123456789"), Err(PersonError::Phone));
    }

    #[test]
    fn anything_else_is_a_phone_format_error() {
        for raw in [
            "",
            "  ",
            "+",
            "abc",
            "138 1234 123a",
            "(010)12345678",
            "+86 010 12345678",
            "0086 010 1234 5678",
        ] {
            assert_eq!(phone(raw), Err(PersonError::Phone), "{raw:?}");
        }
    }

    #[test]
    fn a_masked_mobile_shows_the_first_three_and_last_four_digits() {
        assert_eq!(
            PhoneNumber::parse("13812341234").unwrap().masked(),
            "138****1234"
        );
    }

    #[test]
    fn other_phone_numbers_are_masked_like_document_numbers() {
        assert_eq!(
            PhoneNumber::parse("010-12345678").unwrap().masked(),
            "010****5678"
        );
        assert_eq!(
            PhoneNumber::parse("+85291234567").unwrap().masked(),
            "+85*****4567"
        );
    }

    #[test]
    fn debug_of_a_phone_shows_only_the_masked_form() {
        let shown = format!("{:?}", PhoneNumber::parse("13812341234").unwrap());
        assert_eq!(shown, "PhoneNumber(\"138****1234\")");
    }

    #[test]
    fn every_error_has_a_code_and_both_messages() {
        let all = [
            (PersonError::NameEmpty, "required"),
            (PersonError::NameTooLong, "too_long"),
            (PersonError::NameCharacters, "characters"),
            (PersonError::Phone, "format"),
        ];
        for (e, code) in all {
            assert_eq!(e.code(), code);
            assert!(!e.message_zh().is_empty() && !e.message_en().is_empty());
            assert!(!e.to_string().is_empty());
        }
    }

    fn separators() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", " ", "-", "\u{3000}"])
    }

    proptest! {
        #[test]
        fn generated_chinese_names_parse(
            given in "[一-龥]{1,4}",
            family in "([一-龥]{1,6}·)?",
        ) {
            let raw = format!("{family}{given}");
            prop_assert_eq!(name(&raw), Ok(raw.clone()));
        }

        #[test]
        fn generated_latin_names_parse_with_collapsed_spaces(
            words in prop::collection::vec("[A-Za-zÀ-ÖØ-öø-ÿ][a-zà-öø-ÿ'.-]{0,9}", 1..4),
            gap in "[ \u{3000}]{1,3}",
        ) {
            let raw = words.join(&gap);
            prop_assert_eq!(name(&format!(" {raw} ")), Ok(words.join(" ")));
        }

        #[test]
        fn arbitrary_names_never_panic_and_mask_to_the_same_length(s in "\\PC*|.*") {
            if let Ok(n) = PersonName::parse(&s) {
                prop_assert_eq!(n.masked().chars().count(), n.as_ref().chars().count());
                prop_assert_eq!(PersonName::parse(n.as_ref()), Ok(n.clone()));
            }
        }

        #[test]
        fn generated_mobiles_parse_to_11_digits(
            prefix in prop::sample::select(vec!["", "+86", "86", "0086"]),
            number in "1[3-9][0-9]{9}",
            a in separators(),
            b in separators(),
        ) {
            let raw = format!("{prefix}{a}{}{b}{}", &number[..3], &number[3..]);
            let p = PhoneNumber::parse(&raw).unwrap();
            prop_assert_eq!(p.as_ref(), number.as_str());
            prop_assert_eq!(p.masked(), format!("{}****{}", &number[..3], &number[7..]));
        }

        #[test]
        fn generated_landlines_parse_to_their_digits(
            area in "0[1-9][0-9]{1,2}",
            local in "[0-9]{7,8}",
            sep in separators(),
        ) {
            let p = PhoneNumber::parse(&format!("{area}{sep}{local}")).unwrap();
            prop_assert_eq!(p.as_ref(), format!("{area}{local}"));
        }

        #[test]
        fn generated_international_numbers_keep_their_plus(
            digits in "([1-79][0-9]|8[0-57-9])[0-9]{5,13}",
            sep in separators(),
        ) {
            let raw = format!("+{}{sep}{}", &digits[..2], &digits[2..]);
            let p = PhoneNumber::parse(&raw).unwrap();
            prop_assert_eq!(p.as_ref(), format!("+{digits}"));
        }

        #[test]
        fn malformed_phones_are_rejected(
            bad in prop_oneof![
                "1[0-2][0-9]{9}",
                "1[3-9][0-9]{8}",
                "1[3-9][0-9]{10}",
                "\\+86[02-9][0-9]{10}",
                "\\+[1-9][0-9]{0,5}",
                "\\+[1-9][0-9]{15,20}",
                "[1-9][0-9]{0,5}",
                "1[3-9][0-9]{4}[a-zA-Z][0-9]{4}",
            ],
        ) {
            prop_assert_eq!(phone(&bad), Err(PersonError::Phone));
        }

        #[test]
        fn arbitrary_phones_never_panic_and_mask_to_the_same_length(s in "\\PC*|[0-9+ -]{0,20}") {
            if let Ok(p) = PhoneNumber::parse(&s) {
                prop_assert_eq!(p.masked().chars().count(), p.as_ref().chars().count());
                prop_assert_eq!(PhoneNumber::parse(p.as_ref()), Ok(p.clone()));
            }
        }
    }
}
