//! The monthly report for download over the API (admins).

use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::http::State;
use crate::http::download;
use crate::service;
use crate::service::Caller;
pub use crate::service::reports::StoredReport;

/// Registers the report routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/reports", web::get().to(list_reports))
        .route(
            "/api/v1/reports/monthly/{month}.xlsx",
            web::get().to(monthly_report),
        );
}

/// Reports written by the scheduler (or on request), newest first.
#[utoipa::path(get, path = "/api/v1/reports", tag = "staff",
    responses((status = 200, body = [StoredReport]), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_reports(
    state: State,
    caller: Caller,
) -> Result<web::Json<Vec<StoredReport>>, AppError> {
    Ok(web::Json(service::reports::stored(&state, &caller).await?))
}

/// The monthly report as XLSX: a summary sheet and one sheet per community; audited as an
/// export.
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
    let report = service::reports::monthly(&state, &caller, &month).await?;
    Ok(download::monthly_report(report))
}
