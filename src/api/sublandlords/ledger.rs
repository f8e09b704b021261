//! The sublandlord ledger as staff read it.

use actix_web::web;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::domain::role::Role;
use crate::error::AppError;
use crate::http::State;
use crate::http::query::{invalid, paging};
use crate::service::Caller;
use crate::service::ledger::{self, LedgerPage};

/// Ledger query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// Only `priority` (the default).
    pub sort: Option<String>,
    /// Narrow to one community.
    pub community: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The sublandlord ledger, highest priority first (enforcement, police, admin).
#[utoipa::path(get, path = "/api/v1/sublandlords", tag = "staff", params(LedgerQuery),
    responses((status = 200, body = LedgerPage), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn ledger(
    state: State,
    caller: Caller,
    q: web::Query<LedgerQuery>,
) -> Result<web::Json<LedgerPage>, AppError> {
    // The role first, as the service does: a bad query from a caller who may not read the
    // ledger is answered 403, not 422.
    caller.require(Role::reads_ledger)?;
    if !matches!(q.sort.as_deref(), None | Some("") | Some("priority")) {
        return Err(invalid("sort"));
    }
    let (offset, limit) = paging(q.page, q.per_page)?;
    let page = ledger::page(&state, &caller, q.community.as_deref(), offset, limit).await?;
    Ok(web::Json(page))
}
