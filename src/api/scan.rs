//! The poster's JSON API.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::registration::{RegistrationBody, accept_json};
use crate::error::AppError;
use crate::http::State;
use crate::http::json::ApiJson;
use crate::service::registration::{self, ReceiptBody, ScanInfo};
use crate::store::registrations::Source;

/// Registers the scan API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/scan/{token}", web::get().to(scan_info))
        .route(
            "/api/v1/scan/{token}/registrations",
            web::post().to(register),
        );
}

/// The unit behind a poster and the personal-data notice.
#[utoipa::path(get, path = "/api/v1/scan/{token}", tag = "public",
    params(("token" = String, Path, description = "poster token")),
    responses((status = 200, body = ScanInfo), (status = 404, body = crate::error::ErrorBody),
        (status = 410, body = crate::error::ErrorBody)))]
pub async fn scan_info(
    state: State,
    token: web::Path<String>,
) -> Result<web::Json<ScanInfo>, AppError> {
    Ok(web::Json(registration::scan_info(&state, &token).await?))
}

/// Stores a registration. The `Idempotency-Key` header makes a retry return the first
/// answer and store nothing twice.
#[utoipa::path(post, path = "/api/v1/scan/{token}/registrations", tag = "public",
    params(("token" = String, Path, description = "poster token"),
        ("Idempotency-Key" = Option<String>, Header, description = "1–128 visible ASCII characters")),
    request_body = RegistrationBody,
    responses((status = 201, body = ReceiptBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "a document number is current in the unit under another name (`name_mismatch`), or the same person was just registered", body = crate::error::ErrorBody),
        (status = 410, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn register(
    state: State,
    req: HttpRequest,
    token: web::Path<String>,
    body: ApiJson<RegistrationBody>,
) -> Result<HttpResponse, AppError> {
    let destination = registration::poster_destination(&state, &token).await?;
    accept_json(&state, &req, &destination, body, Source::Scan).await
}
