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

/// To whom a check goes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// A police account of the check's community; `null` gives the check back to the queue.
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
    if let Some(officer) = body.user_id {
        let user = users::get(&ctx.store, officer).await?;
        let standing = users::active_standing(&ctx.store, officer).await?;
        let fits = user.is_some_and(|u| u.role == Role::Police)
            && standing.is_some_and(|s| s.community_ids.contains(&check.community_id));
        if !fits {
            return Err(Error::field(FieldError::new(
                "user_id",
                "not_an_officer",
                "只能分派给本社区在岗的民警账号",
                "Only an active police account of the check's community",
            )));
        }
    }
    let open = assignment::assign(
        &ctx.store,
        check.id,
        body.user_id,
        caller.user_id,
        store::millis(ctx.now()),
    )
    .await?;
    if !open {
        return Err(Error::Conflict("该核查已完成".into()));
    }
    tracing::info!(
        check = check.id,
        officer = body.user_id,
        "door check assigned"
    );
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
