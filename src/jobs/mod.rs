//! Scheduled work, run by `renfang serve` in `RENFANG_TZ`: the overdue sweep
//! (`RENFANG_SWEEP_CRON`), the retention purge (`RENFANG_PURGE_CRON`) and the monthly report
//! (`RENFANG_REPORT_CRON`, the 24th), the reminders before the clock falls due
//! (`RENFANG_REMIND_CRON`) and the police's morning digest (`RENFANG_DIGEST_CRON`). Each is
//! also one command of the CLI. The outbox
//! dispatcher ([`outbox`]) is no cron job: `renfang serve` runs it every few seconds beside
//! them, and `renfang dispatch` once.

pub mod channels;
pub mod outbox;
pub mod purge;
pub mod reminders;
pub mod report;
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
    let rules = settings.clock();
    let store_for_purge = store.clone();
    let store_for_report = store.clone();
    let store_for_remind = store.clone();
    let store_for_digest = store.clone();
    // The crate evaluates cron expressions in UTC unless given a zone: "at 02:00" must mean
    // 02:00 in the town, not in Greenwich.
    let job = Job::new_async_tz(settings.sweep_cron.as_str(), settings.tz, move |_, _| {
        let store = store.clone();
        Box::pin(async move {
            match sweep::run(&store, rules, chrono::Utc::now()).await {
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

    let retention = settings.retention_days;
    let purge_store = store_for_purge;
    let job = Job::new_async_tz(settings.purge_cron.as_str(), settings.tz, move |_, _| {
        let store = purge_store.clone();
        Box::pin(async move {
            match purge::run(&store, retention, chrono::Utc::now()).await {
                Ok(p) => tracing::info!(
                    occupants = p.occupants,
                    tips = p.tips,
                    door_checks = p.door_checks,
                    "retention purge"
                ),
                Err(e) => tracing::error!(error = format!("{e:#}"), "retention purge failed"),
            }
        })
    })
    .with_context(|| {
        format!(
            "RENFANG_PURGE_CRON {:?} is not a valid schedule",
            settings.purge_cron
        )
    })?;
    scheduler.add(job).await.context("scheduling the purge")?;

    let report_store = store_for_report;
    let report_settings = settings.clone();
    let job = Job::new_async_tz(settings.report_cron.as_str(), settings.tz, move |_, _| {
        let store = report_store.clone();
        let settings = report_settings.clone();
        Box::pin(async move {
            match report::run(&store, &settings, chrono::Utc::now()).await {
                Ok(month) => tracing::info!(%month, "monthly report written"),
                Err(e) => tracing::error!(error = format!("{e:#}"), "monthly report failed"),
            }
        })
    })
    .with_context(|| {
        format!(
            "RENFANG_REPORT_CRON {:?} is not a valid schedule",
            settings.report_cron
        )
    })?;
    scheduler
        .add(job)
        .await
        .context("scheduling the monthly report")?;
    let (remind_store, tz) = (store_for_remind, settings.tz);
    let job = Job::new_async_tz(settings.remind_cron.as_str(), settings.tz, move |_, _| {
        let store = remind_store.clone();
        Box::pin(async move {
            match reminders::run(&store, rules, tz, chrono::Utc::now()).await {
                Ok(n) => tracing::info!(queued = n, "reminders"),
                Err(e) => tracing::error!(error = format!("{e:#}"), "reminders failed"),
            }
        })
    })
    .with_context(|| {
        format!(
            "RENFANG_REMIND_CRON {:?} is not a valid schedule",
            settings.remind_cron
        )
    })?;
    scheduler
        .add(job)
        .await
        .context("scheduling the reminders")?;

    let digest_store = store_for_digest;
    let job = Job::new_async_tz(settings.digest_cron.as_str(), settings.tz, move |_, _| {
        let store = digest_store.clone();
        Box::pin(async move {
            match reminders::digest(&store, tz, chrono::Utc::now()).await {
                Ok(n) => tracing::info!(queued = n, "police digest"),
                Err(e) => tracing::error!(error = format!("{e:#}"), "police digest failed"),
            }
        })
    })
    .with_context(|| {
        format!(
            "RENFANG_DIGEST_CRON {:?} is not a valid schedule",
            settings.digest_cron
        )
    })?;
    scheduler
        .add(job)
        .await
        .context("scheduling the police digest")?;
    scheduler.start().await.context("starting the scheduler")?;
    Ok(scheduler)
}
