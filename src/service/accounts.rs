//! Accounts: signing in, with the lock and slow-down of wrong passwords.

use std::time::Duration;

use super::{Context, Error, Result};
use crate::domain::person::PhoneNumber;
use crate::domain::role::Role;
use crate::sessions::{FAILURE_WINDOW, Failures, Session};
use crate::store::{self, users};

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

/// Checks a username and password (Argon2id, off the async workers) and starts a session:
/// the one path behind the API login and the login pages; the session token and role. A
/// wrong username costs as much as a wrong password. A sublandlord signs in with their
/// phone number. Failed logins are counted per account name and client address, and per
/// account name (in Redis when configured, so across instances); see [`LOCK_AFTER`] and
/// [`ACCOUNT_LOCK_AFTER`]. A locked name stays locked, even for the right password, until
/// the window ends.
pub async fn sign_in(
    ctx: &Context,
    client: &str,
    username: &str,
    password: String,
) -> Result<(String, Role)> {
    if !ctx.sessions.ready().await {
        return Err(Error::SessionsUnavailable);
    }
    let (name, user) = find_account(ctx, username.trim()).await?;
    refuse_if_locked(ctx, &name, client).await?;
    let user = user.filter(|u| u.disabled_at.is_none());
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(|| crate::crypto::decoy_hash().to_string());
        crate::crypto::verify_password(&hash, &password)
    })
    .await
    .map_err(|e| anyhow::anyhow!("password check: {e}"))?;
    let (Some(user), true) = (user, matches) else {
        return Err(count_wrong_password(ctx, &name, client, Error::Unauthorized).await);
    };
    ctx.sessions.clear_failures(&name, client).await;
    let role = Role::parse(&user.role).ok_or_else(|| anyhow::anyhow!("bad stored role"))?;
    let token = ctx
        .sessions
        .create(Session {
            user_id: user.id,
            role,
            epoch: user.session_epoch,
        })
        .await;
    tracing::info!(user_id = user.id, role = role.as_str(), "login");
    Ok((token, role))
}

/// The account behind a login name, and the name its failures are counted under: a staff
/// username as typed, or a sublandlord's phone number, whose account name is a keyed hash.
async fn find_account(ctx: &Context, typed: &str) -> Result<(String, Option<users::User>)> {
    let staff = users::find_by_username(&ctx.store, typed).await?;
    if staff.is_some() {
        return Ok((typed.to_string(), staff));
    }
    match PhoneNumber::parse(typed) {
        Ok(phone) => {
            let name = store::sublandlords::login_name(&ctx.vault, &phone);
            let user = users::find_by_username(&ctx.store, &name).await?;
            Ok((name, user))
        }
        Err(_) => Ok((typed.to_string(), None)),
    }
}
