//! A tenant's registration: resolving the poster they scanned, what it shows before
//! collection, and accepting what they submit (once per idempotency key). The sublandlord's
//! registrations for their units go through the same acceptance.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Context, Error, Result};
use crate::domain::FieldError;
use crate::domain::notice::{NOTICE_VERSION, notice_text_zh};
use crate::domain::registration::{NewRegistration, OccupantInput, new_receipt};
use crate::domain::token::QrToken;
use crate::domain::unit::UnitState;
use crate::store::registrations::{self, Idempotency, Source};
use crate::store::units::{self, ScanTarget, TokenLookup};
use crate::store::{self, Constraint, StoreError};

/// Why a poster does not lead to a registration form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such poster (`NotFound`).
    Unknown,
    /// Replaced by a newer poster (`Gone`).
    Replaced,
    /// The unit no longer takes registrations (`Gone`).
    Closed,
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Unknown => Error::NotFound,
            Refusal::Replaced => {
                Error::Gone("此二维码已被新的二维码替换，请扫描门上最新的二维码".into())
            }
            Refusal::Closed => Error::Gone("此房屋已停止登记".into()),
        }
    }
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

/// Resolves a poster token to its unit, or the reason it leads nowhere. Malformed tokens
/// never reach the database.
pub async fn resolve(
    ctx: &Context,
    token: &str,
    freshness: Freshness,
) -> Result<std::result::Result<ScanTarget, Refusal>> {
    let Some(token) = QrToken::parse(token) else {
        return Ok(Err(Refusal::Unknown));
    };
    let key = ctx.vault.token_hash(token.as_ref());
    if freshness == Freshness::Cached
        && let Some(target) = ctx.scan_cache.get(&key)
    {
        return Ok(Ok(target));
    }
    Ok(
        match units::find_by_token(&ctx.store, &ctx.vault, &token).await? {
            TokenLookup::Current(t) if t.state == UnitState::Closed => Err(Refusal::Closed),
            TokenLookup::Current(t) => {
                ctx.scan_cache.put(key, t.clone());
                Ok(t)
            }
            TokenLookup::Replaced => Err(Refusal::Replaced),
            TokenLookup::Unknown => Err(Refusal::Unknown),
        },
    )
}

