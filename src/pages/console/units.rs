//! Units: search by address within the caller's communities, filter by state.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, admit, page_or_error};
use crate::domain::role::Role;
use crate::domain::unit::UnitState;
use crate::error::AppError;
use crate::http::State;
use crate::http::query::page_number;
use crate::pages::session::{Detour, PageCaller, html};
use crate::service;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/units", web::get().to(search_page));
}

const PAGE_SIZE: i64 = 50;

/// The search form.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    page: Option<i64>,
}

struct Row {
    id: i64,
    community: String,
    address: String,
    rooms: i64,
    mode: &'static str,
    state: &'static str,
    last_upload: String,
}

#[derive(Template)]
#[template(path = "console_units.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    state: String,
    states: Vec<(&'static str, &'static str)>,
    rows: Vec<Row>,
    total: i64,
    page: i64,
    pages: i64,
    next_query: String,
}

async fn search_page(
    state: State,
    q: web::Query<SearchQuery>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_staff)?;
    let wanted = UnitState::parse(q.state.trim());
    let page = page_number(q.page);
    let text: String = q.q.chars().take(60).collect();
    let state_name = wanted.map_or("", UnitState::as_str);
    let result = async {
        let (found, total) = service::units::search(
            &state,
            &caller,
            &text,
            wanted,
            (page - 1) * PAGE_SIZE,
            PAGE_SIZE,
        )
        .await?;
        let tz = state.settings.tz;
        let rows = found
            .into_iter()
            .map(|u| Row {
                id: u.id,
                community: u.community,
                address: u.address,
                rooms: u.rooms,
                mode: u.rental_mode.label_zh(),
                state: u.state.label_zh(),
                last_upload: u.last_upload_at.map_or_else(
                    || "从未".to_string(),
                    |ms| crate::display::local_time(tz, ms),
                ),
            })
            .collect();
        let next_query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &text)
            .append_pair("state", state_name)
            .finish();
        Ok::<_, AppError>(html(
            StatusCode::OK,
            SearchPage {
                chrome: Chrome::new(&caller, "/console/units"),
                q: text.clone(),
                state: state_name.to_string(),
                states: UnitState::ALL
                    .iter()
                    .map(|s| (s.as_str(), s.label_zh()))
                    .collect(),
                rows,
                total,
                page,
                pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
                next_query,
            }
            .render(),
        ))
    }
    .await;
    Ok(page_or_error(&caller, result))
}
