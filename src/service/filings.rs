//! Advance filings (事前报备): a sublandlord files a unit before letting it; staff list
//! filings and decide the ones that wait because the flat's unit was not the filer's.

use serde::Serialize;
use utoipa::ToSchema;

use super::ledger::masked_name;
use super::sublandlords::me;
use super::{Caller, Context, Error, Result};
use crate::domain::FieldError;
use crate::domain::role::Role;
use crate::domain::sublandlord::{FilingInput, FilingStatus, NewFiling, parse_reject_reason};
use crate::store::filing_review::{self, Decline};
use crate::store::filings::{self, Filed, Filer, FilingRow, Refusal};
use crate::store::sublandlords::Sublandlord;
use crate::store::{self, Constraint, StoreError, communities, units};

/// A filing in effect: the new unit or the filer's own, and its poster.
#[derive(Debug, Serialize, ToSchema)]
pub struct FilingCreated {
    pub filing_id: i64,
    pub unit_id: i64,
    pub poster_url: String,
}

/// A filing that waits for staff: the flat's unit exists and is not the filer's.
#[derive(Debug, Serialize, ToSchema)]
pub struct FilingPending {
    pub filing_id: i64,
    /// Always `pending`.
    pub status: &'static str,
}

/// What a filing did.
#[derive(Debug)]
pub enum FilingOutcome {
    Created(FilingCreated),
    Pending(FilingPending),
}

/// The names of every community, for the filing form's choice.
pub async fn community_names(ctx: &Context) -> Result<Vec<String>> {
    Ok(communities::list(&ctx.store)
        .await?
        .into_iter()
        .map(|c| c.name)
        .collect())
}

/// Checks and stores `me`'s filing of a flat in the community named `community`: a new
/// flat gets its unit and poster; a flat whose unit the filer did not create waits for
/// staff approval and changes nothing yet.
pub async fn file(
    ctx: &Context,
    me: &Sublandlord,
    community: &str,
    input: &FilingInput,
) -> Result<FilingOutcome> {
    let limits = ctx.settings.density();
    let parsed = NewFiling::parse(input, ctx.today())
        .and_then(|f| f.within_density(limits).map_err(|e| vec![e]));
    let community = communities::find_by_name(&ctx.store, community.trim()).await?;
    let (filing, community_id) = match (parsed, community) {
        (Ok(filing), Some(community)) => (filing, community.id),
        (parsed, community) => {
            let mut errors = parsed.err().unwrap_or_default();
            if community.is_none() {
                errors.insert(
                    0,
                    FieldError::new("community", "unknown", "没有这个社区", "No such community"),
                );
            }
            return Err(Error::Validation(errors));
        }
    };
    // Two first filings of one new flat at once: the loser files against the winner's unit.
    let mut attempt = 0;
    let filed = loop {
        attempt += 1;
        match filings::file(
            &ctx.store,
            &ctx.vault,
            me.id,
            community_id,
            filing.clone(),
            ctx.settings.density(),
            store::millis(ctx.now()),
        )
        .await
        {
            Err(StoreError::Unique(Constraint::UnitAddress)) if attempt < 3 => continue,
            other => break other?,
        }
    };
    let filed = filed.map_err(|Refusal::OtherSublandlord| other_sublandlord())?;
    let (filing_id, unit_id, new_token) = match filed {
        Filed::Pending { filing_id } => {
            tracing::info!(filing_id, sublandlord_id = me.id, "filing awaits approval");
            return Ok(FilingOutcome::Pending(FilingPending {
                filing_id,
                status: FilingStatus::Pending.as_str(),
            }));
        }
        Filed::Linked {
            filing_id,
            unit_id,
            new_token,
        } => (filing_id, unit_id, new_token),
    };
    // Only a new unit's token or the filer's own unit's: `Linked` means nothing else.
    let token = match new_token {
        Some(token) => token,
        None => units::current_token(&ctx.store, &ctx.vault, unit_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("filed unit has no poster"))?,
    };
    tracing::info!(filing_id, unit_id, sublandlord_id = me.id, "filing stored");
    Ok(FilingOutcome::Created(FilingCreated {
        filing_id,
        unit_id,
        poster_url: ctx.poster_url(&token),
    }))
}

