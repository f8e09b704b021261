//! Pages for the officer on the street: the open queue, a unit, a result in two taps.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::http::State;
// The export's table is still built by the API module: it is being rewritten as a
// declared list of columns, and the page will take it from there.
use crate::domain::door_check::{Outcome, Reason, Status};
use crate::domain::role::Role;
use crate::domain::unit::UnitState;
use crate::error::AppError;
use crate::http::query::page_number;
use crate::pages::offline::keepable;
use crate::pages::session::{PageCaller, check_csrf, csrf_token, html, see_other};
use crate::service;
use crate::service::door_checks::QueueItemOut;
use crate::store::{door_checks, registrations, units};

/// Registers the police pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/police", web::get().to(queue_page))
        .route("/police/export.{format}", web::get().to(export_file))
        .route("/police/units/{id}", web::get().to(unit_page))
        .route("/police/filings", web::get().to(filings_page))
        .route("/police/posters/{name}.pdf", web::get().to(posters_pdf))
        .route("/police/checks/{id}/result", web::post().to(record_result))
        .route("/police/occupants/{id}/reveal", web::post().to(reveal));
}

const PAGE_SIZE: i64 = 50;

/// A row of the list page: one unit, with every open reason's label.
struct Row {
    item: QueueItemOut,
    reason_label: String,
}

#[derive(Template)]
#[template(path = "police_list.html")]
struct ListPage {
    csrf: String,
    role_label: &'static str,
    counts: Vec<(&'static str, i64)>,
    total: i64,
    rows: Vec<Row>,
    sort: &'static str,
    page: i64,
    pages: i64,
    show_ledger: bool,
    /// Communities whose posters the caller may print.
    poster_communities: Vec<String>,
}

/// A reason's Chinese label; `其他` for one this release does not know.
pub(crate) fn reason_label(reason: &str) -> &'static str {
    Reason::parse(reason).map_or("其他", Reason::label_zh)
}

/// Query of the list page.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    sort: Option<String>,
    page: Option<i64>,
}

