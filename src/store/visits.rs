//! What an officer records at a flat's door: one visit that closes one or several of its
//! open checks, with the occupants met and an optional photo, and its consequences.

use sqlx::FromRow;

use super::clock;
use super::ledger::{Persons, refresh_ledger};
use super::tx::{Tx, transaction};
use super::upload::{lock_unit, mark_upload};
use super::{Store, StoreResult};
use crate::domain::door_check::{Outcome, UNREACHABLE_DEFERRAL};
use crate::domain::event::{EventType, NewEvent};

/// A visit to record.
#[derive(Debug, Clone)]
pub struct Visit {
    pub unit_id: i64,
    /// The open checks of the unit the visit answers (at least one).
    pub check_ids: Vec<i64>,
    pub user_id: i64,
    pub outcome: Outcome,
    pub note: Option<String>,
    /// Ids of the unit's current occupants met in person.
    pub met_occupants: Vec<i64>,
    /// Re-encoded evidence photo.
    pub photo: Option<Vec<u8>>,
    /// Receipt of the upload that a verification counts as.
    pub receipt: String,
}

/// One of the checks was closed by someone else first (or is not the unit's): nothing was
/// recorded.
#[derive(Debug, thiserror::Error)]
#[error("the door check is no longer open")]
pub struct NotOpen;

/// What a recorded visit left.
#[derive(Debug, Clone, Copy)]
pub struct Recorded {
    /// The evidence photo's id, if one came with it.
    pub photo_id: Option<i64>,
    /// The referral a violation opened.
    pub referral_id: Option<i64>,
}

/// Records a visit and its consequences in one transaction, under the unit's lock so that
/// two officers answering the same flat at once are put one after the other: `verified`
/// counts as an upload, `vacant` declares a vacancy, `violation` opens one referral,
/// `unreachable` keeps the checks open and moves them down the queue for a day. Every check
/// named must still be open and the unit's, or nothing is written.
pub async fn record(
    store: &Store,
    visit: Visit,
    now_ms: i64,
) -> StoreResult<Result<Recorded, NotOpen>> {
    transaction!(store, |tx| {
        let first = visit.check_ids.iter().copied().min().unwrap_or_default();
        let entry = super::audit::Entry {
            user_id: Some(visit.user_id),
            action: "door_check.result".into(),
            subject: Some(format!("door_check:{first}")),
            detail: Some(
                serde_json::json!({
                    "outcome": visit.outcome.as_str(),
                    "checks": visit.check_ids,
                    "met": visit.met_occupants.len(),
                    "photo": visit.photo.is_some(),
                })
                .to_string(),
            ),
            // The note stays with the check, where the retention purge can empty
            // it; the audit log keeps its rows for ever.
            reason: None,
        };
        let unit = visit.unit_id;
        let recorded = record_in(tx, visit, now_ms).await?;
        if recorded.is_ok() {
            refresh_ledger(tx, Persons::OfUnit(unit)).await?;
            // Last, so that the audit order lock is held only at the end.
            super::audit::append_in(tx, &entry, now_ms).await?;
        }
        Ok(recorded)
    })
    .await
}

