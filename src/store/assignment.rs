//! Checks given to officers: who has which open check, for a day's walk.

use sqlx::AssertSqlSafe;

use super::door_checks::{ITEM_COLUMNS, QueueItem};
use super::scope::{Scope, scope_id, scope_sql};
use super::tx::transaction;
use super::{Store, StoreResult};

/// Gives open check `check_id` to `officer` (or back to the queue with `None`), on behalf
/// of `by`; audited. Returns whether the check was open.
pub async fn assign(
    store: &Store,
    check_id: i64,
    officer: Option<i64>,
    by: i64,
    now_ms: i64,
) -> StoreResult<bool> {
    transaction!(store, |tx| {
        let done = sqlx::query(
            r"update door_checks set assigned_to = $1, assigned_at = $2
              where id = $3 and status = 'open'",
        )
        .bind(officer)
        .bind(officer.map(|_| now_ms))
        .bind(check_id)
        .execute(tx.conn())
        .await?;
        let open = done.rows_affected() == 1;
        if open {
            let entry = super::audit::Entry {
                user_id: Some(by),
                action: "door_check.assign".into(),
                subject: Some(format!("door_check:{check_id}")),
                detail: Some(serde_json::json!({ "officer": officer }).to_string()),
                reason: None,
            };
            super::audit::append_in(tx, &entry, now_ms).await?;
        }
        Ok(open)
    })
    .await
}

/// The open checks given to `officer` within `scope` (a community taken from the officer
/// since hides its checks), at most `limit`, in no particular order: the caller sorts them
/// for walking.
pub async fn assigned_to(
    store: &Store,
    officer: i64,
    scope: Scope,
    limit: i64,
) -> StoreResult<Vec<QueueItem>> {
    let sql = format!(
        "{ITEM_COLUMNS} where d.status = 'open'{} and d.assigned_to = $2 order by d.id limit $3",
        scope_sql(scope, "d")
    );
    Ok(sqlx::query_as::<_, QueueItem>(AssertSqlSafe(sql))
        .bind(scope_id(scope))
        .bind(officer)
        .bind(limit)
        .fetch_all(store.pool())
        .await?)
}
