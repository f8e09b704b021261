//! The police door-check queue: list, exports, results, referrals.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::State;
use super::auth::{Caller, store_error};
use super::json::ApiJson;
use super::units::rfc3339;
use crate::domain::FieldError;
use crate::domain::door_check::{Outcome, Reason, Status, days_since};
use crate::domain::registration::new_receipt;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::export::{self, Columns, Table};
use crate::store;
use crate::store::door_checks::{self, Order, QueueFilter, VisitResult};

/// Registers the queue routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/door-checks", web::get().to(list))
        .route("/api/v1/door-checks.csv", web::get().to(list_csv))
        .route("/api/v1/door-checks.xlsx", web::get().to(list_xlsx))
        .route("/api/v1/door-checks/{id}/result", web::post().to(record))
        .route("/api/v1/referrals", web::get().to(referrals));
}

/// Roles that work the queue.
pub fn works_queue(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Police | Role::Community)
}

/// Query of the queue and its exports.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// Community name; default: all of the caller's.
    pub community: Option<String>,
    /// `open` (default) or `closed`.
    pub status: Option<String>,
    /// `no_upload`, `tip`, `filing_mismatch`, `overcrowding` or `manual`.
    pub reason: Option<String>,
    /// `urgency` (most overdue first, default) or `address` (walking order).
    pub sort: Option<String>,
    /// 1-based page (default 1).
    pub page: Option<i64>,
    /// Items per page, 1–200 (default 50).
    pub per_page: Option<i64>,
}

/// One line of the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItemOut {
    pub id: i64,
    pub unit_id: i64,
    pub address: String,
    pub community: String,
    pub reason: String,
    pub status: String,
    pub outcome: Option<String>,
    pub created_at: String,
    pub closed_at: Option<String>,
    /// Whole days since the unit's last upload (or since it was put under watch).
    pub days_since_upload: i64,
    /// Unreachable visits so far.
    pub attempts: i64,
}

/// A page of the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuePage {
    pub items: Vec<QueueItemOut>,
    pub total: i64,
}

/// The caller's filter from a query, or 422/404 naming what is wrong.
pub async fn filter_for(
    state: &State,
    caller: &Caller,
    q: &QueueQuery,
) -> Result<QueueFilter, AppError> {
    caller.require(works_queue)?;
    let status = match q.status.as_deref().unwrap_or("open") {
        "open" => Status::Open,
        "closed" => Status::Closed,
        _ => return Err(invalid("status")),
    };
    let reason = match q.reason.as_deref().filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => Some(Reason::parse(r).ok_or_else(|| invalid("reason"))?),
    };
    let order = match q.sort.as_deref().unwrap_or("urgency") {
        "urgency" => Order::Urgency,
        "address" => Order::Address,
        _ => return Err(invalid("sort")),
    };
    let scope = caller.scope_in(state, q.community.as_deref()).await?;
    Ok(QueueFilter {
        scope,
        status,
        reason,
        order,
    })
}

pub use super::query::{MAX_PAGE, invalid, page_number, paging};

/// Turns stored rows into answers as of `now_ms`.
pub fn items_out(items: Vec<door_checks::QueueItem>, now_ms: i64) -> Vec<QueueItemOut> {
    let now = store::instant(now_ms);
    items
        .into_iter()
        .map(|i| QueueItemOut {
            id: i.id,
            unit_id: i.unit_id,
            address: i.address,
            community: i.community,
            reason: i.reason.as_str().into(),
            status: i.status.as_str().into(),
            outcome: i.outcome.map(|o| o.as_str().into()),
            created_at: rfc3339(i.opened_at),
            closed_at: i.closed_at.map(rfc3339),
            days_since_upload: days_since(store::instant(i.clock_from), now),
            attempts: i.attempts,
        })
        .collect()
}

