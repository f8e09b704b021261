//! The police pages as an installable web app that still reads in a stairwell: the
//! manifest, the service worker that keeps the pages an officer opened, and the page script
//! that queues results while there is no network and sends them, with an `Idempotency-Key`,
//! once there is.
//!
//! Only the police pages load the script, so only their Content-Security-Policy allows
//! scripts (this site's own), a worker and a manifest; every other page stays script-free.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderName, HeaderValue};
use actix_web::{HttpResponse, web};

use crate::service::Caller;

/// Registers the manifest and the two scripts.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/police/manifest.webmanifest", web::get().to(manifest))
        .route("/police/sw.js", web::get().to(worker))
        .route("/police/offline.js", web::get().to(page_script));
}

/// The policy of a police page: the page policy plus this site's scripts, the worker and
/// the manifest, and `fetch` to this site (sending a queued result, keeping unit cards).
pub const POLICE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     script-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The header naming the session a kept page belongs to; the worker keeps each session's
/// pages apart and drops the others' when it sees a new one.
pub const SESSION_HEADER: &str = "x-offline-key";

const MANIFEST: &str = r##"{
  "name": "人房共管·民警",
  "short_name": "民警核查",
  "lang": "zh-CN",
  "start_url": "/police/mine",
  "scope": "/police",
  "display": "standalone",
  "background_color": "#ffffff",
  "theme_color": "#0b6bcb",
  "icons": [
    {"src": "/assets/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
    {"src": "/assets/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"}
  ]
}
"##;

async fn manifest() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/manifest+json")
        .insert_header((CACHE_CONTROL, "no-cache"))
        .body(MANIFEST)
}

async fn worker() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        // A new release's worker replaces the old one on the next visit.
        .insert_header((CACHE_CONTROL, "no-cache"))
        // Its scope is `/police`, one level above the script, so that the queue itself
        // (`/police`, no trailing slash) is a page the worker serves.
        .insert_header(("Service-Worker-Allowed", "/police"))
        .body(include_str!("../../assets/js/sw.js"))
}

async fn page_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((CACHE_CONTROL, "no-cache"))
        .body(include_str!("../../assets/js/offline.js"))
}

/// A police page the phone may keep for reading offline: its policy lets the page script
/// run, it is marked `private, no-cache` (kept on this phone only, asked for again whenever
/// there is a network) instead of `no-store`, and it names its session.
pub fn keepable(mut page: HttpResponse, caller: &Caller) -> HttpResponse {
    if !page.status().is_success() {
        return page;
    }
    let session = session_key(caller);
    let headers = page.headers_mut();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICE_POLICY),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    if let Ok(value) = HeaderValue::from_str(&session) {
        headers.insert(HeaderName::from_static(SESSION_HEADER), value);
    }
    page
}

/// A name for the caller's session that cannot be turned back into its token.
fn session_key(caller: &Caller) -> String {
    let digest = crate::crypto::sha256(format!("offline:{}", caller.session_token()).as_bytes());
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}
