//! The audit log for admins.

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::State;
use super::auth::{Caller, store_error};
use super::door_checks::paging;
use super::units::rfc3339;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::store::audit;

/// Registers the audit route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/audit", web::get().to(list));
}

/// Paging of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// One audit row.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditItem {
    pub id: i64,
    pub at: String,
    /// The acting account; none for the service itself.
    pub user_id: Option<i64>,
    pub action: String,
    pub subject: Option<String>,
    /// Details (JSON text).
    pub detail: Option<String>,
    pub reason: Option<String>,
    /// This row's link in the chain (hex SHA-256).
    pub hash: String,
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditItem>,
    pub total: i64,
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
    caller.require(|r| r == Role::Admin)?;
    let (offset, limit) = paging(q.page, q.per_page)?;
    let (rows, total) = audit::list(&state.store, offset, limit)
        .await
        .map_err(store_error)?;
    Ok(web::Json(AuditPage {
        items: rows
            .into_iter()
            .map(|r| AuditItem {
                id: r.id,
                at: rfc3339(r.at),
                user_id: r.user_id,
                action: r.action,
                subject: r.subject,
                detail: r.detail,
                reason: r.reason,
                hash: r.hash.iter().map(|b| format!("{b:02x}")).collect(),
            })
            .collect(),
        total,
    }))
}
