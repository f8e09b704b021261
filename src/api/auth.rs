//! Login, logout and the authenticated caller.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;
use crate::http::State;
use crate::http::auth::bearer;
use crate::http::json::ApiJson;
use crate::service::accounts::sign_in;

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
    let client = crate::http::limit::client_of(&req, &state);
    let (token, role) = sign_in(&state, &client, &username, password).await?;
    Ok(web::Json(LoginResponse {
        token,
        role: role.as_str().to_string(),
    }))
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
