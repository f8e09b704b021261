//! Advance filings as staff and their filers see them: the list, and the approval or
//! rejection of a filing that waits because its flat's unit was not the filer's.

use actix_web::web;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;
use crate::http::State;
use crate::http::json::ApiJson;
use crate::http::query::paging;
use crate::service::Caller;
use crate::service::filings::{self, Approved, FilingPage, Rejected};

/// Registers the filing list and the review routes (filing itself is a sublandlord route).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/filings", web::get().to(list_filings))
        .route("/api/v1/filings/{id}/approve", web::post().to(approve))
        .route("/api/v1/filings/{id}/reject", web::post().to(reject));
}

/// Filters of the filing list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilingQuery {
    /// Staff: one community's filings.
    pub community: Option<String>,
    /// `filed`, `pending`, `approved` or `rejected`; all when absent.
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Filings, newest first: a sublandlord's own, or those of the caller's communities (police,
/// community staff, admin); `?status=pending` lists those waiting for a decision.
#[utoipa::path(get, path = "/api/v1/filings", tag = "sublandlords", params(FilingQuery),
    responses((status = 200, body = FilingPage), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_filings(
    state: State,
    caller: Caller,
    q: web::Query<FilingQuery>,
) -> Result<web::Json<FilingPage>, AppError> {
    let (offset, limit) = paging(q.page, q.per_page)?;
    let community = q.community.as_deref();
    let page = filings::list(
        &state,
        &caller,
        community,
        q.status.as_deref(),
        offset,
        limit,
    );
    Ok(web::Json(page.await?))
}

/// Approves a pending filing: the unit becomes the filer's, with the filing's terms.
#[utoipa::path(post, path = "/api/v1/filings/{id}/approve", tag = "staff",
    params(("id" = i64, Path, description = "filing id")),
    responses((status = 200, body = Approved), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<Approved>, AppError> {
    Ok(web::Json(filings::approve(&state, &caller, *id).await?))
}

/// Why a filing is rejected.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// 1–200 characters, shown to the filer.
    pub reason: String,
}

/// Rejects a pending filing with a reason; the unit stays as it was.
#[utoipa::path(post, path = "/api/v1/filings/{id}/reject", tag = "staff",
    params(("id" = i64, Path, description = "filing id")),
    request_body = RejectRequest,
    responses((status = 200, body = Rejected), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reject(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<RejectRequest>,
) -> Result<web::Json<Rejected>, AppError> {
    Ok(web::Json(
        filings::reject(&state, &caller, *id, &body.value.reason).await?,
    ))
}
