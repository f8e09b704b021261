//! Pending filings: staff see the filings that wait because their flat's unit was not the
//! filer's, and approve or reject each (a rejection needs a reason and a ticked box).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, admit, page_or_error};
use crate::domain::role::Role;
use crate::http::State;
use crate::pages::session::{CsrfForm, Detour, PageCaller, check_csrf, html, see_other};
use crate::service::filings;
use crate::service::ledger::masked_name;
use crate::store::filings::FilingRow;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/filings", web::get().to(list_page))
        .route("/console/filings/{id}/approve", web::post().to(approve))
        .route("/console/filings/{id}/reject", web::post().to(reject));
}

/// A pending filing with labels for display.
struct Row {
    f: FilingRow,
    sublandlord: String,
    mode: &'static str,
    filed: String,
}

#[derive(Template)]
#[template(path = "console_filings.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    total: i64,
    done: Option<&'static str>,
    page: i64,
    pages: i64,
}

/// Query of the list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    page: Option<i64>,
    done: Option<String>,
}

const PAGE_SIZE: i64 = 50;

async fn list_page(
    state: State,
    q: web::Query<ListQuery>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::reviews_filings)?;
    let page = crate::http::query::page_number(q.page);
    let result = async {
        let (filings, total) =
            filings::pending(&state, &caller, (page - 1) * PAGE_SIZE, PAGE_SIZE).await?;
        let tz = state.settings.tz;
        let rows = filings
            .into_iter()
            .map(|f| Row {
                sublandlord: masked_name(&f.sublandlord),
                mode: f.rental_mode.label_zh(),
                filed: crate::display::local_time(tz, f.created_at),
                f,
            })
            .collect();
        let page = ListPage {
            chrome: Chrome::new(&caller, "/console/filings"),
            rows,
            total,
            done: match q.done.as_deref() {
                Some("approved") => Some("已批准：该房屋已列入这位二房东的房屋。"),
                Some("rejected") => Some("已驳回：房屋保持原样，二房东可看到驳回理由。"),
                _ => None,
            },
            page,
            pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
        };
        Ok(html(StatusCode::OK, page.render()))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

async fn approve(
    state: State,
    id: web::Path<i64>,
    form: web::Form<CsrfForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::reviews_filings)?;
    let result = async {
        check_csrf(&caller, &form.csrf)?;
        filings::approve(&state, &caller, *id).await?;
        Ok(see_other("/console/filings?done=approved"))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

/// The reject form: a reason, and a box ticked to confirm.
#[derive(Debug, Deserialize)]
pub struct RejectForm {
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: Option<String>,
}

async fn reject(
    state: State,
    id: web::Path<i64>,
    form: web::Form<RejectForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::reviews_filings)?;
    let result = async {
        check_csrf(&caller, &form.csrf)?;
        // The box is required in the form; a post without it (an old page, a script) is
        // refused rather than taken as a confirmation.
        if form.confirm.is_none() {
            return Err(crate::error::AppError::field(
                crate::domain::FieldError::new(
                    "confirm",
                    "required",
                    "请勾选“确认驳回”后再提交",
                    "Tick the box to confirm the rejection",
                ),
            ));
        }
        filings::reject(&state, &caller, *id, &form.reason).await?;
        Ok(see_other("/console/filings?done=rejected"))
    }
    .await;
    Ok(page_or_error(&caller, result))
}
