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
use crate::domain::role::Role;
use crate::error::AppError;
use crate::sessions::Session;
use crate::store::users;

/// Registers the account routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/login", web::post().to(login))
        .route("/api/v1/logout", web::post().to(logout));
}

/// The signed-in user of a request, with the communities they may see.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub role: Role,
    pub community_ids: Vec<i64>,
    token: String,
}

impl Caller {
    /// 403 unless the role passes `allowed`.
    pub fn require(&self, allowed: impl Fn(Role) -> bool) -> Result<(), AppError> {
        if allowed(self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Whether a record of this community is within the caller's scope.
    pub fn sees(&self, community_id: i64) -> bool {
        self.role.sees_all_communities() || self.community_ids.contains(&community_id)
    }
}

impl Caller {
    /// The caller behind a session token (bearer or cookie), or 401.
    pub async fn from_token(state: &State, token: String) -> Result<Caller, AppError> {
        let session = state
            .sessions
            .get(&token)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "session check failed");
                AppError::Unavailable
            })?
            .ok_or(AppError::Unauthorized)?;
        let user = users::get(&state.store, session.user_id)
            .await
            .map_err(store_error)?
            .filter(|u| u.disabled_at.is_none())
            .ok_or(AppError::Unauthorized)?;
        let community_ids = users::community_ids(&state.store, user.id)
            .await
            .map_err(store_error)?;
        Ok(Caller {
            user_id: user.id,
            role: session.role,
            community_ids,
            token,
        })
    }

    /// The session token (pages derive their CSRF token from it).
    pub fn session_token(&self) -> &str {
        &self.token
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<State>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            let token = token.ok_or(AppError::Unauthorized)?;
            Caller::from_token(&state, token).await
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
    match err {
        crate::store::StoreError::Unique(c) => {
            AppError::Conflict(format!("与已有记录冲突（{c:?}）"))
        }
        crate::store::StoreError::Other(e) => AppError::Internal(e),
    }
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
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::ErrorBody)))]
pub async fn login(
    state: State,
    body: ApiJson<LoginRequest>,
) -> Result<web::Json<LoginResponse>, AppError> {
    let LoginRequest { username, password } = body.value;
    let (token, role) = sign_in(&state, &username, password).await?;
    Ok(web::Json(LoginResponse {
        token,
        role: role.as_str().to_string(),
    }))
}

/// Checks a username and password (Argon2id, off the async workers) and starts a session:
/// the one path behind the API login and the login page. A wrong username costs as much as
/// a wrong password.
pub async fn sign_in(
    state: &State,
    username: &str,
    password: String,
) -> Result<(String, Role), AppError> {
    let user = users::find_by_username(&state.store, username.trim())
        .await
        .map_err(store_error)?
        .filter(|u| u.disabled_at.is_none());
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = web::block(move || {
        let hash = hash.unwrap_or_else(|| crate::crypto::decoy_hash().to_string());
        crate::crypto::verify_password(&hash, &password)
    })
    .await
    .map_err(|e| anyhow::anyhow!("password check: {e}"))?;
    let (Some(user), true) = (user, matches) else {
        return Err(AppError::Unauthorized);
    };
    let role = Role::parse(&user.role).ok_or_else(|| anyhow::anyhow!("bad stored role"))?;
    let token = state
        .sessions
        .create(Session {
            user_id: user.id,
            role,
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "session create failed");
            AppError::Unavailable
        })?;
    tracing::info!(user_id = user.id, role = role.as_str(), "login");
    Ok((token, role))
}

/// Ends the caller's session.
#[utoipa::path(post, path = "/api/v1/logout", tag = "accounts",
    responses((status = 204), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn logout(state: State, caller: Caller) -> Result<HttpResponse, AppError> {
    state.sessions.revoke(&caller.token).await.map_err(|e| {
        tracing::error!(error = %e, "session revoke failed");
        AppError::Unavailable
    })?;
    Ok(HttpResponse::NoContent().finish())
}
