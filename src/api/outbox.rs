//! The outbox for admins over the API: counts per destination, failing messages, retry.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::http::State;
use crate::service;
use crate::service::Caller;
pub use crate::service::outbox::OutboxOverview;

/// Registers the outbox routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/outbox", web::get().to(overview))
        .route("/api/v1/outbox/{id}/retry", web::post().to(retry));
}

/// Messages to other systems per destination and state, with the newest failing ones
/// (admin only).
#[utoipa::path(get, path = "/api/v1/outbox", tag = "staff",
    responses((status = 200, body = OutboxOverview), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn overview(state: State, caller: Caller) -> Result<web::Json<OutboxOverview>, AppError> {
    Ok(web::Json(service::outbox::overview(&state, &caller).await?))
}

/// What a retry touched.
#[derive(Debug, Serialize, ToSchema)]
pub struct Retried {
    /// Messages made due now (0: the message was neither failing nor dead).
    pub messages: u64,
}

/// Makes a failing or dead message due now; a dead one is pending again with its attempts
/// kept (admin only; audited).
#[utoipa::path(post, path = "/api/v1/outbox/{id}/retry", tag = "staff",
    params(("id" = i64, Path, description = "The message")),
    responses((status = 200, body = Retried), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn retry(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let messages = service::outbox::retry_message(&state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(Retried { messages }))
}
