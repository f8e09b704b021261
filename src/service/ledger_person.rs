//! One person of the sublandlord ledger, for the staff who act on it: their accounts, the
//! units they let in the caller's communities with those units' door checks, and their
//! priority explained term by term.

use super::ledger::{masked_name, person_in_scope};
use super::{Caller, Context, Error, Result};
use crate::store::ledger::{PRIORITY_TERMS, Term};
use crate::store::ledger_person::{self, Account, PersonCheck, PersonUnit};
use crate::store::sublandlords;

/// One term of a person's priority: what is counted, how many, its weight and its points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermCount {
    pub term: Term,
    pub count: i64,
    pub points: i64,
}

impl TermCount {
    /// The term as people read it: `房屋 3 处 × 2 = 6`.
    pub fn explained(&self) -> String {
        format!(
            "{} {} {} × {} = {}",
            self.term.label, self.count, self.term.unit, self.term.weight, self.points
        )
    }
}

/// Everything the person page and its API show of one person.
#[derive(Debug, Clone)]
pub struct PersonCard {
    pub person_id: i64,
    /// Masked: the full name only through an audited reveal.
    pub name: String,
    pub accounts: Vec<Account>,
    /// Units in the caller's communities.
    pub units: Vec<PersonUnit>,
    /// How many units the person lets outside the caller's communities (no details).
    pub units_elsewhere: i64,
    /// Open checks of those units, then the last closed ones.
    pub checks: Vec<PersonCheck>,
    /// The priority's terms, in the ledger's order; their points sum to `priority`.
    pub terms: Vec<TermCount>,
    pub priority: i64,
}

/// The person page of `person_id` for a caller who reads the ledger and sees the person.
pub async fn card(ctx: &Context, caller: &Caller, person_id: i64) -> Result<PersonCard> {
    person_in_scope(ctx, caller, person_id).await?;
    let scope = caller.scope();
    let first = sublandlords::get(&ctx.store, person_id)
        .await?
        .ok_or(Error::NotFound)?;
    let accounts = ledger_person::accounts(&ctx.store, person_id).await?;
    let (units, units_elsewhere) = ledger_person::units(&ctx.store, scope, person_id).await?;
    let checks = ledger_person::checks(&ctx.store, scope, person_id).await?;
    let (counts, priority) = ledger_person::priority_counts(&ctx.store, scope, person_id)
        .await?
        .unwrap_or_else(|| (vec![0; PRIORITY_TERMS.len()], 0));
    let terms = PRIORITY_TERMS
        .iter()
        .zip(counts)
        .map(|(term, count)| TermCount {
            term: *term,
            count,
            points: count * term.weight,
        })
        .collect();
    Ok(PersonCard {
        person_id,
        name: masked_name(&first.name),
        accounts,
        units,
        units_elsewhere,
        checks,
        terms,
        priority,
    })
}
