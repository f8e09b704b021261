//! What every upload does to its unit: the clock moves, a vacancy ends, an open
//! `no_upload` or `unconfirmed` check closes.

use super::StoreResult;
use super::tx::Tx;
use crate::domain::sublandlord::{Occupancy, TURNOVER_WINDOW_MS};
use crate::domain::unit::{RentalMode, UnitEvent, UnitKind};

/// What an upload left behind in its unit, read back by the statement that marked it.
pub(crate) struct Marked {
    /// The unit's occupancy after the upload, for the density checks.
    pub occupancy: Occupancy,
    /// The findings already open on the unit (see `findings::open_mask`), which the
    /// upload need not open again.
    pub open_mask: i64,
    /// Whether a document of this registration is current in another unit too.
    pub elsewhere: bool,
    /// The person who lets the unit, whose ledger row the upload changes.
    pub person: Option<i64>,
}

/// What the update of [`mark_upload`] reads back.
#[derive(sqlx::FromRow)]
struct MarkedRow {
    rooms: i64,
    floor_area_m2: Option<f64>,
    family: i64,
    planned_occupants: Option<i64>,
    kind: UnitKind,
    rental_mode: RentalMode,
    registrations_this_week: i64,
    occupants: i64,
    person: Option<i64>,
    /// 1 when a `no_upload` or `unconfirmed` check is open.
    overdue: i64,
    /// 1 when the update changed the unit's state (a vacancy ended).
    changed: i64,
    open_mask: i64,
    /// 1 when a document of the registration is current in another unit.
    elsewhere: i64,
}

/// Locks a unit's row on PostgreSQL until the transaction ends (SQLite has a single writer).
/// Call it before [`mark_upload`] where nothing has locked the unit yet: a statement that
/// waits on the row lock reads everything else as it was before the wait, and the checks it
/// reads back must include what the lock holder committed.
pub(crate) async fn lock_unit(tx: &mut Tx<'_>, unit_id: i64) -> StoreResult<()> {
    tx.lock_rows("select id from units where id = $1", unit_id)
        .await
}

/// Moves the unit's newest upload (and its clock) forward, never back; keeps its first;
/// sets the rule the clock runs under from the people registered there now (a registration
/// leaves some; an officer's `verified` on an empty unit leaves none); ends a declared
/// vacancy, since people registering there means it is let again (recorded in the unit's
/// history); records whether the newest registration declared one family (`None` keeps it);
/// and closes an open `no_upload` or `unconfirmed` door check as `resolved_by_upload`,
/// keeping its history.
///
/// The update reads back what the rest of an upload needs (occupancy, the person letting
/// the unit, whether such a check is open, whether the state changed), so that an ordinary
/// upload costs one statement here instead of five.
pub(crate) async fn mark_upload(
    tx: &mut Tx<'_>,
    unit_id: i64,
    registration_id: Option<i64>,
    now_ms: i64,
    family: Option<bool>,
) -> StoreResult<Marked> {
    let sql = format!(
        r"update units set
              last_upload_at = case when last_upload_at is null or last_upload_at < $1
                                    then $1 else last_upload_at end,
              first_upload_at = coalesce(first_upload_at, $1),
              clock_from = case when clock_from < $1 or state = 'vacant'
                                then $1 else clock_from end,
              clock_kind = case when exists (select 1 from occupants o
                                             where o.unit_id = units.id
                                               and o.moved_out_at is null)
                                then 'unconfirmed' else 'no_upload' end,
              watched_since = case when state = 'vacant' then $1 else watched_since end,
              state = case when state = 'vacant' then 'active' else state end,
              family = coalesce($3, family)
          where id = $2
          returning rooms, floor_area_m2, family, planned_occupants, kind, rental_mode,
              (select count(*) from registrations r
               where r.unit_id = units.id and r.created_at > $1 - {week}
                 and r.source in ('scan', 'sublandlord')) as registrations_this_week,
              (select count(*) from occupants o
               where o.unit_id = units.id and o.moved_out_at is null) as occupants,
              (select s.person_id from sublandlords s where s.id = units.sublandlord_id)
                  as person,
              cast(case when exists (select 1 from door_checks d
                                     where d.unit_id = units.id
                                       and d.reason in ('no_upload', 'unconfirmed')
                                       and d.status = 'open')
                        then 1 else 0 end as bigint) as overdue,
              cast(case when state = {recorded} then 0 else 1 end as bigint) as changed,
              cast(coalesce((select sum({mask}) from door_checks d
                             where d.unit_id = units.id and d.status = 'open'), 0)
                   as bigint) as open_mask,
              cast(case when exists (
                       select 1 from occupants mine join occupants other
                           on other.id_number_index = mine.id_number_index
                       where mine.unit_id = units.id and mine.moved_out_at is null
                         and mine.registration_id = $4
                         and other.moved_out_at is null and other.unit_id <> units.id)
                   then 1 else 0 end as bigint) as elsewhere",
        recorded = super::clock::RECORDED_STATE.replace("u.id", "units.id"),
        week = TURNOVER_WINDOW_MS,
        mask = super::findings::OPEN_MASK_SQL,
    );
    let MarkedRow {
        rooms,
        floor_area_m2,
        family,
        planned_occupants,
        kind,
        rental_mode,
        registrations_this_week,
        occupants,
        person,
        overdue,
        changed,
        open_mask,
        elsewhere,
    } = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(now_ms)
        .bind(unit_id)
        .bind(family.map(i64::from))
        .bind(registration_id.unwrap_or(0))
        .fetch_one(tx.conn())
        .await?;
    if changed != 0 {
        super::clock::record_state_change(tx, unit_id, UnitEvent::Reoccupied, None, now_ms).await?;
    }
    if overdue != 0 {
        let closed: Vec<i64> = sqlx::query_scalar(
            r"update door_checks set status = 'closed', outcome = 'resolved_by_upload',
                  closed_at = $1
              where unit_id = $2 and reason in ('no_upload', 'unconfirmed')
                and status = 'open'
              returning id",
        )
        .bind(now_ms)
        .bind(unit_id)
        .fetch_all(tx.conn())
        .await?;
        for check_id in closed {
            sqlx::query(
                r"insert into door_check_events (door_check_id, outcome, created_at)
                  values ($1, 'resolved_by_upload', $2)",
            )
            .bind(check_id)
            .bind(now_ms)
            .execute(tx.conn())
            .await?;
        }
    }
    Ok(Marked {
        occupancy: Occupancy {
            occupants,
            rooms,
            floor_area_m2,
            family: family != 0,
            planned_occupants,
            kind,
            rental_mode,
            registrations_this_week,
        },
        person,
        open_mask,
        elsewhere: elsewhere != 0,
    })
}
