//! Reminders before the clock falls due (`RENFANG_REMIND_CRON`, `renfang remind`) and the
//! police's morning digest (`RENFANG_DIGEST_CRON`, `renfang digest`): plain functions for
//! the scheduler, the CLI and the tests. Each message is queued once, however often and on
//! however many instances they run.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::door_check::{ClockKind, ClockRules};
use crate::domain::event::NewEvent;
use crate::domain::reminder::{self, Once};
use crate::store::reminders::{self as queries, FIRST};
use crate::store::{self, Store};

/// Units or occupants read and queued per transaction.
const BATCH: i64 = 500;

/// Queues, as of `at`, a `reminder.overdue_soon` to the sublandlord of every active unit
/// due within two days (one two days ahead, one a day ahead) and a
/// `reminder.confirmation_due` to every current occupant who asked for one, within two days
/// of their unit's confirmation. Returns how many it queued.
pub async fn run(
    store: &Store,
    rules: ClockRules,
    tz: Tz,
    at: DateTime<Utc>,
) -> anyhow::Result<u64> {
    run_in_batches(store, rules, tz, at, BATCH).await
}

/// [`run`] with a chosen batch size (tests use small ones to cross batch boundaries).
pub async fn run_in_batches(
    store: &Store,
    rules: ClockRules,
    tz: Tz,
    at: DateTime<Utc>,
    batch: i64,
) -> anyhow::Result<u64> {
    let now_ms = store::millis(at);
    let mut queued = 0;
    for kind in [ClockKind::NoUpload, ClockKind::Unconfirmed] {
        let window = reminder::clock_window(rules, kind, at);
        let mut after = FIRST;
        loop {
            let units = queries::clocked_units(store, kind, window, after, batch).await?;
            let Some(last) = units.last() else { break };
            after = (store::millis(last.clock_from), last.unit_id, i64::MIN);
            let due: Vec<(Once, NewEvent)> = units
                .iter()
                .filter_map(|u| reminder::overdue_soon(u, rules, at, tz))
                .collect();
            queued += queries::queue_once(store, due, now_ms).await?;
            if (units.len() as i64) < batch {
                break;
            }
        }
    }
    let window = reminder::clock_window(rules, ClockKind::Unconfirmed, at);
    let mut after = FIRST;
    loop {
        let occupants = queries::reminded_occupants(store, window, after, batch).await?;
        let Some(last) = occupants.last() else { break };
        after = (
            store::millis(last.clock_from),
            last.unit_id,
            last.occupant_id,
        );
        let due: Vec<(Once, NewEvent)> = occupants
            .iter()
            .filter_map(|o| reminder::confirmation_due(o, rules, at, tz))
            .collect();
        queued += queries::queue_once(store, due, now_ms).await?;
        if (occupants.len() as i64) < batch {
            break;
        }
    }
    Ok(queued)
}

/// Queues the `digest.police` of every community for the local day of `at` (in `tz`),
/// unless it was queued that day already. Returns how many it queued.
pub async fn digest(store: &Store, tz: Tz, at: DateTime<Utc>) -> anyhow::Result<u64> {
    let figures = queries::digest_figures(store, reminder::yesterday_ms(at, tz)).await?;
    let digests = figures
        .iter()
        .map(|f| reminder::digest(f, at, tz))
        .collect();
    Ok(queries::queue_once(store, digests, store::millis(at)).await?)
}
