//! The police door-check queue: list, exports, results, referrals.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::State;
use super::auth::store_error;
use super::json::ApiJson;
use crate::domain::door_check::{Outcome, days_since};
use crate::error::AppError;
use crate::export::{self, Columns, Table};
use crate::service;
use crate::service::Caller;
pub use crate::service::door_checks::{QueueItemOut, items_out};
use crate::store;
use crate::store::door_checks::{self, QueueFilter};

/// Registers the queue routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/door-checks", web::get().to(list))
        .route("/api/v1/door-checks.csv", web::get().to(list_csv))
        .route("/api/v1/door-checks.xlsx", web::get().to(list_xlsx))
        .route("/api/v1/door-checks/{id}/result", web::post().to(record))
        .route("/api/v1/referrals", web::get().to(referrals));
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

/// A page of the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuePage {
    pub items: Vec<QueueItemOut>,
    pub total: i64,
}

impl QueueQuery {
    /// The query as the service takes it.
    fn asked(&self) -> service::door_checks::QueueQuery<'_> {
        service::door_checks::QueueQuery {
            community: self.community.as_deref(),
            status: self.status.as_deref(),
            reason: self.reason.as_deref(),
            sort: self.sort.as_deref(),
        }
    }
}

/// The caller's filter from a query, or 422/404 naming what is wrong.
pub async fn filter_for(
    state: &State,
    caller: &Caller,
    q: &QueueQuery,
) -> Result<QueueFilter, AppError> {
    Ok(service::door_checks::filter(state, caller, &q.asked()).await?)
}

pub use super::query::{MAX_PAGE, invalid, page_number, paging};

/// The door-check queue, most overdue first.
#[utoipa::path(get, path = "/api/v1/door-checks", tag = "staff", params(QueueQuery),
    responses((status = 200, body = QueuePage), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    state: State,
    caller: Caller,
    q: web::Query<QueueQuery>,
) -> Result<web::Json<QueuePage>, AppError> {
    let (items, total) =
        service::door_checks::list(&state, &caller, &q.asked(), q.page, q.per_page).await?;
    Ok(web::Json(QueuePage { items, total }))
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
    let req = body.value;
    let visit = service::door_checks::Visit {
        outcome: req.outcome,
        note: req.note,
        met_occupants: req.met_occupants,
    };
    let recorded =
        service::door_checks::record_result(&state, &caller, id.into_inner(), visit).await?;
    let status = if recorded.outcome == Outcome::Unreachable {
        "open"
    } else {
        "closed"
    };
    Ok(web::Json(ResultOut {
        id: recorded.check_id,
        status: status.into(),
        outcome: recorded.outcome.as_str().into(),
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
    let rows = service::door_checks::referrals(&state, &caller).await?;
    Ok(web::Json(
        rows.into_iter()
            .map(|r| ReferralOut {
                id: r.id,
                door_check_id: r.door_check_id,
                unit_id: r.unit_id,
                address: r.address,
                community: r.community,
                note: r.note,
                created_at: service::rfc3339(r.created_at),
            })
            .collect(),
    ))
}
