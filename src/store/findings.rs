//! The density checks: the `overcrowding` and `filing_mismatch` door checks a unit's
//! current occupants call for.

use super::StoreResult;
use super::tx::Tx;
use crate::domain::sublandlord::{DensityLimits, Occupancy, assess};

/// Opens the `overcrowding` and `filing_mismatch` checks a unit's current occupants call
/// for, with the numbers behind them. An open check of the same reason is left as it is.
pub(crate) async fn assess_occupancy(
    tx: &mut Tx<'_>,
    unit_id: i64,
    limits: DensityLimits,
    now_ms: i64,
) -> StoreResult<()> {
    let (rooms, floor_area_m2, family, planned_occupants, occupants): (
        i64,
        Option<f64>,
        i64,
        Option<i64>,
        i64,
    ) = sqlx::query_as(
        r"select u.rooms, u.floor_area_m2, u.family, u.planned_occupants,
                 (select count(*) from occupants o
                  where o.unit_id = u.id and o.moved_out_at is null)
          from units u where u.id = $1",
    )
    .bind(unit_id)
    .fetch_one(tx.conn())
    .await?;
    let occupancy = Occupancy {
        occupants,
        rooms,
        floor_area_m2,
        family: family != 0,
        planned_occupants,
    };
    open_findings(tx, unit_id, occupancy, limits, now_ms).await
}

/// Opens the checks `occupancy` calls for (see [`assess_occupancy`]), when the caller has
/// already read it.
pub(crate) async fn open_findings(
    tx: &mut Tx<'_>,
    unit_id: i64,
    occupancy: Occupancy,
    limits: DensityLimits,
    now_ms: i64,
) -> StoreResult<()> {
    for finding in assess(limits, occupancy) {
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
