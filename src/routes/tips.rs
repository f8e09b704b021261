//! Tips (线索举报): the public API that takes them, and the staff API that triages them.
//!
//! A tip arrives as JSON, or as `multipart/form-data` with the same fields and an optional
//! `photo` file; the photo is checked by content and re-encoded without its metadata.

use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::State;
use super::auth::{Caller, store_error};
use super::json::ApiJson;
use crate::crypto::Purpose;
use crate::domain::FieldError;
use crate::domain::person::PhoneNumber;
use crate::domain::role::Role;
use crate::domain::tip::{self, Category, MAX_PHOTO_BYTES, TipState};
use crate::domain::token::QrToken;
use crate::domain::unit::Address;
use crate::error::AppError;
use crate::limits::{Counter, Take};
use crate::store::tips::{self, NewTip, Tip};
use crate::store::units::{self, TokenLookup};
use crate::store::{self, communities};

/// Registers the tip routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/tips", web::post().to(create_tip))
        .route("/api/v1/tips", web::get().to(list_tips))
        .route("/api/v1/tips/{id}", web::get().to(get_tip))
        .route("/api/v1/tips/{id}/photo.jpg", web::get().to(tip_photo))
        .route("/api/v1/tips/{id}/triage", web::post().to(triage))
        .route("/api/v1/tips/{id}/door-check", web::post().to(open_check));
}

/// A public tip.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TipRequest {
    /// The address reported (or give `token`).
    pub address: Option<String>,
    /// The poster token of the unit (the last part of the QR code's URL).
    pub token: Option<String>,
    /// Optional: the community, where the address alone does not say.
    pub community: Option<String>,
    /// `daily_rental`, `group_rental`, `unregistered` or `other`.
    pub category: String,
    /// What was seen (up to 1,000 characters).
    pub description: String,
    /// Optional: a phone number for follow-up questions.
    pub contact: Option<String>,
}

/// Receives a tip about an address or a poster (public). JSON, or `multipart/form-data`
/// with the same fields and an optional `photo` (JPEG or PNG, up to 8 MB).
#[utoipa::path(post, path = "/api/v1/tips", tag = "public",
    request_body = TipRequest,
    responses((status = 201, body = super::units::Created),
        (status = 422, body = crate::error::ErrorBody),
        (status = 415, body = crate::error::ErrorBody),
        (status = 429, description = "too many tips from this address this hour (`too_many_requests`), \
            or its photos today (`photo_allowance`)", body = crate::error::ErrorBody)))]
pub async fn create_tip(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (body, photo) = if super::multipart::is_multipart(&req) {
        read_multipart(&req, payload).await?
    } else {
        let json = ApiJson::<TipRequest>::from_request(&req, &mut payload.into_inner()).await?;
        (json.value, None)
    };
    let id = receive(&state, &req, body, photo).await?;
    Ok(HttpResponse::Created().json(super::units::Created { id }))
}

