//! Advance filings (事前报备), the units a sublandlord lets, and the density checks that
//! compare a unit's occupants with its filing and the rules.

use sqlx::{AssertSqlSafe, FromRow};

use super::clock::{self, Actor};
use super::findings::assess_occupancy;
use super::ledger::{Persons, refresh_ledger};
use super::scope::{Scope, scope_id, scope_sql};
use super::tx::{Tx, transaction};
use super::units::insert_token;
use super::upload::lock_unit;
use super::{Store, StoreResult};
use crate::crypto::{Purpose, Vault};
use crate::domain::door_check::ClockKind;
use crate::domain::sublandlord::{DensityLimits, FilingStatus, NewFiling};
use crate::domain::token::QrToken;
use crate::domain::unit::{RentalMode, UnitEvent, UnitState};

/// What became of a stored filing.
#[derive(Debug, Clone)]
pub enum Filed {
    /// In effect: the flat is new (its unit and first poster were created) or its unit is
    /// already the filer's.
    Linked {
        filing_id: i64,
        unit_id: i64,
        /// The new unit's first poster token, or `None` when the filer's own unit was filed
        /// again (its poster stays as printed).
        new_token: Option<QrToken>,
    },
    /// The flat's unit exists and nobody lets it: staff approve or reject the filing, and
    /// until then the unit is untouched.
    Pending { filing_id: i64 },
}

/// Why a filing was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Another sublandlord already lets this flat.
    OtherSublandlord,
}

/// What a filing declares about its unit, as stored with it.
#[derive(Debug, Clone)]
pub(crate) struct Terms {
    pub rooms: i64,
    pub rental_mode: String,
    /// -1 when not given (see [`file`]).
    pub floor_area_m2: f64,
    pub planned_occupants: i64,
}

