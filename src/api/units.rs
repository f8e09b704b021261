//! Staff routes for communities, units and their posters.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::role::Role;
use crate::error::AppError;
use crate::http::State;
use crate::http::json::ApiJson;
use crate::http::json::Created;
use crate::http::poster::{PosterQuery, PosterUrl, community_pdf, poster_response};
use crate::service;
use crate::service::Caller;
use crate::service::rfc3339;

/// Registers the staff unit routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/communities", web::post().to(create_community))
        .route("/api/v1/units", web::post().to(create_unit))
        .route("/api/v1/units/{id}", web::get().to(get_unit))
        .route("/api/v1/units/{id}/qr/rotate", web::post().to(rotate_qr))
        .route("/api/v1/units/{id}/poster.{format}", web::get().to(poster))
        .route(
            "/api/v1/communities/{name}/posters.pdf",
            web::get().to(community_posters),
        );
}

/// A new community.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunityRequest {
    /// The community's name, e.g. 影佳.
    pub name: String,
}

/// Creates a community (admin).
#[utoipa::path(post, path = "/api/v1/communities", tag = "staff",
    request_body = CommunityRequest,
    responses((status = 201, body = Created), (status = 409, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_community(
    state: State,
    caller: Caller,
    body: ApiJson<CommunityRequest>,
) -> Result<HttpResponse, AppError> {
    let id = service::units::create_community(&state, &caller, &body.value.name).await?;
    Ok(HttpResponse::Created().json(Created { id }))
}

/// A new unit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitRequest {
    /// Community name.
    pub community: String,
    /// One line: road, lane 弄, number 号, room 室.
    pub address: String,
    /// Rooms that may be let (1–50).
    pub rooms: i64,
    /// `flat`, `villa`, `garage`, `dormitory` or `other`.
    pub kind: String,
    /// `whole`, `shared`, `daily` or `group`.
    pub rental_mode: String,
}

/// A created unit and the URL its poster carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitCreated {
    pub unit_id: i64,
    pub poster_url: String,
}

/// Creates a unit in one of the caller's communities and issues its poster.
#[utoipa::path(post, path = "/api/v1/units", tag = "staff",
    request_body = UnitRequest,
    responses((status = 201, body = UnitCreated), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_unit(
    state: State,
    caller: Caller,
    body: ApiJson<UnitRequest>,
) -> Result<HttpResponse, AppError> {
    let req = body.value;
    let new = service::units::NewUnit {
        community: req.community,
        address: req.address,
        rooms: req.rooms,
        kind: req.kind,
        rental_mode: req.rental_mode,
    };
    let created = service::units::create_unit(&state, &caller, new).await?;
    Ok(HttpResponse::Created().json(UnitCreated {
        unit_id: created.unit_id,
        poster_url: created.poster_url,
    }))
}

/// A current occupant, masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct OccupantOut {
    /// For `POST /api/v1/occupants/{id}/reveal`.
    pub id: i64,
    pub name: String,
    pub id_type: String,
    /// Masked, e.g. `310***********1234`.
    pub id_number: String,
    pub phone: Option<String>,
    pub room: Option<String>,
    pub move_in: String,
    pub registered_at: String,
}

/// A unit with its occupants and door checks.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitOut {
    pub unit_id: i64,
    pub community: String,
    pub address: String,
    pub kind: String,
    pub rental_mode: String,
    pub rooms: i64,
    pub state: String,
    pub last_upload_at: Option<String>,
    pub qr_version: i64,
    pub registrations: i64,
    pub occupants: Vec<OccupantOut>,
    /// Door checks, newest first.
    pub door_checks: Vec<DoorCheckOut>,
    /// Posters printed and rotations, newest first.
    pub poster_events: Vec<PosterEventOut>,
    /// Which rule the clock runs under: `no_upload` (nobody registered) or `unconfirmed`.
    pub clock: String,
    /// When the unit becomes overdue, or its vacancy lapses; none once closed.
    pub due_at: Option<String>,
    /// Clock and state changes (the newest 50), newest first; uploads are counted in
    /// `registrations`.
    pub history: Vec<UnitEventOut>,
}

/// A change of a unit's clock or state.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitEventOut {
    /// `created`, `filed`, `vacant`, `vacancy_lapsed`, `reoccupied`, `moved_out`, `closed`
    pub event: String,
    /// The state the event left the unit in, when it changed it.
    pub state: Option<String>,
    /// The role that acted; none for the service itself.
    pub role: Option<String>,
    /// Figures of the event (JSON text), e.g. how many moved out and how many remain.
    pub detail: Option<String>,
    pub at: String,
}

