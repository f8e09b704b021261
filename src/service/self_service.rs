//! Tenants keep their own record: the private link each registration gives them, what it
//! shows (their unit, their people masked, who looked at their data) and what it lets them
//! do (confirm nothing changed, record a move-out, ask the community for a correction).
//!
//! The link is the registration's receipt number with a 128-bit tag made with the service's
//! key (`Vault::self_service_tag`); nothing of it is stored, so a database dump opens no
//! record, and the same registration always has the same link (a retried request gets it
//! back too).

use serde::Serialize;
use utoipa::ToSchema;

use super::ledger::masked_name;
use super::{Context, Error, Result, rfc3339};
use crate::domain::FieldError;
use crate::domain::registration::new_receipt;
use crate::domain::token::SelfServiceToken;
use crate::store::clock::Actor;
use crate::store::self_service::{self, Registration};
use crate::store::{self, Scope, filings, registrations};

/// The self-service link of a registration's receipt.
pub fn link(ctx: &Context, receipt: &str) -> String {
    link_with(&ctx.vault, &ctx.public_url, receipt)
}

/// The self-service link of a receipt under `vault`'s key at `public_url` (for a text
/// message made outside a request).
pub fn link_with(vault: &crate::crypto::Vault, public_url: &str, receipt: &str) -> String {
    let tag = vault.self_service_tag(receipt);
    format!(
        "{public_url}/me/{}",
        SelfServiceToken::format(receipt, &tag)
    )
}

/// The registration a link opens; `NotFound` for anything else (a malformed link, a wrong
/// tag, or a registration no tenant has a link to), without telling which.
async fn open(ctx: &Context, token: &str) -> Result<(Registration, String)> {
    let token = SelfServiceToken::parse(token).ok_or(Error::NotFound)?;
    if !ctx.vault.verify_self_service(&token.receipt, &token.tag) {
        return Err(Error::NotFound);
    }
    let reg = self_service::registration(&ctx.store, &token.receipt)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((reg, token.receipt))
}

/// One of the registration's people, masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct MePerson {
    /// For a move-out.
    pub id: i64,
    pub name: String,
    pub id_type: String,
    pub id_number: String,
    pub room: Option<String>,
    pub move_in: String,
    /// Registered there now.
    pub current: bool,
    /// The date they moved out, as told (or when it was recorded).
    pub moved_out_on: Option<String>,
}

/// One look at the tenant's data.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeAccess {
    pub at: String,
    /// The role that looked (`police`, `community`, `admin`, …).
    pub role: Option<String>,
    /// `reveal` (a full document number shown), `export` (a file that named them) or
    /// `visit` (an officer's door-check result at their unit).
    pub what: String,
}

/// What a self-service link shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeOut {
    pub receipt: String,
    pub registered_at: String,
    pub community: String,
    pub address: String,
    pub occupants: Vec<MePerson>,
    /// Who looked at their data, newest first (PIPL art. 45).
    pub access: Vec<MeAccess>,
}

/// The tenant's own record.
pub async fn view(ctx: &Context, token: &str) -> Result<MeOut> {
    let (reg, receipt) = open(ctx, token).await?;
    let people = self_service::people(&ctx.store, reg.id).await?;
    let access = self_service::access(&ctx.store, &reg).await?;
    let tz = ctx.settings.tz;
    Ok(MeOut {
        receipt,
        registered_at: rfc3339(reg.created_at),
        community: reg.community,
        address: reg.address,
        occupants: people
            .into_iter()
            .filter(|p| p.superseded == 0 && p.purged == 0)
            .map(|p| MePerson {
                id: p.id,
                name: masked_name(&p.name),
                id_type: p.id_type.as_str().into(),
                id_number: p.id_number_masked,
                room: p.room,
                move_in: p.move_in,
                current: p.moved_out_at.is_none(),
                moved_out_on: p.moved_out_on.or_else(|| {
                    p.moved_out_at.map(|ms| {
                        store::instant(ms)
                            .with_timezone(&tz)
                            .format("%Y-%m-%d")
                            .to_string()
                    })
                }),
            })
            .collect(),
        access: access
            .into_iter()
            .map(|a| MeAccess {
                at: rfc3339(a.at),
                role: a.role,
                what: match a.what.as_str() {
                    "occupant.reveal" => "reveal",
                    "visit" => "visit",
                    _ => "export",
                }
                .into(),
            })
            .collect(),
    })
}

