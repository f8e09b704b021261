//! The monthly reports page (admins): the kept reports and any month on request.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{Chrome, page_or_error, staff};
use crate::domain::month::Month;
use crate::domain::role::Role;
use crate::routes::State;
use crate::routes::pages::html;
use crate::routes::reports::{StoredReport, download, stored};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/reports", web::get().to(reports_page))
        .route("/console/reports/{month}.xlsx", web::get().to(report_file));
}

#[derive(Template)]
#[template(path = "console_reports.html")]
struct ReportsPage {
    chrome: Chrome,
    kept: Vec<StoredReport>,
    this_month: String,
}

async fn reports_page(state: State, req: HttpRequest) -> HttpResponse {
    let caller = match staff(&req, &state, Role::is_admin).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let result = async {
        let page = ReportsPage {
            chrome: Chrome::new(&caller, "/console/reports"),
            kept: stored(&state, &caller).await?,
            this_month: Month::of(chrono::Utc::now(), state.settings.tz).to_string(),
        };
        Ok(html(StatusCode::OK, page.render()))
    }
    .await;
    page_or_error(&caller, result)
}

async fn report_file(state: State, req: HttpRequest, month: web::Path<String>) -> HttpResponse {
    let caller = match staff(&req, &state, Role::is_admin).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let result = download(&state, &caller, &month).await;
    page_or_error(&caller, result)
}
