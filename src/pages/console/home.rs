//! The console's first page: the caller's sections and a few figures of their communities.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Chrome, admit, page_or_error};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::http::State;
use crate::pages::session::{Detour, PageCaller, html};
use crate::service;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(home));
}

#[derive(Template)]
#[template(path = "console_home.html")]
struct HomePage {
    chrome: Chrome,
    figures: Vec<(&'static str, String)>,
    /// Communities whose posters the caller may print.
    poster_communities: Vec<String>,
}

async fn home(state: State, PageCaller(caller): PageCaller) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_staff)?;
    let result: Result<HttpResponse, AppError> = async {
        let stats = service::stats::for_caller(&state, &caller, None, None).await?;
        let all = &stats.overall;
        let figures = vec![
            ("社区", stats.communities.len().to_string()),
            ("房屋", all.units.to_string()),
            ("在租", all.active.to_string()),
            ("在住人员", all.occupants.to_string()),
            ("逾期未上传", all.overdue.to_string()),
            ("线索", all.tips.to_string()),
        ];
        let poster_communities = if caller.role.manages_units() {
            stats
                .communities
                .iter()
                .map(|c| c.community.clone())
                .collect()
        } else {
            Vec::new()
        };
        Ok(html(
            StatusCode::OK,
            HomePage {
                chrome: Chrome::new(&caller, "/console"),
                figures,
                poster_communities,
            }
            .render(),
        ))
    }
    .await;
    Ok(page_or_error(&caller, result))
}
