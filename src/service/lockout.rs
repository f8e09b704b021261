//! Wrong passwords: counted per account name and client address, slowed, then locked.

use std::time::Duration;

use super::{Context, Error, Result};
use crate::sessions::{FAILURE_WINDOW, Failures};

/// Failed logins of one account name from one client address after which each further
/// failure is answered slowly.
pub const SLOW_AFTER: u32 = 3;
/// Failed logins of one account name from one client address that lock the name for that
/// address for [`FAILURE_WINDOW`]: a stranger elsewhere cannot lock the owner out.
pub const LOCK_AFTER: u32 = 10;
/// Failed logins of one account name from all addresses together that lock it everywhere
/// for [`FAILURE_WINDOW`]: the bound on a guess spread over many addresses.
pub const ACCOUNT_LOCK_AFTER: u32 = 10 * LOCK_AFTER;
/// How much slower each failure past [`SLOW_AFTER`] is answered, up to four steps.
const SLOW_STEP: Duration = Duration::from_millis(250);

fn locked(failures: Failures) -> bool {
    failures.from_client >= LOCK_AFTER || failures.account >= ACCOUNT_LOCK_AFTER
}

fn lock_error() -> Error {
    Error::LoginLocked(FAILURE_WINDOW.as_secs() / 60)
}

/// `LoginLocked` while the account name is locked for this client address.
pub async fn refuse_if_locked(ctx: &Context, name: &str, client: &str) -> Result<()> {
    if locked(ctx.sessions.failures(name, client).await) {
        return Err(lock_error());
    }
    Ok(())
}

/// Counts a wrong password for the account name from this client address and answers it:
/// slowly past [`SLOW_AFTER`], with the lock once it is reached, else with `wrong`.
pub async fn count_wrong_password(ctx: &Context, name: &str, client: &str, wrong: Error) -> Error {
    let failures = ctx.sessions.record_failure(name, client).await;
    tracing::info!(
        from_client = failures.from_client,
        account = failures.account,
        "wrong password"
    );
    if locked(failures) {
        return lock_error();
    }
    if failures.from_client > SLOW_AFTER {
        tokio::time::sleep(SLOW_STEP * (failures.from_client - SLOW_AFTER).min(4)).await;
    }
    wrong
}
