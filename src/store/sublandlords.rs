//! Sublandlord accounts and the ledger that ranks them.

use sqlx::{AssertSqlSafe, FromRow};

use super::door_checks::Scope;
use super::{Store, StoreResult};
use crate::crypto::{Purpose, Vault};
use crate::domain::person::PhoneNumber;
use crate::domain::sublandlord::Signup;

/// A new sublandlord account, its personal data already sealed.
#[derive(Debug, Clone)]
pub struct NewSublandlord {
    pub username: String,
    pub password_hash: String,
    pub name: String,
    pub phone_enc: Vec<u8>,
    pub phone_index: Vec<u8>,
    pub phone_masked: String,
    pub id_type: &'static str,
    pub id_number_enc: Vec<u8>,
    pub id_number_index: Vec<u8>,
    pub id_number_masked: String,
}

impl NewSublandlord {
    /// Seals a checked self-registration for storage.
    pub fn seal(vault: &Vault, signup: &Signup, password_hash: String) -> Self {
        let phone = signup.phone.as_ref();
        let number = signup.document.as_ref();
        Self {
            username: login_name(vault, &signup.phone),
            password_hash,
            name: signup.name.as_ref().to_string(),
            phone_enc: vault.seal(Purpose::Phone, phone),
            phone_index: vault.blind_index(Purpose::Phone, phone),
            phone_masked: signup.phone.masked(),
            id_type: signup.document.id_type().as_str(),
            id_number_enc: vault.seal(Purpose::DocumentNumber, number),
            id_number_index: vault.blind_index(Purpose::DocumentNumber, number),
            id_number_masked: signup.document.masked(),
        }
    }
}

/// The account name of a sublandlord: a keyed hash of their phone number, so that the
/// users table holds no phone number in clear. They sign in with the phone number itself.
pub fn login_name(vault: &Vault, phone: &PhoneNumber) -> String {
    let index = vault.blind_index(Purpose::Phone, phone.as_ref());
    let hex: String = index.iter().map(|b| format!("{b:02x}")).collect();
    format!("phone:{hex}")
}

/// Creates the login and the sublandlord in one transaction. An account that shares the
/// phone or document number (blind index) of an earlier one joins that person's group.
pub async fn create(store: &Store, s: NewSublandlord, now_ms: i64) -> StoreResult<i64> {
    store
        .write(Box::new(move |conn| {
            Box::pin(async move {
                let user_id: i64 = sqlx::query_scalar(
                    r"insert into users (username, password_hash, role, created_at)
                      values ($1, $2, 'sublandlord', $3) returning id",
                )
                .bind(s.username)
                .bind(s.password_hash)
                .bind(now_ms)
                .fetch_one(&mut *conn)
                .await?;
                let person: Option<i64> = sqlx::query_scalar(
                    r"select min(person_id) from sublandlords
                      where phone_index = $1 or id_number_index = $2",
                )
                .bind(s.phone_index.clone())
                .bind(s.id_number_index.clone())
                .fetch_one(&mut *conn)
                .await?;
                let id: i64 = sqlx::query_scalar(
                    r"insert into sublandlords (user_id, person_id, name, phone_enc, phone_index,
                          phone_masked, id_type, id_number_enc, id_number_index,
                          id_number_masked, created_at)
                      values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning id",
                )
                .bind(user_id)
                .bind(person.unwrap_or(0))
                .bind(s.name)
                .bind(s.phone_enc)
                .bind(s.phone_index)
                .bind(s.phone_masked)
                .bind(s.id_type)
                .bind(s.id_number_enc)
                .bind(s.id_number_index)
                .bind(s.id_number_masked)
                .bind(now_ms)
                .fetch_one(&mut *conn)
                .await?;
                if person.is_none() {
                    sqlx::query("update sublandlords set person_id = id where id = $1")
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(id)
            })
        }))
        .await
}

/// A sublandlord as their own pages show them.
#[derive(Debug, Clone, FromRow)]
pub struct Sublandlord {
    pub id: i64,
    pub user_id: i64,
    pub person_id: i64,
    pub name: String,
    pub phone_masked: String,
    pub id_number_masked: String,
}

