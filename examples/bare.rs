//! The ceiling for the HTTP benchmarks: actix-web with one handler that does no work.
//! `cargo run --release --example bare -- 127.0.0.1:18099`

use actix_web::{App, HttpResponse, HttpServer, web};

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body("<!doctype html><p>ok</p>")
}

async fn accept(body: web::Bytes) -> HttpResponse {
    HttpResponse::Created()
        .content_type("application/json")
        .body(format!("{{\"received\":{}}}", body.len()))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18099".into());
    println!("listening on http://{bind}");
    HttpServer::new(|| {
        App::new()
            .route("/q/{token}", web::get().to(page))
            .route("/police", web::get().to(page))
            .route("/api/v1/scan/{token}/registrations", web::post().to(accept))
    })
    .bind(bind)?
    .run()
    .await
}