async fn queue_page(
    state: State,
    PageCaller(caller): PageCaller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let sort = if q.sort.as_deref() == Some("address") {
        "address"
    } else {
        "urgency"
    };
    let page = page_number(q.page);
    let service::door_checks::Overview {
        items,
        unit_reasons,
        counts,
        poster_communities,
    } = service::door_checks::overview(&state, &caller, sort, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        .await?;
    // The page shows every open check in scope, so its total is the sum of the counts.
    let total = counts.iter().map(|(_, n)| n).sum::<i64>();
    let counts = counts
        .into_iter()
        .map(|(reason, n)| (reason_label(reason.as_str()), n))
        .collect();
    // One row per unit, where its most urgent check stands; its other reasons join it.
    let mut seen = std::collections::HashSet::new();
    let rows = items
        .into_iter()
        .filter(|item| seen.insert(item.unit_id))
        .map(|item| {
            let labels: Vec<&str> = unit_reasons
                .iter()
                .filter(|(unit, _)| *unit == item.unit_id)
                .map(|(_, reason)| reason.label_zh())
                .collect();
            Row {
                reason_label: if labels.is_empty() {
                    reason_label(&item.reason).to_string()
                } else {
                    labels.join("、")
                },
                item,
            }
        })
        .collect();
    let page = html(
        StatusCode::OK,
        ListPage {
            csrf: csrf_token(&caller),
            role_label: caller.role.label_zh(),
            counts,
            total,
            rows,
            sort,
            page,
            pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
            show_ledger: caller.role.reads_ledger(),
            poster_communities,
        }
        .render(),
    );
    Ok(keepable(page, &caller))
}

async fn export_file(
    state: State,
    PageCaller(caller): PageCaller,
    format: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let everything = service::door_checks::QueueQuery::default();
    let table = service::door_checks::export(&state, &caller, &everything).await?;
    crate::http::download::table(table, &format, "上门核查").await
}

struct CheckView {
    reason_label: &'static str,
    outcome_label: &'static str,
    opened: String,
}

struct EventView {
    when: String,
    outcome_label: &'static str,
    note: String,
    /// Occupants met in person.
    met: usize,
    photo_id: Option<i64>,
}

/// An open reason on the unit's card.
struct ReasonView {
    check: door_checks::DoorCheck,
    label: &'static str,
    figures: Vec<String>,
    tip: Option<(String, &'static str)>,
    opened: String,
}

struct UploadView {
    when: String,
    source_label: &'static str,
    count: i64,
}

#[derive(Template)]
#[template(path = "police_unit.html")]
struct UnitPage {
    csrf: String,
    unit: units::Unit,
    state_label: &'static str,
    last_upload: String,
    occupants: Vec<registrations::OccupantView>,
    reasons: Vec<ReasonView>,
    /// The oldest open check, for taking the unit into one's own walk.
    first_check: i64,
    /// An open check of the unit is given to the caller already.
    mine: bool,
    past_checks: Vec<CheckView>,
    events: Vec<EventView>,
    uploads: Vec<UploadView>,
    history: Vec<HistoryView>,
    /// 1 after a result, 2 after registering someone.
    saved: u8,
    /// The unit's sublandlord, masked: name and phone.
    sublandlord: Option<(String, String)>,
    /// Whether the caller may reveal full document numbers (with a reason).
    may_reveal: bool,
}

/// `?saved=1` after a result.
#[derive(Debug, Deserialize)]
pub struct SavedQuery {
    saved: Option<u8>,
}

fn local_time(state: &State, ms: i64) -> String {
    crate::display::local_time(state.settings.tz, ms)
}

async fn unit_page(
    state: State,
    PageCaller(caller): PageCaller,
    id: web::Path<i64>,
    q: web::Query<SavedQuery>,
) -> Result<HttpResponse, AppError> {
    let service::door_checks::UnitCard {
        unit,
        reasons,
        occupants,
        checks,
        events,
        uploads,
        sublandlord,
        history,
    } = service::door_checks::unit_card(&state, &caller, id.into_inner()).await?;
    let view = |c: door_checks::DoorCheck| CheckView {
        reason_label: reason_label(c.reason.as_str()),
        outcome_label: c.outcome.map_or("", |o| outcome_label(o.as_str())),
        opened: local_time(&state, c.opened_at),
    };
    let past = checks.into_iter().filter(|c| c.status != Status::Open);
    // One visit that answered several reasons is one line of the history.
    let mut events = events;
    events.dedup_by_key(|e| (e.created_at, e.user_id));
    let mine = reasons
        .iter()
        .any(|r| r.check.assigned_to == Some(caller.user_id));
    let first_check = reasons.first().map_or(0, |r| r.check.id);
    let reasons = reasons
        .into_iter()
        .map(|r| ReasonView {
            label: reason_label(r.check.reason.as_str()),
            opened: local_time(&state, r.check.opened_at),
            figures: r.figures,
            tip: r.tip,
            check: r.check,
        })
        .collect();
    let page = html(
        StatusCode::OK,
        UnitPage {
            may_reveal: caller.role.may_reveal(),
            csrf: csrf_token(&caller),
            state_label: unit.state.label_zh(),
            last_upload: unit
                .last_upload_at
                .map_or_else(|| "从未上传".into(), |ms| local_time(&state, ms)),
            occupants,
            reasons,
            first_check,
            mine,
            past_checks: past.map(view).collect(),
            events: events
                .into_iter()
                .map(|e| EventView {
                    when: local_time(&state, e.created_at),
                    outcome_label: outcome_label(e.outcome.as_str()),
                    note: e.note.unwrap_or_default(),
                    met: e
                        .met_occupants
                        .as_deref()
                        .and_then(|m| serde_json::from_str::<Vec<i64>>(m).ok())
                        .map_or(0, |m| m.len()),
                    photo_id: e.photo_id,
                })
                .collect(),
            uploads: uploads
                .into_iter()
                .map(|u| UploadView {
                    when: local_time(&state, u.created_at),
                    source_label: source_label(u.source.as_str()),
                    count: u.occupant_count,
                })
                .collect(),
            history: history
                .into_iter()
                .map(|e| HistoryView {
                    when: local_time(&state, e.created_at),
                    what: e.event.label_zh(),
                    who: e.role.as_deref().map_or("系统", role_label),
                    detail: history_detail(e.detail.as_deref(), e.state),
                })
                .collect(),
            unit,
            saved: q.saved.unwrap_or(0),
            sublandlord,
        }
        .render(),
    );
    Ok(keepable(page, &caller))
}

/// A line of the unit's clock and state history.
struct HistoryView {
    when: String,
    what: &'static str,
    who: &'static str,
    detail: String,
}

fn role_label(role: &str) -> &'static str {
    match role {
        "tenant" => "租客",
        other => Role::parse(other).map_or("其他", Role::label_zh),
    }
}

/// The figures of a history line in words: who moved out and who is left, the state.
fn history_detail(detail: Option<&str>, state: Option<UnitState>) -> String {
    let figures: serde_json::Value = detail
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default();
    let mut words = Vec::new();
    if let Some(n) = figures["moved_out"].as_i64() {
        words.push(format!("搬离 {n} 人"));
    }
    if let Some(n) = figures["remaining"].as_i64() {
        words.push(format!("尚有 {n} 人在住"));
    }
    if let Some(state) = state {
        words.push(format!("状态：{}", state.label_zh()));
    }
    words.join("，")
}

fn outcome_label(outcome: &str) -> &'static str {
    match outcome {
        "resolved_by_upload" => "已有新上传",
        "cancelled" => "已撤销",
        other => Outcome::parse(other).map_or("其他", Outcome::label_zh),
    }
}

