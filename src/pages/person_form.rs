//! The one-person registration form, as a sublandlord fills it for a tenant and as an
//! officer fills it for someone found living at the door: its fields, its page, and the
//! registration it makes.

use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::notice::NOTICE_VERSION;
use crate::domain::registration::{NewRegistration, OccupantInput};
use crate::error::AppError;
use crate::pages::portal::form::{Errors, id_types};
use crate::service::Context;
use crate::service::registration::{Destination, accept};
use crate::store::registrations::Source;

/// One person, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_type: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub room: String,
    #[serde(default)]
    pub move_in: String,
    #[serde(default)]
    pub nationality: String,
    #[serde(default)]
    pub family: Option<String>,
}

impl PersonForm {
    /// An empty form: a resident ID, moving in today.
    pub fn blank(today: NaiveDate) -> Self {
        PersonForm {
            id_type: "resident_id".into(),
            move_in: today.format("%Y-%m-%d").to_string(),
            ..PersonForm::default()
        }
    }

    /// The registration of this one person, or the form's errors by field.
    pub fn registration(&self, today: NaiveDate) -> Result<NewRegistration, Errors> {
        let input = OccupantInput {
            name: self.name.clone(),
            id_type: self.id_type.clone(),
            id_number: self.id_number.clone(),
            phone: self.phone.clone(),
            room: self.room.clone(),
            move_in: self.move_in.clone(),
            nationality: self.nationality.clone(),
            remind: false,
        };
        match NewRegistration::parse(NOTICE_VERSION, &[input], today) {
            Ok(mut registration) => {
                registration.family = self.family.is_some();
                Ok(registration)
            }
            // The form holds one person: drop the `occupants[0].` of the field names.
            Err(errors) => Err(Errors(
                errors
                    .into_iter()
                    .map(|mut e| {
                        e.field = e.field.trim_start_matches("occupants[0].").to_string();
                        e
                    })
                    .collect(),
            )),
        }
    }
}

impl PersonForm {
    /// Registers the one person in unit `unit_id` as `source`; the form back with its
    /// errors by field when one is wrong, and nothing stored.
    pub async fn submit(
        self,
        ctx: &Context,
        unit_id: i64,
        source: Source,
    ) -> Result<Result<(), (Self, Errors)>, AppError> {
        match self.registration(ctx.today()) {
            Ok(registration) => {
                accept(
                    ctx,
                    &Destination::unit(unit_id),
                    &registration,
                    source,
                    None,
                )
                .await?;
                Ok(Ok(()))
            }
            Err(errors) => Ok(Err((self, errors))),
        }
    }
}

/// The form's page.
#[derive(Template)]
#[template(path = "my_register.html")]
pub struct PersonPage {
    csrf: String,
    address: String,
    /// Where the form posts and where "back" leads.
    action: String,
    back: String,
    heading: &'static str,
    form: PersonForm,
    errors: Errors,
    id_types: Vec<(&'static str, &'static str)>,
    countries: &'static [crate::domain::country::Country],
}

impl PersonPage {
    /// The page of `form` for the unit at `address`, posting to `action`.
    pub fn new(
        csrf: String,
        address: String,
        (action, back, heading): (String, String, &'static str),
        form: PersonForm,
        errors: Errors,
    ) -> Self {
        PersonPage {
            csrf,
            address,
            action,
            back,
            heading,
            form,
            errors,
            id_types: id_types(),
            countries: crate::domain::country::all(),
        }
    }
}
