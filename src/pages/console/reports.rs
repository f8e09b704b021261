//! The monthly reports page (admins): the kept reports and any month on request.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Chrome, admit, page_or_error};
use crate::domain::month::Month;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::http::State;
use crate::http::download;
use crate::pages::session::{Detour, PageCaller, html};
use crate::service::{self, reports::StoredReport};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/reports", web::get().to(reports_page))
        .route("/console/reports/{month}.xlsx", web::get().to(report_file));
}

#[derive(Template)]
#[template(path = "console_reports.html")]
struct ReportsPage {
    tz: chrono_tz::Tz,
    chrome: Chrome,
    kept: Vec<StoredReport>,
    this_month: String,
}

impl ReportsPage {
    fn local(&self, ms: &i64) -> String {
        crate::display::local_time(self.tz, *ms)
    }
}

async fn reports_page(
    state: State,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_admin)?;
    let result = async {
        let page = ReportsPage {
            tz: state.settings.tz,
            chrome: Chrome::new(&caller, "/console/reports"),
            kept: service::reports::stored(&state, &caller).await?,
            this_month: Month::of(chrono::Utc::now(), state.settings.tz).to_string(),
        };
        Ok::<_, AppError>(html(StatusCode::OK, page.render()))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

async fn report_file(
    state: State,
    month: web::Path<String>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_admin)?;
    let result = service::reports::monthly(&state, &caller, &month)
        .await
        .map(download::monthly_report)
        .map_err(AppError::from);
    Ok(page_or_error(&caller, result))
}
