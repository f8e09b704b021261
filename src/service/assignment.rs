//! A day's walk: open checks given to an officer, and an officer's own checks in the order
//! the addresses are walked (road, 弄, 号, 室).

use serde::Deserialize;
use utoipa::ToSchema;

use super::door_checks::{QueueItemOut, items_out};
use super::{Caller, Context, Error, Result};
use crate::domain::FieldError;
use crate::domain::role::Role;
use crate::domain::unit::walking_order;
use crate::store::{self, assignment, door_checks, users};

/// Most checks one officer's list shows: more than a day's walk already.
pub const MAX_MINE: i64 = 500;

/// To whom a check goes: a police account by its username (`officer`) or its id
/// (`user_id`); neither, or `null`, gives the check back to the queue.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// Username of a police account of the check's community.
    #[serde(default)]
    pub officer: Option<String>,
    /// The same account by its id.
    #[serde(default)]
    pub user_id: Option<i64>,
}

/// Gives an open check in the caller's scope to a police officer of its community, or back
/// to the queue. `NotFound` outside the caller's scope, `Conflict` once it is closed.
pub async fn assign(
    ctx: &Context,
    caller: &Caller,
    check_id: i64,
    body: &AssignBody,
) -> Result<()> {
    caller.require(Role::works_queue)?;
    let check = door_checks::get(&ctx.store, check_id)
        .await?
        .filter(|c| caller.sees(c.community_id))
        .ok_or(Error::NotFound)?;
    let not_an_officer = |field: &str| {
        Error::field(FieldError::new(
            field,
            "not_an_officer",
            "只能分派给本社区在岗的民警账号",
            "Only an active police account of the check's community",
        ))
    };
    let (field, user) = match (&body.officer, body.user_id) {
        (Some(name), _) => (
            "officer",
            users::find_by_username(&ctx.store, name.trim()).await?,
        ),
        (None, Some(id)) => ("user_id", users::get(&ctx.store, id).await?),
        (None, None) => ("officer", None),
    };
    let officer = match user {
        Some(user) => {
            let standing = users::active_standing(&ctx.store, user.id).await?;
            let fits = user.role == Role::Police
                && standing.is_some_and(|s| s.community_ids.contains(&check.community_id));
            if !fits {
                return Err(not_an_officer(field));
            }
            Some(user.id)
        }
        None if body.officer.is_some() || body.user_id.is_some() => {
            return Err(not_an_officer(field));
        }
        None => None,
    };
    let open = assignment::assign(
        &ctx.store,
        check.id,
        officer,
        caller.user_id,
        store::millis(ctx.now()),
    )
    .await?;
    if !open {
        return Err(Error::Conflict("该核查已完成".into()));
    }
    tracing::info!(check = check.id, officer, "door check assigned");
    Ok(())
}

/// The caller's open checks, in walking order.
pub async fn mine(ctx: &Context, caller: &Caller) -> Result<Vec<QueueItemOut>> {
    caller.require(Role::works_queue)?;
    let mut items =
        assignment::assigned_to(&ctx.store, caller.user_id, caller.scope(), MAX_MINE).await?;
    items.sort_by_cached_key(|i| walking_order(&i.address));
    Ok(items_out(items, store::millis(ctx.now())))
}