/// Stores a filing in one transaction. A new flat (by address key in the community) gets its
/// unit and first poster; the filer's own unit takes the filing's terms. Either way the unit
/// is put under watch (a vacant or closed unit becomes active and its clock restarts) and its
/// current occupants are compared with the plan. A unit nobody lets only gets a pending
/// filing: linking it would hand its poster and its occupants to whoever signed up.
pub async fn file(
    store: &Store,
    vault: &Vault,
    sublandlord_id: i64,
    community_id: i64,
    filing: NewFiling,
    limits: DensityLimits,
    now_ms: i64,
) -> StoreResult<Result<Filed, Refusal>> {
    let token = QrToken::generate();
    let token_hash = vault.token_hash(token.as_ref());
    let token_enc = vault.seal(Purpose::QrToken, token.as_ref());
    // A missing floor area travels as -1: the Any driver binds an absent float as a value
    // of another type, which PostgreSQL refuses once the statement has been prepared.
    let terms = Terms {
        rooms: filing.rooms,
        rental_mode: filing.rental_mode.as_str().to_string(),
        floor_area_m2: filing.floor_area_m2.unwrap_or(-1.0),
        planned_occupants: filing.planned_occupants,
    };
    transaction!(store, |tx| {
        let existing: Option<(i64, Option<i64>)> = sqlx::query_as(
            r"select id, sublandlord_id from units
                      where community_id = $1 and address_key = $2",
        )
        .bind(community_id)
        .bind(filing.address.key().to_string())
        .fetch_optional(tx.conn())
        .await?;
        let (unit_id, status, new_token) = match existing {
            Some((_, Some(other))) if other != sublandlord_id => {
                return Ok(Err(Refusal::OtherSublandlord));
            }
            Some((id, None)) => (id, FilingStatus::Pending, None),
            Some((id, Some(_))) => {
                link_unit(tx, id, sublandlord_id, &terms, now_ms, now_ms).await?;
                (id, FilingStatus::Filed, None)
            }
            None => {
                let id: i64 = sqlx::query_scalar(
                    r"insert into units (community_id, address, address_key, kind,
                                  rental_mode, rooms, floor_area_m2, state, watched_since,
                                  clock_from, qr_version, created_at, sublandlord_id, filed_at,
                                  planned_occupants)
                              values ($1, $2, $3, $4, $5, $6,
                                  case when $7 < 0 then null else $7 end,
                                  'active', $8, $8, 1, $8, $9, $8, $10)
                              returning id",
                )
                .bind(community_id)
                .bind(filing.address.display().to_string())
                .bind(filing.address.key().to_string())
                .bind(filing.kind.as_str())
                .bind(terms.rental_mode.clone())
                .bind(terms.rooms)
                .bind(terms.floor_area_m2)
                .bind(now_ms)
                .bind(sublandlord_id)
                .bind(terms.planned_occupants)
                .fetch_one(tx.conn())
                .await?;
                insert_token(tx, id, 1, token_hash, token_enc, now_ms).await?;
                (id, FilingStatus::Filed, Some(token))
            }
        };
        let filing_id: i64 = sqlx::query_scalar(
            r"insert into filings (sublandlord_id, unit_id, community_id, rooms,
                          rental_mode, floor_area_m2, start_date, planned_occupants, created_at,
                          status)
                      values ($1, $2, $3, $4, $5, case when $6 < 0 then null else $6 end,
                          $7, $8, $9, $10)
                      returning id",
        )
        .bind(sublandlord_id)
        .bind(unit_id)
        .bind(community_id)
        .bind(terms.rooms)
        .bind(terms.rental_mode.clone())
        .bind(terms.floor_area_m2)
        .bind(filing.start_date.format("%Y-%m-%d").to_string())
        .bind(terms.planned_occupants)
        .bind(now_ms)
        .bind(status.as_str())
        .fetch_one(tx.conn())
        .await?;
        let pending = status == FilingStatus::Pending;
        if !pending {
            assess_occupancy(tx, unit_id, limits, now_ms).await?;
            refresh_ledger(tx, Persons::OfUnit(unit_id)).await?;
        }
        let by: Option<i64> = sqlx::query_scalar("select user_id from sublandlords where id = $1")
            .bind(sublandlord_id)
            .fetch_optional(tx.conn())
            .await?;
        let entry = super::audit::Entry {
            user_id: by,
            action: "filing.create".into(),
            subject: Some(format!("unit:{unit_id}")),
            detail: Some(
                serde_json::json!({
                    "filing_id": filing_id,
                    "new_unit": new_token.is_some(),
                    "status": status.as_str(),
                })
                .to_string(),
            ),
            reason: None,
        };
        super::audit::append_in(tx, &entry, now_ms).await?;
        Ok(Ok(if pending {
            Filed::Pending { filing_id }
        } else {
            Filed::Linked {
                filing_id,
                unit_id,
                new_token,
            }
        }))
    })
    .await
}

/// Makes `sublandlord_id` the unit's sublandlord with a filing's terms and puts the unit
/// under watch, unless another sublandlord lets it by now. Returns whether it did.
pub(crate) async fn link_unit(
    tx: &mut Tx<'_>,
    unit_id: i64,
    sublandlord_id: i64,
    terms: &Terms,
    filed_at: i64,
    now_ms: i64,
) -> StoreResult<bool> {
    // The condition is in the update itself: on PostgreSQL two approvals of one flat wait
    // for each other's row lock and the second finds the unit taken.
    let done = sqlx::query(
        r"update units set sublandlord_id = $1,
              filed_at = coalesce(filed_at, $2),
              planned_occupants = $3, rooms = $4, rental_mode = $5,
              floor_area_m2 = case when $6 < 0 then floor_area_m2 else $6 end,
              watched_since = case when state = 'active' then watched_since else $7 end,
              clock_from = case when state = 'active' then clock_from else $7 end,
              state = 'active'
          where id = $8 and (sublandlord_id is null or sublandlord_id = $1)",
    )
    .bind(sublandlord_id)
    .bind(filed_at)
    .bind(terms.planned_occupants)
    .bind(terms.rooms)
    .bind(terms.rental_mode.clone())
    .bind(terms.floor_area_m2)
    .bind(now_ms)
    .bind(unit_id)
    .execute(tx.conn())
    .await?;
    let linked = done.rows_affected() == 1;
    if linked {
        // A vacant or closed unit is let again from the filing.
        clock::record_state_change(tx, unit_id, UnitEvent::Filed, None, now_ms).await?;
    }
    Ok(linked)
}

