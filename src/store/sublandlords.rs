//! Sublandlord accounts and the ledger that ranks them.

use sqlx::{AssertSqlSafe, FromRow};

use super::ledger::{COUNTS, Persons, refresh_ledger};
use super::scope::Scope;
use super::tx::transaction;
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

/// Why a sign-up was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupRefusal {
    /// The document number belongs to an account under another name: joining it would put
    /// the newcomer in that person's ledger row and raise their priority.
    NameMismatch,
}

/// Creates the login and the sublandlord in one transaction. An account whose name agrees
/// with an earlier one's and shares its phone or document number (blind index) joins that
/// person's group. A document number held under another name is refused, and the refusal
/// alone is recorded (in the audit log, without the number).
pub async fn create(
    store: &Store,
    s: NewSublandlord,
    now_ms: i64,
) -> StoreResult<Result<i64, SignupRefusal>> {
    transaction!(store, |tx| {
        let holders: Vec<(i64, String)> = sqlx::query_as(
            r"select person_id, name from sublandlords where id_number_index = $1
                      order by person_id",
        )
        .bind(s.id_number_index.clone())
        .fetch_all(tx.conn())
        .await?;
        if !holders.is_empty() && holders.iter().all(|(_, name)| *name != s.name) {
            let entry = super::audit::Entry {
                user_id: None,
                action: "sublandlord.signup_refused".into(),
                subject: Some(format!("person:{}", holders[0].0)),
                detail: Some(r#"{"reason":"id_number_under_another_name"}"#.into()),
                reason: None,
            };
            super::audit::append_in(tx, &entry, now_ms).await?;
            return Ok(Err(SignupRefusal::NameMismatch));
        }
        let user_id: i64 = sqlx::query_scalar(
            r"insert into users (username, password_hash, role, created_at)
                      values ($1, $2, 'sublandlord', $3) returning id",
        )
        .bind(s.username)
        .bind(s.password_hash)
        .bind(now_ms)
        .fetch_one(tx.conn())
        .await?;
        let person: Option<i64> = sqlx::query_scalar(
            r"select min(person_id) from sublandlords
                      where (phone_index = $1 or id_number_index = $2) and name = $3",
        )
        .bind(s.phone_index.clone())
        .bind(s.id_number_index.clone())
        .bind(s.name.clone())
        .fetch_one(tx.conn())
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
        .fetch_one(tx.conn())
        .await?;
        if person.is_none() {
            sqlx::query("update sublandlords set person_id = id where id = $1")
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
        refresh_ledger(tx, Persons::One(person.unwrap_or(id))).await?;
        let entry = super::audit::Entry {
            user_id: Some(user_id),
            action: "user.create".into(),
            subject: Some(format!("user:{user_id}")),
            detail: Some(r#"{"role":"sublandlord","self_registered":true}"#.into()),
            reason: None,
        };
        super::audit::append_in(tx, &entry, now_ms).await?;
        Ok(Ok(id))
    })
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

/// The sealed phone number of a sublandlord account.
pub async fn sealed_phone(store: &Store, id: i64) -> StoreResult<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("select phone_enc from sublandlords where id = $1")
            .bind(id)
            .fetch_optional(store.pool())
            .await?,
    )
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

/// Replaces an account's password hash and raises its session epoch, so every session
/// begun before the change is over; audited. Returns the new epoch, for the session that
/// made the change to carry on under.
pub async fn set_password(store: &Store, user_id: i64, password_hash: String) -> StoreResult<i64> {
    let now_ms = super::millis(chrono::Utc::now());
    transaction!(store, |tx| {
        let epoch: i64 = sqlx::query_scalar(
            r"update users set password_hash = $1, session_epoch = session_epoch + 1
                      where id = $2 returning session_epoch",
        )
        .bind(password_hash)
        .bind(user_id)
        .fetch_one(tx.conn())
        .await?;
        let entry = super::audit::Entry {
            user_id: Some(user_id),
            action: "user.password".into(),
            subject: Some(format!("user:{user_id}")),
            detail: None,
            reason: None,
        };
        super::audit::append_in(tx, &entry, now_ms).await?;
        Ok(epoch)
    })
    .await
}

/// One person in the ledger: every account sharing their phone or document number, and
/// what their units add up to.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
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
    /// Enforcement cases of their units decided with a violation.
    pub decided_cases: i64,
    pub priority: i64,
}

/// Recomputes the whole ledger (after a bulk load, or to repair it). Returns the number of
/// people in it.
pub async fn rebuild_ledger(store: &Store) -> StoreResult<i64> {
    transaction!(store, |tx| { refresh_ledger(tx, Persons::All).await }).await?;
    // Fresh statistics for a table just rewritten whole.
    store.analyze("ledger_rows").await?;
    Ok(
        sqlx::query_scalar("select count(*) from ledger_rows where community_id = 0")
            .fetch_one(store.pool())
            .await?,
    )
}

/// One page of the ledger, highest priority first, and the number of people in it. Staff
/// scoped to communities see the people with units there, counted over those units only.
pub async fn ledger(
    store: &Store,
    scope: Scope,
    offset: i64,
    limit: i64,
) -> StoreResult<(Vec<LedgerRow>, i64)> {
    let identity = r"l.person_id,
        (select count(*) from sublandlords a where a.person_id = l.person_id) as accounts,
        s.name, s.phone_masked, s.id_number_masked";
    let (rows_sql, total_sql, id) = match scope {
        Scope::All | Scope::Community(_) => {
            // Rows for one community exist only where the person has units there.
            let (filter, id) = match scope {
                Scope::Community(c) => ("community_id = $1", c),
                _ => ("community_id = 0 and $1 = $1", 0),
            };
            // The page is found on the ranking index alone (a deep page skips index entries,
            // not rows), then its 50 rows are read.
            (
                format!(
                    r"with page as (
                        select person_id, community_id, priority from ledger_rows
                        where {filter}
                        order by priority desc, person_id limit $2 offset $3
                      )
                      select {identity}, l.units, l.rooms, l.occupants, l.open_checks,
                             l.past_checks, l.violations, l.tips, l.overcrowded_units,
                             l.filed_in_advance, l.filed_late, l.decided_cases, l.priority
                      from page p
                      join ledger_rows l on l.person_id = p.person_id
                          and l.community_id = p.community_id
                      join sublandlords s on s.id = l.person_id
                      order by p.priority desc, p.person_id"
                ),
                format!("select count(*) from ledger_rows where {filter}"),
                id,
            )
        }
        Scope::UserCommunities(user) => {
            let filter = r"l.community_id in
                (select community_id from user_communities where user_id = $1)
                and l.units > 0";
            let sums: String = COUNTS
                .split(", ")
                .map(|c| format!("cast(sum(l.{c}) as bigint) as {c}"))
                .collect::<Vec<_>>()
                .join(", ");
            (
                format!(
                    r"select {identity}, {sums}
                      from ledger_rows l join sublandlords s on s.id = l.person_id
                      where {filter}
                      group by l.person_id, s.name, s.phone_masked, s.id_number_masked
                      order by priority desc, l.person_id limit $2 offset $3"
                ),
                format!("select count(distinct l.person_id) from ledger_rows l where {filter}"),
                user,
            )
        }
    };
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(total_sql))
        .bind(id)
        .fetch_one(store.pool())
        .await?;
    let rows = sqlx::query_as(AssertSqlSafe(rows_sql))
        .bind(id)
        .bind(limit)
        .bind(offset)
        .fetch_all(store.pool())
        .await?;
    Ok((rows, total))
}
