//! The monthly report for download (admins): the copy the scheduler wrote on the 24th, or,
//! for a month without one, a report made from the current records.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Caller, Context, Error, Result};
use crate::domain::month::Month;
use crate::domain::role::Role;
use crate::store::{self, audit, reports};

/// A stored report.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredReport {
    /// `YYYY-MM`.
    pub month: String,
    pub created_at: String,
    pub url: String,
    /// When it was written (milliseconds), for pages that show local time.
    #[serde(skip)]
    pub created_ms: i64,
}

/// The reports written by the scheduler (or on request), newest first.
pub async fn stored(ctx: &Context, caller: &Caller) -> Result<Vec<StoredReport>> {
    caller.require(Role::is_admin)?;
    let rows = reports::list(&ctx.store).await?;
    Ok(rows
        .into_iter()
        .map(|(month, at)| StoredReport {
            url: format!("/api/v1/reports/monthly/{month}.xlsx"),
            month,
            created_at: store::instant(at).to_rfc3339(),
            created_ms: at,
        })
        .collect())
}

/// A monthly report as an XLSX file.
pub struct MonthlyReport {
    /// `YYYY-MM`.
    pub month: String,
    pub xlsx: Vec<u8>,
}

/// The report of `month` (`YYYY-MM`): the kept copy, or one made now; audited as an export.
pub async fn monthly(ctx: &Context, caller: &Caller, month: &str) -> Result<MonthlyReport> {
    caller.require(Role::is_admin)?;
    let month = Month::parse(month).ok_or_else(|| Error::invalid("month"))?;
    let name = month.to_string();
    let kept = reports::get(&ctx.store, &name).await?;
    let from_scheduler = kept.is_some();
    let xlsx = match kept {
        Some(bytes) => bytes,
        None => {
            crate::report::monthly(
                &ctx.store,
                month,
                ctx.settings.tz,
                ctx.now(),
                ctx.settings.case_target,
            )
            .await?
        }
    };
    let entry = audit::Entry {
        user_id: Some(caller.user_id),
        action: "export.monthly_report".into(),
        subject: Some(format!("report:{name}")),
        detail: Some(serde_json::json!({ "stored": from_scheduler }).to_string()),
        reason: None,
    };
    audit::append(&ctx.store, entry, store::millis(ctx.now())).await?;
    Ok(MonthlyReport { month: name, xlsx })
}
