//! Staff routes for communities, units and their posters.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::State;
use super::auth::{Caller, store_error};
use super::json::ApiJson;
use crate::domain::FieldError;
use crate::domain::role::Role;
use crate::domain::unit::{Address, RentalMode, UnitKind, parse_rooms};
use crate::error::AppError;
use crate::store::{self, Constraint, StoreError, communities, door_checks, registrations, units};

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
    caller.require(|r| r == Role::Admin)?;
    let name = body.value.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 40 || crate::domain::has_control(&name) {
        return Err(AppError::field(FieldError::new(
            "name",
            "format",
            "社区名称应为 1 到 40 个字",
            "Name must be 1 to 40 characters",
        )));
    }
    match communities::create(&state.store, &name, store::millis(Utc::now())).await {
        Ok(id) => Ok(HttpResponse::Created().json(Created { id })),
        Err(StoreError::Unique(Constraint::CommunityName)) => {
            Err(AppError::Conflict("该社区已存在".into()))
        }
        Err(e) => Err(store_error(e)),
    }
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
    caller.require(Role::manages_units)?;
    let req = body.value;
    let mut errors = Vec::new();
    let address = Address::parse(&req.address)
        .map_err(|e| errors.push(e))
        .ok();
    let rooms = parse_rooms(req.rooms).map_err(|e| errors.push(e)).ok();
    let kind = UnitKind::parse(&req.kind);
    if kind.is_none() {
        errors.push(enum_error("kind"));
    }
    let mode = RentalMode::parse(&req.rental_mode);
    if mode.is_none() {
        errors.push(enum_error("rental_mode"));
    }
    let community = communities::find_by_name(&state.store, req.community.trim())
        .await
        .map_err(store_error)?
        .filter(|c| caller.sees(c.id));
    if community.is_none() {
        errors.push(FieldError::new(
            "community",
            "unknown",
            "没有这个社区，或您无权管理它",
            "No such community in your scope",
        ));
    }
    let (Some(address), Some(rooms), Some(kind), Some(mode), Some(community)) =
        (address, rooms, kind, mode, community)
    else {
        return Err(AppError::Validation(errors));
    };
    let new = units::NewUnit {
        floor_area_m2: None,
        created_by: Some(caller.user_id),
        community_id: community.id,
        address: address.display().to_string(),
        address_key: address.key().to_string(),
        kind: kind.as_str(),
        rental_mode: mode.as_str(),
        rooms,
    };
    match units::create(&state.store, &state.vault, new, store::millis(Utc::now())).await {
        Ok((unit_id, token)) => Ok(HttpResponse::Created().json(UnitCreated {
            unit_id,
            poster_url: state.poster_url(&token),
        })),
        Err(StoreError::Unique(Constraint::UnitAddress)) => {
            Err(AppError::Conflict("该社区已有相同地址的房屋".into()))
        }
        Err(e) => Err(store_error(e)),
    }
}

