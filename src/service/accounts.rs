//! Accounts: signing in (with the lock and slow-down of wrong passwords), and the town
//! office's staff accounts (creating, disabling, enabling).

use std::time::Duration;

use super::{Caller, Context, Error, Result};
use crate::domain::FieldError;
use crate::domain::person::PhoneNumber;
use crate::domain::role::Role;
use crate::domain::sublandlord::MIN_PASSWORD_CHARS;
use crate::sessions::{FAILURE_WINDOW, Failures, Session};
use crate::store::{self, Store, communities, users};

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
    let role = user.role;
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

/// A staff account to create, as typed.
pub struct NewStaff<'a> {
    pub username: &'a str,
    /// `admin`, `police`, `enforcement`, `community`, `property` or `integration`.
    pub role: &'a str,
    /// The names of the communities the account sees (none for an admin).
    pub communities: &'a [String],
    pub password: &'a str,
}

/// Creates a staff account: for an admin in the console (`by`), or from the command line
/// (`None`), recorded as such in the audit log; the new account's id. A taken username is
/// a `Conflict`, decided by the database's unique constraint, so two admins racing for the
/// same name get one account and one refusal. Takes the store alone: the command line
/// has no keys or sessions to offer.
pub async fn add_staff(store: &Store, by: Option<&Caller>, new: NewStaff<'_>) -> Result<i64> {
    if let Some(caller) = by {
        caller.require(Role::is_admin)?;
    }
    let Some(role) = Role::parse(new.role).filter(|r| r.is_staff()) else {
        return Err(Error::field(FieldError::new(
            "role",
            "invalid",
            "请选择角色",
            "role must be admin, police, enforcement, community, property or integration",
        )));
    };
    let username = new.username.trim();
    if username.is_empty() || username.chars().count() > 64 || crate::domain::has_control(username)
    {
        return Err(Error::field(FieldError::new(
            "username",
            "format",
            "用户名应为 1 到 64 个字符",
            "username must be 1 to 64 characters",
        )));
    }
    const _: () = assert!(
        MIN_PASSWORD_CHARS == 10,
        "the messages below name the number"
    );
    if new.password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::field(FieldError::new(
            "password",
            "too_short",
            "密码至少 10 个字符",
            "password must be at least 10 characters",
        )));
    }
    if !role.sees_all_communities() && new.communities.is_empty() {
        return Err(Error::field(FieldError::new(
            "community",
            "required",
            "除管理员外，账号至少要负责一个社区",
            "a user other than an admin needs at least one community",
        )));
    }
    let mut ids = Vec::new();
    for name in new.communities {
        let community = communities::find_by_name(store, name.trim())
            .await?
            .ok_or_else(|| {
                Error::field(FieldError::new(
                    "community",
                    "unknown",
                    "没有这个社区",
                    "no community of that name",
                ))
            })?;
        ids.push(community.id);
    }
    let password = new.password.to_string();
    let hash = tokio::task::spawn_blocking(move || crate::crypto::hash_password(&password))
        .await
        .map_err(|e| anyhow::anyhow!("password hashing: {e}"))??;
    let now = store::millis(chrono::Utc::now());
    let by = by.map(|c| c.user_id);
    // A taken name comes back as `StoreError::Unique(Constraint::Username)`, which `?`
    // says as a conflict.
    Ok(users::create(store, by, username, &hash, role.as_str(), &ids, now).await?)
}

/// Every staff account, for the admin's list.
pub async fn staff_list(store: &Store, caller: &Caller) -> Result<Vec<users::Listed>> {
    caller.require(Role::is_admin)?;
    Ok(users::list_staff(store).await?)
}

/// Which account to disable or enable.
pub enum Account<'a> {
    /// A staff account of the console's list (sublandlords are not managed there).
    Staff(i64),
    /// Any account, by its username (the command line).
    Named(&'a str),
}

/// A staff account of the console's list, or `NotFound`.
pub async fn staff_account(store: &Store, caller: &Caller, id: i64) -> Result<users::User> {
    caller.require(Role::is_admin)?;
    users::get(store, id)
        .await?
        .filter(|u| u.role.is_staff())
        .ok_or(Error::NotFound)
}

/// Disables an account (it cannot sign in, and its sessions end at once) or enables it
/// again (its old sessions stay ended), for an admin in the console (`by`) or from the
/// command line (`None`); the account's id. An admin cannot disable their own account:
/// the last admin could otherwise lock the town out of its own console.
pub async fn set_disabled(
    store: &Store,
    by: Option<&Caller>,
    account: Account<'_>,
    disable: bool,
) -> Result<i64> {
    let username = match (account, by) {
        (Account::Staff(id), Some(caller)) => {
            let user = staff_account(store, caller, id).await?;
            if disable && user.id == caller.user_id {
                return Err(Error::Conflict("不能停用自己的账号".into()));
            }
            user.username
        }
        (Account::Named(name), None) => name.trim().to_string(),
        // An admin picks accounts from the list; the command line names them.
        _ => return Err(Error::Forbidden),
    };
    let now = store::millis(chrono::Utc::now());
    users::set_disabled(store, by.map(|c| c.user_id), &username, disable, now)
        .await?
        .ok_or(Error::NotFound)
}
