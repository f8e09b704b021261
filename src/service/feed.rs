//! The pull feed for other systems: the events of the caller's communities in commit
//! order, after the cursor the caller holds.

use super::{Caller, Context, Result};
use crate::domain::feed::{Cursor, FeedQuery};
use crate::domain::role::Role;
use crate::store::feed::{self, FeedEvent};

/// One answer of the feed: the events and the cursor to ask with next.
#[derive(Debug, Clone)]
pub struct FeedPage {
    pub events: Vec<FeedEvent>,
    /// After the last event given; the cursor asked with when there was nothing new.
    pub next: Cursor,
}

/// The events after `query.after` (admins: every community; other systems: theirs).
pub async fn read(ctx: &Context, caller: &Caller, query: &FeedQuery) -> Result<FeedPage> {
    caller.require(Role::reads_feed)?;
    let events = feed::after(
        &ctx.store,
        caller.scope(),
        query.after,
        &query.types,
        query.limit,
    )
    .await?;
    let next = events.last().map_or(query.after, |e| e.cursor);
    Ok(FeedPage { events, next })
}
