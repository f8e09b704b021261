//! Where a request carries its session: the API's bearer header or the pages' cookie.

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;

/// Name of the session cookie of the web pages.
pub const SESSION_COOKIE: &str = "renfang_session";

/// The token of `Authorization: Bearer …`, if sent.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_string())
}

/// The session token the route's own extractor would read: the bearer header under
/// `/api/`, the cookie elsewhere.
pub fn session_token(req: &HttpRequest) -> Option<String> {
    if req.path().starts_with("/api/") {
        bearer(req)
    } else {
        req.cookie(SESSION_COOKIE).map(|c| c.value().to_string())
    }
}