/// The door-check queue, most overdue first.
#[utoipa::path(get, path = "/api/v1/door-checks", tag = "staff", params(QueueQuery),
    responses((status = 200, body = QueuePage), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    state: State,
    caller: Caller,
    q: web::Query<QueueQuery>,
) -> Result<web::Json<QueuePage>, AppError> {
    let filter = filter_for(&state, &caller, &q).await?;
    let (offset, limit) = paging(q.page, q.per_page)?;
    let now = store::millis(Utc::now());
    let (items, total) = door_checks::list(&state.store, &filter, now, offset, limit)
        .await
        .map_err(store_error)?;
    Ok(web::Json(QueuePage {
        items: items_out(items, now),
        total,
    }))
}

/// Most rows one export holds; a larger list must be narrowed by community or reason.
const EXPORT_LIMIT: i64 = 100_000;

pub async fn export_table(
    state: &State,
    caller: &Caller,
    q: &QueueQuery,
) -> Result<Table, AppError> {
    let filter = filter_for(state, caller, q).await?;
    let now = store::millis(Utc::now());
    let (items, _) = door_checks::list(&state.store, &filter, now, 0, EXPORT_LIMIT)
        .await
        .map_err(store_error)?;
    tracing::info!(
        user_id = caller.user_id,
        rows = items.len(),
        "door-check export"
    );
    crate::store::audit::append(
        &state.store,
        crate::store::audit::Entry {
            user_id: Some(caller.user_id),
            action: "export.door_checks".into(),
            subject: q.community.clone().map(|c| format!("community:{c}")),
            detail: Some(
                serde_json::json!({"rows": items.len(), "status": filter.status.as_str()})
                    .to_string(),
            ),
            reason: None,
        },
        now,
    )
    .await
    .map_err(store_error)?;
    let now = store::instant(now);
    let columns = Columns::<door_checks::QueueItem>::new()
        .integer("编号", |i| i.id)
        .text("社区", |i| i.community.clone())
        .text("地址", |i| i.address.clone())
        .text("原因", |i| i.reason.label_zh().into())
        .text("状态", |i| i.status.as_str().into())
        .text("结果", |i| {
            i.outcome.map(|o| o.as_str().into()).unwrap_or_default()
        })
        .date_time("发起时间", |i| store::instant(i.opened_at))
        .integer("未上传天数", |i| {
            days_since(store::instant(i.clock_from), now)
        })
        .integer("未遇次数", |i| i.attempts);
    Ok(columns.table(&items, state.settings.tz))
}

fn download(body: Vec<u8>, content_type: &str, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(body)
}

/// A table as a download in `format` (`csv` or `xlsx`): the one path behind the API's and
/// the police pages' exports.
pub async fn export_response(table: Table, format: &str) -> Result<HttpResponse, AppError> {
    match format {
        "csv" => Ok(download(
            export::csv(&table),
            "text/csv; charset=utf-8",
            "door-checks.csv",
        )),
        "xlsx" => {
            let bytes = web::block(move || export::xlsx("上门核查", &table))
                .await
                .map_err(|e| anyhow::anyhow!("export task: {e}"))??;
            Ok(download(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "door-checks.xlsx",
            ))
        }
        _ => Err(AppError::NotFound),
    }
}

/// The queue as CSV (UTF-8 with BOM).
#[utoipa::path(get, path = "/api/v1/door-checks.csv", tag = "staff", params(QueueQuery),
    responses((status = 200, content_type = "text/csv", body = String)),
    security(("bearer" = [])))]
pub async fn list_csv(
    state: State,
    caller: Caller,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    export_response(export_table(&state, &caller, &q).await?, "csv").await
}

/// The queue as XLSX.
#[utoipa::path(get, path = "/api/v1/door-checks.xlsx", tag = "staff", params(QueueQuery),
    responses((status = 200,
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        body = Vec<u8>)),
    security(("bearer" = [])))]
pub async fn list_xlsx(
    state: State,
    caller: Caller,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    export_response(export_table(&state, &caller, &q).await?, "xlsx").await
}

