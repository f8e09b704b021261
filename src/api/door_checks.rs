//! The police door-check queue: list, exports, results, referrals.

use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::door_check::Outcome;
use crate::domain::tip::{MAX_PHOTO_BYTES, PhotoError};
use crate::error::AppError;
use crate::http::State;
use crate::http::json::ApiJson;
use crate::service;
use crate::service::Caller;
use crate::service::assignment::AssignBody;
use crate::service::door_checks::QueueItemOut;

/// Registers the queue routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/door-checks", web::get().to(list))
        .route("/api/v1/door-checks.csv", web::get().to(list_csv))
        .route("/api/v1/door-checks.xlsx", web::get().to(list_xlsx))
        .route("/api/v1/door-checks/mine", web::get().to(mine))
        .route("/api/v1/door-checks/{id}/result", web::post().to(record))
        .route("/api/v1/door-checks/{id}/assign", web::post().to(assign))
        .route("/api/v1/referrals", web::get().to(referrals))
        .route(
            "/api/v1/units/{id}/sublandlord-phone",
            web::post().to(sublandlord_phone),
        )
        .route("/api/v1/visit-photos/{id}", web::get().to(visit_photo));
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

/// The queue as a download in `format` (`csv` or `xlsx`): the API's and the police pages'
/// exports.
pub async fn export(
    state: &State,
    caller: &Caller,
    q: &QueueQuery,
    format: &str,
) -> Result<HttpResponse, AppError> {
    let table = service::door_checks::export(state, caller, &q.asked()).await?;
    crate::http::download::table(table, format, "上门核查").await
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
    export(&state, &caller, &q, "csv").await
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
    export(&state, &caller, &q, "xlsx").await
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
    /// Ids of the unit's current occupants met in person.
    #[serde(default)]
    pub met_occupants: Vec<i64>,
    /// Other open checks of the same unit this visit also answers (one result for several
    /// reasons).
    #[serde(default)]
    pub also_close: Vec<i64>,
}

/// The checks after the result.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultOut {
    pub id: i64,
    pub status: String,
    pub outcome: String,
    /// Every check the visit answered, this one among them, by id.
    pub checks: Vec<i64>,
    /// The referral (and enforcement case) a violation opened.
    pub referral_id: Option<i64>,
}

/// Records a visit result: JSON, or `multipart/form-data` with the same fields
/// (`met_occupants` and `also_close` as repeated fields or comma lists) and an optional
/// evidence `photo` (JPEG or PNG, up to 8 MB, stored without its metadata).
#[utoipa::path(post, path = "/api/v1/door-checks/{id}/result", tag = "staff",
    params(("id" = i64, Path, description = "door check id"),
        ("Idempotency-Key" = Option<String>, Header,
            description = "a repeat with the same key gets the first answer (Idempotent-Replay: true)")),
    request_body = ResultRequest,
    responses((status = 200, body = ResultOut), (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "a check was closed meanwhile", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn record(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<web::Json<ResultOut>, AppError> {
    // Who may answer is settled before an upload is read.
    caller.require(crate::domain::role::Role::works_queue)?;
    let (body, photo) = if crate::http::multipart::is_multipart(&req) {
        result_form(&req, payload).await?
    } else {
        let json = ApiJson::<ResultRequest>::from_request(&req, &mut payload.into_inner()).await?;
        (json.value, None)
    };
    let visit = service::visits::Visit {
        outcome: body.outcome,
        note: body.note,
        met_occupants: body.met_occupants,
        photo,
    };
    let id = id.into_inner();
    let recorded =
        service::visits::record_result(&state, &caller, id, &body.also_close, visit).await?;
    let status = if recorded.outcome == Outcome::Unreachable {
        "open"
    } else {
        "closed"
    };
    Ok(web::Json(ResultOut {
        id,
        status: status.into(),
        outcome: recorded.outcome.as_str().into(),
        checks: recorded.check_ids,
        referral_id: recorded.referral_id,
    }))
}

/// A result sent as a multipart form with a photo.
async fn result_form(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(ResultRequest, Option<Vec<u8>>), AppError> {
    let form = crate::http::multipart::read_parts(
        req,
        payload,
        &["outcome", "note", "met_occupants", "also_close"],
        ("photo", MAX_PHOTO_BYTES, || {
            AppError::field(PhotoError::TooLarge.field())
        }),
        crate::http::multipart::MAX_LIST_PARTS,
    )
    .await?;
    let body = ResultRequest {
        outcome: form.fields.get("outcome").cloned().unwrap_or_default(),
        note: form.fields.get("note").cloned(),
        met_occupants: crate::http::multipart::ids(&form, "met_occupants")?,
        also_close: crate::http::multipart::ids(&form, "also_close")?,
    };
    Ok((body, form.file))
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

/// Gives an open check to a police officer of its community (`{"user_id": N}`), or back to
/// the queue (`{"user_id": null}`). 422 when the account is not such an officer, 409 once
/// the check is closed.
#[utoipa::path(post, path = "/api/v1/door-checks/{id}/assign", tag = "staff",
    params(("id" = i64, Path, description = "door check id"),
        ("Idempotency-Key" = Option<String>, Header,
            description = "a repeat with the same key gets the first answer (Idempotent-Replay: true)")),
    request_body = AssignBody,
    responses((status = 200), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn assign(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<AssignBody>,
) -> Result<HttpResponse, AppError> {
    let check = id.into_inner();
    service::assignment::assign(&state, &caller, check, &body.value).await?;
    Ok(
        HttpResponse::Ok()
            .json(serde_json::json!({"id": check, "assigned_to": body.value.user_id})),
    )
}

/// The caller's open checks in walking order: road, then 弄, 号 and 室 by number.
#[utoipa::path(get, path = "/api/v1/door-checks/mine", tag = "staff",
    responses((status = 200, body = QueuePage), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn mine(state: State, caller: Caller) -> Result<web::Json<QueuePage>, AppError> {
    let items = service::assignment::mine(&state, &caller).await?;
    let total = items.len() as i64;
    Ok(web::Json(QueuePage { items, total }))
}

/// Why the full phone number is needed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    /// 4 to 200 characters, kept in the audit log.
    pub reason: String,
}

/// The sublandlord's full phone number.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneOut {
    pub phone: String,
}

/// The full phone number of the sublandlord who lets a unit, for staff who work the queue
/// of its community (to call them from the door); audited with the reason first.
#[utoipa::path(post, path = "/api/v1/units/{id}/sublandlord-phone", tag = "staff",
    params(("id" = i64, Path, description = "unit id")),
    request_body = RevealRequest,
    responses((status = 200, body = PhoneOut), (status = 403, body = crate::error::ErrorBody),
        (status = 404, description = "no such unit in scope, or no sublandlord",
            body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn sublandlord_phone(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<RevealRequest>,
) -> Result<HttpResponse, AppError> {
    let phone =
        service::visits::sublandlord_phone(&state, &caller, *id, &body.value.reason).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(PhoneOut { phone }))
}

/// An evidence photo taken at a visit (JPEG, without metadata).
#[utoipa::path(get, path = "/api/v1/visit-photos/{id}", tag = "staff",
    params(("id" = i64, Path, description = "photo id")),
    responses((status = 200, content_type = "image/jpeg", description = "the photo"),
        (status = 404, description = "no such photo in scope, or purged",
            body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn visit_photo(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let bytes = service::visits::photo(&state, &caller, *id).await?;
    Ok(crate::http::download::private("image/jpeg", bytes))
}
