//! Pages of the enforcement team (综合执法队), for phones at the door and desks at the
//! office: the quarter's count and the cases in scope, and one case with its evidence, the
//! decision and closing. No scripts: every action is a form.

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::FieldError;
use crate::domain::case::{CaseStatus, DecisionInput};
use crate::domain::tip::{self, MAX_PHOTO_BYTES};
use crate::error::AppError;
use crate::http::State;
use crate::http::query::page_number;
use crate::pages::console::page_or_error;
use crate::pages::session::{PageCaller, check_csrf, csrf_token, html, see_other};
use crate::service::cases::{CaseDetail, CaseItem, CaseQuery};
use crate::service::{self, Caller};

/// Registers the enforcement pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/enforcement", web::get().to(home))
        .route("/enforcement/export.xlsx", web::get().to(export_file))
        .route("/enforcement/cases/{id}", web::get().to(case_page))
        .route(
            "/enforcement/cases/{id}/evidence/{eid}/photo",
            web::get().to(photo),
        )
        .route(
            "/enforcement/cases/{id}/evidence",
            web::post().to(add_evidence),
        )
        .route("/enforcement/cases/{id}/decision", web::post().to(decide))
        .route("/enforcement/cases/{id}/close", web::post().to(close));
}

const PAGE_SIZE: i64 = 50;

/// A line of the list, with its time ready.
struct Row {
    item: CaseItem,
    opened: String,
}

#[derive(Template)]
#[template(path = "enforcement_home.html")]
struct HomePage {
    csrf: String,
    role_label: &'static str,
    quarter: String,
    decided: i64,
    target: i64,
    /// `open`, `decided`, `closed`, or blank for all.
    tab: &'static str,
    rows: Vec<Row>,
    total: i64,
    page: i64,
    pages: i64,
}

/// `?status=&page=` of the home page.
#[derive(Debug, Deserialize)]
pub struct HomeQuery {
    status: Option<String>,
    page: Option<i64>,
}

const TABS: [&str; 4] = ["open", "decided", "closed", ""];

async fn home(
    state: State,
    PageCaller(caller): PageCaller,
    q: web::Query<HomeQuery>,
) -> HttpResponse {
    let result: Result<HttpResponse, AppError> = async {
        let tab = TABS
            .into_iter()
            .find(|t| Some(*t) == q.status.as_deref())
            .unwrap_or("open");
        let page = page_number(q.page);
        let count = service::cases::this_quarter(&state, &caller).await?;
        let asked = CaseQuery {
            status: Some(tab),
            community: None,
        };
        let (items, total) =
            service::cases::list(&state, &caller, &asked, Some(page), Some(PAGE_SIZE)).await?;
        let rows = items
            .into_iter()
            .map(|item| Row {
                opened: crate::display::local_time(state.settings.tz, item.opened_ms),
                item,
            })
            .collect();
        Ok(html(
            StatusCode::OK,
            HomePage {
                csrf: csrf_token(&caller),
                role_label: caller.role.label_zh(),
                quarter: count.quarter.label_zh(),
                decided: count.decided,
                target: count.target,
                tab,
                rows,
                total,
                page,
                pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
            }
            .render(),
        ))
    }
    .await;
    page_or_error(&caller, result)
}

async fn export_file(state: State, PageCaller(caller): PageCaller) -> HttpResponse {
    let result: Result<HttpResponse, AppError> = async {
        let table = service::cases::export(&state, &caller, &CaseQuery::default()).await?;
        crate::http::download::table(table, "xlsx", "执法案件").await
    }
    .await;
    page_or_error(&caller, result)
}

/// A piece of evidence, with its time ready.
struct EvidenceRow {
    id: i64,
    note: Option<String>,
    has_photo: bool,
    by: String,
    when: String,
}

#[derive(Template)]
#[template(path = "enforcement_case.html")]
struct CasePage {
    csrf: String,
    case: CaseDetail,
    referred: String,
    evidence: Vec<EvidenceRow>,
    /// The caller may add evidence, decide and close.
    works: bool,
    is_open: bool,
    is_decided: bool,
    may_add: bool,
    violations: Vec<(&'static str, &'static str)>,
    today: String,
    saved: Option<&'static str>,
}

/// `?saved=` after an action.
#[derive(Debug, Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

