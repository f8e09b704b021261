//! Revealing an occupant's full document number: a deliberate act by an authorised role,
//! with a reason, recorded in the audit log before the number is shown.

use super::{Caller, Context, Error, Result};
use crate::crypto::Purpose;
use crate::domain::FieldError;
use crate::domain::role::Role;
use crate::store::{self, audit, ledger_person, registrations};

/// One occupant's full document number (admin, police in scope), audited with the reason.
pub async fn document_number(
    ctx: &Context,
    caller: &Caller,
    occupant_id: i64,
    reason: &str,
) -> Result<String> {
    caller.require(Role::may_reveal)?;
    let reason = checked_reason(reason)?;
    let (community, sealed) = registrations::sealed_document(&ctx.store, occupant_id)
        .await?
        .filter(|(community, _)| caller.sees(*community))
        .ok_or(Error::NotFound)?;
    let sealed = sealed.ok_or_else(|| Error::Gone("该住户的个人信息已按保存期限删除".into()))?;
    let entry = audit::Entry {
        user_id: Some(caller.user_id),
        action: "occupant.reveal".into(),
        subject: Some(format!("occupant:{occupant_id}")),
        detail: Some(serde_json::json!({ "community_id": community }).to_string()),
        reason: Some(reason),
    };
    // Recorded first: a reveal that could not be recorded does not happen.
    audit::append(&ctx.store, entry, store::millis(ctx.now())).await?;
    ctx.vault
        .open(Purpose::DocumentNumber, &sealed)
        .map_err(|e| Error::Internal(anyhow::anyhow!("opening a document number: {e:?}")))
}

/// The reason given for seeing personal data in full: 4 to 200 characters of text.
pub fn checked_reason(reason: &str) -> Result<String> {
    let reason = reason.trim();
    let length = reason.chars().count();
    if !(4..=200).contains(&length) || crate::domain::has_control(reason) {
        return Err(Error::field(FieldError::new(
            "reason",
            "required",
            "请写明查看完整信息的理由（4 到 200 字）",
            "State why the full data is needed (4 to 200 characters)",
        )));
    }
    Ok(reason.to_string())
}

/// A sublandlord's full name and phone number.
#[derive(Debug, Clone)]
pub struct Contact {
    pub name: String,
    pub phone: String,
}

/// One person's full name and phone number from the ledger (staff who read the ledger, the
/// person within their sight), audited with the reason before it is shown.
pub async fn sublandlord(
    ctx: &Context,
    caller: &Caller,
    person_id: i64,
    reason: &str,
) -> Result<Contact> {
    caller.require(Role::reads_ledger)?;
    let reason = checked_reason(reason)?;
    super::ledger::person_in_scope(ctx, caller, person_id).await?;
    let (name, sealed) = ledger_person::sealed_contact(&ctx.store, person_id)
        .await?
        .ok_or(Error::NotFound)?;
    let entry = audit::Entry {
        user_id: Some(caller.user_id),
        action: "sublandlord.reveal".into(),
        subject: Some(format!("person:{person_id}")),
        detail: None,
        reason: Some(reason),
    };
    // Recorded first: a reveal that could not be recorded does not happen.
    audit::append(&ctx.store, entry, store::millis(ctx.now())).await?;
    let phone = ctx
        .vault
        .open(Purpose::Phone, &sealed)
        .map_err(|e| Error::Internal(anyhow::anyhow!("opening a phone number: {e:?}")))?;
    Ok(Contact { name, phone })
}
