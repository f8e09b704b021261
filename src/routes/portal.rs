//! The sublandlord's pages (mobile-first, Chinese): sign-up, their units with every action,
//! advance filings, registering tenants, the password; and the ledger page for staff.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::State;
use super::auth::{Caller, store_error};
use super::pages::{
    PageCaller, check_csrf, csrf_token, html, page_caller, see_other, with_session,
};
use super::sublandlords::{
    FilingOutcome, FilingRequest, LedgerItem, LedgerQuery, MyUnitOut, PasswordRequest,
    SignupRequest, confirm_unit, declare_vacant, file, ledger_page, me, my_unit_list, my_unit_row,
    my_unit_view, record_move_out, register_sublandlord, rotate_poster, set_password,
};
use super::units::{PosterQuery, poster_response};
use crate::domain::FieldError;
use crate::domain::document::IdType;
use crate::domain::notice::NOTICE_VERSION;
use crate::domain::registration::{NewRegistration, OccupantInput};
use crate::domain::unit::{RentalMode, UnitState};
use crate::error::AppError;
use crate::service::accounts::sign_in;
use crate::service::registration::{Destination, accept};
use crate::store::communities;
use crate::store::registrations::Source;
use crate::store::sublandlords::Sublandlord;

/// Registers the sublandlord pages and the ledger page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/sublandlord/register", web::get().to(signup_form))
        .route("/sublandlord/register", web::post().to(signup_submit))
        .route("/my", web::get().to(units_page))
        .route("/my/filings/new", web::get().to(filing_form))
        .route("/my/filings", web::post().to(filing_submit))
        .route("/my/units/{id}", web::get().to(unit_page))
        .route("/my/units/{id}/action", web::post().to(unit_action))
        .route("/my/units/{id}/register", web::get().to(register_form))
        .route("/my/units/{id}/register", web::post().to(register_submit))
        .route("/my/units/{id}/poster.png", web::get().to(poster))
        .route("/password", web::get().to(password_form))
        .route("/password", web::post().to(password_submit))
        .route("/ledger", web::get().to(ledger));
}

/// The field errors of a form, shown beside each field.
#[derive(Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    fn of(error: AppError) -> Result<Self, AppError> {
        match error {
            AppError::Validation(fields) => Ok(Self(fields)),
            other => Err(other),
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

fn id_types() -> Vec<(&'static str, &'static str)> {
    IdType::ALL
        .iter()
        .map(|t| (t.as_str(), t.label_zh()))
        .collect()
}

fn rental_modes() -> Vec<(&'static str, &'static str)> {
    RentalMode::ALL
        .iter()
        .map(|m| (m.as_str(), m.label_zh()))
        .collect()
}

/// The signed-in sublandlord of a page, or the answer to send instead (the login page, or
/// 403 for staff).
async fn page_me(req: &HttpRequest, state: &State) -> Result<(Caller, Sublandlord), HttpResponse> {
    let caller = page_caller(req, state).await?;
    match me(state, &caller).await {
        Ok(me) => Ok((caller, me)),
        Err(e) => Err(actix_web::ResponseError::error_response(&e)),
    }
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    form: SignupForm,
    errors: Errors,
    message: Option<String>,
    id_types: Vec<(&'static str, &'static str)>,
}

/// The sign-up form.
#[derive(Debug, Default, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    id_type: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    password: String,
}

async fn signup_form() -> HttpResponse {
    html(
        StatusCode::OK,
        SignupPage {
            form: SignupForm {
                id_type: "resident_id".into(),
                ..SignupForm::default()
            },
            errors: Errors::default(),
            message: None,
            id_types: id_types(),
        }
        .render(),
    )
}

