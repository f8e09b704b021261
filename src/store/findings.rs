//! The checks a unit's occupants and letting call for: `overcrowding`, `filing_mismatch`,
//! `garage_dwelling`, `daily_rental`, and `identity_conflict` on the unit a person was
//! registered in before.

use super::StoreResult;
use super::tx::Tx;
use crate::domain::door_check::Reason;
use crate::domain::sublandlord::{DensityLimits, Occupancy, TURNOVER_WINDOW_MS, assess};
use crate::domain::unit::{RentalMode, UnitKind};

/// A finding's bit in a mask of the findings open on a unit.
fn bit(reason: Reason) -> i64 {
    match reason {
        Reason::Overcrowding => 1,
        Reason::FilingMismatch => 2,
        Reason::GarageDwelling => 4,
        Reason::DailyRental => 8,
        _ => 0,
    }
}

/// The SQL expression of [`bit`] for a door check `d`; summed over a unit's open checks it
/// is the mask of its open findings (one open check per reason).
pub(crate) const OPEN_MASK_SQL: &str = "case d.reason when 'overcrowding' then 1
    when 'filing_mismatch' then 2 when 'garage_dwelling' then 4 when 'daily_rental' then 8
    else 0 end";

/// What the checks read of a unit.
#[derive(sqlx::FromRow)]
struct OccupancyRow {
    rooms: i64,
    floor_area_m2: Option<f64>,
    family: i64,
    planned_occupants: Option<i64>,
    kind: UnitKind,
    rental_mode: RentalMode,
    occupants: i64,
    registrations_this_week: i64,
}

/// Opens the checks a unit's current occupants, kind and letting call for (see
/// [`assess`]), with the numbers behind them. An open check of the same reason is left as
/// it is.
pub(crate) async fn assess_occupancy(
    tx: &mut Tx<'_>,
    unit_id: i64,
    limits: DensityLimits,
    now_ms: i64,
) -> StoreResult<()> {
    let row: OccupancyRow = sqlx::query_as(
        r"select u.rooms, u.floor_area_m2, u.family, u.planned_occupants, u.kind, u.rental_mode,
                 (select count(*) from occupants o
                  where o.unit_id = u.id and o.moved_out_at is null) as occupants,
                 (select count(*) from registrations r
                  where r.unit_id = u.id and r.created_at > $2
                    and r.source in ('scan', 'sublandlord')) as registrations_this_week
          from units u where u.id = $1",
    )
    .bind(unit_id)
    .bind(now_ms - TURNOVER_WINDOW_MS)
    .fetch_one(tx.conn())
    .await?;
    let occupancy = Occupancy {
        occupants: row.occupants,
        rooms: row.rooms,
        floor_area_m2: row.floor_area_m2,
        family: row.family != 0,
        planned_occupants: row.planned_occupants,
        kind: row.kind,
        rental_mode: row.rental_mode,
        registrations_this_week: row.registrations_this_week,
    };
    open_findings(tx, unit_id, occupancy, limits, 0, now_ms).await
}

/// Opens the checks `occupancy` calls for (see [`assess_occupancy`]), when the caller has
/// already read it.
pub(crate) async fn open_findings(
    tx: &mut Tx<'_>,
    unit_id: i64,
    occupancy: Occupancy,
    limits: DensityLimits,
    open_mask: i64,
    now_ms: i64,
) -> StoreResult<()> {
    for finding in assess(limits, occupancy) {
        if open_mask & bit(finding.reason) != 0 {
            // Open already: an insert would only meet the unique index.
            continue;
        }
        sqlx::query(
            r"insert into door_checks
                  (unit_id, community_id, reason, status, details, opened_at, queue_key)
              select id, community_id, $1, 'open', $2, $3, $3 from units where id = $4
              on conflict do nothing",
        )
        .bind(finding.reason.as_str())
        .bind(finding.details)
        .bind(now_ms)
        .bind(unit_id)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Opens an `identity_conflict` check on every other unit where one of these document
/// numbers (their blind indexes) is current: the person may have moved without a move-out,
/// or the identity is used twice. The check names `unit_id`, the newer address. Returns the
/// units that got one.
pub(crate) async fn open_identity_conflicts(
    tx: &mut Tx<'_>,
    unit_id: i64,
    indexes: &[Vec<u8>],
    now_ms: i64,
) -> StoreResult<Vec<i64>> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..indexes.len()).map(|i| format!("${}", i + 4)).collect();
    let sql = format!(
        r"insert into door_checks
              (unit_id, community_id, reason, status, details, opened_at, queue_key,
               related_unit_id)
          select distinct u.id, u.community_id, 'identity_conflict', 'open', $1, $2, $2, $3
          from occupants o join units u on u.id = o.unit_id
          where o.id_number_index in ({}) and o.moved_out_at is null and o.unit_id <> $3
          on conflict do nothing
          returning id, unit_id, community_id",
        placeholders.join(", ")
    );
    let details = serde_json::json!({ "other_unit_id": unit_id }).to_string();
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(details)
        .bind(now_ms)
        .bind(unit_id);
    for index in indexes {
        query = query.bind(index.clone());
    }
    let opened: Vec<(i64, i64, i64)> = query.fetch_all(tx.conn()).await?;
    for &(check_id, unit, community_id) in &opened {
        super::outbox::door_check_opened_in(
            tx,
            check_id,
            unit,
            community_id,
            "identity_conflict",
            now_ms,
        )
        .await?;
    }
    Ok(opened.into_iter().map(|(_, unit, _)| unit).collect())
}

/// Opens a `daily_rental` check on a unit made or imported as let by the day (日租), which
/// the plan does not allow.
pub(crate) async fn open_if_let_by_the_day(
    tx: &mut Tx<'_>,
    unit_id: i64,
    now_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        r"insert into door_checks
              (unit_id, community_id, reason, status, details, opened_at, queue_key)
          select id, community_id, 'daily_rental', 'open', $1, $2, $2 from units
          where id = $3 and rental_mode = 'daily'
          on conflict do nothing",
    )
    .bind(serde_json::json!({ "rental_mode": "daily" }).to_string())
    .bind(now_ms)
    .bind(unit_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}
