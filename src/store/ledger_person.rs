//! One person of the sublandlord ledger: their accounts, their units and the units' door
//! checks, the counts behind their priority, and their sealed contact details.

use sqlx::{AssertSqlSafe, FromRow, Row};

use super::ledger::PRIORITY_TERMS;
use super::scope::{Scope, scope_id, scope_sql};
use super::{Store, StoreResult};
use crate::domain::door_check::{Reason, Resolution, Status};
use crate::domain::unit::UnitState;

/// Closed checks the person page lists, newest first.
pub const CLOSED_CHECKS_SHOWN: i64 = 20;

/// The communities of a person's units; `None` when no account has this person id.
pub async fn communities(store: &Store, person_id: i64) -> StoreResult<Option<Vec<i64>>> {
    let accounts: i64 =
        sqlx::query_scalar("select count(*) from sublandlords where person_id = $1")
            .bind(person_id)
            .fetch_one(store.pool())
            .await?;
    if accounts == 0 {
        return Ok(None);
    }
    let communities = sqlx::query_scalar(
        r"select distinct u.community_id from units u
          join sublandlords s on s.id = u.sublandlord_id
          where s.person_id = $1 order by u.community_id",
    )
    .bind(person_id)
    .fetch_all(store.pool())
    .await?;
    Ok(Some(communities))
}

/// One login of a person.
#[derive(Debug, Clone, FromRow)]
pub struct Account {
    pub phone_masked: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

/// Every account of a person, oldest first.
pub async fn accounts(store: &Store, person_id: i64) -> StoreResult<Vec<Account>> {
    Ok(sqlx::query_as(
        r"select s.phone_masked, s.created_at, u.disabled_at
          from sublandlords s join users u on u.id = s.user_id
          where s.person_id = $1 order by s.id",
    )
    .bind(person_id)
    .fetch_all(store.pool())
    .await?)
}

/// The stored name and sealed phone number of a person (their first account's).
pub async fn sealed_contact(
    store: &Store,
    person_id: i64,
) -> StoreResult<Option<(String, Vec<u8>)>> {
    Ok(
        sqlx::query_as("select name, phone_enc from sublandlords where id = $1 and person_id = $1")
            .bind(person_id)
            .fetch_optional(store.pool())
            .await?,
    )
}

/// One unit a person lets, with what the person page shows of it.
#[derive(Debug, Clone, FromRow)]
pub struct PersonUnit {
    pub id: i64,
    pub community_id: i64,
    pub community: String,
    pub address: String,
    pub state: UnitState,
    pub occupants: i64,
    pub last_upload_at: Option<i64>,
    pub open_checks: i64,
}

/// The person's units within `scope`, by community and address, and how many they let
/// outside it.
pub async fn units(
    store: &Store,
    scope: Scope,
    person_id: i64,
) -> StoreResult<(Vec<PersonUnit>, i64)> {
    let units: Vec<PersonUnit> = sqlx::query_as(AssertSqlSafe(format!(
        r"select u.id, u.community_id, c.name as community, u.address, u.state,
                 (select count(*) from occupants o
                  where o.unit_id = u.id and o.moved_out_at is null) as occupants,
                 u.last_upload_at,
                 (select count(*) from door_checks d
                  where d.unit_id = u.id and d.status = 'open') as open_checks
          from units u join sublandlords s on s.id = u.sublandlord_id
          join communities c on c.id = u.community_id
          where s.person_id = $2{}
          order by c.name, u.address, u.id",
        scope_sql(scope, "u")
    )))
    .bind(scope_id(scope))
    .bind(person_id)
    .fetch_all(store.pool())
    .await?;
    let all: i64 = sqlx::query_scalar(
        r"select count(*) from units u join sublandlords s on s.id = u.sublandlord_id
          where s.person_id = $1",
    )
    .bind(person_id)
    .fetch_one(store.pool())
    .await?;
    let shown = units.len() as i64;
    Ok((units, all - shown))
}

/// A door check of one of the person's units.
#[derive(Debug, Clone, FromRow)]
pub struct PersonCheck {
    pub id: i64,
    pub unit_id: i64,
    pub address: String,
    pub reason: Reason,
    pub status: Status,
    pub outcome: Option<Resolution>,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
}

/// The door checks of the person's units within `scope`: every open one, oldest first,
/// then the last [`CLOSED_CHECKS_SHOWN`] closed ones, newest first.
pub async fn checks(store: &Store, scope: Scope, person_id: i64) -> StoreResult<Vec<PersonCheck>> {
    let select = |status: &str, order: &str| {
        format!(
            r"select d.id, d.unit_id, u.address, d.reason, d.status, d.outcome, d.opened_at,
                     d.closed_at
              from door_checks d join units u on u.id = d.unit_id
              join sublandlords s on s.id = u.sublandlord_id
              where s.person_id = $2 and d.status = '{status}'{}
              order by {order} limit $3",
            scope_sql(scope, "d")
        )
    };
    let mut found = Vec::new();
    for (sql, limit) in [
        (select("open", "d.opened_at, d.id"), i64::MAX),
        (
            select("closed", "d.closed_at desc, d.id desc"),
            CLOSED_CHECKS_SHOWN,
        ),
    ] {
        let rows: Vec<PersonCheck> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(scope_id(scope))
            .bind(person_id)
            .bind(limit)
            .fetch_all(store.pool())
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// The person's count for each of [`PRIORITY_TERMS`] and their priority, over the
/// communities of `scope` where they let units (admins: over all of them); `None` for a
/// person with no ledger row there.
pub async fn priority_counts(
    store: &Store,
    scope: Scope,
    person_id: i64,
) -> StoreResult<Option<(Vec<i64>, i64)>> {
    let columns: Vec<&str> = PRIORITY_TERMS
        .iter()
        .map(|t| t.column)
        .chain(["priority"])
        .collect();
    let sums = columns
        .iter()
        .map(|c| format!("cast(coalesce(sum({c}), 0) as bigint)"))
        .collect::<Vec<_>>()
        .join(", ");
    let filter = match scope {
        // Everyone's row over all communities, even without units.
        Scope::All => "community_id = 0 and $1 = $1",
        Scope::Community(_) => "community_id = $1",
        Scope::UserCommunities(_) => {
            "community_id in (select community_id from user_communities where user_id = $1)
             and units > 0"
        }
    };
    let row = sqlx::query(AssertSqlSafe(format!(
        r"select count(*) as found, {sums} from ledger_rows
          where person_id = $2 and {filter}"
    )))
    .bind(scope_id(scope))
    .bind(person_id)
    .fetch_one(store.pool())
    .await?;
    let found: i64 = row.try_get(0)?;
    if found == 0 {
        return Ok(None);
    }
    let mut counts = (1..=columns.len())
        .map(|i| row.try_get::<i64, _>(i))
        .collect::<Result<Vec<i64>, _>>()?;
    let priority = counts.pop().unwrap_or_default();
    Ok(Some((counts, priority)))
}