async fn signup_submit(
    state: State,
    req: HttpRequest,
    form: web::Form<SignupForm>,
) -> Result<HttpResponse, AppError> {
    let mut form = form.into_inner();
    let request = SignupRequest {
        name: form.name.clone(),
        phone: form.phone.clone(),
        id_type: form.id_type.clone(),
        id_number: form.id_number.clone(),
        password: form.password.clone(),
    };
    let failed = match register_sublandlord(&state, &request).await {
        Ok(_) => {
            let client = super::limit::client_of(&req, &state);
            return match sign_in(&state, &client, &request.phone, request.password).await {
                Ok((token, _)) => Ok(with_session(&state, &req, token, "/my")),
                // The account is made; the login page says when signing in works again.
                Err(crate::service::Error::SessionsUnavailable) => Ok(see_other("/login?next=/my")),
                Err(e) => Err(e.into()),
            };
        }
        Err(AppError::Conflict(message)) => (Errors::default(), Some(message)),
        Err(e) => (Errors::of(e)?, None),
    };
    form.password.clear();
    Ok(html(
        StatusCode::UNPROCESSABLE_ENTITY,
        SignupPage {
            form,
            errors: failed.0,
            message: failed.1,
            id_types: id_types(),
        }
        .render(),
    ))
}

/// A unit on the pages, with labels ready.
struct UnitView {
    unit: MyUnitOut,
    state_label: &'static str,
    mode_label: &'static str,
}

fn unit_view(unit: MyUnitOut) -> UnitView {
    UnitView {
        state_label: UnitState::parse(&unit.state).map_or("", UnitState::label_zh),
        mode_label: RentalMode::parse(&unit.rental_mode).map_or("", RentalMode::label_zh),
        unit,
    }
}

#[derive(Template)]
#[template(path = "my_units.html")]
struct UnitsPage {
    csrf: String,
    name: String,
    units: Vec<UnitView>,
    overdue_days: u32,
    done: Option<&'static str>,
}

async fn units_page(
    state: State,
    req: HttpRequest,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    let (caller, me) = match page_me(&req, &state).await {
        Ok(found) => found,
        Err(answer) => return Ok(answer),
    };
    let units = my_unit_list(&state, &me).await?;
    Ok(html(
        StatusCode::OK,
        UnitsPage {
            csrf: csrf_token(&caller),
            name: me.name,
            units: units.into_iter().map(unit_view).collect(),
            overdue_days: state.settings.overdue_days,
            done: done_message(q.done.as_deref()),
        }
        .render(),
    ))
}

#[derive(Template)]
#[template(path = "my_unit.html")]
struct UnitPage {
    csrf: String,
    view: UnitView,
    done: Option<&'static str>,
    poster_url: String,
}

/// `?done=` after an action.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn done_message(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "filed" => "报备成功。请打印本房屋的二维码，张贴在门口。",
        "pending" => {
            "报备已提交。该房屋已在系统中登记，需由社区审核后才会列入您的房屋，请留意审核结果。"
        }
        "confirm" => "已确认居住人员无变化，计为一次上传。",
        "vacancy" => "已申报空置。有人入住登记后自动恢复在租。",
        "moved" => "已登记搬离。",
        "rotate" => "已更换二维码，旧二维码即刻失效，请打印新的二维码。",
        "registered" => "登记成功。",
        _ => return None,
    })
}

async fn unit_page(
    state: State,
    req: HttpRequest,
    id: web::Path<i64>,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    let (caller, me) = match page_me(&req, &state).await {
        Ok(found) => found,
        Err(answer) => return Ok(answer),
    };
    let unit = my_unit_row(&state, &me, id.into_inner()).await?;
    let view = my_unit_view(&state, &me, unit.id).await?;
    let token = crate::store::units::current_token(&state.store, &state.vault, unit.id)
        .await
        .map_err(store_error)?
        .ok_or(AppError::NotFound)?;
    Ok(html(
        StatusCode::OK,
        UnitPage {
            csrf: csrf_token(&caller),
            view: unit_view(view),
            done: done_message(q.done.as_deref()),
            poster_url: state.poster_url(&token),
        }
        .render(),
    ))
}

/// One button of the unit page.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf: String,
    action: String,
    #[serde(default)]
    occupant: Option<i64>,
}

