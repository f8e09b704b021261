//! The filing page: a sublandlord files a flat before letting it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::form::{Errors, rental_modes};
use crate::domain::sublandlord::FilingInput;
use crate::error::AppError;
use crate::http::State;
use crate::pages::session::{PageCaller, check_csrf, csrf_token, html, see_other};
use crate::service;
use crate::service::filings::{self, FilingOutcome, community_names};
use crate::service::sublandlords::me;

#[derive(Template)]
#[template(path = "filing.html")]
struct FilingPage {
    csrf: String,
    form: FilingForm,
    errors: Errors,
    message: Option<String>,
    communities: Vec<String>,
    modes: Vec<(&'static str, &'static str)>,
}

/// The filing form.
#[derive(Debug, Default, Deserialize)]
pub struct FilingForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    community: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    rooms: String,
    #[serde(default)]
    rental_mode: String,
    #[serde(default)]
    floor_area_m2: String,
    #[serde(default)]
    start_date: String,
    #[serde(default)]
    planned_occupants: String,
    /// "1" when the planned occupants are one family.
    #[serde(default)]
    family: String,
}

pub(super) async fn filing_form(
    state: State,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, AppError> {
    me(&state, &caller).await?;
    Ok(html(
        StatusCode::OK,
        FilingPage {
            csrf: csrf_token(&caller),
            form: FilingForm {
                rental_mode: "shared".into(),
                start_date: state.today().format("%Y-%m-%d").to_string(),
                ..FilingForm::default()
            },
            errors: Errors::default(),
            message: None,
            communities: community_names(&state).await?,
            modes: rental_modes(),
        }
        .render(),
    ))
}

/// A whole number typed in a form; anything else becomes 0, which the checks refuse by name.
fn number(text: &str) -> i64 {
    text.trim().parse().unwrap_or(0)
}

pub(super) async fn filing_submit(
    state: State,
    form: web::Form<FilingForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, AppError> {
    let me = me(&state, &caller).await?;
    check_csrf(&caller, &form.csrf)?;
    let form = form.into_inner();
    let area = form.floor_area_m2.trim();
    let input = FilingInput {
        address: form.address.clone(),
        kind: None,
        rooms: number(&form.rooms),
        rental_mode: form.rental_mode.clone(),
        // Typed but not a number: out of range on purpose, so the check names the field.
        floor_area_m2: (!area.is_empty()).then(|| area.parse().unwrap_or(-1.0)),
        start_date: form.start_date.clone(),
        planned_occupants: number(&form.planned_occupants),
        family: form.family == "1",
    };
    let (errors, message) = match filings::file(&state, &me, &form.community, &input).await {
        Ok(FilingOutcome::Created(created)) => {
            return Ok(see_other(&format!(
                "/my/units/{}?done=filed",
                created.unit_id
            )));
        }
        Ok(FilingOutcome::Pending(_)) => return Ok(see_other("/my?done=pending")),
        Err(service::Error::Conflict(message)) => (Errors::default(), Some(message)),
        Err(e) => (Errors::of(e)?, None),
    };
    Ok(html(
        StatusCode::UNPROCESSABLE_ENTITY,
        FilingPage {
            csrf: csrf_token(&caller),
            form,
            errors,
            message,
            communities: community_names(&state).await?,
            modes: rental_modes(),
        }
        .render(),
    ))
}
