//! Tips for staff: the list (searchable by reference number), the detail with triage, the
//! door-check button, and for a tip that matched no unit, tying it to one or creating it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, admit, page_or_error};
use crate::domain::role::Role;
use crate::domain::tip::TipState;
use crate::domain::unit::{RentalMode, UnitKind};
use crate::error::AppError;
use crate::http::State;
use crate::http::download;
use crate::pages::session::{CsrfForm, Detour, PageCaller, check_csrf, html, see_other};
use crate::service;
use crate::service::tips::{list, open_check as open_check_for, set_state, visible};
use crate::store::tips::Tip;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/tips", web::get().to(list_page))
        .route("/console/tips/{id}", web::get().to(detail_page))
        .route("/console/tips/{id}/photo.jpg", web::get().to(photo))
        .route("/console/tips/{id}/triage", web::post().to(triage))
        .route("/console/tips/{id}/door-check", web::post().to(open_check))
        .route("/console/tips/{id}/link", web::post().to(link_unit))
        .route("/console/tips/{id}/unit", web::post().to(create_unit));
}

/// A tip with labels for display.
struct Row {
    tip: Tip,
    category: &'static str,
    state: &'static str,
    received: String,
}

fn row(tip: Tip, tz: chrono_tz::Tz) -> Row {
    Row {
        category: tip.category.label_zh(),
        state: tip.state.label_zh(),
        received: crate::display::local_time(tz, tip.created_at),
        tip,
    }
}

#[derive(Template)]
#[template(path = "console_tips.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    total: i64,
    state: String,
    reference: String,
    states: Vec<(&'static str, &'static str)>,
    page: i64,
    pages: i64,
    next_query: String,
}

/// Query of the list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
    /// Part of a reference number, or a whole one.
    #[serde(default)]
    reference: String,
    page: Option<i64>,
}

const PAGE_SIZE: i64 = 50;

