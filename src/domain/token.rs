//! Poster tokens: the unguessable secret in `/q/{token}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// 18 random bytes: 144 bits, exactly 24 URL-safe characters with no padding.
const TOKEN_BYTES: usize = 18;
const TOKEN_CHARS: usize = 24;

crate::wire_enum!(
    /// What happened to a unit's poster.
    PosterEventKind {
        Print = "print" / "打印",
        Rotate = "rotate" / "更换",
    }
);

/// A well-formed poster token (not necessarily one that exists).
#[derive(Clone, PartialEq, Eq)]
pub struct QrToken(String);

impl QrToken {
    /// A fresh token from the operating system's random source.
    pub fn generate() -> Self {
        let bytes: [u8; TOKEN_BYTES] = rand::random();
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts only the shape `generate` makes, so garbage never reaches the database.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = s.len() == TOKEN_CHARS
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(s.to_string()))
    }
}

impl AsRef<str> for QrToken {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for QrToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A token in a log line is a working poster; never print it.
        f.write_str("QrToken(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_differ() {
        let a = QrToken::generate();
        let b = QrToken::generate();
        assert_ne!(a, b);
        assert_eq!(QrToken::parse(a.as_ref()), Some(a));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in [
            "",
            "short",
            "aaaaaaaaaaaaaaaaaaaaaaa/",
            "aaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert!(QrToken::parse(bad).is_none(), "{bad}");
        }
    }
}

/// A tenant's self-service link: the receipt number of their registration and a 128-bit
/// tag only the service's key makes (see `Vault::self_service_tag`), as
/// `RF261205-ABCDEFGH.<22 URL-safe characters>`. Nothing of it is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SelfServiceToken {
    pub receipt: String,
    pub tag: Vec<u8>,
}

impl SelfServiceToken {
    /// The link text of a receipt and its tag.
    pub fn format(receipt: &str, tag: &[u8]) -> String {
        format!("{receipt}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Accepts only the shape `format` makes (receipt: letters, digits and `-`, at most 32).
    pub fn parse(s: &str) -> Option<Self> {
        let (receipt, tag) = s.split_once('.')?;
        let receipt_ok = !receipt.is_empty()
            && receipt.len() <= 32
            && receipt
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if !receipt_ok || tag.len() != 22 {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        Some(Self {
            receipt: receipt.to_string(),
            tag,
        })
    }
}

impl std::fmt::Debug for SelfServiceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tag opens a tenant's record; never print it.
        write!(f, "SelfServiceToken({}, ..)", self.receipt)
    }
}
