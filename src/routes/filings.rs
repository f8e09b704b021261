//! Advance filings as staff and their filers see them: the list, and the approval or
//! rejection of a filing that waits because its flat's unit was not the filer's.

use actix_web::web;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::State;
use super::auth::{Caller, store_error};
use super::door_checks::{invalid, paging};
use super::json::ApiJson;
use super::sublandlords::{masked_name, me, other_sublandlord, staff_scope};
use super::units::rfc3339;
use crate::domain::role::Role;
use crate::domain::sublandlord::{FilingStatus, parse_reject_reason};
use crate::error::AppError;
use crate::store;
use crate::store::filing_review::{self, Decline};
use crate::store::filings::{self, Filer, FilingRow};

/// Registers the filing list and the review routes (filing itself is a sublandlord route).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/filings", web::get().to(list_filings))
        .route("/api/v1/filings/{id}/approve", web::post().to(approve))
        .route("/api/v1/filings/{id}/reject", web::post().to(reject));
}

/// Roles that see their communities' filings and decide pending ones.
pub fn reviews_filings(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Police | Role::Community)
}

/// Filters of the filing list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilingQuery {
    /// Staff: one community's filings.
    pub community: Option<String>,
    /// `filed`, `pending`, `approved` or `rejected`; all when absent.
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// One filing.
#[derive(Debug, Serialize, ToSchema)]
pub struct FilingOut {
    pub filing_id: i64,
    /// The unit the filing is about; shown to its filer only once the unit is theirs.
    pub unit_id: Option<i64>,
    pub community: String,
    pub address: String,
    pub sublandlord: String,
    pub rooms: i64,
    pub rental_mode: String,
    pub start_date: String,
    pub planned_occupants: i64,
    pub created_at: String,
    /// `filed` (in effect when made), `pending`, `approved` or `rejected`.
    pub status: String,
    /// Why staff rejected it.
    pub reason: Option<String>,
}

/// A page of filings.
#[derive(Debug, Serialize, ToSchema)]
pub struct FilingPage {
    pub items: Vec<FilingOut>,
    pub total: i64,
}

/// Filings, newest first: a sublandlord's own, or those of the caller's communities (police,
/// community staff, admin); `?status=pending` lists those waiting for a decision.
#[utoipa::path(get, path = "/api/v1/filings", tag = "sublandlords", params(FilingQuery),
    responses((status = 200, body = FilingPage), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_filings(
    state: State,
    caller: Caller,
    q: web::Query<FilingQuery>,
) -> Result<web::Json<FilingPage>, AppError> {
    let (offset, limit) = paging(q.page, q.per_page)?;
    let status = match q.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(FilingStatus::parse(s).ok_or_else(|| invalid("status"))?),
    };
    let (filer, staff) = if caller.role == Role::Sublandlord {
        (Filer::Sublandlord(me(&state, &caller).await?.id), false)
    } else {
        caller.require(reviews_filings)?;
        let scope = staff_scope(&state, &caller, q.community.as_deref()).await?;
        (Filer::Staff(scope), true)
    };
    let (rows, total) = filings::list(&state.store, filer, status, offset, limit)
        .await
        .map_err(store_error)?;
    Ok(web::Json(FilingPage {
        items: rows.into_iter().map(|f| filing_out(f, staff)).collect(),
        total,
    }))
}

fn filing_out(f: FilingRow, staff: bool) -> FilingOut {
    let linked = matches!(f.status, FilingStatus::Filed | FilingStatus::Approved);
    FilingOut {
        filing_id: f.id,
        unit_id: (staff || linked).then_some(f.unit_id),
        community: f.community,
        address: f.address,
        sublandlord: masked_name(&f.sublandlord),
        rooms: f.rooms,
        rental_mode: f.rental_mode.as_str().into(),
        start_date: f.start_date,
        planned_occupants: f.planned_occupants,
        created_at: rfc3339(f.created_at),
        status: f.status.as_str().into(),
        reason: f.decision_reason,
    }
}

/// Pending filings of the caller's communities, newest first (the console's list).
pub async fn pending_filings(
    state: &State,
    caller: &Caller,
    offset: i64,
    limit: i64,
) -> Result<(Vec<FilingRow>, i64), AppError> {
    caller.require(reviews_filings)?;
    filings::list(
        &state.store,
        Filer::Staff(caller.scope()),
        Some(FilingStatus::Pending),
        offset,
        limit,
    )
    .await
    .map_err(store_error)
}

/// A filing within the caller's communities, or 404 (403 for a role that does not review).
pub async fn visible_filing(
    state: &State,
    caller: &Caller,
    id: i64,
) -> Result<FilingRow, AppError> {
    caller.require(reviews_filings)?;
    filings::get(&state.store, id)
        .await
        .map_err(store_error)?
        .filter(|f| caller.sees(f.community_id))
        .ok_or(AppError::NotFound)
}

fn declined(d: Decline) -> AppError {
    match d {
        Decline::NotPending => AppError::Conflict("这份报备已经处理过了".into()),
        Decline::OtherSublandlord => other_sublandlord(),
    }
}

/// An approval's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Approved {
    pub filing_id: i64,
    pub unit_id: i64,
    /// Always `approved`.
    pub status: &'static str,
}

/// Approves a pending filing: the unit becomes the filer's, with the filing's terms.
#[utoipa::path(post, path = "/api/v1/filings/{id}/approve", tag = "staff",
    params(("id" = i64, Path, description = "filing id")),
    responses((status = 200, body = Approved), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<Approved>, AppError> {
    Ok(web::Json(approve_filing(&state, &caller, *id).await?))
}

/// Approves a filing the caller may decide (the API and the console share it).
pub async fn approve_filing(state: &State, caller: &Caller, id: i64) -> Result<Approved, AppError> {
    visible_filing(state, caller, id).await?;
    let unit_id = filing_review::approve(
        &state.store,
        id,
        caller.user_id,
        state.settings.density(),
        store::millis(Utc::now()),
    )
    .await
    .map_err(store_error)?
    .map_err(declined)?;
    tracing::info!(filing_id = id, unit_id, "pending filing approved");
    Ok(Approved {
        filing_id: id,
        unit_id,
        status: FilingStatus::Approved.as_str(),
    })
}

/// Why a filing is rejected.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// 1–200 characters, shown to the filer.
    pub reason: String,
}

/// A rejection's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rejected {
    pub filing_id: i64,
    /// Always `rejected`.
    pub status: &'static str,
}

/// Rejects a pending filing with a reason; the unit stays as it was.
#[utoipa::path(post, path = "/api/v1/filings/{id}/reject", tag = "staff",
    params(("id" = i64, Path, description = "filing id")),
    request_body = RejectRequest,
    responses((status = 200, body = Rejected), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reject(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<RejectRequest>,
) -> Result<web::Json<Rejected>, AppError> {
    Ok(web::Json(
        reject_filing(&state, &caller, *id, &body.value.reason).await?,
    ))
}

/// Rejects a filing the caller may decide (the API and the console share it).
pub async fn reject_filing(
    state: &State,
    caller: &Caller,
    id: i64,
    reason: &str,
) -> Result<Rejected, AppError> {
    visible_filing(state, caller, id).await?;
    let reason = parse_reject_reason(reason).map_err(AppError::field)?;
    filing_review::reject(
        &state.store,
        id,
        caller.user_id,
        reason,
        store::millis(Utc::now()),
    )
    .await
    .map_err(store_error)?
    .map_err(declined)?;
    tracing::info!(filing_id = id, "pending filing rejected");
    Ok(Rejected {
        filing_id: id,
        status: FilingStatus::Rejected.as_str(),
    })
}
