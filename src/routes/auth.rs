//! Login, logout and the authenticated caller.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::State;
use super::json::ApiJson;
use crate::domain::person::PhoneNumber;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::sessions::Session;
use crate::store::users;

/// Registers the account routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/login", web::post().to(login))
        .route("/api/v1/logout", web::post().to(logout));
}

pub use crate::service::Caller;

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<State>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            let token = token.ok_or(AppError::Unauthorized)?;
            Ok(Caller::from_token(&state, token).await?)
        })
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_string())
}

/// Maps a storage failure to an answer: named constraints are the caller's business.
pub fn store_error(err: crate::store::StoreError) -> AppError {
    err.into()
}

/// Login request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A bearer token for the API.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub role: String,
}

/// Checks a password and starts a session.
#[utoipa::path(post, path = "/api/v1/login", tag = "accounts",
    request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn login(
    state: State,
    req: HttpRequest,
    body: ApiJson<LoginRequest>,
) -> Result<web::Json<LoginResponse>, AppError> {
    let LoginRequest { username, password } = body.value;
    let client = super::limit::client_of(&req, &state);
    let (token, role) = sign_in(&state, &client, &username, password).await?;
    Ok(web::Json(LoginResponse {
        token,
        role: role.as_str().to_string(),
    }))
}

pub use crate::service::lockout::{ACCOUNT_LOCK_AFTER, LOCK_AFTER, SLOW_AFTER};
use crate::service::lockout::{count_wrong_password, refuse_if_locked};

/// Checks a username and password (Argon2id, off the async workers) and starts a session:
/// the one path behind the API login and the login page. A wrong username costs as much as
/// a wrong password. A sublandlord signs in with their phone number. Failed logins are
/// counted per account name and client address, and per account name (in Redis when
/// configured, so across instances); see [`LOCK_AFTER`] and [`ACCOUNT_LOCK_AFTER`]. A
/// locked name stays locked, even for the right password, until the window ends.
pub async fn sign_in(
    state: &State,
    client: &str,
    username: &str,
    password: String,
) -> Result<(String, Role), AppError> {
    if !state.sessions.ready().await {
        return Err(AppError::SessionsUnavailable);
    }
    let (name, user) = find_account(state, username.trim()).await?;
    refuse_if_locked(state, &name, client).await?;
    let user = user.filter(|u| u.disabled_at.is_none());
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = web::block(move || {
        let hash = hash.unwrap_or_else(|| crate::crypto::decoy_hash().to_string());
        crate::crypto::verify_password(&hash, &password)
    })
    .await
    .map_err(|e| anyhow::anyhow!("password check: {e}"))?;
    let (Some(user), true) = (user, matches) else {
        let wrong = crate::service::Error::Unauthorized;
        return Err(count_wrong_password(state, &name, client, wrong)
            .await
            .into());
    };
    state.sessions.clear_failures(&name, client).await;
    let role = Role::parse(&user.role).ok_or_else(|| anyhow::anyhow!("bad stored role"))?;
    let token = state
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
async fn find_account(
    state: &State,
    typed: &str,
) -> Result<(String, Option<users::User>), AppError> {
    let staff = users::find_by_username(&state.store, typed)
        .await
        .map_err(store_error)?;
    if staff.is_some() {
        return Ok((typed.to_string(), staff));
    }
    match PhoneNumber::parse(typed) {
        Ok(phone) => {
            let name = crate::store::sublandlords::login_name(&state.vault, &phone);
            let user = users::find_by_username(&state.store, &name)
                .await
                .map_err(store_error)?;
            Ok((name, user))
        }
        Err(_) => Ok((typed.to_string(), None)),
    }
}

/// Ends the session of the bearer token. The token is ended whether or not its session
/// can be confirmed at this moment (Redis away): a logout is never lost.
#[utoipa::path(post, path = "/api/v1/logout", tag = "accounts",
    responses((status = 204), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn logout(state: State, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let token = bearer(&req).ok_or(AppError::Unauthorized)?;
    state.sessions.revoke(&token).await;
    Ok(HttpResponse::NoContent().finish())
}
