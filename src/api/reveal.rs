//! Revealing an occupant's full document number over the API.

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;
use crate::http::State;
use crate::http::json::ApiJson;
use crate::service;
use crate::service::Caller;

/// Registers the reveal route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/occupants/{id}/reveal", web::post().to(reveal));
}

/// Why the number is needed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    /// The reason, 4 to 200 characters (e.g. the case or check it is for).
    pub reason: String,
}

/// The full document number.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revealed {
    pub id_number: String,
}

/// Shows one occupant's full document number (admin, police in scope); audited with the
/// reason.
#[utoipa::path(post, path = "/api/v1/occupants/{id}/reveal", tag = "staff",
    params(("id" = i64, Path, description = "occupant id")),
    request_body = RevealRequest,
    responses((status = 200, body = Revealed), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reveal(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<RevealRequest>,
) -> Result<web::Json<Revealed>, AppError> {
    let id_number =
        service::reveal::document_number(&state, &caller, *id, &body.value.reason).await?;
    Ok(web::Json(Revealed { id_number }))
}
