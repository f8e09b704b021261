//! Units: search by address within the caller's communities, filter by state.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, page_or_error, staff};
use crate::domain::role::Role;
use crate::domain::unit::UnitState;
use crate::routes::State;
use crate::routes::auth::store_error;
use crate::routes::pages::html;
use crate::store::units::{self, UnitSearch};

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

async fn search_page(state: State, req: HttpRequest, q: web::Query<SearchQuery>) -> HttpResponse {
    let caller = match staff(&req, &state, Role::is_staff).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let wanted = UnitState::parse(q.state.trim());
    let page = crate::routes::door_checks::page_number(q.page);
    let search = UnitSearch {
        scope: caller.scope(),
        text: q.q.chars().take(60).collect(),
        state: wanted.map(UnitState::as_str),
    };
    let result = async {
        let (found, total) =
            units::search(&state.store, &search, (page - 1) * PAGE_SIZE, PAGE_SIZE)
                .await
                .map_err(store_error)?;
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
                    |ms| crate::routes::local_time(tz, ms),
                ),
            })
            .collect();
        let next_query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &search.text)
            .append_pair("state", search.state.unwrap_or(""))
            .finish();
        Ok(html(
            StatusCode::OK,
            SearchPage {
                chrome: Chrome::new(&caller, "/console/units"),
                q: search.text.clone(),
                state: search.state.unwrap_or("").to_string(),
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
    page_or_error(&caller, result)
}
