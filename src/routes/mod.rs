//! HTTP only: parse, authorise, call the domain and the store, render.

pub mod assets;
pub mod audit;
pub mod auth;
pub mod console;
pub mod door_checks;
pub mod download;
pub mod filings;
pub mod headers;
pub mod health;
pub mod import;
pub mod json;
pub mod limit;
pub mod multipart;
pub mod observe;
pub mod openapi;
pub mod pages;
pub mod police;
pub mod portal;
pub mod poster;
pub mod query;
pub mod registration;
pub mod render;
pub mod reports;
pub mod reveal;
pub mod scan;
pub mod scan_page;
pub mod stats;
pub mod sublandlords;
pub mod tips;
pub mod units;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::AppError;
use crate::service::Context;

/// What every handler may use; one per application: the use-case layer's [`Context`]
/// (reached through `Deref`, so `state.store` reads as before) and what only HTTP needs.
pub struct AppState {
    pub ctx: Context,
    /// Rate limits of the public routes.
    pub limiter: crate::limits::Limiter,
}

impl std::ops::Deref for AppState {
    type Target = Context;

    fn deref(&self) -> &Context {
        &self.ctx
    }
}

/// An instant (milliseconds since the epoch) as people read it: local time in `tz`,
/// `2026-12-04 16:59`.
pub fn local_time(tz: chrono_tz::Tz, ms: i64) -> String {
    crate::store::instant(ms)
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// RFC 3339 in UTC with second precision.
pub fn rfc3339(ms: i64) -> String {
    crate::service::rfc3339(ms)
}

/// Shorthand for the shared state in handlers.
pub type State = web::Data<AppState>;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // A path id that is not a number names nothing (404), and a query value of the wrong
    // type is the caller's mistake (400): both with the JSON error body, like every error.
    cfg.app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
        .app_data(
            web::QueryConfig::default().error_handler(|err, _| {
                AppError::BadRequest(format!("查询参数有误：{err}")).into()
            }),
        );
    // actix tries the routes in the order they are registered, a pattern with a `{…}` part
    // by a regular expression: the poster's routes, most of all requests, come first.
    cfg.configure(scan_page::configure)
        .configure(scan::configure)
        .configure(police::configure)
        .configure(health::configure)
        .configure(openapi::configure)
        .configure(auth::configure)
        .configure(import::configure)
        .configure(units::configure)
        .configure(door_checks::configure)
        .configure(sublandlords::configure)
        .configure(filings::configure)
        .configure(stats::configure)
        .configure(tips::configure)
        .configure(reports::configure)
        .configure(reveal::configure)
        .configure(audit::configure)
        .configure(pages::configure)
        .configure(assets::configure)
        .configure(portal::configure)
        .configure(console::configure)
        .default_service(web::to(not_found));
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    if req.path().starts_with("/api/") {
        return Err(AppError::NotFound);
    }
    Ok(render::message_page(
        actix_web::http::StatusCode::NOT_FOUND,
        render::Lang::Zh,
        "页面不存在",
        "您访问的页面不存在。如果您是扫码登记，请重新扫描门上的二维码。",
    ))
}
