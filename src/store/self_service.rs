//! What a tenant's self-service link reaches: their registration, its occupants, who looked
//! at their data, and the corrections they ask for.

use sqlx::FromRow;

use super::scope::Scope;
use super::tx::transaction;
use super::{Store, StoreResult};
use crate::domain::document::IdType;

/// A registration a self-service link may open: one a tenant or their sublandlord made.
#[derive(Debug, Clone, FromRow)]
pub struct Registration {
    pub id: i64,
    pub unit_id: i64,
    pub community: String,
    pub address: String,
    pub created_at: i64,
}

/// The registration with this receipt, if tenants have a link to it.
pub async fn registration(store: &Store, receipt: &str) -> StoreResult<Option<Registration>> {
    Ok(sqlx::query_as(
        r"select r.id, r.unit_id, c.name as community, u.address, r.created_at
          from registrations r join units u on u.id = r.unit_id
          join communities c on c.id = u.community_id
          where r.receipt = $1 and r.source in ('scan', 'sublandlord')",
    )
    .bind(receipt)
    .fetch_optional(store.pool())
    .await?)
}

/// What a text to a tenant needs, found when it is sent: the sealed phone of occupant
/// `occupant_id` while they live there (none once moved out or purged, or if they gave
/// none) and the receipt of registration `registration_id`, which makes their link.
pub async fn tenant_contact(
    store: &Store,
    occupant_id: i64,
    registration_id: i64,
) -> StoreResult<Option<(Vec<u8>, String)>> {
    Ok(sqlx::query_as(
        r"select o.phone_enc, r.receipt
          from occupants o join registrations r on r.id = $2
          where o.id = $1 and o.moved_out_at is null and o.purged_at is null
            and o.phone_enc is not null and o.remind_ok",
    )
    .bind(occupant_id)
    .bind(registration_id)
    .fetch_optional(store.pool())
    .await?)
}

/// One person of the registration, masked.
#[derive(Debug, Clone, FromRow)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub id_type: IdType,
    pub id_number_masked: String,
    pub room: Option<String>,
    pub move_in: String,
    pub moved_out_at: Option<i64>,
    pub moved_out_on: Option<String>,
    /// 1 when a later registration of the same person replaced this row.
    pub superseded: i64,
    /// 1 once retention emptied the row.
    pub purged: i64,
}

/// The people of a registration, in the order they were registered.
pub async fn people(store: &Store, registration_id: i64) -> StoreResult<Vec<Person>> {
    Ok(sqlx::query_as(
        r"select id, name, id_type, id_number_masked, room, move_in, moved_out_at,
                 moved_out_on, superseded,
                 cast(case when purged_at is null then 0 else 1 end as bigint) as purged
          from occupants where registration_id = $1 order by id",
    )
    .bind(registration_id)
    .fetch_all(store.pool())
    .await?)
}

/// One look at a tenant's data: when, by which role, what.
#[derive(Debug, Clone, FromRow)]
pub struct Access {
    pub at: i64,
    pub role: Option<String>,
    /// `occupant.reveal` (their full document number shown), `export.*` (a file that
    /// included them) or `visit` (an officer's door-check result at their unit).
    pub what: String,
    /// The occupant concerned, for reveals.
    pub occupant_id: Option<i64>,
}

/// Most looks a link lists (newest first).
pub const ACCESS_SHOWN: i64 = 200;

/// Who looked at the data of a registration's people, newest first: every reveal of their
/// document number and every export that named them (from the audit log, by subject), and
/// every door-check result recorded at their unit since they registered.
pub async fn access(store: &Store, reg: &Registration) -> StoreResult<Vec<Access>> {
    let mut looks: Vec<Access> = sqlx::query_as(
        r"select a.at, u.role, a.action as what,
                 cast(substr(a.subject, 10) as bigint) as occupant_id
          from occupants o
          join audit_log a on a.subject = 'occupant:' || cast(o.id as text)
          left join users u on u.id = a.user_id
          where o.registration_id = $1
            and (a.action = 'occupant.reveal' or a.action like 'export.%')
          order by a.at desc limit $2",
    )
    .bind(reg.id)
    .bind(ACCESS_SHOWN)
    .fetch_all(store.pool())
    .await?;
    let visits: Vec<Access> = sqlx::query_as(
        r"select e.created_at as at, u.role, 'visit' as what,
                 cast(null as bigint) as occupant_id
          from door_checks d join door_check_events e on e.door_check_id = d.id
          join users u on u.id = e.user_id
          where d.unit_id = $1 and e.created_at >= $2
          order by e.created_at desc limit $3",
    )
    .bind(reg.unit_id)
    .bind(reg.created_at)
    .bind(ACCESS_SHOWN)
    .fetch_all(store.pool())
    .await?;
    looks.extend(visits);
    looks.sort_by_key(|a| std::cmp::Reverse(a.at));
    looks.truncate(ACCESS_SHOWN as usize);
    Ok(looks)
}

/// Most open corrections one registration may have: a link cannot fill the table.
pub const MAX_OPEN_CORRECTIONS: i64 = 5;

/// Stores a tenant's correction request for the unit's community; `false` when the
/// registration already has [`MAX_OPEN_CORRECTIONS`] waiting.
pub async fn ask_correction(
    store: &Store,
    reg: &Registration,
    note: &str,
    now_ms: i64,
) -> StoreResult<bool> {
    let note = note.to_string();
    let (registration_id, unit_id) = (reg.id, reg.unit_id);
    transaction!(store, |tx| {
        let open: i64 = sqlx::query_scalar(
            r"select count(*) from corrections
              where registration_id = $1 and handled_at is null",
        )
        .bind(registration_id)
        .fetch_one(tx.conn())
        .await?;
        if open >= MAX_OPEN_CORRECTIONS {
            return Ok(false);
        }
        sqlx::query(
            r"insert into corrections (unit_id, community_id, registration_id, note, created_at)
              select id, community_id, $1, $2, $3 from units where id = $4",
        )
        .bind(registration_id)
        .bind(note.clone())
        .bind(now_ms)
        .bind(unit_id)
        .execute(tx.conn())
        .await?;
        Ok(true)
    })
    .await
}

/// A correction waiting for the community.
#[derive(Debug, Clone, FromRow)]
pub struct Correction {
    pub id: i64,
    pub unit_id: i64,
    pub address: String,
    pub community: String,
    pub receipt: String,
    pub note: String,
    pub created_at: i64,
}

/// Corrections waiting in a scope, oldest first.
pub async fn open_corrections(
    store: &Store,
    scope: Scope,
    limit: i64,
) -> StoreResult<Vec<Correction>> {
    let sql = format!(
        r"select k.id, k.unit_id, u.address, c.name as community, r.receipt, k.note,
                 k.created_at
          from corrections k join units u on u.id = k.unit_id
          join communities c on c.id = k.community_id
          join registrations r on r.id = k.registration_id
          where k.handled_at is null{}
          order by k.created_at, k.id limit $2",
        super::scope::scope_sql(scope, "k")
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(super::scope::scope_id(scope))
        .bind(limit)
        .fetch_all(store.pool())
        .await?)
}
