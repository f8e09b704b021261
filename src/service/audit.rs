//! Reading the audit log (admins).

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::{Caller, Context, Result, paging};
use crate::domain::role::Role;
use crate::store::{audit, users};

/// One audit row.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditItem {
    pub id: i64,
    pub at: String,
    /// The same instant in milliseconds, for pages that show local time.
    #[serde(skip)]
    pub at_ms: i64,
    /// The acting account; none for the service itself.
    pub user_id: Option<i64>,
    /// Its login name, for people reading the log.
    pub username: Option<String>,
    pub action: String,
    pub subject: Option<String>,
    /// Details (JSON text).
    pub detail: Option<String>,
    pub reason: Option<String>,
    /// This row's link in the chain (hex SHA-256).
    pub hash: String,
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditItem>,
    pub total: i64,
}

/// A page of the log, newest first, with the login names of the acting accounts (admins).
pub async fn page(
    ctx: &Context,
    caller: &Caller,
    page: Option<i64>,
    per_page: Option<i64>,
) -> Result<AuditPage> {
    caller.require(Role::is_admin)?;
    let (offset, limit) = paging(page, per_page)?;
    let (rows, total) = audit::list(&ctx.store, offset, limit).await?;
    let mut names: HashMap<i64, Option<String>> = HashMap::new();
    for id in rows.iter().filter_map(|r| r.user_id) {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(id) {
            let user = users::get(&ctx.store, id).await?;
            slot.insert(user.map(|u| u.username));
        }
    }
    Ok(AuditPage {
        items: rows
            .into_iter()
            .map(|r| AuditItem {
                id: r.id,
                at: super::rfc3339(r.at),
                at_ms: r.at,
                user_id: r.user_id,
                username: r.user_id.and_then(|id| names.get(&id).cloned().flatten()),
                action: r.action,
                subject: r.subject,
                detail: r.detail,
                reason: r.reason,
                hash: r.hash.iter().map(|b| format!("{b:02x}")).collect(),
            })
            .collect(),
        total,
    })
}