async fn case_page(
    state: State,
    PageCaller(caller): PageCaller,
    id: web::Path<i64>,
    q: web::Query<SavedQuery>,
) -> HttpResponse {
    let result: Result<HttpResponse, AppError> = async {
        let case = service::cases::get(&state, &caller, *id).await?;
        let tz = state.settings.tz;
        let evidence = case
            .evidence
            .iter()
            .map(|e| EvidenceRow {
                id: e.id,
                note: e.note.clone(),
                has_photo: e.photo_url.is_some(),
                by: e.created_by.clone().unwrap_or_default(),
                when: crate::display::local_time(tz, e.created_ms),
            })
            .collect();
        let saved = match q.saved.as_deref() {
            Some("evidence") => Some("已添加证据。"),
            Some("decision") => Some("已记录处理决定。"),
            Some("closed") => Some("案件已结案。"),
            _ => None,
        };
        let status = case.case.state;
        Ok(html(
            StatusCode::OK,
            CasePage {
                csrf: csrf_token(&caller),
                referred: crate::display::local_time(tz, case.referred_ms),
                evidence,
                works: caller.role.works_cases(),
                is_open: status == CaseStatus::Open,
                is_decided: status == CaseStatus::Decided,
                may_add: status != CaseStatus::Closed
                    && case.case.evidence_count < crate::domain::case::MAX_EVIDENCE,
                violations: service::cases::violations(),
                today: state.today().format("%Y-%m-%d").to_string(),
                saved,
                case,
            }
            .render(),
        ))
    }
    .await;
    page_or_error(&caller, result)
}

async fn photo(
    state: State,
    PageCaller(caller): PageCaller,
    path: web::Path<(i64, i64)>,
) -> HttpResponse {
    let (id, eid) = path.into_inner();
    let result = service::cases::photo(&state, &caller, id, eid)
        .await
        .map(|bytes| crate::http::download::private("image/jpeg", bytes))
        .map_err(AppError::from);
    page_or_error(&caller, result)
}

/// The evidence form without a photo (a browser that sends no file part).
#[derive(Debug, Deserialize)]
pub struct NoteForm {
    csrf: String,
    #[serde(default)]
    note: String,
}

async fn add_evidence(
    state: State,
    PageCaller(caller): PageCaller,
    req: HttpRequest,
    id: web::Path<i64>,
    payload: web::Payload,
) -> HttpResponse {
    let result: Result<HttpResponse, AppError> = async {
        // Refused before an upload is read.
        service::cases::may_work(&state, &caller, *id).await?;
        let (csrf, note, photo) = read_evidence(&req, payload).await?;
        check_csrf(&caller, &csrf)?;
        service::cases::add_evidence(&state, &caller, *id, Some(note), photo).await?;
        Ok(see_other(&format!(
            "/enforcement/cases/{}?saved=evidence",
            *id
        )))
    }
    .await;
    page_or_error(&caller, result)
}

/// The CSRF token, note and photo of the evidence form, multipart or not.
async fn read_evidence(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(String, String, Option<Vec<u8>>), AppError> {
    if crate::http::multipart::is_multipart(req) {
        let mut form = crate::http::multipart::read(
            req,
            payload,
            &["csrf", "note"],
            "photo",
            MAX_PHOTO_BYTES,
            || AppError::field(tip::PhotoError::TooLarge.field()),
        )
        .await?;
        let mut take = |name: &str| form.fields.remove(name).unwrap_or_default();
        let (csrf, note) = (take("csrf"), take("note"));
        Ok((csrf, note, form.file))
    } else {
        let form = web::Form::<NoteForm>::from_request(req, &mut payload.into_inner())
            .await
            .map_err(|_| AppError::BadRequest("表单格式不正确".into()))?
            .into_inner();
        Ok((form.csrf, form.note, None))
    }
}

/// The decision form: a violation with its penalty, number and date, or `none` (which asks
/// first: it cannot be changed afterwards).
#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    csrf: String,
    violation: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    penalty_yuan: String,
    #[serde(default)]
    decision_number: String,
    #[serde(default)]
    decided_on: String,
}

