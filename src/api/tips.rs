//! Tips (线索举报): the public API that takes them and tells where one stands by its
//! reference number, and the staff API that triages them.
//!
//! A tip arrives as JSON, or as `multipart/form-data` with the same fields and an optional
//! `photo` file; the photo is checked by content and re-encoded without its metadata.

use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::tip::{self, MAX_PHOTO_BYTES};
use crate::error::AppError;
use crate::http::State;
use crate::http::json::ApiJson;
use crate::service::tips::TipInput;
use crate::service::{self, Caller};
use crate::store;
use crate::store::tips::Tip;

/// Registers the tip routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/tips", web::post().to(create_tip))
        .route("/api/v1/tips", web::get().to(list_tips))
        .route(
            "/api/v1/tips/by-reference/{reference}",
            web::get().to(tip_status),
        )
        .route("/api/v1/tips/{id}", web::get().to(get_tip))
        .route("/api/v1/tips/{id}/photo.jpg", web::get().to(tip_photo))
        .route("/api/v1/tips/{id}/triage", web::post().to(triage))
        .route("/api/v1/tips/{id}/door-check", web::post().to(open_check))
        .route("/api/v1/tips/{id}/link", web::post().to(link_unit))
        .route("/api/v1/tips/{id}/unit", web::post().to(create_unit));
}

/// A received tip: its id and the reference number its sender quotes (for the reward
/// scheme, and to look it up).
#[derive(Debug, Serialize, ToSchema)]
pub struct TipCreated {
    pub id: i64,
    /// `TIP-YYYYMMDD-NNNN`: the local date of receipt and that day's sequence.
    pub reference: String,
    /// The reference with its check, `TIP-YYYYMMDD-NNNN-XXXXXX`: what the sender keeps, quotes
    /// for the reward scheme and looks the tip up with. Only the sender and staff have it.
    pub receipt: String,
}

/// Receives a tip about an address or a poster (public). JSON, or `multipart/form-data`
/// with the same fields and an optional `photo` (JPEG or PNG, up to 8 MB).
#[utoipa::path(post, path = "/api/v1/tips", tag = "public",
    request_body = service::tips::TipInput,
    responses((status = 201, body = TipCreated),
        (status = 422, body = crate::error::ErrorBody),
        (status = 415, body = crate::error::ErrorBody),
        (status = 429, description = "too many tips from this address this hour (`too_many_requests`), \
            or its photos today (`photo_allowance`)", body = crate::error::ErrorBody)))]
pub async fn create_tip(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (body, photo) = if crate::http::multipart::is_multipart(&req) {
        read_multipart(&req, payload).await?
    } else {
        let json = ApiJson::<TipInput>::from_request(&req, &mut payload.into_inner()).await?;
        (json.value, None)
    };
    let filed = crate::http::tip_intake::receive(&state, &req, body, photo).await?;
    Ok(HttpResponse::Created().json(TipCreated {
        id: filed.id,
        reference: filed.reference.to_string(),
        receipt: filed.receipt,
    }))
}

/// Where a tip stands, for anyone who holds its reference: the state and two dates, never
/// what it says, where, or who sent it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TipStatusOut {
    pub reference: String,
    /// `new`, `checking`, `closed` or `dismissed`.
    pub state: String,
    pub received_at: String,
    /// The last change by staff (the receipt while there is none).
    pub updated_at: String,
}

/// Where the tip with this reference stands (public; limited per client address like the
/// poster routes, and an unknown reference counts as a guess).
#[utoipa::path(get, path = "/api/v1/tips/by-reference/{reference}", tag = "public",
    params(("reference" = String, Path, description = "the receipt, e.g. `TIP-20261204-0042-K7QD9X`")),
    responses((status = 200, body = TipStatusOut),
        (status = 404, description = "no tip has this reference", body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)))]
pub async fn tip_status(
    state: State,
    reference: web::Path<String>,
) -> Result<web::Json<TipStatusOut>, AppError> {
    let found = service::tips::status(&state, &reference).await?;
    Ok(web::Json(TipStatusOut {
        reference: found.reference,
        state: found.state.as_str().into(),
        received_at: store::instant(found.created_at).to_rfc3339(),
        updated_at: store::instant(found.changed_at).to_rfc3339(),
    }))
}