/// The sublandlord behind a login.
pub async fn by_user(store: &Store, user_id: i64) -> StoreResult<Option<Sublandlord>> {
    Ok(sqlx::query_as(
        r"select id, user_id, person_id, name, phone_masked, id_number_masked
          from sublandlords where user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(store.pool())
    .await?)
}

/// The sublandlord with this id.
pub async fn get(store: &Store, id: i64) -> StoreResult<Option<Sublandlord>> {
    Ok(sqlx::query_as(
        r"select id, user_id, person_id, name, phone_masked, id_number_masked
          from sublandlords where id = $1",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?)
}

/// Replaces an account's password hash.
pub async fn set_password(store: &Store, user_id: i64, password_hash: String) -> StoreResult<()> {
    store
        .write(Box::new(move |conn| {
            Box::pin(async move {
                sqlx::query("update users set password_hash = $1 where id = $2")
                    .bind(password_hash)
                    .bind(user_id)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        }))
        .await
}

/// One person in the ledger: every account sharing their phone or document number, and
/// what their units add up to.
#[derive(Debug, Clone, FromRow)]
pub struct LedgerRow {
    pub person_id: i64,
    pub accounts: i64,
    pub name: String,
    pub phone_masked: String,
    pub id_number_masked: String,
    pub units: i64,
    pub rooms: i64,
    pub occupants: i64,
    pub open_checks: i64,
    pub past_checks: i64,
    pub violations: i64,
    pub tips: i64,
    pub overcrowded_units: i64,
    pub filed_in_advance: i64,
    pub filed_late: i64,
    pub priority: i64,
}

/// The priority score of the ledger (documented in the README): many units and rooms,
/// findings at the door, open checks and late filings put a sublandlord first.
pub const PRIORITY_SQL: &str = r"2 * units + rooms + 3 * open_checks + past_checks
    + 10 * violations + 5 * overcrowded_units + 3 * tips + 5 * filed_late";

/// One page of the ledger, highest priority first, and the number of people in it. Staff
/// scoped to communities see the people with units there, counted over those units only.
pub async fn ledger(
    store: &Store,
    scope: Scope,
    offset: i64,
    limit: i64,
) -> StoreResult<(Vec<LedgerRow>, i64)> {
    let (unit_scope, person_scope) = match scope {
        Scope::All => (" and $1 = $1", ""),
        Scope::UserCommunities(_) => (
            " and u.community_id in (select community_id from user_communities where user_id = $1)",
            " where p.units > 0",
        ),
        Scope::Community(_) => (" and u.community_id = $1", " where p.units > 0"),
    };
    let scope_id = match scope {
        Scope::All => 0,
        Scope::UserCommunities(id) | Scope::Community(id) => id,
    };
    // Per unit first (its occupants and checks), then per person; every sublandlord of the
    // town, even one with no unit yet, is in the unscoped ledger.
    let people = format!(
        r"with lu as (
            select u.id, s.person_id, u.rooms, u.filed_at, u.first_upload_at
            from units u join sublandlords s on s.id = u.sublandlord_id
            where u.sublandlord_id is not null{unit_scope}
          ),
          occ as (
            select o.unit_id, count(*) as n from occupants o
            where o.moved_out_at is null and o.unit_id in (select id from lu)
            group by o.unit_id
          ),
          chk as (
            select d.unit_id,
                   sum(case when d.status = 'open' then 1 else 0 end) as open_checks,
                   sum(case when d.status = 'closed' then 1 else 0 end) as past_checks,
                   sum(case when d.outcome = 'violation' then 1 else 0 end) as violations,
                   sum(case when d.reason = 'tip' then 1 else 0 end) as tips,
                   max(case when d.reason = 'overcrowding' then 1 else 0 end) as overcrowded
            from door_checks d where d.unit_id in (select id from lu)
            group by d.unit_id
          ),
          per_person as (
            select lu.person_id, count(*) as units, sum(lu.rooms) as rooms,
                   sum(coalesce(occ.n, 0)) as occupants,
                   sum(coalesce(chk.open_checks, 0)) as open_checks,
                   sum(coalesce(chk.past_checks, 0)) as past_checks,
                   sum(coalesce(chk.violations, 0)) as violations,
                   sum(coalesce(chk.tips, 0)) as tips,
                   sum(coalesce(chk.overcrowded, 0)) as overcrowded_units,
                   sum(case when lu.filed_at is not null and (lu.first_upload_at is null
                            or lu.filed_at <= lu.first_upload_at) then 1 else 0 end)
                       as filed_in_advance
            from lu left join occ on occ.unit_id = lu.id left join chk on chk.unit_id = lu.id
            group by lu.person_id
          ),
          accounts as (
            select person_id, count(*) as accounts, min(id) as first_id
            from sublandlords group by person_id
          ),
          p as (
            select a.person_id, a.accounts, a.first_id,
                   coalesce(pp.units, 0) as units, coalesce(pp.rooms, 0) as rooms,
                   coalesce(pp.occupants, 0) as occupants,
                   coalesce(pp.open_checks, 0) as open_checks,
                   coalesce(pp.past_checks, 0) as past_checks,
                   coalesce(pp.violations, 0) as violations, coalesce(pp.tips, 0) as tips,
                   coalesce(pp.overcrowded_units, 0) as overcrowded_units,
                   coalesce(pp.filed_in_advance, 0) as filed_in_advance,
                   coalesce(pp.units, 0) - coalesce(pp.filed_in_advance, 0) as filed_late
            from accounts a left join per_person pp on pp.person_id = a.person_id
          )"
    );
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "{people} select count(*) from p{person_scope}"
    )))
    .bind(scope_id)
    .fetch_one(store.pool())
    .await?;
    let rows = sqlx::query_as(AssertSqlSafe(format!(
        r"{people}
          select p.person_id, p.accounts, s.name, s.phone_masked, s.id_number_masked,
                 cast(p.units as bigint) as units, cast(p.rooms as bigint) as rooms,
                 cast(p.occupants as bigint) as occupants,
                 cast(p.open_checks as bigint) as open_checks,
                 cast(p.past_checks as bigint) as past_checks,
                 cast(p.violations as bigint) as violations, cast(p.tips as bigint) as tips,
                 cast(p.overcrowded_units as bigint) as overcrowded_units,
                 cast(p.filed_in_advance as bigint) as filed_in_advance,
                 cast(p.filed_late as bigint) as filed_late,
                 cast(({PRIORITY_SQL}) as bigint) as priority
          from p join sublandlords s on s.id = p.first_id{person_scope}
          order by priority desc, p.person_id
          limit $2 offset $3"
    )))
    .bind(scope_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(store.pool())
    .await?;
    Ok((rows, total))
}