/// Checks and stores a tip (the API's and the public page's one path).
pub async fn receive(
    state: &State,
    req: &HttpRequest,
    body: TipRequest,
    photo: Option<Vec<u8>>,
) -> Result<i64, AppError> {
    let mut errors = Vec::new();
    let category = Category::parse(body.category.trim());
    if category.is_none() {
        errors.push(FieldError::new(
            "category",
            "invalid",
            "请选择举报类型",
            "Please choose what you are reporting",
        ));
    }
    let description = tip::parse_description(&body.description)
        .map_err(|e| errors.push(e))
        .ok();
    let contact = match body.contact.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => PhoneNumber::parse(text)
            .map_err(|e| errors.push(e.on("contact")))
            .ok(),
    };
    let place = locate(state, &body)
        .await
        .map_err(|e| {
            if e.field == "token" && e.code == "unknown" {
                // Counted by the rate limits as a guessed poster.
                super::limit::mark_guess(req);
            }
            errors.push(e)
        })
        .ok();
    let client = super::limit::client_of(req, state);
    let photo = match photo.filter(|p| !p.is_empty()) {
        None => None,
        Some(bytes) => {
            // An address whose allowance is spent is refused before its photo is decoded.
            photo_allowance(state, &client, 0).await?;
            let _turn = PHOTO_DECODES
                .acquire()
                .await
                .map_err(|_| AppError::Unavailable)?;
            let checked = web::block(move || tip::reencode_photo(&bytes))
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("photo task: {e}")))?;
            checked.map_err(|e| errors.push(e.field())).ok()
        }
    };
    let (Some(category), Some(description), Some(place)) = (category, description, place) else {
        return Err(AppError::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if let Some(stored) = &photo {
        // Counted as stored; a photo that would go past the allowance is refused, tip and
        // all, so nothing is half-kept.
        photo_allowance(state, &client, stored.len()).await?;
    }
    let tip = NewTip {
        community_id: place.community_id,
        unit_id: place.unit_id,
        address: place.address,
        category: category.as_str(),
        description,
        contact_enc: contact
            .as_ref()
            .map(|c| state.vault.seal(Purpose::Phone, c.as_ref())),
        contact_masked: contact.as_ref().map(PhoneNumber::masked),
        photo,
    };
    tips::create(&state.store, tip, store::millis(Utc::now()))
        .await
        .map_err(store_error)
}

/// Counts `bytes` of stored photo against the client's daily allowance (`0`: only checks
/// that some is left).
async fn photo_allowance(state: &State, client: &str, bytes: usize) -> Result<(), AppError> {
    let take = Take {
        counter: Counter::TipPhotoBytes,
        key: client,
        add: u32::try_from(bytes).unwrap_or(u32::MAX),
    };
    state.limiter.check(&[take]).await.map_err(|exceeded| {
        tracing::info!(limit = ?exceeded.counter, "rate limited");
        AppError::PhotoAllowance(exceeded.retry_after.as_secs().max(1))
    })
}

/// Where a tip points: a unit when the poster or the address names one.
struct Place {
    community_id: Option<i64>,
    unit_id: Option<i64>,
    address: String,
}

async fn locate(state: &State, body: &TipRequest) -> Result<Place, FieldError> {
    let store_failed =
        |_| FieldError::new("address", "unavailable", "暂时无法查询地址", "Try again");
    if let Some(token) = body
        .token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let bad = || FieldError::new("token", "unknown", "二维码无效或已更换", "Unknown poster");
        let token = QrToken::parse(token).ok_or_else(bad)?;
        let TokenLookup::Current(target) = units::find_by_token(&state.store, &state.vault, &token)
            .await
            .map_err(store_failed)?
        else {
            return Err(bad());
        };
        let unit = units::get(&state.store, target.unit_id)
            .await
            .map_err(store_failed)?
            .ok_or_else(bad)?;
        return Ok(Place {
            community_id: Some(unit.community_id),
            unit_id: Some(unit.id),
            address: unit.address,
        });
    }
    let raw = body.address.as_deref().unwrap_or("");
    let address = Address::parse(raw)?;
    let named = match body
        .community
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(name) => communities::find_by_name(&state.store, name)
            .await
            .map_err(store_failed)?
            .map(|c| c.id),
        None => None,
    };
    let unit = units::find_by_address_key(&state.store, address.key(), named)
        .await
        .map_err(store_failed)?;
    Ok(Place {
        community_id: unit.map(|(_, c)| c).or(named),
        unit_id: unit.map(|(u, _)| u),
        address: address.display().to_string(),
    })
}

/// The text fields of a tip form.
pub const FIELDS: &[&str] = &[
    "address",
    "token",
    "community",
    "category",
    "description",
    "contact",
];

/// Photos decoded at once: a large photo takes a few hundred megabytes while it is decoded.
static PHOTO_DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