/// Where a registration through this poster goes, or the poster's refusal as an error.
pub async fn poster_destination(ctx: &Context, token: &str) -> Result<Destination> {
    Ok(resolve(ctx, token, Freshness::Cached).await??.into())
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
pub async fn scan_info(ctx: &Context, token: &str) -> Result<ScanInfo> {
    let target = resolve(ctx, token, Freshness::Cached).await??;
    Ok(ScanInfo {
        unit: ScanUnit {
            community: target.community,
            address: target.address,
            rooms: target.rooms,
        },
        notice_version: NOTICE_VERSION.to_string(),
        notice: notice_text_zh(),
    })
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

/// The receipt of a stored registration.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReceiptBody {
    /// Receipt number to quote in enquiries.
    pub receipt: String,
    /// How many occupants were registered.
    pub registered: i64,
    /// The tenants' private link to their own record (`/me/…`): keep it. Not stored; the
    /// same registration always has the same link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_service_url: Option<String>,
}

/// A registration as submitted, before its checks.
pub struct Submission {
    /// The notice version the submitter was shown.
    pub notice_version: String,
    pub occupants: Vec<OccupantInput>,
    /// The occupants are one family (exempt from the per-room density limit).
    pub family: bool,
}

/// A retry key and the fingerprint of the request it came with.
pub struct Retry {
    pub key: String,
    pub fingerprint: Vec<u8>,
}

/// Checks a submitted registration and stores it (see [`accept`]).
pub async fn register(
    ctx: &Context,
    destination: &Destination,
    submission: Submission,
    source: Source,
    retry: Option<Retry>,
) -> Result<ReceiptBody> {
    let mut registration = NewRegistration::parse(
        &submission.notice_version,
        &submission.occupants,
        ctx.today(),
    )
    .map_err(Error::Validation)?;
    registration.family = submission.family;
    accept(ctx, destination, &registration, source, retry).await
}

/// Stores a checked registration for a unit, once per retry key: a repeated key with the
/// same fingerprint gets the first receipt back, with a different one a `Validation`.
/// Through a poster that is no longer current (or a unit that was closed), nothing is
/// stored and the answer is the poster's refusal (`Gone`, or `NotFound`).
pub async fn accept(
    ctx: &Context,
    destination: &Destination,
    registration: &NewRegistration,
    source: Source,
    retry: Option<Retry>,
) -> Result<ReceiptBody> {
    let unit_id = destination.unit_id;
    let scope = format!("unit:{unit_id}").into_bytes();
    if let Some(retry) = &retry
        && let Some(first) = registrations::remembered(&ctx.store, &scope, &retry.key).await?
    {
        return replay(first, &retry.fingerprint).map(|r| with_link(ctx, r));
    }
    let receipt = ReceiptBody {
        receipt: new_receipt(ctx.today()),
        registered: registration.occupants.len() as i64,
        self_service_url: None,
    };
    let remember = retry.as_ref().map(|retry| Idempotency {
        scope: scope.clone(),
        key: retry.key.clone(),
        request_hash: retry.fingerprint.clone(),
        status: 201,
        body: serde_json::to_string(&receipt).expect("receipt serialises"),
    });
    let now = store::millis(ctx.now());
    match registrations::record(
        &ctx.store,
        &ctx.vault,
        unit_id,
        destination.poster.clone(),
        registration,
        source,
        receipt.receipt.clone(),
        remember,
        ctx.settings.density(),
        now,
    )
    .await
    {
        Ok(()) => {
            ctx.metrics.registrations.inc();
            ctx.metrics.occupants.inc_by(receipt.registered as u64);
            Ok(with_link(ctx, receipt))
        }
        // A duplicate raced this one and committed first: answer as it was answered.
        Err(StoreError::Unique(Constraint::IdempotencyKey)) => {
            let retry = retry.expect("only keyed requests remember");
            let first = registrations::remembered(&ctx.store, &scope, &retry.key)
                .await?
                .ok_or_else(|| anyhow::anyhow!("idempotency key vanished"))?;
            replay(first, &retry.fingerprint).map(|r| with_link(ctx, r))
        }
        Err(StoreError::Unique(Constraint::CurrentOccupant)) => {
            Err(Error::Conflict("同一居住人刚刚已登记，请勿重复提交".into()))
        }
        Err(StoreError::PosterNotCurrent) => {
            // This instance remembered the poster as current: forget it, and tell why.
            ctx.scan_cache.evict_unit(unit_id);
            let hash = destination.poster.clone().unwrap_or_default();
            let refusal = match units::find_by_poster(&ctx.store, hash).await? {
                TokenLookup::Current(t) if t.state == UnitState::Closed => Refusal::Closed,
                TokenLookup::Unknown => Refusal::Unknown,
                // Replaced, or current again by the time it was looked up.
                _ => Refusal::Replaced,
            };
            Err(refusal.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// The receipt with its tenants' self-service link (made again from the receipt number,
/// never stored: a replayed answer gets the same link).
fn with_link(ctx: &Context, receipt: ReceiptBody) -> ReceiptBody {
    ReceiptBody {
        self_service_url: Some(super::self_service::link(ctx, &receipt.receipt)),
        ..receipt
    }
}

fn replay(first: registrations::RememberedAnswer, fingerprint: &[u8]) -> Result<ReceiptBody> {
    if first.request_hash != fingerprint {
        return Err(Error::field(FieldError::new(
            "Idempotency-Key",
            "reused",
            "此 Idempotency-Key 已用于另一份不同的登记",
            "This Idempotency-Key was used for a different registration",
        )));
    }
    serde_json::from_str(&first.body)
        .map_err(|e| Error::Internal(anyhow::anyhow!("remembered answer: {e}")))
}