async fn unit_action(
    state: State,
    req: HttpRequest,
    id: web::Path<i64>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let (caller, me) = match page_me(&req, &state).await {
        Ok(found) => found,
        Err(answer) => return Ok(answer),
    };
    check_csrf(&caller, &form.csrf)?;
    let unit = my_unit_row(&state, &me, id.into_inner()).await?;
    let done = match form.action.as_str() {
        "confirm" => confirm_unit(&state, &caller, &unit)
            .await
            .map(|_| "confirm")?,
        "vacancy" => declare_vacant(&state, &caller, &unit)
            .await
            .map(|_| "vacancy")?,
        "rotate" => rotate_poster(&state, &caller, &unit)
            .await
            .map(|_| "rotate")?,
        "move_out" => {
            let occupant = form.occupant.ok_or(AppError::NotFound)?;
            record_move_out(&state, &caller, &unit, occupant).await?;
            "moved"
        }
        _ => return Err(AppError::BadRequest("未知操作".into())),
    };
    Ok(see_other(&format!("/my/units/{}?done={done}", unit.id)))
}

async fn poster(
    state: State,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (caller, me) = match page_me(&req, &state).await {
        Ok(found) => found,
        Err(answer) => return Ok(answer),
    };
    let unit = my_unit_row(&state, &me, id.into_inner()).await?;
    poster_response(&state, &caller, &unit, "png", &PosterQuery::default()).await
}

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
}

async fn community_names(state: &State) -> Result<Vec<String>, AppError> {
    Ok(communities::list(&state.store)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|c| c.name)
        .collect())
}

