//! Per-community statistics over the API.

use actix_web::web;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::AppError;
use crate::http::State;
use crate::service;
use crate::service::Caller;
pub use crate::service::stats::{CommunityCounts, CountsOut, DayCount, StatsOut};

/// Registers the statistics route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/stats", web::get().to(get_stats));
}

/// Statistics query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// One community (within the caller's scope).
    pub community: Option<String>,
    /// `YYYY-MM` in `RENFANG_TZ`: uploads and checks of that month; all time without it.
    pub month: Option<String>,
}

/// Counts per community and overall (staff, within their communities).
#[utoipa::path(get, path = "/api/v1/stats", tag = "staff", params(StatsQuery),
    responses((status = 200, body = StatsOut), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_stats(
    state: State,
    caller: Caller,
    q: web::Query<StatsQuery>,
) -> Result<web::Json<StatsOut>, AppError> {
    let stats =
        service::stats::for_caller(&state, &caller, q.community.as_deref(), q.month.as_deref())
            .await?;
    Ok(web::Json(stats))
}
