//! `renfang import units FILE.csv [--dry-run]`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Settings;
use crate::service::Error;
use crate::service::imports::{ImportReport, import_units};

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
    let result = import_units(&store, &vault, None, &bytes, dry_run).await;
    store.close().await;
    match result {
        Ok(report) => {
            print!("{}", summary(&report));
            Ok(ExitCode::SUCCESS)
        }
        Err(Error::InvalidFile(e)) => {
            eprintln!("cannot import {}: {e}", file.display());
            Ok(ExitCode::from(UNREADABLE))
        }
        Err(e) => Err(e.into()),
    }
}

/// The printed report: counts on the first line, then one line per rejected row.
pub fn summary(report: &ImportReport) -> String {
    let mut out = format!(
        "{}accepted {} (created {}, already present {}), rejected {}\n",
        if report.dry_run { "dry run: " } else { "" },
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