/// The receipt of a confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeConfirmed {
    pub receipt: String,
}

/// "Nobody has changed": counts as an upload and restarts the unit's clock. `Conflict`
/// when none of the registration's people lives there any more (a move-out or a new
/// registration says what changed) or the unit is closed (refused by the store).
pub async fn confirm(ctx: &Context, token: &str) -> Result<MeConfirmed> {
    let (reg, _) = open(ctx, token).await?;
    let people = self_service::people(&ctx.store, reg.id).await?;
    if !people.iter().any(|p| p.moved_out_at.is_none()) {
        return Err(Error::Conflict(
            "本次登记的人员均已搬离，无法确认“无变化”；如有新住户，请扫描门上二维码重新登记".into(),
        ));
    }
    let receipt = new_receipt(ctx.today());
    registrations::confirm(
        &ctx.store,
        reg.unit_id,
        receipt.clone(),
        Actor::Tenant,
        store::millis(ctx.now()),
    )
    .await?;
    Ok(MeConfirmed { receipt })
}

/// Records that one of the registration's people moved out on `on` (`YYYY-MM-DD`, not after
/// today); `NotFound` unless they are one of its people and live there now.
pub async fn move_out(ctx: &Context, token: &str, occupant_id: i64, on: &str) -> Result<()> {
    let (reg, _) = open(ctx, token).await?;
    let people = self_service::people(&ctx.store, reg.id).await?;
    if !people
        .iter()
        .any(|p| p.id == occupant_id && p.moved_out_at.is_none())
    {
        return Err(Error::NotFound);
    }
    let on = super::my_units::move_out_date(ctx, "moved_out_on", on)?;
    let moved = filings::move_out(
        &ctx.store,
        reg.unit_id,
        occupant_id,
        Actor::Tenant,
        Some(on),
        store::millis(ctx.now()),
    )
    .await?;
    if moved { Ok(()) } else { Err(Error::NotFound) }
}

/// Longest correction note.
const MAX_NOTE_CHARS: usize = 500;

/// Sends the community a note asking for a correction of the record. `Conflict` when five
/// of this registration's requests are still waiting.
pub async fn ask_correction(ctx: &Context, token: &str, note: &str) -> Result<()> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > MAX_NOTE_CHARS || crate::domain::has_control(note)
    {
        return Err(Error::field(FieldError::new(
            "note",
            "format",
            "请写明需要更正的内容（500 字以内）",
            "Say what should be corrected (at most 500 characters)",
        )));
    }
    let (reg, _) = open(ctx, token).await?;
    if self_service::ask_correction(&ctx.store, &reg, note, store::millis(ctx.now())).await? {
        Ok(())
    } else {
        Err(Error::Conflict(
            "已有多条更正申请等待社区处理，请等待处理后再提交".into(),
        ))
    }
}

/// A correction waiting, as staff list it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionOut {
    pub id: i64,
    pub unit_id: i64,
    pub community: String,
    pub address: String,
    /// The registration it is about.
    pub receipt: String,
    pub note: String,
    pub created_at: String,
}

/// The corrections waiting in the caller's communities, oldest first.
pub async fn corrections(ctx: &Context, caller: &super::Caller) -> Result<Vec<CorrectionOut>> {
    caller.require(crate::domain::role::Role::manages_units)?;
    let scope: Scope = caller.scope();
    Ok(
        self_service::open_corrections(&ctx.store, scope, super::MAX_PAGE)
            .await?
            .into_iter()
            .map(|c| CorrectionOut {
                id: c.id,
                unit_id: c.unit_id,
                community: c.community,
                address: c.address,
                receipt: c.receipt,
                note: c.note,
                created_at: rfc3339(c.created_at),
            })
            .collect(),
    )
}
