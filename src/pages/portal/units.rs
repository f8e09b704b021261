//! The sublandlord's units: the list, one unit with its buttons, its poster, and
//! registering a tenant there.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::form::Errors;
use crate::domain::unit::{RentalMode, UnitState};
use crate::error::AppError;
use crate::http::State;
use crate::http::poster::{PosterQuery, poster_response};
use crate::pages::person_form::{PersonForm, PersonPage};
use crate::pages::session::{PageCaller, check_csrf, csrf_token, html, see_other};
use crate::service::Error as ServiceError;
use crate::service::my_units::{self, MyUnitOut};
use crate::service::sublandlords::me;
use crate::service::undo;
use crate::store::registrations::Source;

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

pub(super) async fn units_page(
    state: State,
    q: web::Query<DoneQuery>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, AppError> {
    let me = me(&state, &caller).await?;
    let units = my_units::list(&state, &me).await?;
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
    /// Why the last button was refused, in words.
    refused: Option<String>,
    poster_url: String,
    /// The last upload in local time and how long ago, or that there was none.
    last_upload: String,
    /// Just rotated: offer the new poster at once.
    rotated: bool,
    /// The caller's move-outs and vacancies that can still be undone.
    undoable: Vec<UndoLine>,
    undo_hours: i64,
    confirm_days: u32,
    overdue_days: u32,
}

/// One change that can still be undone, as the page lists it.
struct UndoLine {
    event_id: i64,
    label: String,
    when: String,
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
        "vacancy" => {
            "已申报空置。有人入住登记后自动恢复在租；空置最长暂停计时的天数到期后，需再次申报或登记。"
        }
        "moved" => "已登记搬离。如属误操作，24 小时内可在下方撤销。",
        "undone" => "已撤销：人员和房屋状态已恢复到操作之前。",
        "rotate" => "已更换二维码，旧二维码即刻失效，请打印新的二维码。",
        "registered" => "登记成功。",
        _ => return None,
    })
}