/// The answer to a filing of a flat another sublandlord lets.
fn other_sublandlord() -> Error {
    Error::Conflict("该房屋已由其他二房东报备，如有变更请联系社区".into())
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

/// Filings, newest first: a sublandlord's own, or those of the caller's communities (narrowed
/// to the one named `community`) for the roles that review them; `status` (blank: all) one of
/// [`FilingStatus`].
pub async fn list(
    ctx: &Context,
    caller: &Caller,
    community: Option<&str>,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<FilingPage> {
    let status = match status.map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(FilingStatus::parse(s).ok_or_else(|| Error::invalid("status"))?),
    };
    let (filer, staff) = if caller.role == Role::Sublandlord {
        (Filer::Sublandlord(me(ctx, caller).await?.id), false)
    } else {
        caller.require(Role::reviews_filings)?;
        let scope = caller.scope_in(ctx, community).await?;
        (Filer::Staff(scope), true)
    };
    let (rows, total) = filings::list(&ctx.store, filer, status, offset, limit).await?;
    Ok(FilingPage {
        items: rows.into_iter().map(|f| filing_out(f, staff)).collect(),
        total,
    })
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
        created_at: crate::store::instant(f.created_at)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        status: f.status.as_str().into(),
        reason: f.decision_reason,
    }
}

/// Pending filings of the caller's communities, newest first (the console's list).
pub async fn pending(
    ctx: &Context,
    caller: &Caller,
    offset: i64,
    limit: i64,
) -> Result<(Vec<FilingRow>, i64)> {
    caller.require(Role::reviews_filings)?;
    Ok(filings::list(
        &ctx.store,
        Filer::Staff(caller.scope()),
        Some(FilingStatus::Pending),
        offset,
        limit,
    )
    .await?)
}

/// A filing within the caller's communities, or `NotFound` (`Forbidden` for a role that
/// does not review).
async fn visible(ctx: &Context, caller: &Caller, id: i64) -> Result<FilingRow> {
    caller.require(Role::reviews_filings)?;
    filings::get(&ctx.store, id)
        .await?
        .filter(|f| caller.sees(f.community_id))
        .ok_or(Error::NotFound)
}

fn declined(d: Decline) -> Error {
    match d {
        Decline::NotPending => Error::Conflict("这份报备已经处理过了".into()),
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

/// Approves a pending filing the caller may decide: the unit becomes the filer's, with the
/// filing's terms.
pub async fn approve(ctx: &Context, caller: &Caller, id: i64) -> Result<Approved> {
    visible(ctx, caller, id).await?;
    let unit_id = filing_review::approve(
        &ctx.store,
        id,
        caller.user_id,
        ctx.settings.density(),
        store::millis(ctx.now()),
    )
    .await?
    .map_err(declined)?;
    tracing::info!(filing_id = id, unit_id, "pending filing approved");
    Ok(Approved {
        filing_id: id,
        unit_id,
        status: FilingStatus::Approved.as_str(),
    })
}

/// A rejection's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rejected {
    pub filing_id: i64,
    /// Always `rejected`.
    pub status: &'static str,
}

/// Rejects a pending filing the caller may decide, with a reason shown to the filer; the
/// unit stays as it was.
pub async fn reject(ctx: &Context, caller: &Caller, id: i64, reason: &str) -> Result<Rejected> {
    visible(ctx, caller, id).await?;
    let reason = parse_reject_reason(reason).map_err(Error::field)?;
    filing_review::reject(
        &ctx.store,
        id,
        caller.user_id,
        reason,
        store::millis(ctx.now()),
    )
    .await?
    .map_err(declined)?;
    tracing::info!(filing_id = id, "pending filing rejected");
    Ok(Rejected {
        filing_id: id,
        status: FilingStatus::Rejected.as_str(),
    })
}
