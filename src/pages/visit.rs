//! The officer at the door: one result for the flat's open reasons (with the people met and
//! a photo), registering people found there, calling the sublandlord, and the photos.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::tip::{MAX_PHOTO_BYTES, PhotoError};
use crate::error::AppError;
use crate::http::State;
use crate::http::multipart;
use crate::pages::console::{error_page, page_or_error};
use crate::pages::person_form::{PersonForm, PersonPage};
use crate::pages::portal::form::Errors;
use crate::pages::session::{PageCaller, check_csrf, csrf_token, html, see_other};
use crate::service;
use crate::store::registrations::Source;

/// Registers the door's forms.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/police/units/{id}/result", web::post().to(record))
        .route("/police/units/{id}/register", web::get().to(register_form))
        .route(
            "/police/units/{id}/register",
            web::post().to(register_submit),
        )
        .route(
            "/police/units/{id}/sublandlord-phone",
            web::post().to(sublandlord_phone),
        )
        .route("/police/photos/{id}", web::get().to(photo));
}

/// Records one visit from the unit card's form (multipart: `outcome`, `note`, a `check` box
/// per reason, a `met` box per occupant, an optional `photo`).
async fn record(
    state: State,
    PageCaller(caller): PageCaller,
    id: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let unit_id = id.into_inner();
    let result = async {
        // Who may answer is settled before an upload is read.
        caller.require(crate::domain::role::Role::works_queue)?;
        let form = multipart::read_parts(
            &req,
            payload,
            &["csrf", "outcome", "note", "check", "met"],
            ("photo", MAX_PHOTO_BYTES, || {
                AppError::field(PhotoError::TooLarge.field())
            }),
            multipart::MAX_LIST_PARTS,
        )
        .await?;
        check_csrf(&caller, form.fields.get("csrf").map_or("", String::as_str))?;
        let checks = multipart::ids(&form, "check")?;
        if checks.is_empty() {
            return Err(AppError::field(crate::domain::FieldError::new(
                "check",
                "required",
                "请至少勾选一项核查事项",
                "Pick at least one reason",
            )));
        }
        let visit = service::visits::Visit {
            outcome: form.fields.get("outcome").cloned().unwrap_or_default(),
            note: form.fields.get("note").cloned(),
            met_occupants: multipart::ids(&form, "met")?,
            photo: form.file,
        };
        service::visits::record_for_unit(&state, &caller, unit_id, &checks, visit).await?;
        Ok(see_other(&format!("/police/units/{unit_id}?saved=1")))
    }
    .await;
    page_or_error(&caller, result)
}

fn register_page(
    caller: &crate::service::Caller,
    unit: &crate::store::units::Unit,
    form: PersonForm,
    errors: Errors,
) -> PersonPage {
    let places = (
        format!("/police/units/{}/register", unit.id),
        format!("/police/units/{}", unit.id),
        "现场登记人员",
    );
    PersonPage::new(
        csrf_token(caller),
        unit.address.clone(),
        places,
        form,
        errors,
    )
}

async fn register_form(
    state: State,
    id: web::Path<i64>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, AppError> {
    let unit = service::visits::door_unit(&state, &caller, id.into_inner()).await?;
    let form = PersonForm::blank(state.today());
    let page = register_page(&caller, &unit, form, Errors::default());
    Ok(html(StatusCode::OK, page.render()))
}

/// Registers one person the officer found living there, as the officer (audited).
async fn register_submit(
    state: State,
    id: web::Path<i64>,
    form: web::Form<PersonForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, AppError> {
    check_csrf(&caller, &form.csrf)?;
    let unit = service::visits::door_unit(&state, &caller, id.into_inner()).await?;
    let source = Source::Officer {
        user_id: caller.user_id,
    };
    let (form, errors) = match form.into_inner().submit(&state, unit.id, source).await? {
        Ok(()) => return Ok(see_other(&format!("/police/units/{}?saved=2", unit.id))),
        Err(refused) => refused,
    };
    let page = register_page(&caller, &unit, form, errors);
    Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
}

/// The reveal form: a reason.
#[derive(Debug, Deserialize)]
pub struct RevealForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "police_phone.html")]
struct PhonePage {
    phone: String,
    back: String,
}

/// Shows the sublandlord's full phone number with a call link, after recording who asked
/// and why.
async fn sublandlord_phone(
    state: State,
    PageCaller(caller): PageCaller,
    id: web::Path<i64>,
    form: web::Form<RevealForm>,
) -> HttpResponse {
    let unit_id = id.into_inner();
    let shown = async {
        check_csrf(&caller, &form.csrf)?;
        Ok::<_, AppError>(
            service::visits::sublandlord_phone(&state, &caller, unit_id, &form.reason).await?,
        )
    }
    .await;
    match shown {
        Ok(phone) => {
            let page = PhonePage {
                phone,
                back: format!("/police/units/{unit_id}"),
            };
            let mut res = html(StatusCode::OK, page.render());
            res.headers_mut().insert(
                actix_web::http::header::CACHE_CONTROL,
                actix_web::http::header::HeaderValue::from_static("no-store"),
            );
            res
        }
        Err(err) => error_page(&caller, &err),
    }
}

async fn photo(
    state: State,
    PageCaller(caller): PageCaller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let bytes = service::visits::photo(&state, &caller, id.into_inner()).await?;
    Ok(crate::http::download::private("image/jpeg", bytes))
}
