//! The tenant's own record through their self-service link, and the corrections they ask
//! for as staff list them.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;
use crate::http::State;
use crate::http::json::ApiJson;
use crate::service::Caller;
use crate::service::self_service::{self, CorrectionOut, MeConfirmed, MeOut};

/// Registers the self-service API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/me/{token}", web::get().to(me))
        .route("/api/v1/me/{token}/confirm", web::post().to(confirm))
        .route(
            "/api/v1/me/{token}/occupants/{occupant}/move-out",
            web::post().to(move_out),
        )
        .route("/api/v1/me/{token}/corrections", web::post().to(correction))
        .route("/api/v1/corrections", web::get().to(corrections));
}

/// The tenant's own registration: the unit, its people (masked) and who looked at their
/// data. The token is the end of `self_service_url`; anything else is 404.
#[utoipa::path(get, path = "/api/v1/me/{token}", tag = "public",
    params(("token" = String, Path, description = "the end of a registration's self_service_url")),
    responses((status = 200, body = MeOut), (status = 404, body = crate::error::ErrorBody)))]
pub async fn me(state: State, token: web::Path<String>) -> Result<web::Json<MeOut>, AppError> {
    Ok(web::Json(self_service::view(&state, &token).await?))
}

/// "Nobody has changed": counts as an upload and restarts the unit's clock; 409 when none
/// of the registration's people lives there any more.
#[utoipa::path(post, path = "/api/v1/me/{token}/confirm", tag = "public",
    params(("token" = String, Path, description = "the end of a registration's self_service_url")),
    responses((status = 200, body = MeConfirmed), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn confirm(
    state: State,
    token: web::Path<String>,
) -> Result<web::Json<MeConfirmed>, AppError> {
    Ok(web::Json(self_service::confirm(&state, &token).await?))
}

/// A move-out date.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeMoveOut {
    /// `YYYY-MM-DD`, not after today.
    pub moved_out_on: String,
}

/// Records that one of the registration's people moved out.
#[utoipa::path(post, path = "/api/v1/me/{token}/occupants/{occupant}/move-out", tag = "public",
    params(("token" = String, Path, description = "the end of a registration's self_service_url"),
        ("occupant" = i64, Path, description = "an occupant id of the registration")),
    request_body = MeMoveOut,
    responses((status = 200), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn move_out(
    state: State,
    path: web::Path<(String, i64)>,
    body: ApiJson<MeMoveOut>,
) -> Result<HttpResponse, AppError> {
    let (token, occupant) = path.into_inner();
    self_service::move_out(&state, &token, occupant, &body.value.moved_out_on).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "moved_out": occupant })))
}

/// What should be corrected.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeCorrection {
    /// 1–500 characters.
    pub note: String,
}

/// Sends the unit's community a note asking for a correction; 409 while five are waiting.
#[utoipa::path(post, path = "/api/v1/me/{token}/corrections", tag = "public",
    params(("token" = String, Path, description = "the end of a registration's self_service_url")),
    request_body = MeCorrection,
    responses((status = 201), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn correction(
    state: State,
    token: web::Path<String>,
    body: ApiJson<MeCorrection>,
) -> Result<HttpResponse, AppError> {
    self_service::ask_correction(&state, &token, &body.value.note).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "status": "received" })))
}

/// Corrections waiting.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionList {
    pub items: Vec<CorrectionOut>,
}

/// The corrections tenants asked for in the caller's communities, oldest first (staff who
/// manage units).
#[utoipa::path(get, path = "/api/v1/corrections", tag = "staff",
    responses((status = 200, body = CorrectionList), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn corrections(
    state: State,
    caller: Caller,
) -> Result<web::Json<CorrectionList>, AppError> {
    Ok(web::Json(CorrectionList {
        items: self_service::corrections(&state, &caller).await?,
    }))
}