/// A poster printed (`print`) or rotated (`rotate`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PosterEventOut {
    pub kind: String,
    pub version: i64,
    pub user_id: Option<i64>,
    pub at: String,
}

/// A door check of a unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct DoorCheckOut {
    pub id: i64,
    pub reason: String,
    pub status: String,
    pub outcome: Option<String>,
    pub created_at: String,
    pub closed_at: Option<String>,
    pub attempts: i64,
    pub note: Option<String>,
}

/// The unit, its current occupants (masked) and its door checks.
#[utoipa::path(get, path = "/api/v1/units/{id}", tag = "staff",
    params(("id" = i64, Path, description = "unit id")),
    responses((status = 200, body = UnitOut), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_unit(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<UnitOut>, AppError> {
    let service::units::UnitDetail {
        unit,
        registrations,
        occupants,
        door_checks: checks,
        poster_events,
        history,
        due_at,
    } = service::units::detail(&state, &caller, id.into_inner()).await?;
    Ok(web::Json(UnitOut {
        unit_id: unit.id,
        community: unit.community,
        address: unit.address,
        kind: unit.kind.as_str().into(),
        rental_mode: unit.rental_mode.as_str().into(),
        rooms: unit.rooms,
        state: unit.state.as_str().into(),
        clock: unit.clock_kind.as_str().into(),
        due_at: due_at.map(rfc3339),
        history: history
            .into_iter()
            .map(|e| UnitEventOut {
                event: e.event.as_str().into(),
                state: e.state.map(|s| s.as_str().into()),
                role: e.role,
                detail: e.detail,
                at: rfc3339(e.created_at),
            })
            .collect(),
        last_upload_at: unit.last_upload_at.map(rfc3339),
        qr_version: unit.qr_version,
        registrations,
        occupants: occupants
            .into_iter()
            .map(|o| OccupantOut {
                id: o.id,
                name: o.name,
                id_type: o.id_type.as_str().into(),
                id_number: o.id_number_masked,
                phone: o.phone_masked,
                room: o.room,
                move_in: o.move_in,
                registered_at: rfc3339(o.created_at),
            })
            .collect(),
        door_checks: checks
            .into_iter()
            .map(|c| DoorCheckOut {
                id: c.id,
                reason: c.reason.as_str().into(),
                status: c.status.as_str().into(),
                outcome: c.outcome.map(|o| o.as_str().into()),
                created_at: rfc3339(c.opened_at),
                closed_at: c.closed_at.map(rfc3339),
                attempts: c.attempts,
                note: c.note,
            })
            .collect(),
        poster_events: poster_events
            .into_iter()
            .map(|e| PosterEventOut {
                kind: e.kind.as_str().into(),
                version: e.version,
                user_id: e.user_id,
                at: rfc3339(e.created_at),
            })
            .collect(),
    }))
}

/// Issues a new poster token; the old poster answers 410 from now on.
#[utoipa::path(post, path = "/api/v1/units/{id}/qr/rotate", tag = "staff",
    params(("id" = i64, Path, description = "unit id")),
    responses((status = 200, body = PosterUrl), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn rotate_qr(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<PosterUrl>, AppError> {
    let poster_url = service::units::rotate_poster(&state, &caller, id.into_inner()).await?;
    Ok(web::Json(PosterUrl { poster_url }))
}

/// The unit's current poster, as PNG, SVG or PDF.
#[utoipa::path(get, path = "/api/v1/units/{id}/poster.{format}", tag = "staff",
    params(("id" = i64, Path, description = "unit id"),
        ("format" = String, Path, description = "`png`, `svg` or `pdf`"), PosterQuery),
    responses((status = 200, content_type = "image/png", body = Vec<u8>),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn poster(
    state: State,
    caller: Caller,
    path: web::Path<(i64, String)>,
    q: web::Query<PosterQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Role::manages_units)?;
    let (id, format) = path.into_inner();
    let unit = service::units::visible(&state, &caller, id).await?;
    poster_response(&state, &caller, &unit, &format, &q).await
}

/// Every active unit's poster of a community as one PDF, a page each, streamed as it is
/// made (staff who manage units there).
#[utoipa::path(get, path = "/api/v1/communities/{name}/posters.pdf", tag = "staff",
    params(("name" = String, Path, description = "community name"), PosterQuery),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn community_posters(
    state: State,
    caller: Caller,
    name: web::Path<String>,
    q: web::Query<PosterQuery>,
) -> Result<HttpResponse, AppError> {
    let batch =
        service::posters::community(&state, &caller, &name, q.into_inner().template).await?;
    Ok(community_pdf(batch, caller.user_id))
}