async fn read_multipart(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(TipInput, Option<Vec<u8>>), AppError> {
    let mut form = crate::http::multipart::read(
        req,
        payload,
        crate::http::tip_intake::FIELDS,
        "photo",
        MAX_PHOTO_BYTES,
        || AppError::field(tip::PhotoError::TooLarge.field()),
    )
    .await?;
    let mut take = |name: &str| form.fields.remove(name);
    // Other fields (the public page's language switch, say) are ignored.
    let body = TipInput {
        address: take("address"),
        token: take("token"),
        community: take("community"),
        category: take("category").unwrap_or_default(),
        description: take("description").unwrap_or_default(),
        contact: take("contact"),
    };
    Ok((body, form.file))
}

/// Tip list query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TipQuery {
    /// `new`, `checking`, `closed` or `dismissed`.
    pub state: Option<String>,
    /// Part of a reference number (`0042`, `20261204`) or a whole one.
    pub reference: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A tip as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TipOut {
    pub id: i64,
    /// `TIP-YYYYMMDD-NNNN`.
    pub reference: String,
    pub community: Option<String>,
    pub unit_id: Option<i64>,
    pub address: String,
    pub category: String,
    pub description: String,
    /// Masked, e.g. `138****1234`.
    pub contact: Option<String>,
    pub has_photo: bool,
    pub state: String,
    pub door_check_id: Option<i64>,
    pub note: Option<String>,
    pub created_at: String,
}

impl From<Tip> for TipOut {
    fn from(t: Tip) -> Self {
        Self {
            id: t.id,
            reference: t.reference,
            community: t.community,
            unit_id: t.unit_id,
            address: t.address,
            category: t.category.as_str().into(),
            description: t.description,
            contact: t.contact_masked,
            has_photo: t.has_photo != 0,
            state: t.state.as_str().into(),
            door_check_id: t.door_check_id,
            note: t.note,
            created_at: store::instant(t.created_at).to_rfc3339(),
        }
    }
}

/// A page of tips.
#[derive(Debug, Serialize, ToSchema)]
pub struct TipList {
    pub items: Vec<TipOut>,
    pub total: i64,
}

/// Tips in the caller's communities (tips that match no community: admins only).
#[utoipa::path(get, path = "/api/v1/tips", tag = "staff", params(TipQuery),
    responses((status = 200, body = TipList), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_tips(
    state: State,
    caller: Caller,
    q: web::Query<TipQuery>,
) -> Result<web::Json<TipList>, AppError> {
    let (offset, limit) = service::paging(q.page, q.per_page)?;
    let (items, total) = service::tips::list(
        &state,
        &caller,
        q.state.as_deref(),
        q.reference.as_deref(),
        offset,
        limit,
    )
    .await?;
    Ok(web::Json(TipList {
        items: items.into_iter().map(TipOut::from).collect(),
        total,
    }))
}

/// One tip.
#[utoipa::path(get, path = "/api/v1/tips/{id}", tag = "staff",
    params(("id" = i64, Path, description = "tip id")),
    responses((status = 200, body = TipOut), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_tip(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<TipOut>, AppError> {
    Ok(web::Json(
        service::tips::visible(&state, &caller, *id).await?.into(),
    ))
}

/// A tip's photo (JPEG, re-encoded without metadata).
#[utoipa::path(get, path = "/api/v1/tips/{id}/photo.jpg", tag = "staff",
    params(("id" = i64, Path, description = "tip id")),
    responses((status = 200, content_type = "image/jpeg"), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn tip_photo(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let photo = service::tips::photo(&state, &caller, *id).await?;
    Ok(crate::http::download::private("image/jpeg", photo))
}

/// A triage decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageRequest {
    /// `new`, `closed` or `dismissed` (`checking` comes from opening a door check).
    pub state: String,
    pub note: Option<String>,
}

/// Sets a tip's state, with a note (audited).
#[utoipa::path(post, path = "/api/v1/tips/{id}/triage", tag = "staff",
    params(("id" = i64, Path, description = "tip id")),
    request_body = TriageRequest,
    responses((status = 200), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn triage(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<TriageRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.value;
    service::tips::set_state(&state, &caller, *id, &body.state, body.note.as_deref()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "state": body.state.trim() })))
}

/// The door check opened for a tip.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckOpened {
    pub door_check_id: i64,
}

/// Opens a `tip` door check for the tip's unit (or returns the one already open).
#[utoipa::path(post, path = "/api/v1/tips/{id}/door-check", tag = "staff",
    params(("id" = i64, Path, description = "tip id")),
    responses((status = 201, body = CheckOpened), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn open_check(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let door_check_id = service::tips::open_check(&state, &caller, *id).await?;
    Ok(HttpResponse::Created().json(CheckOpened { door_check_id }))
}

/// The unit to tie a tip to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub unit_id: i64,
}

/// The unit a tip now names.
#[derive(Debug, Serialize, ToSchema)]
pub struct Linked {
    pub unit_id: i64,
}

/// Ties a tip whose address matched no unit to a unit of the caller's communities
/// (audited); a tip that names a unit already is 409.
#[utoipa::path(post, path = "/api/v1/tips/{id}/link", tag = "staff",
    params(("id" = i64, Path, description = "tip id")),
    request_body = LinkRequest,
    responses((status = 200, body = Linked), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn link_unit(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<LinkRequest>,
) -> Result<web::Json<Linked>, AppError> {
    let unit_id = body.value.unit_id;
    service::tips::link_unit(&state, &caller, *id, unit_id).await?;
    Ok(web::Json(Linked { unit_id }))
}

/// A unit to create for a tip; `community` and `address` default to the tip's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitForTipRequest {
    pub community: Option<String>,
    pub address: Option<String>,
    pub rooms: i64,
    /// `flat`, `villa`, `garage`, `dormitory` or `other`.
    pub kind: String,
    /// `whole`, `shared`, `daily` or `group`.
    pub rental_mode: String,
}

/// The unit created for a tip.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitForTipCreated {
    pub unit_id: i64,
    pub poster_url: String,
}

/// Creates a unit (with its poster) for a tip whose address matched none, in one of the
/// caller's communities, and ties the tip to it (audited); a door check can then be opened.
#[utoipa::path(post, path = "/api/v1/tips/{id}/unit", tag = "staff",
    params(("id" = i64, Path, description = "tip id")),
    request_body = UnitForTipRequest,
    responses((status = 201, body = UnitForTipCreated),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_unit(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<UnitForTipRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.value;
    let new = service::tips::UnitFromTip {
        community: body.community,
        address: body.address,
        rooms: body.rooms,
        kind: body.kind,
        rental_mode: body.rental_mode,
    };
    let created = service::tips::create_unit(&state, &caller, *id, new).await?;
    Ok(HttpResponse::Created().json(UnitForTipCreated {
        unit_id: created.unit_id,
        poster_url: created.poster_url,
    }))
}
