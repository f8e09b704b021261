//! The ledger page for the staff who read it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::error::AppError;
use crate::http::State;
use crate::http::query::page_number;
use crate::pages::session::{PageCaller, csrf_token, html};
use crate::service::ledger::{self, LedgerItem};

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

pub(super) async fn ledger(
    state: State,
    PageCaller(caller): PageCaller,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let page = page_number(q.page);
    let offset = (page - 1) * LEDGER_PAGE_SIZE;
    let found = ledger::page(&state, &caller, None, offset, LEDGER_PAGE_SIZE).await?;
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
