//! Enforcement cases (执法案件): the team's list and export, a case with its evidence, and
//! the team's actions on it (evidence, decision, closing).

use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::case::DecisionInput;
use crate::domain::tip::{self, MAX_PHOTO_BYTES};
use crate::error::AppError;
use crate::http::State;
use crate::http::json::ApiJson;
use crate::service::cases::{CaseDetail, CaseItem, CaseQuery};
use crate::service::{self, Caller};

/// Registers the case routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/cases", web::get().to(list))
        .route("/api/v1/cases.xlsx", web::get().to(list_xlsx))
        .route("/api/v1/cases/{id}", web::get().to(get))
        .route(
            "/api/v1/cases/{id}/evidence/{eid}/photo",
            web::get().to(photo),
        )
        .route("/api/v1/cases/{id}/evidence", web::post().to(add_evidence))
        .route("/api/v1/cases/{id}/decision", web::post().to(decide))
        .route("/api/v1/cases/{id}/close", web::post().to(close));
}

/// Query of the list and its export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `open`, `decided`, `closed`, or blank for all.
    pub status: Option<String>,
    /// Community name; default: all of the caller's.
    pub community: Option<String>,
    /// 1-based page (default 1).
    pub page: Option<i64>,
    /// Items per page, 1–200 (default 50).
    pub per_page: Option<i64>,
}

impl ListQuery {
    fn asked(&self) -> CaseQuery<'_> {
        CaseQuery {
            status: self.status.as_deref(),
            community: self.community.as_deref(),
        }
    }
}

/// A page of cases.
#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseItem>,
    pub total: i64,
}

/// Enforcement cases in the caller's communities, newest first (enforcement, police and
/// admin).
#[utoipa::path(get, path = "/api/v1/cases", tag = "staff", params(ListQuery),
    responses((status = 200, body = CasePage), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    state: State,
    caller: Caller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let (items, total) =
        service::cases::list(&state, &caller, &q.asked(), q.page, q.per_page).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(CasePage { items, total }))
}

/// The list as XLSX (labels, with the codes in hidden columns); audited.
#[utoipa::path(get, path = "/api/v1/cases.xlsx", tag = "staff", params(ListQuery),
    responses((status = 200,
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        body = Vec<u8>), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_xlsx(
    state: State,
    caller: Caller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let table = service::cases::export(&state, &caller, &q.asked()).await?;
    crate::http::download::table(table, "xlsx", "执法案件").await
}

/// A case: the unit, the sublandlord (masked), the officer's note, and the evidence.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "staff",
    params(("id" = i64, Path, description = "case id")),
    responses((status = 200, body = CaseDetail), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let detail = service::cases::get(&state, &caller, *id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(detail))
}

/// The photo of a piece of evidence (JPEG, re-encoded without metadata).
#[utoipa::path(get, path = "/api/v1/cases/{id}/evidence/{eid}/photo", tag = "staff",
    params(("id" = i64, Path, description = "case id"),
        ("eid" = i64, Path, description = "evidence id")),
    responses((status = 200, content_type = "image/jpeg"),
        (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn photo(
    state: State,
    caller: Caller,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (id, eid) = path.into_inner();
    let bytes = service::cases::photo(&state, &caller, id, eid).await?;
    Ok(crate::http::download::private("image/jpeg", bytes))
}

/// Evidence as JSON: a note (a photo needs `multipart/form-data`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceNote {
    /// 1–500 characters.
    pub note: String,
}

/// The stored evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceCreated {
    pub id: i64,
}

/// Adds evidence to a case that is not closed (enforcement): `multipart/form-data` with a
/// `photo` file (JPEG or PNG, up to 8 MB, stored without its metadata) and/or a `note`
/// field, or JSON `{"note"}`. At most 30 items a case (409 beyond).
#[utoipa::path(post, path = "/api/v1/cases/{id}/evidence", tag = "staff",
    params(("id" = i64, Path, description = "case id")),
    request_body = EvidenceNote,
    responses((status = 201, body = EvidenceCreated),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_evidence(
    state: State,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    // Refused before an upload is read.
    service::cases::may_work(&state, &caller, *id).await?;
    let (note, photo) = if crate::http::multipart::is_multipart(&req) {
        let mut form = crate::http::multipart::read(
            &req,
            payload,
            &["note"],
            "photo",
            MAX_PHOTO_BYTES,
            || AppError::field(tip::PhotoError::TooLarge.field()),
        )
        .await?;
        (form.fields.remove("note"), form.file)
    } else {
        let json = ApiJson::<EvidenceNote>::from_request(&req, &mut payload.into_inner()).await?;
        (Some(json.value.note), None)
    };
    let evidence = service::cases::add_evidence(&state, &caller, *id, note, photo).await?;
    Ok(HttpResponse::Created().json(EvidenceCreated { id: evidence }))
}

/// A decision: a violation with its penalty, decision number and date, or
/// `{"violation": "none"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `group_rental`, `daily_rental`, `illegal_wiring`, `structural_alteration`,
    /// `garage_dwelling`, `other`, or `none` (no violation: the other fields absent or null).
    pub violation: Option<String>,
    /// Whole yuan, 0–1,000,000.
    pub penalty_yuan: Option<i64>,
    /// The decision's number (决定书文号), 1–64 characters.
    pub decision_number: Option<String>,
    /// `YYYY-MM-DD`, not in the future.
    pub decided_on: Option<String>,
}

/// Records the decision of an open case (enforcement); 409 once decided.
#[utoipa::path(post, path = "/api/v1/cases/{id}/decision", tag = "staff",
    params(("id" = i64, Path, description = "case id")),
    request_body = DecisionRequest,
    responses((status = 200), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn decide(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<DecisionRequest>,
) -> Result<HttpResponse, AppError> {
    let b = body.value;
    let input = DecisionInput {
        violation: b.violation,
        penalty_yuan: b.penalty_yuan,
        decision_number: b.decision_number,
        decided_on: b.decided_on,
    };
    service::cases::decide(&state, &caller, *id, input).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"id": *id, "status": "decided"})))
}

/// Closes a decided case (enforcement); 409 while it is still open.
#[utoipa::path(post, path = "/api/v1/cases/{id}/close", tag = "staff",
    params(("id" = i64, Path, description = "case id")),
    responses((status = 200), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn close(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    service::cases::close(&state, &caller, *id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"id": *id, "status": "closed"})))
}