fn enum_error(field: &str) -> FieldError {
    FieldError::new(
        field,
        "invalid",
        "取值不在允许范围内",
        "Not an allowed value",
    )
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

/// Loads a unit a staff caller may see: 403 for a role that reads no units, 404 for a unit
/// outside the caller's communities (never 403: that would confirm it exists).
async fn visible_unit(state: &State, caller: &Caller, id: i64) -> Result<units::Unit, AppError> {
    caller.require(Role::is_staff)?;
    units::get(&state.store, id)
        .await
        .map_err(store_error)?
        .filter(|u| caller.sees(u.community_id))
        .ok_or(AppError::NotFound)
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
    let unit = visible_unit(&state, &caller, id.into_inner()).await?;
    let occupants = registrations::current_occupants(&state.store, unit.id)
        .await
        .map_err(store_error)?;
    let count = registrations::count_for_unit(&state.store, unit.id)
        .await
        .map_err(store_error)?;
    let checks = door_checks::for_unit(&state.store, unit.id)
        .await
        .map_err(store_error)?;
    let poster_events = units::poster_events(&state.store, unit.id)
        .await
        .map_err(store_error)?;
    Ok(web::Json(UnitOut {
        unit_id: unit.id,
        community: unit.community,
        address: unit.address,
        kind: unit.kind.as_str().into(),
        rental_mode: unit.rental_mode.as_str().into(),
        rooms: unit.rooms,
        state: unit.state.as_str().into(),
        last_upload_at: unit.last_upload_at.map(rfc3339),
        qr_version: unit.qr_version,
        registrations: count,
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

pub use super::json::Created;
pub use super::poster::{PosterQuery, PosterUrl, poster_response};
pub use super::rfc3339;

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
    caller.require(Role::manages_units)?;
    let unit = visible_unit(&state, &caller, id.into_inner()).await?;
    let token = units::rotate_token(
        &state.store,
        &state.vault,
        unit.id,
        Some(caller.user_id),
        store::millis(Utc::now()),
    )
    .await
    .map_err(store_error)?
    .ok_or(AppError::NotFound)?;
    state.scan_cache.evict_unit(unit.id);
    tracing::info!(
        unit_id = unit.id,
        by = caller.user_id,
        "poster token rotated"
    );
    Ok(web::Json(PosterUrl {
        poster_url: state.poster_url(&token),
    }))
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
    let unit = visible_unit(&state, &caller, id).await?;
    poster_response(&state, &caller, &unit, &format, &q).await
}

pub use crate::domain::unit::unit_number;

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
    community_posters_response(&state, &caller, &name, &q).await
}

/// The streamed PDF of a community's posters (the API route and the console's link).
pub async fn community_posters_response(
    state: &State,
    caller: &Caller,
    name: &str,
    q: &PosterQuery,
) -> Result<HttpResponse, AppError> {
    caller.require(Role::manages_units)?;
    let community = communities::find_by_name(&state.store, name.trim())
        .await
        .map_err(store_error)?
        .filter(|c| caller.sees(c.id))
        .ok_or(AppError::NotFound)?;
    let template = q.template.clone().unwrap_or_else(|| "a4".into());
    if !state.posters.names().contains(&template.as_str()) {
        return Err(super::door_checks::invalid("template"));
    }
    let batch = crate::qr::batch::Batch {
        store: state.store.clone(),
        vault: state.vault.clone(),
        posters: state.posters.clone(),
        public_url: state.public_url.clone(),
        hotline: state.settings.hotline.clone(),
        community_id: community.id,
        community: community.name.clone(),
        date: state.today().format("%Y-%m-%d").to_string(),
        template,
        dpi: state.settings.poster_dpi,
    };
    units::record_prints(
        &state.store,
        None,
        Some(community.id),
        Some(caller.user_id),
        store::millis(Utc::now()),
    )
    .await
    .map_err(store_error)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<web::Bytes, std::io::Error>>(8);
    let runtime = tokio::runtime::Handle::current();
    let by = caller.user_id;
    tokio::task::spawn_blocking(move || {
        let out = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHANNEL_CHUNK),
        };
        match batch.write_pdf(&runtime, out, |_, _| {}) {
            Ok((report, mut out)) => {
                let _ = std::io::Write::flush(&mut out);
                tracing::info!(
                    community_id = batch.community_id,
                    by,
                    written = report.written,
                    skipped = report.skipped.len(),
                    "community posters printed"
                );
            }
            Err(e) => {
                // The answer has begun: end it broken rather than as a complete file.
                tracing::error!(error = format!("{e:#}"), "community posters failed");
                let _ = tx.blocking_send(Err(std::io::Error::other("poster batch failed")));
            }
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let file = format!("posters-{}.pdf", community.id);
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{file}\""),
        ))
        .insert_header(("Cache-Control", "private, no-store"))
        .streaming(body))
}

/// Bytes handed to the HTTP answer at a time.
const CHANNEL_CHUNK: usize = 64 * 1024;

/// A `Write` that sends what it is given to an HTTP answer in chunks, waiting while the
/// client is slower than the writer (so memory stays at a few chunks).
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<web::Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHANNEL_CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = web::Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHANNEL_CHUNK),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::other("the client went away"))
    }
}