/// A filing as listed.
#[derive(Debug, Clone, FromRow)]
pub struct FilingRow {
    pub id: i64,
    pub unit_id: i64,
    pub community_id: i64,
    pub address: String,
    pub community: String,
    pub sublandlord: String,
    pub rooms: i64,
    pub rental_mode: RentalMode,
    pub start_date: String,
    pub planned_occupants: i64,
    pub created_at: i64,
    pub status: FilingStatus,
    pub decision_reason: Option<String>,
}

/// Whose filings a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Filer {
    /// One sublandlord's own.
    Sublandlord(i64),
    /// Staff, within their scope.
    Staff(Scope),
}

const FILING_COLUMNS: &str = r"select f.id, f.unit_id, f.community_id, u.address,
        c.name as community, s.name as sublandlord, f.rooms, f.rental_mode, f.start_date,
        f.planned_occupants, f.created_at, f.status, f.decision_reason
    from filings f join units u on u.id = f.unit_id
    join communities c on c.id = f.community_id
    join sublandlords s on s.id = f.sublandlord_id";

/// Filings, newest first, all or those in one status.
pub async fn list(
    store: &Store,
    filer: Filer,
    status: Option<FilingStatus>,
    offset: i64,
    limit: i64,
) -> StoreResult<(Vec<FilingRow>, i64)> {
    let (condition, id) = match filer {
        Filer::Sublandlord(id) => ("f.sublandlord_id = $1".to_string(), id),
        Filer::Staff(scope) => (format!("1 = 1{}", scope_sql(scope, "f")), scope_id(scope)),
    };
    // No status is '' and matches every filing.
    let status = status.map_or("", FilingStatus::as_str);
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "select count(*) from filings f where {condition} and ($2 = '' or f.status = $2)"
    )))
    .bind(id)
    .bind(status)
    .fetch_one(store.pool())
    .await?;
    let rows = sqlx::query_as(AssertSqlSafe(format!(
        r"{FILING_COLUMNS}
          where {condition} and ($4 = '' or f.status = $4)
          order by f.created_at desc, f.id desc limit $2 offset $3"
    )))
    .bind(id)
    .bind(limit)
    .bind(offset)
    .bind(status)
    .fetch_all(store.pool())
    .await?;
    Ok((rows, total))
}

/// One filing, whoever filed it (the caller checks the scope).
pub async fn get(store: &Store, filing_id: i64) -> StoreResult<Option<FilingRow>> {
    Ok(
        sqlx::query_as(AssertSqlSafe(format!("{FILING_COLUMNS} where f.id = $1")))
            .bind(filing_id)
            .fetch_optional(store.pool())
            .await?,
    )
}

/// A unit on a sublandlord's own list.
#[derive(Debug, Clone, FromRow)]
pub struct MyUnit {
    pub id: i64,
    pub community: String,
    pub address: String,
    pub rooms: i64,
    pub rental_mode: RentalMode,
    pub state: UnitState,
    pub last_upload_at: Option<i64>,
    pub clock_from: i64,
    pub clock_kind: ClockKind,
    pub planned_occupants: Option<i64>,
    pub open_checks: i64,
}

const MY_UNIT_COLUMNS: &str = r"select u.id, c.name as community, u.address, u.rooms,
        u.rental_mode, u.state, u.last_upload_at, u.clock_from, u.clock_kind, u.planned_occupants,
        (select count(*) from door_checks d
         where d.unit_id = u.id and d.status = 'open') as open_checks
    from units u join communities c on c.id = u.community_id
    where u.sublandlord_id = $1";

/// The units a sublandlord lets, by address.
pub async fn my_units(store: &Store, sublandlord_id: i64) -> StoreResult<Vec<MyUnit>> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "{MY_UNIT_COLUMNS} order by u.address_key, u.id"
    )))
    .bind(sublandlord_id)
    .fetch_all(store.pool())
    .await?)
}

/// One unit a sublandlord lets, or `None` if it is not theirs.
pub async fn my_unit(
    store: &Store,
    sublandlord_id: i64,
    unit_id: i64,
) -> StoreResult<Option<MyUnit>> {
    Ok(
        sqlx::query_as(AssertSqlSafe(format!("{MY_UNIT_COLUMNS} and u.id = $2")))
            .bind(sublandlord_id)
            .bind(unit_id)
            .fetch_optional(store.pool())
            .await?,
    )
}

