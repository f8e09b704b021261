//! The audit log page (admins): who did what, when and why.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, page_or_error, staff};
use crate::domain::role::Role;
use crate::routes::State;
use crate::routes::audit::{AuditItem, audit_page};
use crate::routes::pages::html;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/audit", web::get().to(log_page));
}

const PAGE_SIZE: i64 = 100;

/// Paging.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "console_audit.html")]
struct LogPage {
    chrome: Chrome,
    items: Vec<AuditItem>,
    total: i64,
    page: i64,
    pages: i64,
}

async fn log_page(state: State, req: HttpRequest, q: web::Query<PageQuery>) -> HttpResponse {
    let caller = match staff(&req, &state, Role::is_admin).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let page = crate::routes::door_checks::page_number(q.page);
    let result = async {
        let log = audit_page(&state, &caller, Some(page), Some(PAGE_SIZE)).await?;
        let page = LogPage {
            chrome: Chrome::new(&caller, "/console/audit"),
            pages: (log.total + PAGE_SIZE - 1) / PAGE_SIZE,
            items: log.items,
            total: log.total,
            page,
        };
        Ok(html(StatusCode::OK, page.render()))
    }
    .await;
    page_or_error(&caller, result)
}
