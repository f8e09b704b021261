//! What the sublandlord's forms share: field errors beside their fields, and the choices.

use crate::domain::FieldError;
use crate::domain::document::IdType;
use crate::domain::unit::RentalMode;
use crate::error::AppError;
use crate::service;

/// The field errors of a form, shown beside each field.
#[derive(Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    /// The field errors of a refused action; any other error is answered as such.
    pub fn of(error: service::Error) -> Result<Self, AppError> {
        match error {
            service::Error::Validation(fields) => Ok(Self(fields)),
            other => Err(other.into()),
        }
    }

    /// The message for a field, if it has one.
    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message_zh)
    }

    /// Whether any field has an error.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

/// The document types, as (value, label) for a choice.
pub fn id_types() -> Vec<(&'static str, &'static str)> {
    IdType::ALL
        .iter()
        .map(|t| (t.as_str(), t.label_zh()))
        .collect()
}

/// The rental modes, as (value, label) for a choice.
pub fn rental_modes() -> Vec<(&'static str, &'static str)> {
    RentalMode::ALL
        .iter()
        .map(|m| (m.as_str(), m.label_zh()))
        .collect()
}
