//! Bulk unit import over the API: the CSV file is the request body.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::domain::import::MAX_BYTES;
use crate::error::AppError;
use crate::http::State;
use crate::service;
use crate::service::Caller;
pub use crate::service::imports::{ImportReport, RejectedRow};

/// Registers the import route, with a body limit that fits a survey file.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/units/import")
            .app_data(web::PayloadConfig::new(MAX_BYTES))
            .route(web::post().to(import_units)),
    )
    .route("/api/v1/import/template.csv", web::get().to(template));
}

/// The template of an import file: CSV (UTF-8 with BOM), the header in Chinese, one sample
/// row in the caller's first community, and lines starting with `#` that explain the allowed
/// values (the import skips them). The template imports as it is.
#[utoipa::path(get, path = "/api/v1/import/template.csv", tag = "staff",
    responses((status = 200, content_type = "text/csv", body = String),
        (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn template(state: State, caller: Caller) -> Result<HttpResponse, AppError> {
    let csv = service::imports::template(&state, &caller).await?;
    Ok(crate::http::download::import_template(csv))
}

/// `?dry_run=true` checks the file and writes nothing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    #[serde(default)]
    pub dry_run: bool,
}

/// Imports units from a CSV body (UTF-8 or GBK; columns 社区, 地址, 间数, 类型, 出租方式 and
/// optionally 面积). Units already present are left unchanged, so a file may be sent again.
#[utoipa::path(post, path = "/api/v1/units/import", tag = "staff",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport),
        (status = 422, body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn import_units(
    state: State,
    caller: Caller,
    query: web::Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let report = service::imports::units(&state, &caller, &body, query.dry_run).await?;
    Ok(HttpResponse::Ok().json(report))
}
