//! Bulk unit import: many units per transaction, each with its poster token and audit row;
//! a unit already at the same address in the same community is left as it is.

use std::collections::HashMap;

use super::findings::open_if_let_by_the_day;
use super::tx::{Tx, transaction};
use super::units::NewUnit;
use super::{Store, StoreError, StoreResult, audit, communities};
use crate::crypto::{Purpose, Vault};
use crate::domain::import::{self as sheet, FileError, Rejected};
use crate::domain::token::QrToken;
use crate::domain::unit::RentalMode;

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
    let by_name = communities::ByName::load(store).await?;
    let mut rejected = parsed.rejected;
    let mut new = Vec::with_capacity(parsed.rows.len());
    for row in parsed.rows {
        match by_name.get(&row.community).filter(|&id| sees(id)) {
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
    let mut total = Outcome::default();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        // Tokens are made for every row up front (cheap), and used for the created ones.
        let batch: Vec<(NewUnit, Vec<u8>, Vec<u8>)> = rows
            .by_ref()
            .take(BATCH)
            .map(|unit| {
                let token = QrToken::generate();
                let hash = vault.token_hash(token.as_ref());
                let sealed = vault.seal(Purpose::QrToken, token.as_ref());
                (unit, hash, sealed)
            })
            .collect();
        let outcome = transaction!(store, |tx| {
            let mut outcome = Outcome::default();
            let mut entries = Vec::new();
            for chunk in batch.chunks(ROWS_PER_STATEMENT) {
                let created = insert_units(tx, chunk, now_ms).await?;
                outcome.existing += chunk.len() - created.len();
                outcome.created += created.len();
                insert_tokens(tx, chunk, &created, now_ms).await?;
                for &(id, i) in &created {
                    if chunk[i].0.rental_mode == RentalMode::Daily.as_str() {
                        open_if_let_by_the_day(tx, id, now_ms).await?;
                    }
                }
                entries.extend(created.iter().map(|(id, _)| audit::Entry {
                    user_id,
                    action: "unit.import".into(),
                    subject: Some(format!("unit:{id}")),
                    detail: None,
                    reason: None,
                }));
            }
            audit::append_all_in(tx, &entries, now_ms).await?;
            Ok(outcome)
        })
        .await?;
        total.created += outcome.created;
        total.existing += outcome.existing;
    }
    Ok(total)
}

/// Rows per multi-row `insert`: far below either backend's limit on bound values.
const ROWS_PER_STATEMENT: usize = 100;

/// Inserts a chunk of units in one statement, skipping those already present; returns the
/// new ids with each one's index in the chunk.
async fn insert_units(
    tx: &mut Tx<'_>,
    chunk: &[(NewUnit, Vec<u8>, Vec<u8>)],
    now_ms: i64,
) -> StoreResult<Vec<(i64, usize)>> {
    const COLUMNS: usize = 8;
    let values: Vec<String> = (0..chunk.len())
        .map(|i| {
            let p = |k: usize| format!("${}", i * COLUMNS + k);
            // An absent area travels as -1 (see `units::insert_unit`).
            format!(
                "({}, {}, {}, {}, {}, {}, case when {a} < 0 then null else {a} end, 'active', \
                 {t}, {t}, 1, {t})",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6),
                a = p(7),
                t = p(8),
            )
        })
        .collect();
    let sql = format!(
        r"insert into units (community_id, address, address_key, kind, rental_mode, rooms,
              floor_area_m2, state, watched_since, clock_from, qr_version, created_at)
          values {}
          on conflict (community_id, address_key) do nothing
          returning id, community_id, address_key",
        values.join(", ")
    );
    let mut query = sqlx::query_as::<_, (i64, i64, String)>(sqlx::AssertSqlSafe(sql));
    for (unit, _, _) in chunk {
        query = query
            .bind(unit.community_id)
            .bind(unit.address.clone())
            .bind(unit.address_key.clone())
            .bind(unit.kind)
            .bind(unit.rental_mode)
            .bind(unit.rooms)
            .bind(unit.floor_area_m2.unwrap_or(-1.0))
            .bind(now_ms);
    }
    let returned = query.fetch_all(tx.conn()).await?;
    let index: HashMap<(i64, &str), usize> = chunk
        .iter()
        .enumerate()
        .map(|(i, (u, _, _))| ((u.community_id, u.address_key.as_str()), i))
        .collect();
    let mut created: Vec<(i64, usize)> = returned
        .iter()
        .filter_map(|(id, community, key)| {
            index.get(&(*community, key.as_str())).map(|&i| (*id, i))
        })
        .collect();
    created.sort_by_key(|&(_, i)| i);
    Ok(created)
}

/// The first poster token of each created unit, in one statement.
async fn insert_tokens(
    tx: &mut Tx<'_>,
    chunk: &[(NewUnit, Vec<u8>, Vec<u8>)],
    created: &[(i64, usize)],
    now_ms: i64,
) -> StoreResult<()> {
    if created.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..created.len())
        .map(|i| {
            format!(
                "(${}, ${}, 1, ${}, ${})",
                i * 4 + 1,
                i * 4 + 2,
                i * 4 + 3,
                i * 4 + 4
            )
        })
        .collect();
    let sql = format!(
        "insert into qr_tokens (token_hash, unit_id, version, token_enc, created_at) values {}",
        values.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for &(id, i) in created {
        let (_, hash, sealed) = &chunk[i];
        query = query
            .bind(hash.clone())
            .bind(id)
            .bind(sealed.clone())
            .bind(now_ms);
    }
    query.execute(tx.conn()).await?;
    Ok(())
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