pub(super) async fn unit_page(
    state: State,
    id: web::Path<i64>,
    q: web::Query<DoneQuery>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, AppError> {
    let me = me(&state, &caller).await?;
    let unit = my_units::unit(&state, &me, id.into_inner()).await?;
    let done = q.done.as_deref();
    render_unit(&state, &caller, &me, &unit, done, None).await
}

/// The unit page; with `refused`, answered 409 and saying why.
async fn render_unit(
    state: &State,
    caller: &crate::service::Caller,
    me: &crate::store::sublandlords::Sublandlord,
    unit: &crate::store::units::Unit,
    done: Option<&str>,
    refused: Option<String>,
) -> Result<HttpResponse, AppError> {
    let view = my_units::view(state, me, unit.id).await?;
    let poster_url = my_units::poster_url(state, unit).await?;
    let tz = state.settings.tz;
    let now = crate::store::millis(state.now());
    let last_upload = view.last_upload_ms.map_or_else(
        || "从未上传".to_string(),
        |ms| crate::display::local_time_ago(tz, now, ms),
    );
    let undoable = undo::undoable(state, caller, unit)
        .await?
        .into_iter()
        .map(|u| UndoLine {
            event_id: u.event_id,
            label: u.label,
            when: crate::display::local_time_ago(tz, now, u.at_ms),
        })
        .collect();
    let status = if refused.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    Ok(html(
        status,
        UnitPage {
            csrf: csrf_token(caller),
            view: unit_view(view),
            done: done_message(done),
            rotated: done == Some("rotate"),
            refused,
            poster_url,
            last_upload,
            undoable,
            undo_hours: undo::UNDO_WINDOW_HOURS,
            confirm_days: state.settings.confirm_days,
            overdue_days: state.settings.overdue_days,
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
    /// The date people left (a move-out, or everybody with a vacancy).
    #[serde(default)]
    moved_out_on: Option<String>,
    /// The change to undo.
    #[serde(default)]
    event: Option<i64>,
}

pub(super) async fn unit_action(
    state: State,
    id: web::Path<i64>,
    form: web::Form<ActionForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, AppError> {
    let me = me(&state, &caller).await?;
    check_csrf(&caller, &form.csrf)?;
    let unit = my_units::unit(&state, &me, id.into_inner()).await?;
    let done = match form.action.as_str() {
        "confirm" => my_units::confirm_unchanged(&state, &caller, &unit)
            .await
            .map(|_| "confirm"),
        "vacancy" => my_units::declare_vacant(&state, &caller, &unit, None)
            .await
            .map(|_| "vacancy"),
        "vacancy_all_out" => {
            let on = form.moved_out_on.as_deref().unwrap_or("");
            my_units::declare_vacant(&state, &caller, &unit, Some(on))
                .await
                .map(|_| "vacancy")
        }
        "rotate" => my_units::rotate_poster(&state, &caller, &unit)
            .await
            .map(|_| "rotate"),
        "move_out" => {
            let occupant = form.occupant.ok_or(AppError::NotFound)?;
            let on = form.moved_out_on.as_deref().filter(|d| !d.is_empty());
            my_units::move_out(&state, &caller, &unit, occupant, on)
                .await
                .map(|()| "moved")
        }
        "undo" => {
            let event = form.event.ok_or(AppError::NotFound)?;
            undo::undo(&state, &caller, &unit, event)
                .await
                .map(|_| "undone")
        }
        _ => return Err(AppError::BadRequest("未知操作".into())),
    };
    match done {
        Ok(done) => Ok(see_other(&format!("/my/units/{}?done={done}", unit.id))),
        // A refusal or a bad date is said on the page itself, not as a bare error.
        Err(ServiceError::Conflict(why)) => {
            render_unit(&state, &caller, &me, &unit, None, Some(why)).await
        }
        Err(ServiceError::Validation(fields)) => {
            let why = fields
                .iter()
                .map(|f| f.message_zh)
                .collect::<Vec<_>>()
                .join("；");
            render_unit(&state, &caller, &me, &unit, None, Some(why)).await
        }
        Err(other) => Err(other.into()),
    }
}

pub(super) async fn poster(
    state: State,
    id: web::Path<i64>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, AppError> {
    let me = me(&state, &caller).await?;
    let unit = my_units::unit(&state, &me, id.into_inner()).await?;
    poster_response(&state, &caller, &unit, "png", &PosterQuery::default()).await
}

fn register_page(
    caller: &crate::service::Caller,
    unit_id: i64,
    address: String,
    form: PersonForm,
    errors: Errors,
) -> PersonPage {
    let places = (
        format!("/my/units/{unit_id}/register"),
        format!("/my/units/{unit_id}"),
        "代租客登记",
    );
    PersonPage::new(csrf_token(caller), address, places, form, errors)
}

pub(super) async fn register_form(
    state: State,
    id: web::Path<i64>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, AppError> {
    let me = me(&state, &caller).await?;
    let unit = my_units::unit(&state, &me, id.into_inner()).await?;
    let form = PersonForm::blank(state.today());
    let page = register_page(&caller, unit.id, unit.address, form, Errors::default());
    Ok(html(StatusCode::OK, page.render()))
}

pub(super) async fn register_submit(
    state: State,
    id: web::Path<i64>,
    form: web::Form<PersonForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, AppError> {
    let me = me(&state, &caller).await?;
    check_csrf(&caller, &form.csrf)?;
    let unit = my_units::unit(&state, &me, id.into_inner()).await?;
    let source = Source::Sublandlord {
        user_id: caller.user_id,
    };
    let (form, errors) = match form.into_inner().submit(&state, unit.id, source).await? {
        Ok(()) => return Ok(see_other(&format!("/my/units/{}?done=registered", unit.id))),
        Err(refused) => refused,
    };
    let page = register_page(&caller, unit.id, unit.address, form, errors);
    Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
}
