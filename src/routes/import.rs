//! Bulk unit import over the API: the CSV file is the request body.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::State;
use super::auth::{Caller, store_error};
use crate::domain::import::MAX_BYTES;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::store::import::{self, ImportError, Report};

/// Registers the import route, with a body limit that fits a survey file.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/units/import")
            .app_data(web::PayloadConfig::new(MAX_BYTES))
            .route(web::post().to(import_units)),
    );
}

/// `?dry_run=true` checks the file and writes nothing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    #[serde(default)]
    pub dry_run: bool,
}

/// One rejected row of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedRow {
    /// Line in the file; the header is line 1.
    pub line: u64,
    /// Why, in Chinese.
    pub reason: String,
}

/// What an import did (or would do, on a dry run).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Valid rows: created plus already present.
    pub accepted: usize,
    pub created: usize,
    /// Rows naming a unit that already exists; left unchanged.
    pub existing: usize,
    pub rejected: Vec<RejectedRow>,
}

impl ImportReport {
    pub fn new(report: Report, dry_run: bool) -> Self {
        Self {
            dry_run,
            accepted: report.accepted,
            created: report.created,
            existing: report.existing,
            rejected: report
                .rejected
                .into_iter()
                .map(|r| RejectedRow {
                    line: r.line,
                    reason: r.reason,
                })
                .collect(),
        }
    }
}

/// Runs an import for a caller, in the caller's communities: the API's and the upload
/// page's one path.
pub async fn run(
    state: &State,
    caller: &Caller,
    bytes: &[u8],
    dry_run: bool,
) -> Result<ImportReport, AppError> {
    caller.require(Role::manages_units)?;
    let now = crate::store::millis(Utc::now());
    let sees = |id| caller.sees(id);
    match import::csv(
        &state.store,
        &state.vault,
        bytes,
        sees,
        Some(caller.user_id),
        dry_run,
        now,
    )
    .await
    {
        Ok(report) => Ok(ImportReport::new(report, dry_run)),
        Err(ImportError::File(e)) => Err(AppError::InvalidFile(e.to_string())),
        Err(ImportError::Store(e)) => Err(store_error(e)),
    }
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
    let report = run(&state, &caller, &body, query.dry_run).await?;
    Ok(HttpResponse::Ok().json(report))
}