async fn read_multipart(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(TipRequest, Option<Vec<u8>>), AppError> {
    let mut form = super::multipart::read(req, payload, FIELDS, "photo", MAX_PHOTO_BYTES, || {
        AppError::field(tip::PhotoError::TooLarge.field())
    })
    .await?;
    let mut take = |name: &str| form.fields.remove(name);
    // Other fields (the public page's language switch, say) are ignored.
    let body = TipRequest {
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
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A tip as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TipOut {
    pub id: i64,
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

/// A page of tips in the caller's communities, newest first.
pub async fn tips_for(
    state: &State,
    caller: &Caller,
    wanted: Option<&str>,
    page: i64,
    per_page: i64,
) -> Result<(Vec<Tip>, i64), AppError> {
    caller.require(Role::handles_tips)?;
    let wanted = match wanted.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(
            TipState::parse(s)
                .ok_or_else(|| super::door_checks::invalid("state"))?
                .as_str(),
        ),
        None => None,
    };
    tips::list(
        &state.store,
        caller.scope(),
        wanted,
        // Callers keep page within MAX_PAGE; the clamp makes overflow impossible anyway.
        (page.clamp(1, super::door_checks::MAX_PAGE) - 1) * per_page.clamp(1, 200),
        per_page,
    )
    .await
    .map_err(store_error)
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
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    if !(1..=super::door_checks::MAX_PAGE).contains(&page) || !(1..=200).contains(&per_page) {
        return Err(super::door_checks::invalid("page"));
    }
    let (items, total) = tips_for(&state, &caller, q.state.as_deref(), page, per_page).await?;
    Ok(web::Json(TipList {
        items: items.into_iter().map(TipOut::from).collect(),
        total,
    }))
}

/// A tip the caller may handle, or 404 (also for one outside their communities).
pub async fn visible_tip(state: &State, caller: &Caller, id: i64) -> Result<Tip, AppError> {
    caller.require(Role::handles_tips)?;
    let tip = tips::get(&state.store, id)
        .await
        .map_err(store_error)?
        .ok_or(AppError::NotFound)?;
    let visible = match tip.community_id {
        Some(c) => caller.sees(c),
        None => caller.role.sees_all_communities(),
    };
    if visible {
        Ok(tip)
    } else {
        Err(AppError::NotFound)
    }
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
    Ok(web::Json(visible_tip(&state, &caller, *id).await?.into()))
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
    photo_response(&state, &caller, *id).await
}

/// The photo answer of the API and the console.
pub async fn photo_response(
    state: &State,
    caller: &Caller,
    id: i64,
) -> Result<HttpResponse, AppError> {
    visible_tip(state, caller, id).await?;
    let photo = tips::photo(&state.store, id)
        .await
        .map_err(store_error)?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header(("Cache-Control", "private, no-store"))
        .body(photo))
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
    set_state(&state, &caller, *id, &body.state, body.note.as_deref()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "state": body.state.trim() })))
}

/// The triage of the API and the console.
pub async fn set_state(
    state: &State,
    caller: &Caller,
    id: i64,
    wanted: &str,
    note: Option<&str>,
) -> Result<(), AppError> {
    visible_tip(state, caller, id).await?;
    let to = TipState::parse(wanted.trim())
        .filter(|s| *s != TipState::Checking)
        .ok_or_else(|| super::door_checks::invalid("state"))?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| !tip::one_line(n, 500)) {
        return Err(super::door_checks::invalid("note"));
    }
    tips::set_state(
        &state.store,
        id,
        to.as_str(),
        note.map(str::to_string),
        caller.user_id,
        store::millis(Utc::now()),
    )
    .await
    .map_err(store_error)
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
    let door_check_id = open_check_for(&state, &caller, *id).await?;
    Ok(HttpResponse::Created().json(CheckOpened { door_check_id }))
}

/// Opening a check, for the API and the console.
pub async fn open_check_for(state: &State, caller: &Caller, id: i64) -> Result<i64, AppError> {
    let tip = visible_tip(state, caller, id).await?;
    let Some(unit_id) = tip.unit_id else {
        return Err(AppError::field(FieldError::new(
            "unit",
            "unknown",
            "这条线索没有对应到登记的房屋，无法派发上门核查",
            "This tip names no registered unit",
        )));
    };
    tips::open_check(
        &state.store,
        id,
        unit_id,
        caller.user_id,
        store::millis(Utc::now()),
    )
    .await
    .map_err(store_error)
}
