//! Staff decisions on pending filings: approval links the unit to the filer with the
//! filing's terms; rejection records why. Both are audited.

use super::filings::{Terms, link_unit};
use super::findings::assess_occupancy;
use super::ledger::{Persons, refresh_ledger};
use super::tx::{Tx, transaction};
use super::{Store, StoreResult};
use crate::domain::sublandlord::{DensityLimits, FilingStatus};

/// Why a decision was not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decline {
    /// The filing was decided already (or never waited).
    NotPending,
    /// Another sublandlord lets the flat by now.
    OtherSublandlord,
}

/// What a pending filing holds for its approval.
type Pending = (i64, i64, i64, String, Option<f64>, i64, i64);

/// Locks a pending filing (PostgreSQL; SQLite has one writer) and reads it: unit, filer,
/// rooms, rental mode, floor area, planned occupants and when it was filed.
async fn pending(tx: &mut Tx<'_>, filing_id: i64) -> StoreResult<Option<Pending>> {
    let lock = tx.backend().row_lock();
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        r"select unit_id, sublandlord_id, rooms, rental_mode, floor_area_m2,
                 planned_occupants, created_at
          from filings where id = $1 and status = 'pending'{lock}"
    )))
    .bind(filing_id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Approves a pending filing: the unit becomes the filer's, with the filing's terms, counted
/// as filed when the filing was made. Returns the unit's id.
pub async fn approve(
    store: &Store,
    filing_id: i64,
    user_id: i64,
    limits: DensityLimits,
    now_ms: i64,
) -> StoreResult<Result<i64, Decline>> {
    transaction!(store, |tx| {
        let Some((unit_id, sublandlord_id, rooms, rental_mode, area, planned, filed_at)) =
            pending(tx, filing_id).await?
        else {
            return Ok(Err(Decline::NotPending));
        };
        let terms = Terms {
            rooms,
            rental_mode,
            floor_area_m2: area.unwrap_or(-1.0),
            planned_occupants: planned,
        };
        if !link_unit(tx, unit_id, sublandlord_id, &terms, filed_at, now_ms).await? {
            return Ok(Err(Decline::OtherSublandlord));
        }
        decide(tx, filing_id, FilingStatus::Approved, user_id, None, now_ms).await?;
        assess_occupancy(tx, unit_id, limits, now_ms).await?;
        refresh_ledger(tx, Persons::OfUnit(unit_id)).await?;
        let entry = super::audit::Entry {
            user_id: Some(user_id),
            action: "filing.approve".into(),
            subject: Some(format!("filing:{filing_id}")),
            detail: Some(
                serde_json::json!({"unit": unit_id, "sublandlord": sublandlord_id}).to_string(),
            ),
            reason: None,
        };
        super::audit::append_in(tx, &entry, now_ms).await?;
        Ok(Ok(unit_id))
    })
    .await
}

/// Rejects a pending filing with a reason; the unit stays as it was.
pub async fn reject(
    store: &Store,
    filing_id: i64,
    user_id: i64,
    reason: String,
    now_ms: i64,
) -> StoreResult<Result<(), Decline>> {
    transaction!(store, |tx| {
        let Some((unit_id, ..)) = pending(tx, filing_id).await? else {
            return Ok(Err(Decline::NotPending));
        };
        decide(
            tx,
            filing_id,
            FilingStatus::Rejected,
            user_id,
            Some(&reason),
            now_ms,
        )
        .await?;
        let entry = super::audit::Entry {
            user_id: Some(user_id),
            action: "filing.reject".into(),
            subject: Some(format!("filing:{filing_id}")),
            detail: Some(serde_json::json!({"unit": unit_id}).to_string()),
            reason: Some(reason),
        };
        super::audit::append_in(tx, &entry, now_ms).await?;
        Ok(Ok(()))
    })
    .await
}

async fn decide(
    tx: &mut Tx<'_>,
    filing_id: i64,
    status: FilingStatus,
    user_id: i64,
    reason: Option<&str>,
    now_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        r"update filings set status = $1, decided_by = $2, decided_at = $3,
              decision_reason = $4
          where id = $5",
    )
    .bind(status.as_str())
    .bind(user_id)
    .bind(now_ms)
    .bind(reason.map(str::to_string))
    .bind(filing_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}
