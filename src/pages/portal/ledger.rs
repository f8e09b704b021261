//! The ledger pages for the staff who read it: the ranked list, one person with their
//! units, checks and priority explained, the audited reveal of their name and phone, and
//! the list as a file.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::error::AppError;
use crate::http::State;
use crate::http::query::page_number;
use crate::pages::session::{PageCaller, check_csrf, csrf_token, html};
use crate::service;
use crate::service::ledger::{self, LedgerItem};
use crate::service::ledger_person::{self, PersonCard};
use crate::store::ledger_person::CLOSED_CHECKS_SHOWN;

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPageView {
    csrf: String,
    items: Vec<LedgerItem>,
    total: i64,
    page: i64,
    pages: i64,
    first_rank: i64,
    /// The priority score in words, from the one list of its terms.
    formula: String,
    export_limit: i64,
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
            formula: crate::store::ledger::PRIORITY_TERMS
                .iter()
                .map(|t| match t.weight {
                    1 => t.label.to_string(),
                    w => format!("{w}×{}", t.label),
                })
                .collect::<Vec<_>>()
                .join(" + "),
            export_limit: ledger::EXPORT_LIMIT,
        }
        .render(),
    ))
}

/// Percent text of a rate, e.g. `95%`.
pub fn percent(rate: &Option<f64>) -> String {
    rate.map_or_else(|| "—".into(), |r| format!("{:.0}%", r * 100.0))
}

/// An account line of the person page.
struct AccountView {
    phone: String,
    created: String,
    disabled: bool,
}

/// A unit line of the person page.
struct UnitView {
    unit_id: i64,
    address: String,
    community: String,
    state_label: &'static str,
    occupants: i64,
    last_upload: String,
    open_checks: i64,
}

/// A door-check line of the person page.
struct CheckView {
    unit_id: i64,
    address: String,
    reason_label: &'static str,
    status_label: &'static str,
    outcome_label: &'static str,
    opened: String,
    closed: String,
}

#[derive(Template)]
#[template(path = "ledger_person.html")]
struct PersonView {
    csrf: String,
    person_id: i64,
    name: String,
    priority: i64,
    /// Each term as read: `房屋 3 处 × 2 = 6`.
    terms: Vec<String>,
    accounts: Vec<AccountView>,
    units: Vec<UnitView>,
    units_elsewhere: i64,
    checks: Vec<CheckView>,
    closed_shown: i64,
    /// Whether units link to the officer's unit page (roles that work the queue).
    unit_links: bool,
}

pub(super) async fn person(
    state: State,
    PageCaller(caller): PageCaller,
    person_id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let PersonCard {
        person_id,
        name,
        accounts,
        units,
        units_elsewhere,
        checks,
        terms,
        priority,
    } = ledger_person::card(&state, &caller, *person_id).await?;
    let tz = state.settings.tz;
    let time = |ms: i64| crate::display::local_time(tz, ms);
    Ok(html(
        StatusCode::OK,
        PersonView {
            csrf: csrf_token(&caller),
            person_id,
            name,
            priority,
            terms: terms.iter().map(|t| t.explained()).collect(),
            accounts: accounts
                .into_iter()
                .map(|a| AccountView {
                    phone: a.phone_masked,
                    created: time(a.created_at),
                    disabled: a.disabled_at.is_some(),
                })
                .collect(),
            units: units
                .into_iter()
                .map(|u| UnitView {
                    unit_id: u.id,
                    address: u.address,
                    community: u.community,
                    state_label: u.state.label_zh(),
                    occupants: u.occupants,
                    last_upload: u.last_upload_at.map_or_else(|| "从未上传".into(), time),
                    open_checks: u.open_checks,
                })
                .collect(),
            units_elsewhere,
            checks: checks
                .into_iter()
                .map(|c| CheckView {
                    unit_id: c.unit_id,
                    address: c.address,
                    reason_label: c.reason.label_zh(),
                    status_label: c.status.label_zh(),
                    outcome_label: c.outcome.map_or("", |o| o.label_zh()),
                    opened: time(c.opened_at),
                    closed: c.closed_at.map(time).unwrap_or_default(),
                })
                .collect(),
            closed_shown: CLOSED_CHECKS_SHOWN,
            unit_links: caller.role.works_queue(),
        }
        .render(),
    ))
}

/// The reveal form: a reason.
#[derive(Debug, Deserialize)]
pub struct RevealForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "ledger_reveal.html")]
struct RevealView {
    person_id: i64,
    name: String,
    phone: String,
}

/// Shows a person's full name and phone on a page of their own, after recording who asked
/// and why; never cached.
pub(super) async fn reveal(
    state: State,
    PageCaller(caller): PageCaller,
    person_id: web::Path<i64>,
    form: web::Form<RevealForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&caller, &form.csrf)?;
    let person_id = *person_id;
    let shown = service::reveal::sublandlord(&state, &caller, person_id, &form.reason).await;
    Ok(match shown {
        Ok(contact) => {
            let mut page = html(
                StatusCode::OK,
                RevealView {
                    person_id,
                    name: contact.name,
                    phone: contact.phone,
                }
                .render(),
            );
            page.headers_mut().insert(
                actix_web::http::header::CACHE_CONTROL,
                actix_web::http::header::HeaderValue::from_static("no-store"),
            );
            page
        }
        Err(err) => crate::pages::console::error_page(&caller, &err.into()),
    })
}

/// The ledger in the caller's scope as a file (`xlsx` or `csv`).
pub(super) async fn export(
    state: State,
    PageCaller(caller): PageCaller,
    format: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    if !matches!(format.as_str(), "xlsx" | "csv") {
        return Err(AppError::NotFound);
    }
    let table = ledger::export(&state, &caller, None).await?;
    crate::http::download::table(table, &format, "重点二房东").await
}
