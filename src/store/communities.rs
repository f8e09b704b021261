//! Communities (社区/村居): the unit of scope for staff.

use sqlx::FromRow;

use crate::domain::community::match_key;

use super::tx::transaction;
use super::{Store, StoreResult};

/// A community as stored.
#[derive(Debug, Clone, FromRow)]
pub struct Community {
    pub id: i64,
    pub name: String,
}

/// Creates a community; a second one of the same name is `Constraint::CommunityName`.
pub async fn create(store: &Store, name: &str, now_ms: i64) -> StoreResult<i64> {
    let name = name.to_string();
    transaction!(store, |tx| {
        let id: i64 = sqlx::query_scalar(
            "insert into communities (name, created_at) values ($1, $2) returning id",
        )
        .bind(name)
        .bind(now_ms)
        .fetch_one(tx.conn())
        .await?;
        Ok(id)
    })
    .await
}

/// The community of this name, or else the one community it names with a suffix or spaces
/// (`影佳社区`, `影佳居委会` for `影佳`); `None` when no community, or more than one, fits.
pub async fn find_by_name(store: &Store, name: &str) -> StoreResult<Option<Community>> {
    let exact = sqlx::query_as("select id, name from communities where name = $1")
        .bind(name)
        .fetch_optional(store.pool())
        .await?;
    if exact.is_some() {
        return Ok(exact);
    }
    // Communities are few (tens in a district): comparing their keys here is cheaper than
    // keeping a second, derived name column in step.
    let key = match_key(name);
    let mut fits = list(store)
        .await?
        .into_iter()
        .filter(|c| match_key(&c.name) == key);
    Ok(match (fits.next(), fits.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    })
}

/// Ids of communities by name, as [`find_by_name`] matches them: the exact name first, then
/// the name without its suffix when that names one community only.
pub struct ByName {
    exact: std::collections::HashMap<String, i64>,
    keyed: std::collections::HashMap<String, Option<i64>>,
}

impl ByName {
    /// Every community, ready for look-ups.
    pub async fn load(store: &Store) -> StoreResult<Self> {
        let all = list(store).await?;
        let mut keyed = std::collections::HashMap::new();
        for c in &all {
            keyed
                .entry(match_key(&c.name))
                .and_modify(|id| *id = None)
                .or_insert(Some(c.id));
        }
        let exact = all.into_iter().map(|c| (c.name, c.id)).collect();
        Ok(Self { exact, keyed })
    }

    /// The id of the community `name` names.
    pub fn get(&self, name: &str) -> Option<i64> {
        self.exact
            .get(name)
            .copied()
            .or_else(|| self.keyed.get(&match_key(name)).copied().flatten())
    }
}

/// Every community, by name.
pub async fn list(store: &Store) -> StoreResult<Vec<Community>> {
    Ok(
        sqlx::query_as("select id, name from communities order by name")
            .fetch_all(store.pool())
            .await?,
    )
}
