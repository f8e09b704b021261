//! How each setting is read from its text and checked: the `deserialize_with` of the
//! fields of [`super::Settings`]. An error says what the value must be; the caller adds the
//! variable's name.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::Error;
use serde::{Deserialize, Deserializer};

/// The database backend, decided once from the scheme of the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// `sqlite://…`: one file, the embedded default.
    Sqlite,
    /// `postgres://…` (or `postgresql://…`).
    Postgres,
}

/// A database URL of a supported backend.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct DatabaseUrl {
    url: String,
    kind: DatabaseKind,
}

impl DatabaseUrl {
    /// Reads a `sqlite:…`, `postgres:…` or `postgresql:…` URL.
    pub fn parse(url: &str) -> Result<Self, String> {
        let kind = if url.starts_with("sqlite:") {
            DatabaseKind::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            DatabaseKind::Postgres
        } else {
            return Err("must start with sqlite:// or postgres://".into());
        };
        Ok(Self {
            url: url.to_string(),
            kind,
        })
    }

    /// The SQLite database in the file `path`.
    pub fn sqlite(path: &str) -> Self {
        Self {
            url: format!("sqlite://{path}"),
            kind: DatabaseKind::Sqlite,
        }
    }

    /// Which backend the URL names.
    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }
}

impl TryFrom<String> for DatabaseUrl {
    type Error = String;
    fn try_from(url: String) -> Result<Self, String> {
        Self::parse(&url)
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = anyhow::Error;
    fn from_str(url: &str) -> anyhow::Result<Self> {
        Self::parse(url).map_err(|e| anyhow::anyhow!("database URL {url:?} {e}"))
    }
}

impl AsRef<str> for DatabaseUrl {
    fn as_ref(&self) -> &str {
        &self.url
    }
}

// A URL is text wherever one is wanted (connecting, logging).
impl std::ops::Deref for DatabaseUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.url
    }
}

impl PartialEq<&str> for DatabaseUrl {
    fn eq(&self, other: &&str) -> bool {
        self.url == *other
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// A whole number from `MIN` to `MAX`.
pub fn whole<'de, D: Deserializer<'de>, const MIN: u32, const MAX: u32>(
    d: D,
) -> Result<u32, D::Error> {
    in_range(d, MIN, MAX, "a whole number")
}

/// A whole number of days from `MIN` to `MAX`.
pub fn days<'de, D: Deserializer<'de>, const MIN: u32, const MAX: u32>(
    d: D,
) -> Result<u32, D::Error> {
    in_range(d, MIN, MAX, "a whole number of days")
}

fn in_range<'de, D: Deserializer<'de>>(
    d: D,
    min: u32,
    max: u32,
    what: &str,
) -> Result<u32, D::Error> {
    let text = String::deserialize(d)?;
    text.parse()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            D::Error::custom(if max == u32::MAX {
                format!("must be {what} of at least {min}, not {text:?}")
            } else {
                format!("must be {what} from {min} to {max}, not {text:?}")
            })
        })
}

/// The most of something a client may do in a while; 0 turns the limit off.
pub fn limit<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(|_| {
        D::Error::custom(format!(
            "must be a whole number (0 turns the limit off), not {text:?}"
        ))
    })
}

/// Square metres from 0 to 100.
pub fn area<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let text = String::deserialize(d)?;
    text.parse()
        .ok()
        .filter(|a: &f64| a.is_finite() && (0.0..=100.0).contains(a))
        .ok_or_else(|| {
            D::Error::custom(format!("must be square metres from 0 to 100, not {text:?}"))
        })
}

/// An IANA time zone such as `Asia/Shanghai`.
pub fn time_zone<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
    let text = String::deserialize(d)?;
    text.parse()
        .map_err(|_| D::Error::custom(format!("unknown time zone {text:?}")))
}

/// A daily quiet period `HH:MM-HH:MM` in local time; empty or `off`: none.
pub fn quiet_hours<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<crate::domain::quiet::QuietHours>, D::Error> {
    let text = String::deserialize(d)?;
    crate::domain::quiet::QuietHours::parse(&text).map_err(D::Error::custom)
}

/// A base URL, without a trailing `/`.
pub fn base_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    Ok(Some(text.trim_end_matches('/').to_string()))
}

/// A short line of text for posters.
pub fn hotline<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    if text.chars().count() > 30 || crate::domain::has_control(&text) {
        return Err(D::Error::custom("must be at most 30 characters"));
    }
    Ok(text)
}

/// Base64 of 32 bytes.
pub fn data_key<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[u8; 32]>, D::Error> {
    let text = String::deserialize(d)?;
    parse_data_key(&text)
        .map(Some)
        .map_err(|e| D::Error::custom(format!("{e:#}")))
}

/// The 32 bytes of a base64 data key.
pub fn parse_data_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|_| anyhow::anyhow!("not valid base64 (standard alphabet)"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("must decode to 32 bytes, got {}", b.len()))
}
