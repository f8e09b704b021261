//! The sublandlord ledger as staff read it: the ranked list, one person, the audited
//! reveal of a person's name and phone, and the list as a file.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::role::Role;
use crate::error::AppError;
use crate::http::State;
use crate::http::json::ApiJson;
use crate::http::query::{invalid, paging};
use crate::service::ledger::{self, LedgerPage};
use crate::service::ledger_person::{self, PersonCard};
use crate::service::{self, Caller, rfc3339};

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

/// One account of a person in the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOut {
    /// Masked.
    pub phone: String,
    pub created_at: String,
    pub disabled: bool,
}

/// One unit a person lets, in the caller's communities.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonUnitOut {
    pub unit_id: i64,
    pub address: String,
    pub community: String,
    /// `active`, `vacant` or `closed`.
    pub state: String,
    /// Current occupants.
    pub occupants: i64,
    pub last_upload_at: Option<String>,
    pub open_checks: i64,
}

/// A door check of one of the person's units.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonCheckOut {
    pub id: i64,
    pub unit_id: i64,
    pub address: String,
    pub reason: String,
    pub status: String,
    pub outcome: Option<String>,
    pub opened_at: String,
    pub closed_at: Option<String>,
}

/// One term of the priority score: `count × weight = points`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriorityTermOut {
    /// The counted column (`units`, `rooms`, …).
    pub term: String,
    /// Its Chinese label (`房屋`).
    pub label: String,
    pub count: i64,
    pub weight: i64,
    pub points: i64,
}

/// One person of the ledger: accounts, units in the caller's communities, their door checks
/// (open, then the last 20 closed), and the priority term by term (the points sum to
/// `priority`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonOut {
    pub person_id: i64,
    /// Masked.
    pub name: String,
    pub accounts: Vec<AccountOut>,
    pub units: Vec<PersonUnitOut>,
    /// Units the person lets outside the caller's communities (counted, not listed).
    pub units_elsewhere: i64,
    pub checks: Vec<PersonCheckOut>,
    pub priority: i64,
    pub priority_terms: Vec<PriorityTermOut>,
}

impl From<PersonCard> for PersonOut {
    fn from(card: PersonCard) -> Self {
        PersonOut {
            person_id: card.person_id,
            name: card.name,
            accounts: card
                .accounts
                .into_iter()
                .map(|a| AccountOut {
                    phone: a.phone_masked,
                    created_at: rfc3339(a.created_at),
                    disabled: a.disabled_at.is_some(),
                })
                .collect(),
            units: card
                .units
                .into_iter()
                .map(|u| PersonUnitOut {
                    unit_id: u.id,
                    address: u.address,
                    community: u.community,
                    state: u.state.as_str().into(),
                    occupants: u.occupants,
                    last_upload_at: u.last_upload_at.map(rfc3339),
                    open_checks: u.open_checks,
                })
                .collect(),
            units_elsewhere: card.units_elsewhere,
            checks: card
                .checks
                .into_iter()
                .map(|c| PersonCheckOut {
                    id: c.id,
                    unit_id: c.unit_id,
                    address: c.address,
                    reason: c.reason.as_str().into(),
                    status: c.status.as_str().into(),
                    outcome: c.outcome.map(|o| o.as_str().into()),
                    opened_at: rfc3339(c.opened_at),
                    closed_at: c.closed_at.map(rfc3339),
                })
                .collect(),
            priority: card.priority,
            priority_terms: card
                .terms
                .into_iter()
                .map(|t| PriorityTermOut {
                    term: t.term.column.into(),
                    label: t.term.label.into(),
                    count: t.count,
                    weight: t.term.weight,
                    points: t.points,
                })
                .collect(),
        }
    }
}

/// One person of the ledger (enforcement, police, admin; a person with a unit in the
/// caller's communities, else 404).
#[utoipa::path(get, path = "/api/v1/sublandlords/{id}", tag = "staff",
    params(("id" = i64, Path, description = "the ledger's person id")),
    responses((status = 200, body = PersonOut), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn person(
    state: State,
    caller: Caller,
    person_id: web::Path<i64>,
) -> Result<web::Json<PersonOut>, AppError> {
    let card = ledger_person::card(&state, &caller, *person_id).await?;
    Ok(web::Json(card.into()))
}

/// Why the full name and phone number are needed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealContactRequest {
    /// The reason, 2 to 200 characters (e.g. the check or case it is for).
    pub reason: String,
}

/// A sublandlord's full name and phone number.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevealedContact {
    pub name: String,
    pub phone: String,
}

/// Shows one person's full name and phone number (enforcement, police, admin; the person
/// in scope); audited with the reason, never cached.
#[utoipa::path(post, path = "/api/v1/sublandlords/{id}/reveal", tag = "staff",
    params(("id" = i64, Path, description = "the ledger's person id")),
    request_body = RevealContactRequest,
    responses((status = 200, body = RevealedContact), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reveal(
    state: State,
    caller: Caller,
    person_id: web::Path<i64>,
    body: ApiJson<RevealContactRequest>,
) -> Result<HttpResponse, AppError> {
    let contact =
        service::reveal::sublandlord(&state, &caller, *person_id, &body.value.reason).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(RevealedContact {
            name: contact.name,
            phone: contact.phone,
        }))
}

/// Export query: narrow to one community.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    pub community: Option<String>,
}

async fn export(
    state: &State,
    caller: &Caller,
    q: &ExportQuery,
    format: &str,
) -> Result<HttpResponse, AppError> {
    let table = ledger::export(state, caller, q.community.as_deref()).await?;
    crate::http::download::table(table, format, "重点二房东").await
}

/// The ledger in the caller's scope as XLSX, highest priority first (at most 100,000 rows;
/// names, phones and numbers masked).
#[utoipa::path(get, path = "/api/v1/sublandlords.xlsx", tag = "staff", params(ExportQuery),
    responses((status = 200,
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        body = Vec<u8>), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn ledger_xlsx(
    state: State,
    caller: Caller,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, AppError> {
    export(&state, &caller, &q, "xlsx").await
}

/// The same ledger as CSV (UTF-8 with BOM).
#[utoipa::path(get, path = "/api/v1/sublandlords.csv", tag = "staff", params(ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String),
        (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn ledger_csv(
    state: State,
    caller: Caller,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, AppError> {
    export(&state, &caller, &q, "csv").await
}
