//! Liveness, readiness and metrics.

use actix_web::{HttpResponse, web};

use crate::http::State;

/// Registers the operations routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

async fn readyz(state: State) -> HttpResponse {
    if state.store.ping().await {
        HttpResponse::Ok().json(serde_json::json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable().json(serde_json::json!({
            "error": "unavailable", "message": "数据库无响应"
        }))
    }
}

async fn metrics(state: State) -> HttpResponse {
    // A database that does not answer leaves the gauges as they were; the rest still shows.
    if let Err(e) = crate::service::outbox::refresh_metrics(&state).await {
        tracing::warn!(error = %e, "outbox gauges not refreshed");
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
