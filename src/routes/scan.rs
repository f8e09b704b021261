//! The poster's JSON API, and the acceptance of a registration shared with the page.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::State;
use super::auth::store_error;
use super::json::ApiJson;
use crate::domain::FieldError;
use crate::domain::notice::{NOTICE_VERSION, notice_text_zh};
use crate::domain::registration::{NewRegistration, OccupantInput, new_receipt};
use crate::domain::token::QrToken;
use crate::domain::unit::UnitState;
use crate::error::AppError;
use crate::store::registrations::{self, Idempotency, Source};
use crate::store::units::{self, ScanTarget, TokenLookup};
use crate::store::{self, Constraint, StoreError};

/// Registers the scan API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/scan/{token}", web::get().to(scan_info))
        .route(
            "/api/v1/scan/{token}/registrations",
            web::post().to(register),
        );
}

/// Why a poster does not lead to a registration form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 404: no such poster.
    Unknown,
    /// 410: replaced by a newer poster.
    Replaced,
    /// 410: the unit no longer takes registrations.
    Closed,
}

/// How fresh a poster look-up must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// May come from the scan cache (showing a page, or taking a registration, whose
    /// insert checks the poster again).
    Cached,
    /// From the database (telling why a registration was refused).
    Fresh,
}

/// Resolves a poster token to its unit. Malformed tokens never reach the database.
pub async fn resolve(
    state: &State,
    token: &str,
    freshness: Freshness,
) -> Result<Result<ScanTarget, Refusal>, AppError> {
    let Some(token) = QrToken::parse(token) else {
        return Ok(Err(Refusal::Unknown));
    };
    let key = state.vault.token_hash(token.as_ref());
    if freshness == Freshness::Cached
        && let Some(target) = state.scan_cache.get(&key)
    {
        return Ok(Ok(target));
    }
    Ok(
        match units::find_by_token(&state.store, &state.vault, &token)
            .await
            .map_err(store_error)?
        {
            TokenLookup::Current(t) if t.state == UnitState::Closed => Err(Refusal::Closed),
            TokenLookup::Current(t) => {
                state.scan_cache.put(key, t.clone());
                Ok(t)
            }
            TokenLookup::Replaced => Err(Refusal::Replaced),
            TokenLookup::Unknown => Err(Refusal::Unknown),
        },
    )
}

fn refusal_error(refusal: Refusal) -> AppError {
    match refusal {
        Refusal::Unknown => AppError::NotFound,
        Refusal::Replaced => {
            AppError::Gone("此二维码已被新的二维码替换，请扫描门上最新的二维码".into())
        }
        Refusal::Closed => AppError::Gone("此房屋已停止登记".into()),
    }
}

/// What the poster shows about its unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanUnit {
    pub community: String,
    pub address: String,
    pub rooms: i64,
}

/// The unit and the notice to show before collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanInfo {
    pub unit: ScanUnit,
    /// Send this back with the registration: it records which notice was seen.
    pub notice_version: String,
    pub notice: String,
}

/// The unit behind a poster and the personal-data notice.
#[utoipa::path(get, path = "/api/v1/scan/{token}", tag = "public",
    params(("token" = String, Path, description = "poster token")),
    responses((status = 200, body = ScanInfo), (status = 404, body = crate::error::ErrorBody),
        (status = 410, body = crate::error::ErrorBody)))]
pub async fn scan_info(
    state: State,
    token: web::Path<String>,
) -> Result<web::Json<ScanInfo>, AppError> {
    let target = resolve(&state, &token, Freshness::Cached)
        .await?
        .map_err(refusal_error)?;
    Ok(web::Json(ScanInfo {
        unit: ScanUnit {
            community: target.community,
            address: target.address,
            rooms: target.rooms,
        },
        notice_version: NOTICE_VERSION.to_string(),
        notice: notice_text_zh(),
    }))
}