/// Declares a unit vacant: its clock pauses for at most the confirmation period, until
/// people register there again. Refused ([`Refusal::Occupied`]) while anybody is registered
/// there, unless `move_everyone_out` gives the date they left: then they are recorded as
/// moved out in the same transaction. Returns whether the unit was active; declaring a
/// vacant unit vacant again renews the vacancy from now.
pub async fn declare_vacancy(
    store: &Store,
    unit_id: i64,
    user_id: i64,
    move_everyone_out: Option<String>,
    now_ms: i64,
) -> StoreResult<bool> {
    transaction!(store, |tx| {
        lock_unit(tx, unit_id).await?;
        match clock::state(tx, unit_id).await? {
            Some(UnitState::Closed) | None => return Err(clock::Refusal::Closed.into()),
            Some(UnitState::Vacant) => {
                // Declared again: the vacancy runs for another period from now.
                clock::renew_vacancy(tx, unit_id, Actor::User(user_id), now_ms).await?;
                return Ok(false);
            }
            Some(UnitState::Active) => {}
        }
        let current = clock::current_occupants(tx, unit_id).await?;
        if current > 0 {
            let Some(on) = move_everyone_out.as_deref() else {
                return Err(clock::Refusal::Occupied(current).into());
            };
            clock::move_everyone_out(tx, unit_id, Actor::User(user_id), Some(on), true, now_ms)
                .await?;
            refresh_ledger(tx, Persons::OfUnit(unit_id)).await?;
        }
        let vacated = clock::vacate(tx, unit_id, Actor::User(user_id), true, now_ms).await?;
        if vacated {
            let entry = super::audit::Entry {
                user_id: Some(user_id),
                action: "unit.vacancy".into(),
                subject: Some(format!("unit:{unit_id}")),
                detail: (current > 0)
                    .then(|| serde_json::json!({ "moved_out": current }).to_string()),
                reason: None,
            };
            super::audit::append_in(tx, &entry, now_ms).await?;
        }
        Ok(vacated)
    })
    .await
}

/// Records that an occupant moved out (by their sublandlord, or by a tenant through their
/// self-service link), on `on` if given. A unit left with nobody registered runs under the
/// N-day rule from now. Returns whether the occupant was a current one of this unit.
pub async fn move_out(
    store: &Store,
    unit_id: i64,
    occupant_id: i64,
    by: Actor,
    on: Option<String>,
    now_ms: i64,
) -> StoreResult<bool> {
    transaction!(store, |tx| {
        lock_unit(tx, unit_id).await?;
        let before = clock::clock_now(tx, unit_id).await?;
        let done = sqlx::query(
            r"update occupants set moved_out_at = $1, moved_out_by = $2, moved_out_on = $3
                      where id = $4 and unit_id = $5 and moved_out_at is null",
        )
        .bind(now_ms)
        .bind(by.user_id())
        .bind(on.clone())
        .bind(occupant_id)
        .bind(unit_id)
        .execute(tx.conn())
        .await?;
        refresh_ledger(tx, Persons::OfUnit(unit_id)).await?;
        if done.rows_affected() == 1 {
            let remaining = clock::current_occupants(tx, unit_id).await?;
            clock::record(
                tx,
                unit_id,
                UnitEvent::MovedOut,
                None,
                by,
                Some(serde_json::json!({ "moved_out": 1, "remaining": remaining }).to_string()),
                now_ms,
            )
            .await?;
            if by.user_id().is_some() {
                clock::keep_clock(tx, unit_id, UnitEvent::MovedOut, now_ms, before).await?;
            }
            clock::settle_after_move_out(tx, unit_id, now_ms).await?;
            let entry = super::audit::Entry {
                user_id: by.user_id(),
                action: "occupant.move_out".into(),
                subject: Some(format!("occupant:{occupant_id}")),
                detail: Some(
                    serde_json::json!({
                        "unit": unit_id,
                        "by": if by == Actor::Tenant { "tenant" } else { "account" },
                    })
                    .to_string(),
                ),
                reason: None,
            };
            super::audit::append_in(tx, &entry, now_ms).await?;
        }
        Ok(done.rows_affected() == 1)
    })
    .await
}
