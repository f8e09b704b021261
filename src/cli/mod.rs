//! The `renfang` command line: the same domain and store functions as the routes.

mod demo;
pub mod import;
pub mod qr;
pub mod user;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::Application;
use crate::config::Settings;
use crate::store::Store;

/// renfang — 人房共管 QR-code rental registration.
#[derive(Debug, Parser)]
#[command(name = "renfang", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the HTTP server.
    Serve,
    /// Creates (or reuses) data/demo.db with sample data, prints logins, then serves.
    Demo {
        /// Listen address, e.g. 127.0.0.1:8080 (port 0 picks a free port).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Applies database migrations and exits.
    Migrate,
    /// Manages staff accounts.
    User {
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Bulk imports.
    Import {
        #[command(subcommand)]
        command: import::ImportCommand,
    },
    /// QR posters.
    Qr {
        #[command(subcommand)]
        command: qr::QrCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Recomputes the sublandlord ledger from the records (after a bulk load, or to repair
    /// it) and prints how many people it holds.
    LedgerRebuild,
    /// Reports.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Deletes personal data past retention and prints what it deleted.
    Purge {
        /// The instant to purge as of (RFC 3339); default now.
        #[arg(long)]
        at: Option<String>,
    },
    /// Runs the overdue sweep once and prints how many door checks it created.
    Sweep {
        /// The instant to sweep as of (RFC 3339); default now.
        #[arg(long)]
        at: Option<String>,
    },
    /// Queues the reminders due before the clock falls due and prints how many it queued.
    Remind {
        /// The instant to remind as of (RFC 3339); default now.
        #[arg(long)]
        at: Option<String>,
    },
    /// Queues the police's daily digest of each community (once a day) and prints how many
    /// it queued.
    Digest {
        /// The instant of the digest (RFC 3339); default now.
        #[arg(long)]
        at: Option<String>,
    },
    /// Delivers every outbox message due now to its destination and prints how many were
    /// sent, failed (to be retried), given up and held; `serve` does this every few seconds.
    Dispatch,
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// Writes the monthly report (summary and one sheet per community) as XLSX.
    Monthly {
        /// The month, YYYY-MM, in RENFANG_TZ.
        #[arg(long)]
        month: String,
        /// The file to write.
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Checks the hash chain and prints how many rows hold, or the first row that does not
    /// (then exits with status 1).
    Verify,
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve => serve(Settings::load()?).await,
        Command::Demo { bind } => demo::run(bind).await,
        Command::Migrate => {
            let settings = Settings::load()?;
            let store = open(&settings).await?;
            store.close().await;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command } => user::run(command, Settings::load()?).await,
        Command::Import { command } => import::run(command, Settings::load()?).await,
        Command::Qr { command } => qr::run(command, Settings::load()?).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            use crate::store::audit::{self, Verdict};
            let settings = Settings::load()?;
            let store = open(&settings).await?;
            if !audit::anchored(&store) {
                eprintln!(
                    "warning: no audit head is kept outside the database \
                     (set RENFANG_AUDIT_HEAD_FILE or RENFANG_REDIS_URL), \
                     so removing the newest rows cannot be found"
                );
            }
            let verdict = audit::verify(&store).await?;
            store.close().await;
            match verdict {
                Verdict::Intact { rows } => {
                    println!("audit log intact: {rows} rows");
                    Ok(ExitCode::SUCCESS)
                }
                Verdict::BrokenAt { id } => {
                    println!("audit log broken at row {id}");
                    Ok(ExitCode::FAILURE)
                }
                Verdict::Truncated { after, head } => {
                    println!(
                        "audit log broken after row {after}: the newest rows, up to row \
                         {head}, were removed"
                    );
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::LedgerRebuild => {
            let settings = Settings::load()?;
            let store = open(&settings).await?;
            let people = crate::store::sublandlords::rebuild_ledger(&store).await?;
            store.close().await;
            println!("ledger rebuilt: {people} people");
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            command: ReportCommand::Monthly { month, out },
        } => {
            let month = crate::domain::month::Month::parse(month.trim())
                .with_context(|| format!("--month {month:?} is not YYYY-MM"))?;
            let settings = Settings::load()?;
            let store = open(&settings).await?;
            let xlsx = crate::report::monthly(
                &store,
                month,
                settings.tz,
                chrono::Utc::now(),
                settings.case_target,
            )
            .await;
            store.close().await;
            std::fs::write(&out, xlsx?).with_context(|| format!("writing {}", out.display()))?;
            println!("wrote the {month} report to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Purge { at } => {
            let at = instant_or_now(at)?;
            let settings = Settings::load()?;
            let store = open(&settings).await?;
            let purged = crate::jobs::purge::run(&store, settings.retention_days, at).await?;
            store.close().await;
            println!(
                "purged personal data of {} occupants and {} tips (older than {} days)",
                purged.occupants, purged.tips, settings.retention_days
            );
            println!("emptied the notes of {} door checks", purged.door_checks);
            println!("emptied {} visit photos", purged.visit_photos);
            println!(
                "forgot {} idempotency keys of staff requests",
                purged.idempotency_keys
            );
            println!(
                "deleted {} delivered and {} given-up outbox messages and {} old events",
                purged.outbox.sent, purged.outbox.dead, purged.outbox.events
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Sweep { at } => {
            let at = instant_or_now(at)?;
            let settings = Settings::load()?;
            let store = open(&settings).await?;
            let created = crate::jobs::sweep::run(&store, settings.clock(), at).await?;
            store.close().await;
            println!("created {created} door checks");
            Ok(ExitCode::SUCCESS)
        }
        Command::Remind { at } => {
            let at = instant_or_now(at)?;
            let settings = Settings::load()?;
            let store = open(&settings).await?;
            let queued =
                crate::jobs::reminders::run(&store, settings.clock(), settings.tz, at).await;
            store.close().await;
            println!("queued {} reminders", queued?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Digest { at } => {
            let at = instant_or_now(at)?;
            let settings = Settings::load()?;
            let store = open(&settings).await?;
            let queued = crate::jobs::reminders::digest(&store, settings.tz, at).await;
            store.close().await;
            println!("queued {} digests", queued?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Dispatch => {
            let settings = Settings::load()?;
            let store = open(&settings).await?;
            let vault =
                std::sync::Arc::new(crate::crypto::Vault::new(&settings.resolve_data_key()?));
            let public_url = settings
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", settings.bind));
            let dispatcher = crate::jobs::outbox::Dispatcher::new(&settings, vault, &public_url)?;
            let ran = dispatcher.run_once(&store, chrono::Utc::now()).await?;
            store.close().await;
            println!(
                "sent {} messages, {} failed, {} given up, {} held for the quiet hours",
                ran.sent, ran.failed, ran.dead, ran.held
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `--at` as an instant, or now.
fn instant_or_now(at: Option<String>) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    Ok(match at {
        Some(text) => chrono::DateTime::parse_from_rfc3339(&text)
            .with_context(|| format!("--at {text:?} is not an RFC 3339 instant"))?
            .with_timezone(&chrono::Utc),
        None => chrono::Utc::now(),
    })
}

/// Opens the configured database, applies pending migrations and keys the audit chain.
pub async fn open(settings: &Settings) -> anyhow::Result<Store> {
    let key = settings.resolve_data_key()?;
    let store = Store::connect(&settings.database_url, settings.db_max_connections).await?;
    store.migrate().await?;
    store.with_audit_of(settings, &key)
}

/// Builds the application, announces the address and serves until stopped, with the
/// scheduled jobs beside it.
pub async fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    let app = Application::build(settings.clone()).await?;
    run_with_jobs(app, &settings).await
}

/// Serves `app` with the scheduler; both stop when the server stops.
pub async fn run_with_jobs(app: Application, settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut scheduler = crate::jobs::start(app.store().clone(), settings).await?;
    let outbox = crate::jobs::outbox::spawn(app.store().clone(), app.dispatcher());
    announce(&app);
    let served = app.run_until_stopped().await;
    outbox.abort();
    let _ = scheduler.shutdown().await;
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the contract's `listening on` line; the listener already accepts connections.
pub fn announce(app: &Application) {
    println!("listening on http://{}", app.address());
    let _ = std::io::stdout().flush();
}
