//! The monthly report for download (admins): the copy the scheduler wrote on the 24th, or,
//! for a month without one, a report made from the current records.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

use super::State;
use super::auth::{Caller, store_error};
use crate::domain::month::Month;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::store::{self, audit, reports};

/// Registers the report routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/reports", web::get().to(list_reports))
        .route(
            "/api/v1/reports/monthly/{month}.xlsx",
            web::get().to(monthly_report),
        );
}

/// A stored report.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredReport {
    /// `YYYY-MM`.
    pub month: String,
    pub created_at: String,
    pub url: String,
}

/// Reports written by the scheduler (or on request), newest first.
#[utoipa::path(get, path = "/api/v1/reports", tag = "staff",
    responses((status = 200, body = [StoredReport]), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_reports(
    state: State,
    caller: Caller,
) -> Result<web::Json<Vec<StoredReport>>, AppError> {
    Ok(web::Json(stored(&state, &caller).await?))
}

/// The stored reports a caller may download.
pub async fn stored(state: &State, caller: &Caller) -> Result<Vec<StoredReport>, AppError> {
    caller.require(Role::is_admin)?;
    let rows = reports::list(&state.store).await.map_err(store_error)?;
    Ok(rows
        .into_iter()
        .map(|(month, at)| StoredReport {
            url: format!("/api/v1/reports/monthly/{month}.xlsx"),
            month,
            created_at: store::instant(at).to_rfc3339(),
        })
        .collect())
}

/// The monthly report as XLSX: a summary sheet and one sheet per community.
#[utoipa::path(get, path = "/api/v1/reports/monthly/{month}.xlsx", tag = "staff",
    params(("month" = String, Path, description = "YYYY-MM")),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn monthly_report(
    state: State,
    caller: Caller,
    month: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    download(&state, &caller, &month).await
}

/// The download of the API and the console; audited as an export.
pub async fn download(
    state: &State,
    caller: &Caller,
    month: &str,
) -> Result<HttpResponse, AppError> {
    caller.require(Role::is_admin)?;
    let month = Month::parse(month).ok_or_else(|| super::door_checks::invalid("month"))?;
    let name = month.to_string();
    let kept = reports::get(&state.store, &name)
        .await
        .map_err(store_error)?;
    let from_scheduler = kept.is_some();
    let xlsx = match kept {
        Some(bytes) => bytes,
        None => crate::report::monthly(
            &state.store,
            month,
            state.settings.tz,
            state.settings.overdue_days,
        )
        .await
        .map_err(AppError::Internal)?,
    };
    let entry = audit::Entry {
        user_id: Some(caller.user_id),
        action: "export.monthly_report".into(),
        subject: Some(format!("report:{name}")),
        detail: Some(serde_json::json!({ "stored": from_scheduler }).to_string()),
        reason: None,
    };
    audit::append(&state.store, entry, store::millis(Utc::now()))
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"renfang-{name}.xlsx\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(xlsx))
}