async fn filing_form(state: State, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let (caller, _) = match page_me(&req, &state).await {
        Ok(found) => found,
        Err(answer) => return Ok(answer),
    };
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

async fn filing_submit(
    state: State,
    req: HttpRequest,
    form: web::Form<FilingForm>,
) -> Result<HttpResponse, AppError> {
    let (caller, me) = match page_me(&req, &state).await {
        Ok(found) => found,
        Err(answer) => return Ok(answer),
    };
    check_csrf(&caller, &form.csrf)?;
    let form = form.into_inner();
    let area = form.floor_area_m2.trim();
    let request = FilingRequest {
        community: form.community.clone(),
        address: form.address.clone(),
        rooms: number(&form.rooms),
        rental_mode: form.rental_mode.clone(),
        start_date: form.start_date.clone(),
        planned_occupants: number(&form.planned_occupants),
        // Typed but not a number: out of range on purpose, so the check names the field.
        floor_area_m2: (!area.is_empty()).then(|| area.parse().unwrap_or(-1.0)),
        kind: None,
    };
    let (errors, message) = match file(&state, &me, &request).await {
        Ok(FilingOutcome::Created(created)) => {
            return Ok(see_other(&format!(
                "/my/units/{}?done=filed",
                created.unit_id
            )));
        }
        Ok(FilingOutcome::Pending(_)) => return Ok(see_other("/my?done=pending")),
        Err(AppError::Conflict(message)) => (Errors::default(), Some(message)),
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

#[derive(Template)]
#[template(path = "my_register.html")]
struct RegisterPage {
    csrf: String,
    unit_id: i64,
    address: String,
    form: RegisterForm,
    errors: Errors,
    id_types: Vec<(&'static str, &'static str)>,
}

/// One occupant registered by their sublandlord.
#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    id_type: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    room: String,
    #[serde(default)]
    move_in: String,
    #[serde(default)]
    family: Option<String>,
}

async fn register_form(
    state: State,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (caller, me) = match page_me(&req, &state).await {
        Ok(found) => found,
        Err(answer) => return Ok(answer),
    };
    let unit = my_unit_row(&state, &me, id.into_inner()).await?;
    Ok(html(
        StatusCode::OK,
        RegisterPage {
            csrf: csrf_token(&caller),
            unit_id: unit.id,
            address: unit.address,
            form: RegisterForm {
                id_type: "resident_id".into(),
                move_in: state.today().format("%Y-%m-%d").to_string(),
                ..RegisterForm::default()
            },
            errors: Errors::default(),
            id_types: id_types(),
        }
        .render(),
    ))
}

async fn register_submit(
    state: State,
    req: HttpRequest,
    id: web::Path<i64>,
    form: web::Form<RegisterForm>,
) -> Result<HttpResponse, AppError> {
    let (caller, me) = match page_me(&req, &state).await {
        Ok(found) => found,
        Err(answer) => return Ok(answer),
    };
    check_csrf(&caller, &form.csrf)?;
    let unit = my_unit_row(&state, &me, id.into_inner()).await?;
    let form = form.into_inner();
    let input = OccupantInput {
        name: form.name.clone(),
        id_type: form.id_type.clone(),
        id_number: form.id_number.clone(),
        phone: form.phone.clone(),
        room: form.room.clone(),
        move_in: form.move_in.clone(),
    };
    let errors = match NewRegistration::parse(NOTICE_VERSION, &[input], state.today()) {
        Ok(mut registration) => {
            registration.family = form.family.is_some();
            accept(
                &state,
                &Destination::unit(unit.id),
                &registration,
                Source::Sublandlord {
                    user_id: caller.user_id,
                },
                None,
            )
            .await?;
            return Ok(see_other(&format!("/my/units/{}?done=registered", unit.id)));
        }
        // The form holds one person: drop the `occupants[0].` of the field names.
        Err(errors) => Errors(
            errors
                .into_iter()
                .map(|mut e| {
                    e.field = e.field.trim_start_matches("occupants[0].").to_string();
                    e
                })
                .collect(),
        ),
    };
    Ok(html(
        StatusCode::UNPROCESSABLE_ENTITY,
        RegisterPage {
            csrf: csrf_token(&caller),
            unit_id: unit.id,
            address: unit.address,
            form,
            errors,
            id_types: id_types(),
        }
        .render(),
    ))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    csrf: String,
    back: &'static str,
    errors: Errors,
    saved: bool,
}

/// The password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    csrf: String,
    old_password: String,
    new_password: String,
}

async fn password_form(PageCaller(caller): PageCaller) -> Result<HttpResponse, AppError> {
    Ok(html(
        StatusCode::OK,
        PasswordPage {
            csrf: csrf_token(&caller),
            back: super::pages::home_of(caller.role),
            errors: Errors::default(),
            saved: false,
        }
        .render(),
    ))
}

async fn password_submit(
    state: State,
    PageCaller(caller): PageCaller,
    req: HttpRequest,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&caller, &form.csrf)?;
    let form = form.into_inner();
    let request = PasswordRequest {
        old_password: form.old_password,
        new_password: form.new_password,
    };
    let client = super::limit::client_of(&req, &state);
    let (status, errors, saved) = match set_password(&state, &caller, &client, &request).await {
        Ok(()) => (StatusCode::OK, Errors::default(), true),
        // Too many wrong old passwords: said on the form, as a wrong one is.
        Err(AppError::LoginLocked(_)) => (
            StatusCode::TOO_MANY_REQUESTS,
            Errors(vec![FieldError::new(
                "old_password",
                "locked",
                "原密码错误次数过多，已暂时锁定，请稍后再试",
                "Too many wrong passwords; locked for a while",
            )]),
            false,
        ),
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, Errors::of(e)?, false),
    };
    Ok(html(
        status,
        PasswordPage {
            csrf: csrf_token(&caller),
            back: super::pages::home_of(caller.role),
            errors,
            saved,
        }
        .render(),
    ))
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPageView {
    csrf: String,
    items: Vec<LedgerItem>,
    total: i64,
    page: i64,
    pages: i64,
    first_rank: i64,
}

/// `?page=` of the ledger page.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

const LEDGER_PAGE_SIZE: i64 = 50;

async fn ledger(
    state: State,
    PageCaller(caller): PageCaller,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let page = super::door_checks::page_number(q.page);
    let found = ledger_page(
        &state,
        &caller,
        &LedgerQuery {
            sort: None,
            community: None,
            page: Some(page),
            per_page: Some(LEDGER_PAGE_SIZE),
        },
    )
    .await?;
    Ok(html(
        StatusCode::OK,
        LedgerPageView {
            csrf: csrf_token(&caller),
            total: found.total,
            pages: (found.total + LEDGER_PAGE_SIZE - 1) / LEDGER_PAGE_SIZE,
            first_rank: (page - 1) * LEDGER_PAGE_SIZE + 1,
            items: found.items,
            page,
        }
        .render(),
    ))
}

/// Percent text of a rate, e.g. `95%`.
pub fn percent(rate: &Option<f64>) -> String {
    rate.map_or_else(|| "—".into(), |r| format!("{:.0}%", r * 100.0))
}
