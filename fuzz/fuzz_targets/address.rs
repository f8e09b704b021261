//! Address normalisation: `Address::parse` and `address_key` on arbitrary text.
//!
//! With `RENFANG_FUZZ_STRICT=1` in the environment it also asserts that a key is its own
//! key (`address_key(address_key(x)) == address_key(x)`). The code does not promise that
//! (its prefix stripping runs once), so the default run leaves it out; see RESULTS.md.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use renfang::domain::unit::{Address, address_key};

const MAX_ADDRESS_CHARS: usize = 120;

fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("RENFANG_FUZZ_STRICT").is_some_and(|v| v == "1"))
}

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let raw = raw.as_ref();

    let key = address_key(raw);
    assert_eq!(key, address_key(raw), "deterministic");
    check_key_shape(&key);

    // White space and full-width ASCII never change a key.
    let spaced: String = raw.chars().flat_map(|c| [c, ' ']).collect();
    assert_eq!(address_key(&spaced), key, "white space changed the key");
    let wide: String = raw
        .chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
            _ => c,
        })
        .collect();
    assert_eq!(address_key(&wide), key, "full width changed the key");

    if strict() {
        assert_eq!(address_key(&key), key, "a key is not its own key");
    }

    let display = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    match Address::parse(raw) {
        Ok(address) => {
            assert_eq!(address.display(), display);
            assert!(!display.is_empty());
            assert!(display.chars().count() <= MAX_ADDRESS_CHARS);
            assert!(!display.chars().any(char::is_control));
            assert_eq!(
                address.key(),
                key,
                "key of the display is the key of the input"
            );
            assert!(!address.key().is_empty());
            // What is shown parses back to the same address.
            assert_eq!(Address::parse(address.display()).as_ref(), Ok(&address));
        }
        Err(e) => {
            assert_eq!(e.field, "address");
            if display.is_empty() {
                assert_eq!(e.code, "required");
            } else {
                assert_eq!(e.code, "format");
                assert!(
                    display.chars().count() > MAX_ADDRESS_CHARS
                        || display.chars().any(char::is_control)
                        || key.is_empty(),
                    "a short clean address with a key was refused: {raw:?}"
                );
            }
        }
    }
});

/// What the key's construction guarantees whatever the input.
fn check_key_shape(key: &str) {
    assert!(
        !key.chars().any(char::is_whitespace),
        "white space in {key:?}"
    );
    assert!(
        !key.bytes().any(|b| b.is_ascii_lowercase()),
        "lower case in {key:?}"
    );
    for dropped in [
        ',', '，', '、', '.', '。', '#', '(', ')', '（', '）', '·', '號', '衖', '巷', '—', '–',
        '－', '_', '~', '-', '幢', '栋',
    ] {
        assert!(!key.contains(dropped), "{dropped:?} in {key:?}");
    }
    // No leading zero is left on a number.
    let chars: Vec<char> = key.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let after_digit = i > 0 && chars[i - 1].is_ascii_digit();
        let before_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        assert!(
            !(c == '0' && !after_digit && before_digit),
            "leading zero in {key:?}"
        );
    }
}
