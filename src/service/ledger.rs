//! The sublandlord ledger: people who let flats, ranked for staff by how much attention
//! they need.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Caller, Context, Error, Result};
use crate::domain::role::Role;
use crate::export::{About, Columns, Table};
use crate::store::sublandlords;
use crate::store::{self, audit, ledger_person};

/// A stored name as shown to others: its first character, then stars.
pub fn masked_name(name: &str) -> String {
    crate::domain::person::PersonName::parse(name)
        .map(|n| n.masked())
        .unwrap_or_default()
}

/// One person in the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerItem {
    /// Accounts sharing a phone or document number are one person.
    pub person_id: i64,
    pub accounts: i64,
    pub name: String,
    pub phone: String,
    pub id_number: String,
    pub units: i64,
    pub rooms: i64,
    pub occupants: i64,
    pub open_checks: i64,
    pub past_checks: i64,
    pub violations: i64,
    pub tips: i64,
    pub overcrowded_units: i64,
    /// Units filed before their first registration.
    pub filed_in_advance: i64,
    /// Share of units filed in advance (none without units).
    pub filing_rate: Option<f64>,
    /// Enforcement cases of their units decided with a violation (not `none`).
    pub decided_cases: i64,
    pub priority: i64,
}

/// A page of the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerPage {
    pub items: Vec<LedgerItem>,
    pub total: i64,
}

/// A page of the ledger a staff caller may see, highest priority first, narrowed to the
/// community named `community` (none: their whole scope).
pub async fn page(
    ctx: &Context,
    caller: &Caller,
    community: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<LedgerPage> {
    caller.require(Role::reads_ledger)?;
    let scope = caller.scope_in(ctx, community).await?;
    let (rows, total) = sublandlords::ledger(&ctx.store, scope, offset, limit).await?;
    Ok(LedgerPage {
        items: rows.into_iter().map(item).collect(),
        total,
    })
}

/// A stored ledger row as staff see it: names, phones and numbers masked.
fn item(r: sublandlords::LedgerRow) -> LedgerItem {
    LedgerItem {
        person_id: r.person_id,
        accounts: r.accounts,
        name: masked_name(&r.name),
        phone: r.phone_masked,
        id_number: r.id_number_masked,
        units: r.units,
        rooms: r.rooms,
        occupants: r.occupants,
        open_checks: r.open_checks,
        past_checks: r.past_checks,
        violations: r.violations,
        tips: r.tips,
        overcrowded_units: r.overcrowded_units,
        filed_in_advance: r.filed_in_advance,
        filing_rate: (r.units > 0).then(|| r.filed_in_advance as f64 / r.units as f64),
        decided_cases: r.decided_cases,
        priority: r.priority,
    }
}

/// Whether a person of the ledger is within the caller's sight, the one rule of every
/// ledger action on a person: admins see everyone in the ledger, other staff who read it
/// those with a unit in one of their communities. `NotFound` otherwise, as for a person who
/// does not exist; `Forbidden` for a role that does not read the ledger.
pub async fn person_in_scope(ctx: &Context, caller: &Caller, person_id: i64) -> Result<()> {
    caller.require(Role::reads_ledger)?;
    let communities = ledger_person::communities(&ctx.store, person_id)
        .await?
        .ok_or(Error::NotFound)?;
    if caller.role.sees_all_communities() || communities.iter().any(|c| caller.sees(*c)) {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// Most rows one ledger export holds; a larger ledger must be narrowed by community.
pub const EXPORT_LIMIT: i64 = 100_000;

/// The ledger in the caller's scope (narrowed to `community`) as a table for a
/// spreadsheet, highest priority first, with names, phones and numbers masked as on the
/// page: an export never carries full personal data. Audited as an export.
pub async fn export(ctx: &Context, caller: &Caller, community: Option<&str>) -> Result<Table> {
    caller.require(Role::reads_ledger)?;
    let scope = caller.scope_in(ctx, community).await?;
    let (rows, _) = sublandlords::ledger(&ctx.store, scope, 0, EXPORT_LIMIT).await?;
    let ranked: Vec<(i64, LedgerItem)> = rows
        .into_iter()
        .map(item)
        .enumerate()
        .map(|(i, r)| (i as i64 + 1, r))
        .collect();
    let now = store::millis(ctx.now());
    let entry = audit::Entry {
        user_id: Some(caller.user_id),
        action: "export.ledger".into(),
        subject: community.map(|c| format!("community:{c}")),
        detail: Some(serde_json::json!({ "rows": ranked.len() }).to_string()),
        reason: None,
    };
    audit::append(&ctx.store, entry, now).await?;
    let about = About {
        what: "重点二房东".into(),
        slug: "sublandlord-ledger",
        community: super::door_checks::scope_name(ctx, &scope).await?,
        at: ctx.now(),
    };
    let columns = Columns::<(i64, LedgerItem)>::new()
        .integer("排名", |(rank, _)| *rank)
        .text("二房东", |(_, r)| r.name.clone())
        .text("手机", |(_, r)| r.phone.clone())
        .text("证件号码", |(_, r)| r.id_number.clone())
        .integer("账号数", |(_, r)| r.accounts)
        .integer("房屋", |(_, r)| r.units)
        .integer("房间", |(_, r)| r.rooms)
        .integer("现住人数", |(_, r)| r.occupants)
        .integer("待核查", |(_, r)| r.open_checks)
        .integer("已核查", |(_, r)| r.past_checks)
        .integer("违规", |(_, r)| r.violations)
        .integer("举报", |(_, r)| r.tips)
        .integer("超员房屋", |(_, r)| r.overcrowded_units)
        .integer("事前报备房屋", |(_, r)| r.filed_in_advance)
        .rate("事前报备率", |(_, r)| r.filing_rate)
        .integer("已查处案件", |(_, r)| r.decided_cases)
        .integer("重点分", |(_, r)| r.priority)
        .code("人员编号", |(_, r)| r.person_id.to_string());
    Ok(columns.table(about, &ranked, ctx.settings.tz))
}
