//! Tips for staff: the list (searchable by reference number), the detail with triage and
//! the door-check button.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, admit, page_or_error};
use crate::domain::role::Role;
use crate::domain::tip::TipState;
use crate::error::AppError;
use crate::http::State;
use crate::http::download;
use crate::pages::session::{CsrfForm, Detour, PageCaller, check_csrf, html, see_other};
use crate::service;
use crate::service::tips::{list, open_check as open_check_for, set_state, visible};
use crate::store::tips::Tip;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/tips", web::get().to(list_page))
        .route("/console/tips/{id}", web::get().to(detail_page))
        .route("/console/tips/{id}/photo.jpg", web::get().to(photo))
        .route("/console/tips/{id}/triage", web::post().to(triage))
        .route("/console/tips/{id}/door-check", web::post().to(open_check));
}

/// A tip with labels for display.
struct Row {
    tip: Tip,
    category: &'static str,
    state: &'static str,
    received: String,
}

fn row(tip: Tip, tz: chrono_tz::Tz) -> Row {
    Row {
        category: tip.category.label_zh(),
        state: tip.state.label_zh(),
        received: crate::http::local_time(tz, tip.created_at),
        tip,
    }
}

#[derive(Template)]
#[template(path = "console_tips.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    total: i64,
    state: String,
    reference: String,
    states: Vec<(&'static str, &'static str)>,
    page: i64,
    pages: i64,
    next_query: String,
}

/// Query of the list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
    /// Part of a reference number, or a whole one.
    #[serde(default)]
    reference: String,
    page: Option<i64>,
}

const PAGE_SIZE: i64 = 50;

async fn list_page(
    state: State,
    q: web::Query<ListQuery>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let wanted = TipState::parse(q.state.trim()).map(TipState::as_str);
    let reference: String = q.reference.trim().chars().take(24).collect();
    let page = crate::http::query::page_number(q.page);
    let result = async {
        let (tips, total) = list(
            &state,
            &caller,
            wanted,
            Some(reference.as_str()),
            (page - 1) * PAGE_SIZE,
            PAGE_SIZE,
        )
        .await?;
        let tz = state.settings.tz;
        let next_query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("state", wanted.unwrap_or(""))
            .append_pair("reference", &reference)
            .finish();
        let page = ListPage {
            chrome: Chrome::new(&caller, "/console/tips"),
            rows: tips.into_iter().map(|t| row(t, tz)).collect(),
            total,
            state: wanted.unwrap_or("").to_string(),
            reference: reference.clone(),
            states: TipState::ALL
                .iter()
                .map(|s| (s.as_str(), s.label_zh()))
                .collect(),
            page,
            pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
            next_query,
        };
        Ok(html(StatusCode::OK, page.render()))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

#[derive(Template)]
#[template(path = "console_tip.html")]
struct DetailPage {
    chrome: Chrome,
    r: Row,
    states: Vec<(&'static str, &'static str)>,
}

async fn detail_page(
    state: State,
    id: web::Path<i64>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let result = async {
        let tip = visible(&state, &caller, *id).await?;
        let page = DetailPage {
            chrome: Chrome::new(&caller, "/console/tips"),
            r: row(tip, state.settings.tz),
            states: [TipState::New, TipState::Closed, TipState::Dismissed]
                .iter()
                .map(|s| (s.as_str(), s.label_zh()))
                .collect(),
        };
        Ok(html(StatusCode::OK, page.render()))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

async fn photo(
    state: State,
    id: web::Path<i64>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let result = service::tips::photo(&state, &caller, *id)
        .await
        .map(|photo| download::private("image/jpeg", photo))
        .map_err(AppError::from);
    Ok(page_or_error(&caller, result))
}

/// The triage form.
#[derive(Debug, Deserialize)]
pub struct TriageForm {
    csrf: String,
    state: String,
    #[serde(default)]
    note: String,
}

async fn triage(
    state: State,
    id: web::Path<i64>,
    form: web::Form<TriageForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let result = async {
        check_csrf(&caller, &form.csrf)?;
        set_state(&state, &caller, *id, &form.state, Some(&form.note)).await?;
        Ok(see_other(&format!("/console/tips/{}", *id)))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

async fn open_check(
    state: State,
    id: web::Path<i64>,
    form: web::Form<CsrfForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let result = async {
        check_csrf(&caller, &form.csrf)?;
        open_check_for(&state, &caller, *id).await?;
        Ok(see_other(&format!("/console/tips/{}", *id)))
    }
    .await;
    Ok(page_or_error(&caller, result))
}
