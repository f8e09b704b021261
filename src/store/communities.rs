//! Communities (社区/村居): the unit of scope for staff.

use sqlx::FromRow;

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

/// The community of this exact name.
pub async fn find_by_name(store: &Store, name: &str) -> StoreResult<Option<Community>> {
    Ok(
        sqlx::query_as("select id, name from communities where name = $1")
            .bind(name)
            .fetch_optional(store.pool())
            .await?,
    )
}

/// Every community, by name.
pub async fn list(store: &Store) -> StoreResult<Vec<Community>> {
    Ok(
        sqlx::query_as("select id, name from communities order by name")
            .fetch_all(store.pool())
            .await?,
    )
}
