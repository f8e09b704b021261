//! The audit log for admins over the API.

use actix_web::web;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::AppError;
use crate::http::State;
use crate::service;
use crate::service::Caller;
pub use crate::service::audit::{AuditItem, AuditPage};

/// Registers the audit route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/audit", web::get().to(list));
}

/// Paging of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The audit log, newest first (admin only).
#[utoipa::path(get, path = "/api/v1/audit", tag = "staff", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    state: State,
    caller: Caller,
    q: web::Query<AuditQuery>,
) -> Result<web::Json<AuditPage>, AppError> {
    let page = service::audit::page(&state, &caller, q.page, q.per_page).await?;
    Ok(web::Json(page))
}
