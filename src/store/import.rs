//! Bulk unit import: many units per transaction, each with its poster token and audit row;
//! a unit already at the same address in the same community is left as it is.

use std::collections::HashMap;

use super::units::{NewUnit, insert_token, insert_unit};
use super::{Store, StoreError, StoreResult, audit, communities};
use crate::crypto::{Purpose, Vault};
use crate::domain::import::{self as sheet, FileError, Rejected};
use crate::domain::token::QrToken;

/// Units per transaction: large enough that commits do not dominate, small enough that one
/// batch holds the SQLite writer for well under a second.
const BATCH: usize = 1_000;

/// What an import did (or, for a dry run, would do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Units created.
    pub created: usize,
    /// Rows naming a unit that already exists; nothing was changed for them.
    pub existing: usize,
}

/// The answer to one imported file.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Created and already-present units together: the rows that were valid.
    pub accepted: usize,
    pub created: usize,
    pub existing: usize,
    /// Every rejected row, in line order.
    pub rejected: Vec<Rejected>,
}

/// Why an import stopped before looking at rows.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    File(#[from] FileError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Imports a CSV file (UTF-8 or GBK) for a caller who may act in the communities `sees`
/// accepts: the one path of the CLI, the API and the upload page.
pub async fn csv(
    store: &Store,
    vault: &Vault,
    bytes: &[u8],
    sees: impl Fn(i64) -> bool,
    user_id: Option<i64>,
    dry_run: bool,
    now_ms: i64,
) -> Result<Report, ImportError> {
    let parsed = sheet::parse(&sheet::decode(bytes)?)?;
    let by_name: HashMap<String, i64> = communities::list(store)
        .await?
        .into_iter()
        .map(|c| (c.name, c.id))
        .collect();
    let mut rejected = parsed.rejected;
    let mut new = Vec::with_capacity(parsed.rows.len());
    for row in parsed.rows {
        match by_name.get(&row.community).copied().filter(|&id| sees(id)) {
            Some(community_id) => new.push(NewUnit {
                created_by: user_id,
                community_id,
                address: row.address.display().to_string(),
                address_key: row.address.key().to_string(),
                kind: row.kind.as_str(),
                rental_mode: row.rental_mode.as_str(),
                rooms: row.rooms,
                floor_area_m2: row.floor_area_m2,
            }),
            None => rejected.push(Rejected {
                line: row.line,
                reason: format!("没有名为“{}”的社区，或您无权管理它", row.community),
            }),
        }
    }
    rejected.sort_by_key(|r| r.line);
    let outcome = units(store, vault, new, user_id, dry_run, now_ms).await?;
    Ok(Report {
        accepted: outcome.created + outcome.existing,
        created: outcome.created,
        existing: outcome.existing,
        rejected,
    })
}

/// Creates the units that do not exist yet, by `user_id`. With `dry_run` nothing is
/// written and the outcome says what an import would do.
pub async fn units(
    store: &Store,
    vault: &Vault,
    rows: Vec<NewUnit>,
    user_id: Option<i64>,
    dry_run: bool,
    now_ms: i64,
) -> StoreResult<Outcome> {
    if dry_run {
        return would_create(store, &rows).await;
    }
    let backend = store.backend();
    let mut total = Outcome::default();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<(NewUnit, QrToken)> = rows
            .by_ref()
            .take(BATCH)
            .map(|unit| (unit, QrToken::generate()))
            .collect();
        let sealed: Vec<(Vec<u8>, Vec<u8>)> = batch
            .iter()
            .map(|(_, token)| {
                (
                    vault.token_hash(token.as_ref()),
                    vault.seal(Purpose::QrToken, token.as_ref()),
                )
            })
            .collect();
        let outcome = store
            .write(Box::new(move |conn| {
                Box::pin(async move {
                    let mut outcome = Outcome::default();
                    let mut entries = Vec::new();
                    for ((unit, _), (hash, enc)) in batch.iter().zip(sealed) {
                        let Some(id) = insert_unit(conn, unit, true, now_ms).await? else {
                            outcome.existing += 1;
                            continue;
                        };
                        insert_token(conn, id, 1, hash, enc, now_ms).await?;
                        outcome.created += 1;
                        entries.push(audit::Entry {
                            user_id,
                            action: "unit.import".into(),
                            subject: Some(format!("unit:{id}")),
                            detail: None,
                            reason: None,
                        });
                    }
                    audit::append_all_in(conn, backend, &entries, now_ms).await?;
                    Ok(outcome)
                })
            }))
            .await?;
        total.created += outcome.created;
        total.existing += outcome.existing;
    }
    Ok(total)
}

async fn would_create(store: &Store, rows: &[NewUnit]) -> StoreResult<Outcome> {
    let mut outcome = Outcome::default();
    for unit in rows {
        let found: Option<i64> =
            sqlx::query_scalar("select id from units where community_id = $1 and address_key = $2")
                .bind(unit.community_id)
                .bind(unit.address_key.clone())
                .fetch_optional(store.pool())
                .await?;
        if found.is_some() {
            outcome.existing += 1;
        } else {
            outcome.created += 1;
        }
    }
    Ok(outcome)
}
