//! `renfang qr posters`: every active unit's poster of a community, from the command line.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::config::Settings;
use crate::crypto::Vault;
use crate::qr::batch::{Batch, Format};
use crate::qr::poster::Posters;
use crate::store::communities;

#[derive(Debug, Subcommand)]
pub enum QrCommand {
    /// Writes the poster of every active unit of a community: PDF as one file with a page a
    /// poster, PNG or SVG as one file a unit (named by the unit number) in the folder OUT.
    Posters {
        #[arg(long)]
        community: String,
        /// pdf, png or svg.
        #[arg(long, default_value = "pdf")]
        format: String,
        /// The PDF file, or the folder for PNG and SVG files.
        #[arg(long)]
        out: PathBuf,
        /// A template of the templates folder: a4 (door poster) or a6 (sticker).
        #[arg(long, default_value = "a4")]
        template: String,
        /// PNG resolution (dots per inch); default RENFANG_POSTER_DPI.
        #[arg(long)]
        dpi: Option<u32>,
    },
}

pub async fn run(command: QrCommand, settings: Settings) -> anyhow::Result<ExitCode> {
    let QrCommand::Posters {
        community,
        format,
        out,
        template,
        dpi,
    } = command;
    let Some(format) = Format::parse(&format) else {
        bail!("--format must be pdf, png or svg");
    };
    let dpi = dpi.unwrap_or(settings.poster_dpi);
    if !(72..=1200).contains(&dpi) {
        bail!("--dpi must be from 72 to 1200");
    }
    let posters = Arc::new(Posters::load(
        settings.qr_templates.as_deref(),
        settings.poster_font.as_deref(),
    )?);
    if !posters.names().contains(&template.as_str()) {
        bail!(
            "no template {template:?} (there are: {})",
            posters.names().join(", ")
        );
    }
    let public_url = reachable_public_url(&settings)?;
    let key = settings.resolve_data_key()?;
    let store = super::open(&settings).await?;
    let found = communities::find_by_name(&store, community.trim())
        .await?
        .with_context(|| format!("no community named {community:?}"))?;
    let community_id = found.id;
    let batch = Batch {
        store: store.clone(),
        vault: Arc::new(Vault::new(&key)),
        posters,
        public_url,
        hotline: settings.hotline.clone(),
        community_id: found.id,
        community: found.name,
        date: chrono::Utc::now()
            .with_timezone(&settings.tz)
            .format("%Y-%m-%d")
            .to_string(),
        template,
        dpi,
    };
    let runtime = tokio::runtime::Handle::current();
    let target = out.clone();
    let report = tokio::task::spawn_blocking(move || {
        let mut shown = Progress::new();
        let report = batch.write(&runtime, format, &target, |done, total| {
            shown.update(done, total)
        });
        shown.end();
        report
    })
    .await??;
    crate::store::units::record_prints(
        &store,
        None,
        Some(community_id),
        None,
        crate::store::millis(chrono::Utc::now()),
    )
    .await?;
    store.close().await;
    for skipped in &report.skipped {
        eprintln!(
            "跳过 skipped {} {}: {}",
            skipped.unit_no, skipped.address, skipped.reason
        );
    }
    println!(
        "wrote {} posters to {}{}",
        report.written,
        out.display(),
        if report.skipped.is_empty() {
            String::new()
        } else {
            format!(" ({} skipped, see above)", report.skipped.len())
        }
    );
    Ok(if report.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Progress on stderr: a bar redrawn in place on a terminal, a line every tenth otherwise.
struct Progress {
    terminal: bool,
    last: Option<usize>,
}

impl Progress {
    fn new() -> Self {
        Self {
            terminal: std::io::stderr().is_terminal(),
            last: None,
        }
    }

    fn update(&mut self, done: usize, total: usize) {
        let total = total.max(1);
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let percent = done * 100 / total;
            if self.last == Some(percent) && done != total {
                return;
            }
            self.last = Some(percent);
            let filled = done * 30 / total;
            let _ = write!(
                err,
                "\r海报 posters [{}{}] {done}/{total} {percent:3}%",
                "#".repeat(filled),
                " ".repeat(30 - filled)
            );
        } else {
            let tenth = done * 10 / total;
            if self.last == Some(tenth) {
                return;
            }
            self.last = Some(tenth);
            let _ = writeln!(err, "posters: {done}/{total}");
        }
    }

    fn end(&self) {
        if self.terminal {
            let _ = writeln!(std::io::stderr());
        }
    }
}

/// The base of the URLs the printed QR codes carry. A printed poster cannot be corrected, so
/// a base no phone can open (unset, where the listen address would stand in, or port 0)
/// stops the run before a whole community of stickers points nowhere.
fn reachable_public_url(settings: &Settings) -> anyhow::Result<String> {
    let Some(base) = &settings.public_url else {
        bail!(
            "RENFANG_PUBLIC_URL is not set: the QR codes would point at this machine's listen \
             address ({}), which phones cannot open; set RENFANG_PUBLIC_URL to the address \
             phones reach the service at (e.g. https://renfang.example.gov.cn)",
            settings.bind
        );
    };
    let parsed = url::Url::parse(base)
        .with_context(|| format!("RENFANG_PUBLIC_URL {base:?} is not a URL"))?;
    if parsed.port() == Some(0) || parsed.host_str().is_none_or(str::is_empty) {
        bail!(
            "RENFANG_PUBLIC_URL {base:?} names no address phones can open (no host, or port 0); \
             set it to the address phones reach the service at"
        );
    }
    Ok(base.clone())
}
