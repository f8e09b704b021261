//! The audit log page (admins): who did what, when and why.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, admit, page_or_error};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::http::State;
use crate::http::query::page_number;
use crate::pages::session::{Detour, PageCaller, html};
use crate::service::{self, audit::AuditItem};

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

async fn log_page(
    state: State,
    q: web::Query<PageQuery>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_admin)?;
    let page = page_number(q.page);
    let result = async {
        let log = service::audit::page(&state, &caller, Some(page), Some(PAGE_SIZE)).await?;
        let page = LogPage {
            chrome: Chrome::new(&caller, "/console/audit"),
            pages: (log.total + PAGE_SIZE - 1) / PAGE_SIZE,
            items: log.items,
            total: log.total,
            page,
        };
        Ok::<_, AppError>(html(StatusCode::OK, page.render()))
    }
    .await;
    Ok(page_or_error(&caller, result))
}