/// One occupant in a registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OccupantBody {
    pub name: String,
    /// `resident_id`, `hmt_residence_permit`, `foreign_permanent_id`, `passport`,
    /// `hk_macau_permit` or `taiwan_permit`.
    pub id_type: String,
    pub id_number: String,
    /// Optional.
    #[serde(default)]
    pub phone: Option<String>,
    /// Optional, e.g. `A` or `主卧`.
    #[serde(default)]
    pub room: Option<String>,
    /// `YYYY-MM-DD`.
    pub move_in: String,
}

/// A registration through a poster.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationBody {
    /// The `notice_version` the submitter was shown.
    pub notice_version: String,
    /// 1 to 20 occupants.
    pub occupants: Vec<OccupantBody>,
    /// Optional: the occupants are one family (exempt from the per-room density limit).
    #[serde(default)]
    pub family: Option<bool>,
}

/// The occupants of a JSON body as typed, for the domain's checks.
pub fn occupant_inputs(occupants: Vec<OccupantBody>) -> Vec<OccupantInput> {
    occupants
        .into_iter()
        .map(|o| OccupantInput {
            name: o.name,
            id_type: o.id_type,
            id_number: o.id_number,
            phone: o.phone.unwrap_or_default(),
            room: o.room.unwrap_or_default(),
            move_in: o.move_in,
        })
        .collect()
}

/// The receipt of a stored registration.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReceiptBody {
    /// Receipt number to quote in enquiries.
    pub receipt: String,
    /// How many occupants were registered.
    pub registered: i64,
}

/// Stores a registration. The `Idempotency-Key` header makes a retry return the first
/// answer and store nothing twice.
#[utoipa::path(post, path = "/api/v1/scan/{token}/registrations", tag = "public",
    params(("token" = String, Path, description = "poster token"),
        ("Idempotency-Key" = Option<String>, Header, description = "1–128 visible ASCII characters")),
    request_body = RegistrationBody,
    responses((status = 201, body = ReceiptBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "a document number is current in the unit under another name (`name_mismatch`), or the same person was just registered", body = crate::error::ErrorBody),
        (status = 410, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn register(
    state: State,
    req: HttpRequest,
    token: web::Path<String>,
    body: ApiJson<RegistrationBody>,
) -> Result<HttpResponse, AppError> {
    let target = resolve(&state, &token, Freshness::Cached)
        .await?
        .map_err(refusal_error)?;
    accept_json(&state, &req, &target.into(), body, Source::Scan).await
}

/// Where a registration goes: a unit, and the poster it came through if it came through one.
pub struct Destination {
    pub unit_id: i64,
    /// The keyed hash of the poster's token, checked when the registration is stored.
    pub poster: Option<Vec<u8>>,
}

impl Destination {
    /// A unit reached without a poster (by an account that may register there).
    pub fn unit(unit_id: i64) -> Self {
        Self {
            unit_id,
            poster: None,
        }
    }
}

impl From<ScanTarget> for Destination {
    fn from(target: ScanTarget) -> Self {
        Self {
            unit_id: target.unit_id,
            poster: Some(target.poster),
        }
    }
}

/// Checks a JSON registration for a unit and stores it (the poster route and the
/// sublandlord's route share it): `201` with the receipt.
pub async fn accept_json(
    state: &State,
    req: &HttpRequest,
    destination: &Destination,
    body: ApiJson<RegistrationBody>,
    source: Source,
) -> Result<HttpResponse, AppError> {
    let key = idempotency_key(req)?;
    let fingerprint = crate::crypto::sha256(&body.raw);
    let RegistrationBody {
        notice_version,
        occupants,
        family,
    } = body.value;
    let mut registration =
        NewRegistration::parse(&notice_version, &occupant_inputs(occupants), state.today())
            .map_err(AppError::Validation)?;
    registration.family = family.unwrap_or(false);
    let receipt = accept(
        state,
        destination,
        &registration,
        source,
        key.map(|k| (k, fingerprint)),
    )
    .await?;
    Ok(HttpResponse::Created().json(receipt))
}

pub fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(v) if (1..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(v.to_string()))
        }
        _ => Err(AppError::BadRequest(
            "Idempotency-Key 应为 1 到 128 个可见 ASCII 字符".into(),
        )),
    }
}

