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
use crate::store;

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
    items: Vec<Row>,
    total: i64,
    page: i64,
    pages: i64,
}

/// One entry as a reader takes it in: local time, the account, the action in words, what it
/// was about, and the details as labelled lines.
struct Row {
    id: i64,
    when: String,
    who: String,
    what: String,
    /// The recorded action, for whoever searches the log by it.
    code: String,
    subject: String,
    details: Vec<(String, String)>,
    reason: String,
}

impl Row {
    fn of(state: &State, i: AuditItem) -> Self {
        let now = store::millis(state.now());
        Self {
            id: i.id,
            when: crate::display::local_time_ago(state.settings.tz, now, i.at_ms),
            who: match (i.username, i.user_id) {
                // A sublandlord signs in with a phone, kept only as a keyed hash: its digits
                // mean nothing to a reader, the account does.
                (Some(name), Some(id)) if name.starts_with("phone:") => format!("二房东 #{id}"),
                (Some(name), _) => name,
                (None, _) => "系统".into(),
            },
            what: crate::display::audit_action(&i.action).to_string(),
            subject: i
                .subject
                .as_deref()
                .map(crate::display::audit_subject)
                .unwrap_or_default(),
            details: i
                .detail
                .as_deref()
                .map(crate::display::audit_detail)
                .unwrap_or_default(),
            code: i.action,
            reason: i.reason.unwrap_or_default(),
        }
    }
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
            items: log.items.into_iter().map(|i| Row::of(&state, i)).collect(),
            total: log.total,
            page,
        };
        Ok::<_, AppError>(html(StatusCode::OK, page.render()))
    }
    .await;
    Ok(page_or_error(&caller, result))
}