async fn decide(
    state: State,
    PageCaller(caller): PageCaller,
    id: web::Path<i64>,
    form: web::Form<DecisionForm>,
) -> HttpResponse {
    let result: Result<HttpResponse, AppError> = async {
        check_csrf(&caller, &form.csrf)?;
        let form = form.into_inner();
        if form.violation == "none" && form.confirm != "1" {
            let question = Question {
                heading: "确认无违法",
                question: "将认定此案经查无违法行为。处理决定记录后不能更改，也不计入本季度查办数。确定吗？"
                    .into(),
                action: "decision",
                fields: vec![("violation", "none".into())],
                button: "确认无违法",
            };
            return ask(&state, &caller, *id, question, CaseStatus::Open).await;
        }
        let penalty = form.penalty_yuan.trim();
        let penalty_yuan = if penalty.is_empty() {
            None
        } else {
            Some(penalty.parse::<i64>().map_err(|_| {
                AppError::field(FieldError::new(
                    "penalty_yuan",
                    "format",
                    "罚款金额应为整数（元）",
                    "A whole number of yuan",
                ))
            })?)
        };
        let input = || DecisionInput {
            violation: Some(form.violation.clone()),
            penalty_yuan,
            decision_number: Some(form.decision_number.clone()),
            decided_on: Some(form.decided_on.clone()),
        };
        if form.confirm != "1" {
            // A decision is final: its values are read back before it is recorded.
            crate::domain::case::Decision::parse(input(), state.today())
                .map_err(AppError::Validation)?;
            let label = crate::domain::case::Violation::parse(&form.violation)
                .map_or("其他", |v| v.label_zh());
            let question = Question {
                heading: "确认处理决定",
                question: format!(
                    "违法类型：{label}；罚款 {} 元；决定书文号：{}；决定日期：{}。\
                     处理决定记录后不能更改，计入本季度查办数，并提高该二房东的重点分。确定吗？",
                    penalty.trim(),
                    form.decision_number.trim(),
                    form.decided_on.trim()
                ),
                action: "decision",
                fields: vec![
                    ("violation", form.violation.clone()),
                    ("penalty_yuan", penalty.trim().to_string()),
                    ("decision_number", form.decision_number.clone()),
                    ("decided_on", form.decided_on.clone()),
                ],
                button: "确认记录",
            };
            return ask(&state, &caller, *id, question, CaseStatus::Open).await;
        }
        service::cases::decide(&state, &caller, *id, input()).await?;
        Ok(see_other(&format!(
            "/enforcement/cases/{}?saved=decision",
            *id
        )))
    }
    .await;
    page_or_error(&caller, result)
}

/// The close form: without `confirm` it asks first.
#[derive(Debug, Deserialize)]
pub struct CloseForm {
    csrf: String,
    #[serde(default)]
    confirm: String,
}

/// What a confirmation step asks, and the form that says yes.
struct Question {
    heading: &'static str,
    question: String,
    /// The last part of the form's path (`close`, `decision`).
    action: &'static str,
    /// Hidden fields the confirmed form carries again.
    fields: Vec<(&'static str, String)>,
    button: &'static str,
}

#[derive(Template)]
#[template(path = "enforcement_confirm.html")]
struct ConfirmPage {
    csrf: String,
    case: CaseDetail,
    heading: &'static str,
    question: String,
    action: &'static str,
    fields: Vec<(&'static str, String)>,
    button: &'static str,
}

async fn close(
    state: State,
    PageCaller(caller): PageCaller,
    id: web::Path<i64>,
    form: web::Form<CloseForm>,
) -> HttpResponse {
    let result: Result<HttpResponse, AppError> = async {
        check_csrf(&caller, &form.csrf)?;
        if form.confirm != "1" {
            let question = Question {
                heading: "确认结案",
                question: "结案后不能再添加证据，也不能更改处理决定。确定结案吗？".into(),
                action: "close",
                fields: Vec::new(),
                button: "确认结案",
            };
            return ask(&state, &caller, *id, question, CaseStatus::Decided).await;
        }
        service::cases::close(&state, &caller, *id).await?;
        Ok(see_other(&format!(
            "/enforcement/cases/{}?saved=closed",
            *id
        )))
    }
    .await;
    page_or_error(&caller, result)
}

/// The confirmation step of an action that cannot be undone, on a case in status `needs`
/// (refused as the action itself would be, before the question is asked).
async fn ask(
    state: &State,
    caller: &Caller,
    id: i64,
    q: Question,
    needs: CaseStatus,
) -> Result<HttpResponse, AppError> {
    service::cases::may_work(state, caller, id).await?;
    let case = service::cases::get(state, caller, id).await?;
    if case.case.state != needs {
        return Err(service::cases::not_allowed_in(case.case.state).into());
    }
    Ok(html(
        StatusCode::OK,
        ConfirmPage {
            csrf: csrf_token(caller),
            case,
            heading: q.heading,
            question: q.question,
            action: q.action,
            fields: q.fields,
            button: q.button,
        }
        .render(),
    ))
}
