//! The outbox for admins: what waits, what failed and what was given up, per destination,
//! and "retry now".

use serde::Serialize;
use utoipa::ToSchema;

use super::{Caller, Context, Error, Result};
use crate::domain::role::Role;
use crate::store::outbox::{self, Counts, Failing, RetryTarget};
use crate::store::{self};

/// Failing or dead messages listed.
const FAILING_SHOWN: i64 = 50;

/// The state of the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxOverview {
    /// Per destination: pending, failing (pending after a failed attempt), dead, sent today.
    pub destinations: Vec<Counts>,
    /// The newest 50 failing or dead messages.
    pub failing: Vec<Failing>,
}

/// Counts per destination and the newest failing messages (admins).
pub async fn overview(ctx: &Context, caller: &Caller) -> Result<OutboxOverview> {
    caller.require(Role::is_admin)?;
    Ok(OutboxOverview {
        destinations: outbox::counts(&ctx.store, store::millis(day_start(ctx))).await?,
        failing: outbox::failing(&ctx.store, FAILING_SHOWN).await?,
    })
}

/// Makes a failing or dead message due now (admins); audited. `NotFound` for no such
/// message; 0 when it was neither failing nor dead.
pub async fn retry_message(ctx: &Context, caller: &Caller, id: i64) -> Result<u64> {
    caller.require(Role::is_admin)?;
    if outbox::destination_of(&ctx.store, id).await?.is_none() {
        return Err(Error::NotFound);
    }
    let now = store::millis(ctx.now());
    Ok(outbox::retry(&ctx.store, RetryTarget::Message(id), caller.user_id, now).await?)
}

/// Makes every failing or dead message of a destination due now (admins); audited.
pub async fn retry_destination(ctx: &Context, caller: &Caller, name: &str) -> Result<u64> {
    caller.require(Role::is_admin)?;
    let now = store::millis(ctx.now());
    let target = RetryTarget::Destination(name.to_string());
    Ok(outbox::retry(&ctx.store, target, caller.user_id, now).await?)
}

/// Sets the outbox gauges of the metrics from the stored counts (at each scrape).
pub async fn refresh_metrics(ctx: &Context) -> Result<()> {
    let overview_counts = outbox::counts(&ctx.store, store::millis(day_start(ctx))).await?;
    for c in overview_counts {
        for (state, n) in [
            ("pending", c.pending),
            ("failing", c.failing),
            ("dead", c.dead),
            ("sent_today", c.sent_today),
        ] {
            ctx.metrics
                .outbox
                .with_label_values(&[c.destination.as_str(), state])
                .set(n);
        }
    }
    Ok(())
}

/// The start of today in the configured time zone.
fn day_start(ctx: &Context) -> chrono::DateTime<chrono::Utc> {
    ctx.today()
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(ctx.settings.tz).earliest())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| ctx.now())
}
