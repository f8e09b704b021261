//! The sublandlord ledger: people who let flats, ranked for staff by how much attention
//! they need.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Caller, Context, Result};
use crate::domain::role::Role;
use crate::store::Scope;
use crate::store::sublandlords;

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
    let scope = match caller.scope_in(ctx, community).await? {
        // One community: its rows are ranked by an index, no sum over communities.
        Scope::UserCommunities(_) if caller.community_ids.len() == 1 => {
            Scope::Community(caller.community_ids[0])
        }
        scope => scope,
    };
    let (rows, total) = sublandlords::ledger(&ctx.store, scope, offset, limit).await?;
    Ok(LedgerPage {
        items: rows
            .into_iter()
            .map(|r| LedgerItem {
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
            })
            .collect(),
        total,
    })
}
