//! The audit log for admins.

use std::collections::HashMap;

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::State;
use super::auth::{Caller, store_error};
use super::door_checks::paging;
use super::units::rfc3339;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::store::{audit, users};

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

/// One audit row.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditItem {
    pub id: i64,
    pub at: String,
    /// The acting account; none for the service itself.
    pub user_id: Option<i64>,
    /// Its login name, for people reading the log.
    pub username: Option<String>,
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
    Ok(web::Json(
        audit_page(&state, &caller, q.page, q.per_page).await?,
    ))
}

/// A page of the log for an admin (the API and the console).
pub async fn audit_page(
    state: &State,
    caller: &Caller,
    page: Option<i64>,
    per_page: Option<i64>,
) -> Result<AuditPage, AppError> {
    caller.require(Role::is_admin)?;
    let (offset, limit) = paging(page, per_page)?;
    let (rows, total) = audit::list(&state.store, offset, limit)
        .await
        .map_err(store_error)?;
    let mut names: HashMap<i64, Option<String>> = HashMap::new();
    for id in rows.iter().filter_map(|r| r.user_id) {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(id) {
            let user = users::get(&state.store, id).await.map_err(store_error)?;
            slot.insert(user.map(|u| u.username));
        }
    }
    Ok(AuditPage {
        items: rows
            .into_iter()
            .map(|r| AuditItem {
                id: r.id,
                at: rfc3339(r.at),
                user_id: r.user_id,
                username: r.user_id.and_then(|id| names.get(&id).cloned().flatten()),
                action: r.action,
                subject: r.subject,
                detail: r.detail,
                reason: r.reason,
                hash: r.hash.iter().map(|b| format!("{b:02x}")).collect(),
            })
            .collect(),
        total,
    })
}