fn source_label(source: &str) -> &'static str {
    match source {
        "scan" => "扫码登记",
        "sublandlord" => "二房东登记",
        "officer" => "民警核实",
        "confirm" => "确认无变化",
        _ => "其他",
    }
}

/// The result form of one check: one button per outcome.
#[derive(Debug, Deserialize)]
pub struct ResultForm {
    csrf: String,
    outcome: String,
    #[serde(default)]
    note: String,
}

/// A result for one check alone (the unit card's form answers several at once).
async fn record_result(
    state: State,
    PageCaller(caller): PageCaller,
    id: web::Path<i64>,
    form: web::Form<ResultForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&caller, &form.csrf)?;
    let form = form.into_inner();
    let visit = service::visits::Visit {
        outcome: form.outcome,
        note: Some(form.note),
        ..service::visits::Visit::default()
    };
    let recorded =
        service::visits::record_result(&state, &caller, id.into_inner(), &[], visit).await?;
    Ok(see_other(&format!(
        "/police/units/{}?saved=1",
        recorded.unit_id
    )))
}

/// A filing on the staff list, with labels ready.
struct FilingRow {
    unit_id: i64,
    address: String,
    community: String,
    sublandlord: String,
    mode_label: &'static str,
    status_label: &'static str,
    rooms: i64,
    planned_occupants: i64,
    start_date: String,
    filed: String,
}

#[derive(Template)]
#[template(path = "police_filings.html")]
struct FilingsPage {
    rows: Vec<FilingRow>,
    total: i64,
    page: i64,
    pages: i64,
}

async fn filings_page(
    state: State,
    PageCaller(caller): PageCaller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let page = page_number(q.page);
    let (rows, total) =
        service::door_checks::filings(&state, &caller, (page - 1) * PAGE_SIZE, PAGE_SIZE).await?;
    let answer = html(
        StatusCode::OK,
        FilingsPage {
            rows: rows
                .into_iter()
                .map(|f| FilingRow {
                    unit_id: f.unit_id,
                    mode_label: f.rental_mode.label_zh(),
                    status_label: f.status.label_zh(),
                    filed: local_time(&state, f.created_at),
                    sublandlord: f.sublandlord,
                    address: f.address,
                    community: f.community,
                    rooms: f.rooms,
                    planned_occupants: f.planned_occupants,
                    start_date: f.start_date,
                })
                .collect(),
            total,
            page,
            pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
        }
        .render(),
    );
    Ok(keepable(answer, &caller))
}

async fn posters_pdf(
    state: State,
    PageCaller(caller): PageCaller,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let batch = service::posters::community(&state, &caller, &name, None).await?;
    Ok(crate::http::poster::community_pdf(batch, caller.user_id))
}

/// The reveal form: a reason.
#[derive(Debug, Deserialize)]
pub struct RevealForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Shows a full document number on its own page, after recording who asked and why.
async fn reveal(
    state: State,
    PageCaller(caller): PageCaller,
    id: web::Path<i64>,
    form: web::Form<RevealForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&caller, &form.csrf)?;
    let shown = service::reveal::document_number(&state, &caller, *id, &form.reason).await;
    Ok(match shown {
        Ok(number) => crate::http::render::message_page(
            StatusCode::OK,
            crate::http::render::Lang::Zh,
            "完整证件号码",
            &format!("{number}（本次查看已记入审计日志）"),
        ),
        Err(err) => crate::pages::console::error_page(&caller, &err.into()),
    })
}
