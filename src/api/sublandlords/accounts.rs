//! A sublandlord's sign-up, and the password change of every role.

use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::http::State;
use crate::http::json::{ApiJson, Created};
use crate::http::limit::client_of;
use crate::service::Caller;
use crate::service::sublandlords::{self, SignupInput};

/// Self-registration of a sublandlord.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    pub name: String,
    /// Mainland mobile number; it is the login.
    pub phone: String,
    /// As for occupants: `resident_id`, `passport`, …
    pub id_type: String,
    pub id_number: String,
    /// At least 10 characters.
    pub password: String,
}

impl From<SignupRequest> for SignupInput {
    fn from(r: SignupRequest) -> Self {
        SignupInput {
            name: r.name,
            phone: r.phone,
            id_type: r.id_type,
            id_number: r.id_number,
            password: r.password,
        }
    }
}

/// Creates a sublandlord account; the phone number is the login.
#[utoipa::path(post, path = "/api/v1/sublandlords", tag = "accounts",
    request_body = SignupRequest,
    responses((status = 201, body = Created), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn sign_up(state: State, body: ApiJson<SignupRequest>) -> Result<HttpResponse, AppError> {
    let id = sublandlords::register_sublandlord(&state, &body.value.into()).await?;
    Ok(HttpResponse::Created().json(Created { id }))
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub old_password: String,
    /// At least 10 characters.
    pub new_password: String,
}

/// Changes the caller's password (any role); the old one must be given.
#[utoipa::path(post, path = "/api/v1/password", tag = "accounts",
    request_body = PasswordRequest,
    responses((status = 204), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_password(
    state: State,
    req: HttpRequest,
    caller: Caller,
    body: ApiJson<PasswordRequest>,
) -> Result<HttpResponse, AppError> {
    let client = client_of(&req, &state);
    let r = &body.value;
    sublandlords::change_password(&state, &caller, &client, &r.old_password, &r.new_password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
