//! Where settings come from: `renfang.toml` and the `RENFANG_*` environment, both read as
//! text and deserialised into [`Settings`] by serde, so that a setting is declared once, as
//! a field.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use serde::de::value::{Error, MapDeserializer};
use serde::de::{self, Deserializer, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use super::Settings;

/// The settings' names (lower-case, without `RENFANG_`): the fields serde asks for.
pub(super) fn keys() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // Serde hands the field list to the deserialiser it is given; this one keeps it.
    let _ = <Settings as serde::Deserialize>::deserialize(FieldNames(&mut fields));
    fields
}

/// The name of the environment variable of a setting.
pub(super) fn variable(key: &str) -> String {
    format!("RENFANG_{}", key.to_uppercase())
}

/// Reads `path` (absent: no settings) into key/value text, refusing unknown keys.
pub(super) fn read_file(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(HashMap::new());
    };
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    let known = keys();
    let mut values = HashMap::new();
    for (key, value) in table {
        if super::channels::TABLES.contains(&key.as_str()) {
            continue;
        }
        // Either `bind = …` or the environment spelling `RENFANG_BIND = …`.
        let key = key.to_lowercase();
        let key = key.strip_prefix("renfang_").unwrap_or(&key).to_string();
        if !known.contains(&key.as_str()) {
            bail!("{}: unknown setting {key:?}", path.display());
        }
        let value = match value {
            toml::Value::String(s) => s,
            other => other.to_string(),
        };
        values.insert(key, value);
    }
    Ok(values)
}

/// The settings set in the environment.
pub(super) fn read_environment() -> HashMap<String, String> {
    keys()
        .iter()
        .filter_map(|key| Some((key.to_string(), std::env::var(variable(key)).ok()?)))
        .collect()
}

/// Settings from key/value text: blank values count as unset; a bad value is an error that
/// names its variable.
pub(super) fn deserialize(values: &HashMap<String, String>) -> anyhow::Result<Settings> {
    let set = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.trim()))
        // Blank is "unset" (the default), except where blank is a value of its own.
        .filter(|(k, v)| !v.is_empty() || BLANK_IS_A_VALUE.contains(k))
        .map(|(k, v)| (k, Text(v)));
    let map = MapDeserializer::<_, Error>::new(set);
    serde_path_to_error::deserialize(map).map_err(|err| {
        let path = err.path().to_string();
        if path == "." {
            anyhow::anyhow!("settings: {}", err.inner())
        } else {
            anyhow::anyhow!("{}: {}", variable(&path), err.inner())
        }
    })
}

/// Settings for which an empty value means "none" rather than "the default".
const BLANK_IS_A_VALUE: &[&str] = &["quiet_hours"];

/// One setting's text. Options are present when set; everything else is read from the
/// text by the field's own deserialiser.
struct Text<'a>(&'a str);

impl<'de, 'a: 'de> IntoDeserializer<'de, Error> for Text<'a> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de, 'a: 'de> Deserializer<'de> for Text<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// A deserialiser that only notes the field names of the struct asked for.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Error> {
        *self.0 = fields;
        Err(de::Error::custom("field names only"))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
