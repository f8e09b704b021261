//! Taking back a slip: the account that recorded a move-out or declared a vacancy may undo
//! it within [`UNDO_WINDOW_HOURS`], once, while nothing has happened since that the undo
//! would contradict. Audited like the change it takes back.

use serde::Serialize;
use utoipa::ToSchema;

use super::ledger::masked_name;
use super::{Caller, Context, Result};
use crate::domain::unit::UnitEvent;
use crate::store::{self, undo, units};

/// How long a move-out or vacancy can be undone by the account that made it.
pub const UNDO_WINDOW_HOURS: i64 = 24;

/// A change of the caller's that can still be undone.
#[derive(Debug, Serialize, ToSchema)]
pub struct UndoableOut {
    /// Pass this to the undo route.
    pub event_id: i64,
    /// `moved_out` or `vacant` (a vacancy with everyone moved out in the same step).
    pub event: String,
    /// What it was, in words.
    pub label: String,
    /// The people it moved out, masked.
    pub people: Vec<String>,
    /// RFC 3339.
    pub at: String,
    /// Until when it can be undone (RFC 3339).
    pub until: String,
    /// Milliseconds since the epoch, for pages that show local time.
    #[serde(skip)]
    pub at_ms: i64,
}

/// What an undo put back.
#[derive(Debug, Serialize, ToSchema)]
pub struct UndoneOut {
    /// People registered in the unit again.
    pub people: u64,
    /// Whether a vacancy was withdrawn (the unit is let again and its clock as before).
    pub vacancy_withdrawn: bool,
}

fn window_start(ctx: &Context) -> i64 {
    store::millis(ctx.now()) - UNDO_WINDOW_HOURS * 3_600_000
}

/// The caller's changes to a unit (already checked to be in their reach) that can still be
/// undone, newest first.
pub async fn undoable(
    ctx: &Context,
    caller: &Caller,
    unit: &units::Unit,
) -> Result<Vec<UndoableOut>> {
    let events = undo::undoable(&ctx.store, unit.id, caller.user_id, window_start(ctx)).await?;
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let people: Vec<String> =
            undo::moved_out_by(&ctx.store, unit.id, caller.user_id, e.created_at)
                .await?
                .iter()
                .map(|name| masked_name(name))
                .collect();
        let label = match (e.event, people.len()) {
            (UnitEvent::Vacant, 0) => "申报空置".to_string(),
            (UnitEvent::Vacant, n) => format!("{n} 人全部搬离并申报空置"),
            _ if people.is_empty() => "登记搬离".to_string(),
            _ => format!("登记 {} 搬离", people.join("、")),
        };
        out.push(UndoableOut {
            event_id: e.event_id,
            event: e.event.as_str().into(),
            label,
            people,
            at: super::rfc3339(e.created_at),
            until: super::rfc3339(e.created_at + UNDO_WINDOW_HOURS * 3_600_000),
            at_ms: e.created_at,
        });
    }
    Ok(out)
}

/// Undoes the caller's change `event_id` to a unit already checked to be in their reach:
/// the people it moved out are registered again, a vacancy is withdrawn, and the clock is
/// put back. `Conflict` when there is no such change within the window or the unit changed
/// since.
pub async fn undo(
    ctx: &Context,
    caller: &Caller,
    unit: &units::Unit,
    event_id: i64,
) -> Result<UndoneOut> {
    let done = undo::undo(
        &ctx.store,
        unit.id,
        event_id,
        caller.user_id,
        window_start(ctx),
        store::millis(ctx.now()),
    )
    .await?;
    tracing::info!(
        unit_id = unit.id,
        event_id,
        people = done.people,
        "change undone"
    );
    Ok(UndoneOut {
        people: done.people,
        vacancy_withdrawn: done.vacancy,
    })
}
