//! Scheduled work: the overdue sweep, run by `renfang serve` on `RENFANG_SWEEP_CRON` in
//! `RENFANG_TZ`, and by `renfang sweep` once.

pub mod sweep;

use anyhow::Context;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::config::Settings;
use crate::store::Store;

/// Starts the scheduler with every job; dropping or shutting it down stops them.
pub async fn start(store: Store, settings: &Settings) -> anyhow::Result<JobScheduler> {
    let scheduler = JobScheduler::new()
        .await
        .context("starting the scheduler")?;
    let days = settings.overdue_days;
    // The crate evaluates cron expressions in UTC unless given a zone: "at 02:00" must mean
    // 02:00 in the town, not in Greenwich.
    let job = Job::new_async_tz(settings.sweep_cron.as_str(), settings.tz, move |_, _| {
        let store = store.clone();
        Box::pin(async move {
            match sweep::run(&store, days, chrono::Utc::now()).await {
                Ok(n) => tracing::info!(created = n, "overdue sweep"),
                Err(e) => tracing::error!(error = format!("{e:#}"), "overdue sweep failed"),
            }
        })
    })
    .with_context(|| {
        format!(
            "RENFANG_SWEEP_CRON {:?} is not a valid schedule",
            settings.sweep_cron
        )
    })?;
    scheduler.add(job).await.context("scheduling the sweep")?;
    scheduler.start().await.context("starting the scheduler")?;
    Ok(scheduler)
}