async fn list_page(
    state: State,
    q: web::Query<ListQuery>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let wanted = TipState::parse(q.state.trim()).map(TipState::as_str);
    let reference: String = q.reference.trim().chars().take(24).collect();
    let page = crate::http::query::page_number(q.page);
    let result = async {
        let (tips, total) = list(
            &state,
            &caller,
            wanted,
            Some(reference.as_str()),
            (page - 1) * PAGE_SIZE,
            PAGE_SIZE,
        )
        .await?;
        let tz = state.settings.tz;
        let next_query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("state", wanted.unwrap_or(""))
            .append_pair("reference", &reference)
            .finish();
        let page = ListPage {
            chrome: Chrome::new(&caller, "/console/tips"),
            rows: tips.into_iter().map(|t| row(t, tz)).collect(),
            total,
            state: wanted.unwrap_or("").to_string(),
            reference: reference.clone(),
            states: TipState::ALL
                .iter()
                .map(|s| (s.as_str(), s.label_zh()))
                .collect(),
            page,
            pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
            next_query,
        };
        Ok(html(StatusCode::OK, page.render()))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

/// A unit found for a tip that names none.
struct Candidate {
    id: i64,
    community: String,
    address: String,
}

/// What the forms for a tip without a unit offer: the units found by the address search,
/// and the choices of the new-unit form.
struct Unmatched {
    q: String,
    searched: bool,
    candidates: Vec<Candidate>,
    communities: Vec<String>,
    kinds: Vec<(&'static str, &'static str)>,
    modes: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "console_tip.html")]
struct DetailPage {
    chrome: Chrome,
    r: Row,
    /// The sender's receipt (reference and check), to tell a reward claim from a guess.
    receipt: String,
    states: Vec<(&'static str, &'static str)>,
    unmatched: Option<Unmatched>,
}

/// `?q=` searches the caller's units by address, for a tip that names none.
#[derive(Debug, Deserialize)]
pub struct DetailQuery {
    q: Option<String>,
}

/// Units shown for an address search on a tip's page.
const CANDIDATES: i64 = 10;

async fn detail_page(
    state: State,
    id: web::Path<i64>,
    q: web::Query<DetailQuery>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let result = async {
        let tip = visible(&state, &caller, *id).await?;
        let unmatched = match tip.unit_id {
            Some(_) => None,
            None => Some(unmatched(&state, &caller, &tip, q.q.as_deref()).await?),
        };
        let page = DetailPage {
            chrome: Chrome::new(&caller, "/console/tips"),
            receipt: service::tips::receipt_of(&state, &tip.reference),
            r: row(tip, state.settings.tz),
            states: [TipState::New, TipState::Closed, TipState::Dismissed]
                .iter()
                .map(|s| (s.as_str(), s.label_zh()))
                .collect(),
            unmatched,
        };
        Ok(html(StatusCode::OK, page.render()))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

/// The link and create forms of a tip without a unit; the search starts from the tip's
/// address until staff type something else.
async fn unmatched(
    state: &State,
    caller: &service::Caller,
    tip: &Tip,
    typed: Option<&str>,
) -> Result<Unmatched, AppError> {
    let searched = typed.is_some();
    let q: String = typed
        .unwrap_or(&tip.address)
        .trim()
        .chars()
        .take(60)
        .collect();
    let candidates = if q.is_empty() {
        Vec::new()
    } else {
        let (found, _) = service::units::search(state, caller, &q, None, 0, CANDIDATES).await?;
        found
            .into_iter()
            .map(|u| Candidate {
                id: u.id,
                community: u.community,
                address: u.address,
            })
            .collect()
    };
    let mut communities = service::units::community_choices(state, caller).await?;
    // The tip's community first: the form's choice starts there.
    if let Some(named) = &tip.community
        && let Some(at) = communities.iter().position(|c| c == named)
    {
        let named = communities.remove(at);
        communities.insert(0, named);
    }
    Ok(Unmatched {
        q,
        searched,
        candidates,
        communities,
        kinds: UnitKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label_zh()))
            .collect(),
        modes: RentalMode::ALL
            .iter()
            .map(|m| (m.as_str(), m.label_zh()))
            .collect(),
    })
}

async fn photo(
    state: State,
    id: web::Path<i64>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let result = service::tips::photo(&state, &caller, *id)
        .await
        .map(|photo| download::private("image/jpeg", photo))
        .map_err(AppError::from);
    Ok(page_or_error(&caller, result))
}

/// The triage form.
#[derive(Debug, Deserialize)]
pub struct TriageForm {
    csrf: String,
    state: String,
    #[serde(default)]
    note: String,
}

async fn triage(
    state: State,
    id: web::Path<i64>,
    form: web::Form<TriageForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let result = async {
        check_csrf(&caller, &form.csrf)?;
        set_state(&state, &caller, *id, &form.state, Some(&form.note)).await?;
        Ok(see_other(&format!("/console/tips/{}", *id)))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

async fn open_check(
    state: State,
    id: web::Path<i64>,
    form: web::Form<CsrfForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let result = async {
        check_csrf(&caller, &form.csrf)?;
        open_check_for(&state, &caller, *id).await?;
        Ok(see_other(&format!("/console/tips/{}", *id)))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

/// The form that ties a tip to a unit: a found unit's button, or a unit number typed in.
#[derive(Debug, Deserialize)]
pub struct LinkForm {
    csrf: String,
    #[serde(default)]
    unit_id: String,
}

async fn link_unit(
    state: State,
    id: web::Path<i64>,
    form: web::Form<LinkForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let result = async {
        check_csrf(&caller, &form.csrf)?;
        let unit_id = form
            .unit_id
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::from(service::Error::invalid("unit_id")))?;
        service::tips::link_unit(&state, &caller, *id, unit_id).await?;
        Ok(see_other(&format!("/console/tips/{}", *id)))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

/// The form that creates a unit for a tip, prefilled from it.
#[derive(Debug, Deserialize)]
pub struct UnitForm {
    csrf: String,
    #[serde(default)]
    community: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    rooms: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    rental_mode: String,
}

async fn create_unit(
    state: State,
    id: web::Path<i64>,
    form: web::Form<UnitForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let form = form.into_inner();
    let result = async {
        check_csrf(&caller, &form.csrf)?;
        let new = service::tips::UnitFromTip {
            community: Some(form.community),
            address: Some(form.address),
            // Not a number: out of range, so the rooms field is named like any bad count.
            rooms: form.rooms.trim().parse().unwrap_or(0),
            kind: form.kind,
            rental_mode: form.rental_mode,
        };
        service::tips::create_unit(&state, &caller, *id, new).await?;
        Ok(see_other(&format!("/console/tips/{}", *id)))
    }
    .await;
    Ok(page_or_error(&caller, result))
}
