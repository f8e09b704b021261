//! What the JSON API and the HTML pages share: the application state, extractors, the
//! middleware (limits, request ids and metrics, security headers), paging, rendering,
//! downloads and time formatting. Nothing here knows a route of either.

pub mod auth;
pub mod download;
pub mod headers;
pub mod idempotency;
pub mod json;
pub mod limit;
pub mod multipart;
pub mod observe;
pub mod poster;
pub mod query;
pub mod render;
pub mod tip_intake;

use actix_web::web;

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

/// Shorthand for the shared state in handlers.
pub type State = web::Data<AppState>;
