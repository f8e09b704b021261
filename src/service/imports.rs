//! Bulk unit import from a survey file, in the caller's communities.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Caller, Context, Error, Result};
use crate::crypto::Vault;
use crate::domain::role::Role;
use crate::store::Store;
use crate::store::import::{self, ImportError, Report};

/// One rejected row of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedRow {
    /// Line in the file; the header is line 1.
    pub line: u64,
    /// Why, in Chinese.
    pub reason: String,
}

/// What an import did (or would do, on a dry run).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Valid rows: created plus already present.
    pub accepted: usize,
    pub created: usize,
    /// Rows naming a unit that already exists; left unchanged.
    pub existing: usize,
    pub rejected: Vec<RejectedRow>,
}

impl ImportReport {
    /// The answer to a stored report.
    pub fn new(report: Report, dry_run: bool) -> Self {
        Self {
            dry_run,
            accepted: report.accepted,
            created: report.created,
            existing: report.existing,
            rejected: report
                .rejected
                .into_iter()
                .map(|r| RejectedRow {
                    line: r.line,
                    reason: r.reason,
                })
                .collect(),
        }
    }
}

/// Imports units from a CSV file (UTF-8 or GBK) into the caller's communities; a dry run
/// checks the file and writes nothing. Units already present are left unchanged.
pub async fn units(
    ctx: &Context,
    caller: &Caller,
    bytes: &[u8],
    dry_run: bool,
) -> Result<ImportReport> {
    caller.require(Role::manages_units)?;
    import_units(&ctx.store, &ctx.vault, Some(caller), bytes, dry_run).await
}

/// The template of an import file, as CSV with a byte-order mark: its sample row is in the
/// first of the caller's communities, so that the template itself imports.
pub async fn template(ctx: &Context, caller: &Caller) -> Result<Vec<u8>> {
    caller.require(Role::manages_units)?;
    let community = crate::store::communities::list(&ctx.store)
        .await?
        .into_iter()
        .find(|c| caller.sees(c.id))
        .map_or_else(|| "影佳".to_string(), |c| c.name);
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend_from_slice(crate::domain::import::template(&community).as_bytes());
    Ok(bytes)
}

/// The import itself, for a caller (`by`) or from the command line (`None`: every
/// community, recorded as no one's). Takes the store and the keys alone: the command line
/// has no sessions to offer.
pub async fn import_units(
    store: &Store,
    vault: &Vault,
    by: Option<&Caller>,
    bytes: &[u8],
    dry_run: bool,
) -> Result<ImportReport> {
    let now = crate::store::millis(chrono::Utc::now());
    let sees = |id| by.is_none_or(|caller| caller.sees(id));
    let by = by.map(|caller| caller.user_id);
    match import::csv(store, vault, bytes, sees, by, dry_run, now).await {
        Ok(report) => Ok(ImportReport::new(report, dry_run)),
        Err(ImportError::File(e)) => Err(Error::InvalidFile(e.to_string())),
        Err(ImportError::Store(e)) => Err(e.into()),
    }
}
