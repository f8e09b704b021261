//! The rules of the programme, with no I/O: values that can only hold what the rules allow.

pub mod case;
pub mod community;
pub mod country;
pub mod document;
pub mod door_check;
pub mod event;
pub mod feed;
pub mod import;
pub mod message;
pub mod month;
pub mod notice;
pub mod person;
pub mod quiet;
pub mod rates;
pub mod registration;
pub mod reminder;
pub mod role;
pub mod sublandlord;
pub mod tip;
pub mod token;
pub mod unit;
pub mod visit;

/// Declares an enum with the contract's wire names and Chinese labels.
#[macro_export]
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal / $zh:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Parses the contract's wire name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }

            /// Parses the wire name (any case) or the Chinese name, as people type them into
            /// a spreadsheet.
            pub fn parse_any(s: &str) -> Option<Self> {
                let folded = $crate::domain::fold_width(s).to_lowercase();
                match folded.as_str() {
                    $($wire | $zh => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The contract's wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// The Chinese name.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }
        }
    };
}

/// One rejected input field, named the way the client sent it (`occupants[0].id_number`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field in the request.
    pub field: String,
    /// Stable machine-readable reason (`format`, `check_digit`, `required`, …).
    pub code: &'static str,
    /// Plain Chinese sentence for the person filling in the form.
    pub message_zh: &'static str,
    /// The same sentence in English, for the English page.
    pub message_en: &'static str,
}

impl FieldError {
    /// A field error from its parts.
    pub fn new(
        field: impl Into<String>,
        code: &'static str,
        message_zh: &'static str,
        message_en: &'static str,
    ) -> Self {
        Self {
            field: field.into(),
            code,
            message_zh,
            message_en,
        }
    }
}

/// Folds full-width ASCII to half-width and drops every kind of white space: the same
/// text typed on a Chinese and a Latin keyboard compares equal afterwards.
pub fn fold_width(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace())
        .map(document::fold_full_width)
        .collect()
}

/// Whether text holds a control character (never valid in one-line fields).
pub fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}
