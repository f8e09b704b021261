//! The console's first page: the caller's communities by name, each with its open checks
//! and this month's figures, then the caller's sections.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Chrome, admit, page_or_error, percent, target_met};
use crate::domain::month::Month;
use crate::domain::rates::FILING;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::http::State;
use crate::pages::session::{Detour, PageCaller, html};
use crate::service;
use crate::service::stats::CountsOut;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(home));
}

/// One community's card, or the total's.
struct Card {
    name: String,
    /// The communities together: no link of one community's.
    total: bool,
    c: CountsOut,
    /// 事前报备率 formatted, and `good`/`bad` against the plan's target.
    filing: String,
    tone: &'static str,
}

impl Card {
    fn new(name: String, c: CountsOut, total: bool) -> Self {
        Self {
            name,
            total,
            filing: percent(c.filing_rate),
            tone: target_met(c.filing_rate_met).1,
            c,
        }
    }
}

#[derive(Template)]
#[template(path = "console_home.html")]
struct HomePage {
    chrome: Chrome,
    month: String,
    /// Each community, then their total when there is more than one.
    cards: Vec<Card>,
    /// Whether the caller may print posters (a link per community).
    posters: bool,
    /// Whether the caller works the door-check queue (the open checks link to it).
    queue: bool,
    filing_name: &'static str,
}

async fn home(state: State, PageCaller(caller): PageCaller) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_staff)?;
    let result: Result<HttpResponse, AppError> = async {
        let month = Month::of(state.now(), state.settings.tz).to_string();
        let stats = service::stats::for_caller(&state, &caller, None, Some(&month)).await?;
        let total = (stats.communities.len() > 1)
            .then(|| Card::new("合计".into(), stats.overall.clone(), true));
        let cards = stats
            .communities
            .into_iter()
            .map(|c| Card::new(c.community, c.counts, false))
            .chain(total)
            .collect();
        Ok(html(
            StatusCode::OK,
            HomePage {
                chrome: Chrome::new(&caller, "/console"),
                month,
                cards,
                posters: caller.role.manages_units(),
                queue: caller.role.works_queue(),
                filing_name: FILING.name,
            }
            .render(),
        ))
    }
    .await;
    Ok(page_or_error(&caller, result))
}
