//! A sublandlord's account: self-registration, who the caller is, and the password change
//! (open to every role).

use super::accounts::{count_wrong_password, refuse_if_locked};
use super::{Caller, Context, Error, Result};
use crate::domain::FieldError;
use crate::domain::role::Role;
use crate::domain::sublandlord::{Signup, check_password};
use crate::sessions::Session;
use crate::store::sublandlords::{self, NewSublandlord, SignupRefusal, Sublandlord};
use crate::store::{self, Constraint, StoreError, users};

/// What a sublandlord types to sign up.
#[derive(Debug, Clone)]
pub struct SignupInput {
    pub name: String,
    /// Mainland mobile number; it is the login.
    pub phone: String,
    pub id_type: String,
    pub id_number: String,
    pub password: String,
}

/// Checks and stores a self-registration; the new sublandlord's id.
pub async fn register_sublandlord(ctx: &Context, input: &SignupInput) -> Result<i64> {
    let signup = Signup::parse(
        &input.name,
        &input.phone,
        &input.id_type,
        &input.id_number,
        &input.password,
        ctx.today(),
    )
    .map_err(Error::Validation)?;
    let password = input.password.clone();
    let password_hash =
        tokio::task::spawn_blocking(move || crate::crypto::hash_password(&password))
            .await
            .map_err(|e| anyhow::anyhow!("password hash task: {e}"))??;
    let new = NewSublandlord::seal(&ctx.vault, &signup, password_hash);
    match sublandlords::create(&ctx.store, new, store::millis(ctx.now())).await {
        Ok(Ok(id)) => {
            tracing::info!(sublandlord_id = id, "sublandlord registered");
            Ok(id)
        }
        Ok(Err(SignupRefusal::NameMismatch)) => {
            tracing::warn!("sign-up refused: document number held under another name");
            Err(Error::Conflict(
                "该证件号码已由他人以不同姓名登记，请核对姓名和证件号码；如有疑问请联系社区".into(),
            ))
        }
        Err(StoreError::Unique(Constraint::Username)) => {
            Err(Error::Conflict("该手机号已注册，请直接登录".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The sublandlord behind the caller; `Forbidden` for any other role.
pub async fn me(ctx: &Context, caller: &Caller) -> Result<Sublandlord> {
    caller.require(|r| r == Role::Sublandlord)?;
    sublandlords::by_user(&ctx.store, caller.user_id)
        .await?
        .ok_or(Error::Forbidden)
}

/// Checks the old password and stores the new one. A wrong old password counts toward the
/// account's login lock, as a wrong login does: a stolen session must not become a way to
/// guess the password. Every other session of the account ends; the caller's carries on.
pub async fn change_password(
    ctx: &Context,
    caller: &Caller,
    client: &str,
    old_password: &str,
    new_password: &str,
) -> Result<()> {
    check_password("new_password", new_password).map_err(Error::field)?;
    let user = users::get(&ctx.store, caller.user_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    refuse_if_locked(ctx, &user.username, client).await?;
    let (old, new) = (old_password.to_string(), new_password.to_string());
    let stored = user.password_hash.clone();
    let hash = tokio::task::spawn_blocking(move || {
        if crate::crypto::verify_password(&stored, &old) {
            crate::crypto::hash_password(&new).map(Some)
        } else {
            Ok(None)
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("password task: {e}"))??;
    let Some(hash) = hash else {
        let wrong = Error::field(FieldError::new(
            "old_password",
            "wrong",
            "原密码不正确",
            "The current password is wrong",
        ));
        return Err(count_wrong_password(ctx, &user.username, client, wrong).await);
    };
    ctx.sessions.clear_failures(&user.username, client).await;
    let epoch = sublandlords::set_password(&ctx.store, caller.user_id, hash).await?;
    let session = Session {
        user_id: caller.user_id,
        role: caller.role,
        epoch,
    };
    ctx.sessions.replace(caller.session_token(), session).await;
    tracing::info!(user_id = caller.user_id, "password changed");
    Ok(())
}