/// What an officer found.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultRequest {
    /// `verified`, `vacant`, `violation` or `unreachable`.
    pub outcome: String,
    /// What the officer saw (required for `violation`).
    #[serde(default)]
    pub note: Option<String>,
    /// On `verified`: ids of the current occupants met in person.
    #[serde(default)]
    pub met_occupants: Vec<i64>,
}

/// The check after the result.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultOut {
    pub id: i64,
    pub status: String,
    pub outcome: String,
}

const MAX_NOTE_CHARS: usize = 500;

/// Loads a check within the caller's scope, or 404.
pub async fn visible_check(
    state: &State,
    caller: &Caller,
    id: i64,
) -> Result<door_checks::DoorCheck, AppError> {
    caller.require(works_queue)?;
    door_checks::get(&state.store, id)
        .await
        .map_err(store_error)?
        .filter(|c| caller.sees(c.community_id))
        .ok_or(AppError::NotFound)
}

/// Checks a result request into a visit.
pub fn parse_result(
    req: ResultRequest,
    caller: &Caller,
    check_id: i64,
    today: chrono::NaiveDate,
) -> Result<VisitResult, AppError> {
    let outcome = Outcome::parse(&req.outcome).ok_or_else(|| invalid("outcome"))?;
    let note = req
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(AppError::field(FieldError::new(
            "note",
            "too_long",
            "备注最多 500 字",
            "At most 500 characters",
        )));
    }
    if outcome == Outcome::Violation && note.is_none() {
        return Err(AppError::field(FieldError::new(
            "note",
            "required",
            "发现违规时请写明情况",
            "Describe the violation",
        )));
    }
    Ok(VisitResult {
        check_id,
        user_id: caller.user_id,
        outcome,
        note,
        met_occupants: req.met_occupants,
        receipt: new_receipt(today),
    })
}

/// Records a visit result.
#[utoipa::path(post, path = "/api/v1/door-checks/{id}/result", tag = "staff",
    params(("id" = i64, Path, description = "door check id")),
    request_body = ResultRequest,
    responses((status = 200, body = ResultOut), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn record(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<ResultRequest>,
) -> Result<web::Json<ResultOut>, AppError> {
    let check = visible_check(&state, &caller, id.into_inner()).await?;
    let visit = parse_result(body.value, &caller, check.id, state.today())?;
    let outcome = visit.outcome;
    door_checks::record_result(&state.store, visit, store::millis(Utc::now()))
        .await
        .map_err(store_error)?
        .map_err(|_| AppError::Conflict("该核查已完成".into()))?;
    tracing::info!(
        check = check.id,
        by = caller.user_id,
        outcome = outcome.as_str(),
        "door check result"
    );
    let status = if outcome == Outcome::Unreachable {
        "open"
    } else {
        "closed"
    };
    Ok(web::Json(ResultOut {
        id: check.id,
        status: status.into(),
        outcome: outcome.as_str().into(),
    }))
}

/// An open referral.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralOut {
    pub id: i64,
    pub door_check_id: i64,
    pub unit_id: i64,
    pub address: String,
    pub community: String,
    pub note: Option<String>,
    pub created_at: String,
}

/// Open referrals from door checks, for the law-enforcement team.
#[utoipa::path(get, path = "/api/v1/referrals", tag = "staff",
    responses((status = 200, body = Vec<ReferralOut>)),
    security(("bearer" = [])))]
pub async fn referrals(
    state: State,
    caller: Caller,
) -> Result<web::Json<Vec<ReferralOut>>, AppError> {
    caller.require(|r| matches!(r, Role::Admin | Role::Enforcement | Role::Police))?;
    let rows = door_checks::referrals(&state.store, caller.scope(), 500)
        .await
        .map_err(store_error)?;
    Ok(web::Json(
        rows.into_iter()
            .map(|r| ReferralOut {
                id: r.id,
                door_check_id: r.door_check_id,
                unit_id: r.unit_id,
                address: r.address,
                community: r.community,
                note: r.note,
                created_at: rfc3339(r.created_at),
            })
            .collect(),
    ))
}