async fn record_in(
    tx: &mut Tx<'_>,
    v: Visit,
    now_ms: i64,
) -> StoreResult<Result<Recorded, NotOpen>> {
    lock_unit(tx, v.unit_id).await?;
    let open: Vec<(i64, i64)> = sqlx::query_as(
        "select id, community_id from door_checks where unit_id = $1 and status = 'open'",
    )
    .bind(v.unit_id)
    .fetch_all(tx.conn())
    .await?;
    let Some(&(_, community_id)) = open.first() else {
        return Ok(Err(NotOpen));
    };
    if v.check_ids.is_empty()
        || !v
            .check_ids
            .iter()
            .all(|id| open.iter().any(|(o, _)| o == id))
    {
        return Ok(Err(NotOpen));
    }
    let photo_id: Option<i64> = match &v.photo {
        Some(bytes) => Some(
            sqlx::query_scalar(
                r"insert into visit_photos (unit_id, user_id, photo, created_at)
                  values ($1, $2, $3, $4) returning id",
            )
            .bind(v.unit_id)
            .bind(v.user_id)
            .bind(bytes.as_slice())
            .bind(now_ms)
            .fetch_one(tx.conn())
            .await?,
        ),
        None => None,
    };
    let met = (!v.met_occupants.is_empty())
        .then(|| serde_json::to_string(&v.met_occupants).expect("ids serialise"));
    for &check in &v.check_ids {
        sqlx::query(
            r"insert into door_check_events
                  (door_check_id, user_id, outcome, note, met_occupants, photo_id, created_at)
              values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(check)
        .bind(v.user_id)
        .bind(v.outcome.as_str())
        .bind(v.note.clone())
        .bind(met.clone())
        .bind(photo_id)
        .bind(now_ms)
        .execute(tx.conn())
        .await?;
        if v.outcome == Outcome::Unreachable {
            sqlx::query(
                r"update door_checks set attempts = attempts + 1, deferred_until = $1
                  where id = $2",
            )
            .bind(now_ms + UNREACHABLE_DEFERRAL.num_milliseconds())
            .bind(check)
            .execute(tx.conn())
            .await?;
        } else {
            // Closed first, so that the upload a verification counts as does not also
            // close this very check as `resolved_by_upload`.
            sqlx::query(
                r"update door_checks set status = 'closed', outcome = $1, closed_at = $2,
                      closed_by = $3, note = $4
                  where id = $5",
            )
            .bind(v.outcome.as_str())
            .bind(now_ms)
            .bind(v.user_id)
            .bind(v.note.clone())
            .bind(check)
            .execute(tx.conn())
            .await?;
        }
    }
    let mut referral_id = None;
    match v.outcome {
        Outcome::Unreachable => {}
        Outcome::Verified => {
            sqlx::query(
                r"insert into registrations (unit_id, receipt, source, occupant_count, created_at)
                  values ($1, $2, 'officer', 0, $3)",
            )
            .bind(v.unit_id)
            .bind(v.receipt)
            .bind(now_ms)
            .execute(tx.conn())
            .await?;
            mark_upload(tx, v.unit_id, None, now_ms, None).await?;
        }
        Outcome::Vacant => {
            // The officer found the flat empty: whoever was listed has left, and the
            // vacancy runs from now.
            let moved = clock::move_everyone_out(
                tx,
                v.unit_id,
                clock::Actor::User(v.user_id),
                None,
                false,
                now_ms,
            )
            .await?;
            if moved > 0 {
                refresh_ledger(tx, Persons::OfUnit(v.unit_id)).await?;
            }
            clock::vacate(tx, v.unit_id, clock::Actor::User(v.user_id), false, now_ms).await?;
        }
        Outcome::Violation => {
            // One referral for the visit, on the first of the checks it answered.
            let first = v
                .check_ids
                .iter()
                .copied()
                .min()
                .expect("checked non-empty");
            referral_id = Some(
                sqlx::query_scalar(
                    r"insert into referrals
                          (door_check_id, unit_id, community_id, note, created_by, created_at)
                      values ($1, $2, $3, $4, $5, $6) returning id",
                )
                .bind(first)
                .bind(v.unit_id)
                .bind(community_id)
                .bind(v.note.clone())
                .bind(v.user_id)
                .bind(now_ms)
                .fetch_one(tx.conn())
                .await?,
            );
            // The referral opens the enforcement team's case in the same transaction.
            super::cases::open_in(tx, first, now_ms).await?;
        }
    }
    let address = super::outbox::unit_address_in(tx, v.unit_id).await?;
    let event = NewEvent {
        kind: EventType::VisitRecorded,
        community_id,
        data: serde_json::json!({
            "unit_id": v.unit_id,
            "address": address,
            "outcome": v.outcome.as_str(),
            "checks": v.check_ids.len(),
            "referral_id": referral_id,
        }),
    };
    super::outbox::enqueue_in(tx, &event, now_ms).await?;
    Ok(Ok(Recorded {
        photo_id,
        referral_id,
    }))
}

/// A visit's evidence photo, with the unit it was taken at (`None` once purged or unknown).
pub async fn photo(store: &Store, id: i64) -> StoreResult<Option<(i64, Vec<u8>)>> {
    #[derive(FromRow)]
    struct Row {
        unit_id: i64,
        photo: Option<Vec<u8>>,
    }
    let row: Option<Row> = sqlx::query_as("select unit_id, photo from visit_photos where id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.and_then(|r| r.photo.map(|p| (r.unit_id, p))))
}

/// The evidence photos of the visits to a door check, oldest first.
pub async fn photos_of_check(store: &Store, door_check_id: i64) -> StoreResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        r"select distinct p.id from door_check_events e
          join visit_photos p on p.id = e.photo_id
          where e.door_check_id = $1 and p.photo is not null order by p.id",
    )
    .bind(door_check_id)
    .fetch_all(store.pool())
    .await?)
}

/// Whether a photo was taken at a visit that referred its flat to the enforcement team.
pub async fn photo_referred(store: &Store, photo_id: i64) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar(
        r"select count(*) from door_check_events e
          join referrals r on r.door_check_id = e.door_check_id
          where e.photo_id = $1",
    )
    .bind(photo_id)
    .fetch_one(store.pool())
    .await?;
    Ok(n > 0)
}

/// A unit's figures that its open reasons rest on: rooms, floor area, the newest filing's
/// planned occupants, whether the newest registration declared one family.
#[derive(Debug, Clone, FromRow)]
pub struct UnitFigures {
    pub rooms: i64,
    pub floor_area_m2: Option<f64>,
    pub planned_occupants: Option<i64>,
    pub family: i64,
}

/// The figures of a unit.
pub async fn figures(store: &Store, unit_id: i64) -> StoreResult<Option<UnitFigures>> {
    Ok(sqlx::query_as(
        "select rooms, floor_area_m2, planned_occupants, family from units where id = $1",
    )
    .bind(unit_id)
    .fetch_optional(store.pool())
    .await?)
}