/// Stores a checked registration for a unit, once per idempotency key: a repeated key with
/// the same fingerprint gets the first receipt back, with a different one a 422. Through a
/// poster that is no longer current (or a unit that was closed), nothing is stored and the
/// answer is the poster's refusal (`AppError::Gone`).
pub async fn accept(
    state: &State,
    destination: &Destination,
    registration: &NewRegistration,
    source: Source,
    idempotency: Option<(String, Vec<u8>)>,
) -> Result<ReceiptBody, AppError> {
    let unit_id = destination.unit_id;
    let scope = format!("unit:{unit_id}").into_bytes();
    if let Some((key, fingerprint)) = &idempotency
        && let Some(first) = registrations::remembered(&state.store, &scope, key)
            .await
            .map_err(store_error)?
    {
        return replay(first, fingerprint);
    }
    let receipt = ReceiptBody {
        receipt: new_receipt(state.today()),
        registered: registration.occupants.len() as i64,
    };
    let remember = idempotency.as_ref().map(|(key, fingerprint)| Idempotency {
        scope: scope.clone(),
        key: key.clone(),
        request_hash: fingerprint.clone(),
        status: 201,
        body: serde_json::to_string(&receipt).expect("receipt serialises"),
    });
    let now = store::millis(Utc::now());
    match registrations::record(
        &state.store,
        &state.vault,
        unit_id,
        destination.poster.clone(),
        registration,
        source,
        receipt.receipt.clone(),
        remember,
        state.settings.density(),
        now,
    )
    .await
    {
        Ok(()) => {
            state.metrics.registrations.inc();
            state.metrics.occupants.inc_by(receipt.registered as u64);
            Ok(receipt)
        }
        // A duplicate raced this one and committed first: answer as it was answered.
        Err(StoreError::Unique(Constraint::IdempotencyKey)) => {
            let (key, fingerprint) = idempotency.expect("only keyed requests remember");
            let first = registrations::remembered(&state.store, &scope, &key)
                .await
                .map_err(store_error)?
                .ok_or_else(|| anyhow::anyhow!("idempotency key vanished"))?;
            replay(first, &fingerprint)
        }
        Err(StoreError::Unique(Constraint::CurrentOccupant)) => Err(AppError::Conflict(
            "同一居住人刚刚已登记，请勿重复提交".into(),
        )),
        Err(StoreError::PosterNotCurrent) => {
            // This instance remembered the poster as current: forget it, and tell why.
            state.scan_cache.evict_unit(unit_id);
            let hash = destination.poster.clone().unwrap_or_default();
            let refusal = match units::find_by_poster(&state.store, hash)
                .await
                .map_err(store_error)?
            {
                TokenLookup::Current(t) if t.state == UnitState::Closed => Refusal::Closed,
                TokenLookup::Unknown => Refusal::Unknown,
                // Replaced, or current again by the time it was looked up.
                _ => Refusal::Replaced,
            };
            Err(refusal_error(refusal))
        }
        Err(e) => Err(store_error(e)),
    }
}

fn replay(
    first: registrations::RememberedAnswer,
    fingerprint: &[u8],
) -> Result<ReceiptBody, AppError> {
    if first.request_hash != fingerprint {
        return Err(AppError::field(FieldError::new(
            "Idempotency-Key",
            "reused",
            "此 Idempotency-Key 已用于另一份不同的登记",
            "This Idempotency-Key was used for a different registration",
        )));
    }
    serde_json::from_str(&first.body)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("remembered answer: {e}")))
}
