//! Monthly reports kept for download, so every instance serves the same file.

use super::tx::transaction;
use super::{Store, StoreResult};

/// Stores (or replaces) the report of a month.
pub async fn save(
    store: &Store,
    month: &str,
    xlsx: Vec<u8>,
    user_id: Option<i64>,
    now_ms: i64,
) -> StoreResult<()> {
    let month = month.to_string();
    transaction!(store, |tx| {
        sqlx::query(
            r"insert into reports (month, created_at, created_by, xlsx)
                      values ($1, $2, $3, $4)
                      on conflict (month) do update
                      set created_at = excluded.created_at, created_by = excluded.created_by,
                          xlsx = excluded.xlsx",
        )
        .bind(month)
        .bind(now_ms)
        .bind(user_id)
        .bind(xlsx)
        .execute(tx.conn())
        .await?;
        Ok(())
    })
    .await
}

/// A stored report's file.
pub async fn get(store: &Store, month: &str) -> StoreResult<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("select xlsx from reports where month = $1")
            .bind(month.to_string())
            .fetch_optional(store.pool())
            .await?,
    )
}

/// Stored reports, newest month first: month and when it was written.
pub async fn list(store: &Store) -> StoreResult<Vec<(String, i64)>> {
    Ok(
        sqlx::query_as("select month, created_at from reports order by month desc limit 36")
            .fetch_all(store.pool())
            .await?,
    )
}
