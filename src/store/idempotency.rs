//! The answers remembered for the `Idempotency-Key` of staff requests (a result sent again
//! from a phone's queue), one row per account and key.

use sqlx::FromRow;

use super::tx::transaction;
use super::{Store, StoreResult};

/// An answer as it was first given.
#[derive(Debug, Clone, FromRow)]
pub struct Answer {
    pub status: i64,
    pub location: Option<String>,
    pub content_type: Option<String>,
    /// Absent when the answer was too long to keep.
    pub body: Option<Vec<u8>>,
}

/// What a claim on a key found.
#[derive(Debug, Clone)]
pub enum Claim {
    /// The key is new: the request runs, and its answer is stored with [`finish`].
    Claimed,
    /// The key was used for this route and answered.
    Answered(Answer),
    /// The key was used for this route and the first request has not answered yet.
    Running,
    /// The key was used for another route.
    OtherRoute,
}

#[derive(FromRow)]
struct Row {
    route: String,
    status: Option<i64>,
    location: Option<String>,
    content_type: Option<String>,
    body: Option<Vec<u8>>,
}

/// Claims `key` of `user_id` for `route` ("POST /path"), or says what it was used for.
pub async fn claim(
    store: &Store,
    user_id: i64,
    key: &str,
    route: &str,
    now_ms: i64,
) -> StoreResult<Claim> {
    let (key, route) = (key.to_string(), route.to_string());
    transaction!(store, |tx| {
        // The primary key decides between two requests sent at once: one inserts.
        let inserted = sqlx::query(
            r"insert into staff_idempotency_keys (user_id, key, route, created_at)
              values ($1, $2, $3, $4)
              on conflict (user_id, key) do nothing",
        )
        .bind(user_id)
        .bind(key.clone())
        .bind(route.clone())
        .bind(now_ms)
        .execute(tx.conn())
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Claim::Claimed);
        }
        let row: Row = sqlx::query_as(
            r"select route, status, location, content_type, body from staff_idempotency_keys
              where user_id = $1 and key = $2",
        )
        .bind(user_id)
        .bind(key)
        .fetch_one(tx.conn())
        .await?;
        Ok(if row.route != route {
            Claim::OtherRoute
        } else if let Some(status) = row.status {
            Claim::Answered(Answer {
                status,
                location: row.location,
                content_type: row.content_type,
                body: row.body,
            })
        } else {
            Claim::Running
        })
    })
    .await
}

/// Stores the answer of a claimed key.
pub async fn finish(store: &Store, user_id: i64, key: &str, answer: Answer) -> StoreResult<()> {
    let key = key.to_string();
    transaction!(store, |tx| {
        sqlx::query(
            r"update staff_idempotency_keys
              set status = $1, location = $2, content_type = $3, body = $4
              where user_id = $5 and key = $6",
        )
        .bind(answer.status)
        .bind(answer.location)
        .bind(answer.content_type)
        .bind(answer.body)
        .bind(user_id)
        .bind(key)
        .execute(tx.conn())
        .await?;
        Ok(())
    })
    .await
}

/// Gives a claimed key up (the request failed on the server's side), so a retry runs again.
pub async fn release(store: &Store, user_id: i64, key: &str) -> StoreResult<()> {
    let key = key.to_string();
    transaction!(store, |tx| {
        sqlx::query(
            r"delete from staff_idempotency_keys
              where user_id = $1 and key = $2 and status is null",
        )
        .bind(user_id)
        .bind(key)
        .execute(tx.conn())
        .await?;
        Ok(())
    })
    .await
}

/// Deletes the keys claimed before `cutoff_ms`; returns how many.
pub async fn purge(store: &Store, cutoff_ms: i64) -> StoreResult<u64> {
    transaction!(store, |tx| {
        let done = sqlx::query(r"delete from staff_idempotency_keys where created_at < $1")
            .bind(cutoff_ms)
            .execute(tx.conn())
            .await?;
        Ok(done.rows_affected())
    })
    .await
}
