//! Staff and sublandlord accounts.

use sqlx::FromRow;

use super::tx::transaction;
use super::{Store, StoreResult};
use crate::domain::role::Role;

/// An account as stored.
#[derive(Debug, Clone, FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub disabled_at: Option<i64>,
    /// Sessions begun under another epoch are over (see `active_community_ids`).
    pub session_epoch: i64,
}

/// Creates an account and its community assignments in one transaction, by `by`.
pub async fn create(
    store: &Store,
    by: Option<i64>,
    username: &str,
    password_hash: &str,
    role: &str,
    community_ids: &[i64],
    now_ms: i64,
) -> StoreResult<i64> {
    let (username, password_hash, role) = (
        username.to_string(),
        password_hash.to_string(),
        role.to_string(),
    );
    let community_ids = community_ids.to_vec();
    transaction!(store, |tx| {
        let id: i64 = sqlx::query_scalar(
            r"insert into users (username, password_hash, role, created_at)
                      values ($1, $2, $3, $4) returning id",
        )
        .bind(username)
        .bind(password_hash)
        .bind(role.clone())
        .bind(now_ms)
        .fetch_one(tx.conn())
        .await?;
        for community_id in &community_ids {
            sqlx::query("insert into user_communities (user_id, community_id) values ($1, $2)")
                .bind(id)
                .bind(*community_id)
                .execute(tx.conn())
                .await?;
        }
        let entry = super::audit::Entry {
            user_id: by,
            action: "user.create".into(),
            subject: Some(format!("user:{id}")),
            detail: Some(
                serde_json::json!({"role": role, "communities": community_ids}).to_string(),
            ),
            reason: None,
        };
        super::audit::append_in(tx, &entry, now_ms).await?;
        Ok(id)
    })
    .await
}

/// The account with this login name.
pub async fn find_by_username(store: &Store, username: &str) -> StoreResult<Option<User>> {
    Ok(sqlx::query_as(
        "select id, username, password_hash, role, disabled_at, session_epoch from users where username = $1",
    )
    .bind(username)
    .fetch_optional(store.pool())
    .await?)
}

/// The account with this id.
pub async fn get(store: &Store, id: i64) -> StoreResult<Option<User>> {
    Ok(sqlx::query_as(
        "select id, username, password_hash, role, disabled_at, session_epoch from users where id = $1",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?)
}

/// What a session is checked against on every signed-in request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The account's current session epoch: a session begun under another one is over.
    pub session_epoch: i64,
    /// The communities the account may see.
    pub community_ids: Vec<i64>,
}

/// The standing of an account that is not disabled, or `None` for a disabled or missing
/// one: what every signed-in request checks, in one statement.
pub async fn active_standing(store: &Store, user_id: i64) -> StoreResult<Option<Standing>> {
    let rows: Vec<(Option<i64>, i64, Option<i64>)> = sqlx::query_as(
        r"select u.disabled_at, u.session_epoch, uc.community_id from users u
          left join user_communities uc on uc.user_id = u.id
          where u.id = $1 order by uc.community_id",
    )
    .bind(user_id)
    .fetch_all(store.pool())
    .await?;
    match rows.first() {
        Some((None, epoch, _)) => Ok(Some(Standing {
            session_epoch: *epoch,
            community_ids: rows.iter().filter_map(|(_, _, c)| *c).collect(),
        })),
        _ => Ok(None),
    }
}

/// Disables (`disable == true`) or enables the account with this login name, on behalf
/// of `by` (`None` for the command line); audited. Disabling raises the session epoch, so
/// the account's sessions end at once and enabling it again does not bring them back.
/// `None` when there is no such account.
pub async fn set_disabled(
    store: &Store,
    by: Option<i64>,
    username: &str,
    disable: bool,
    now_ms: i64,
) -> StoreResult<Option<i64>> {
    let username = username.to_string();
    transaction!(store, |tx| {
        // Disabling an account that already is keeps the first instant.
        let query = if disable {
            sqlx::query_scalar(
                r"update users set disabled_at = coalesce(disabled_at, $1),
                              session_epoch = session_epoch + 1
                          where username = $2 returning id",
            )
            .bind(now_ms)
        } else {
            sqlx::query_scalar(
                "update users set disabled_at = null where username = $1 returning id",
            )
        };
        let id: Option<i64> = query.bind(username).fetch_optional(tx.conn()).await?;
        let Some(id) = id else {
            return Ok(None);
        };
        let entry = super::audit::Entry {
            user_id: by,
            action: if disable {
                "user.disable"
            } else {
                "user.enable"
            }
            .into(),
            subject: Some(format!("user:{id}")),
            detail: None,
            reason: None,
        };
        super::audit::append_in(tx, &entry, now_ms).await?;
        Ok(Some(id))
    })
    .await
}

/// A staff account as the console lists it.
#[derive(Debug, Clone, FromRow)]
pub struct Listed {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub disabled_at: Option<i64>,
    /// Community names, joined with "、".
    pub communities: String,
}

/// Staff accounts (not sublandlords), by name.
pub async fn list_staff(store: &Store) -> StoreResult<Vec<Listed>> {
    let rows: Vec<(i64, String, Role, Option<i64>)> = sqlx::query_as(
        r"select id, username, role, disabled_at from users
          where role <> 'sublandlord' order by username",
    )
    .fetch_all(store.pool())
    .await?;
    let links: Vec<(i64, String)> = sqlx::query_as(
        r"select uc.user_id, c.name from user_communities uc
          join communities c on c.id = uc.community_id
          join users u on u.id = uc.user_id
          where u.role <> 'sublandlord' order by c.name",
    )
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, username, role, disabled_at)| Listed {
            communities: links
                .iter()
                .filter(|(u, _)| *u == id)
                .map(|(_, c)| c.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            id,
            username,
            role,
            disabled_at,
        })
        .collect())
}
