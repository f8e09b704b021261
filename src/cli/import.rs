//! `renfang import units FILE.csv [--dry-run]`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Settings;
use crate::store::import::{self, ImportError, Report};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Imports units from a CSV file (UTF-8 or GBK) with the columns 社区, 地址, 间数, 类型,
    /// 出租方式 and optionally 面积; units already present are left as they are.
    Units {
        /// The CSV file.
        file: PathBuf,
        /// Checks the file and reports what an import would do, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Exit status when the file cannot be read at all.
const UNREADABLE: u8 = 2;

pub async fn run(command: ImportCommand, settings: Settings) -> anyhow::Result<ExitCode> {
    let ImportCommand::Units { file, dry_run } = command;
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("cannot read {}: {e}", file.display());
            return Ok(ExitCode::from(UNREADABLE));
        }
    };
    let vault = crate::crypto::Vault::new(&settings.resolve_data_key()?);
    let store = super::open(&settings).await?;
    let now = crate::store::millis(chrono::Utc::now());
    let result = import::csv(&store, &vault, &bytes, |_| true, None, dry_run, now).await;
    store.close().await;
    match result {
        Ok(report) => {
            print!("{}", summary(&report, dry_run));
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportError::File(e)) => {
            eprintln!("cannot import {}: {e}", file.display());
            Ok(ExitCode::from(UNREADABLE))
        }
        Err(ImportError::Store(e)) => Err(e.into()),
    }
}

/// The printed report: counts on the first line, then one line per rejected row.
pub fn summary(report: &Report, dry_run: bool) -> String {
    let mut out = format!(
        "{}accepted {} (created {}, already present {}), rejected {}\n",
        if dry_run { "dry run: " } else { "" },
        report.accepted,
        report.created,
        report.existing,
        report.rejected.len()
    );
    for r in &report.rejected {
        out.push_str(&format!("line {}: {}\n", r.line, r.reason));
    }
    out
}
