use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{ID_A, occupant, registration, spawn_app};

#[tokio::test]
async fn healthz_and_readyz_answer_ok_while_the_database_answers() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
    assert_eq!(app.get("/readyz", None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn readyz_answers_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.store.close().await;
    assert_eq!(
        app.get("/readyz", None).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let res = app.get("/healthz", None).await;
    assert!(res.headers().contains_key("x-request-id"));
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_and_registrations_without_tokens() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(text.contains("renfang_registrations_total 1"), "{text}");
    assert!(
        text.contains(r#"route="/api/v1/scan/{token}/registrations""#),
        "{text}"
    );
    assert!(text.contains("renfang_http_request_duration_seconds_bucket"));
    assert!(
        !text.contains(&poster),
        "a poster token leaked into the metrics"
    );
}

#[tokio::test]
async fn the_openapi_document_lists_every_api_route() {
    let app = spawn_app().await;
    let doc: Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/scan/{token}", "get"),
        ("/api/v1/scan/{token}/registrations", "post"),
        ("/api/v1/login", "post"),
        ("/api/v1/logout", "post"),
        ("/api/v1/communities", "post"),
        ("/api/v1/units", "post"),
        ("/api/v1/units/{id}", "get"),
        ("/api/v1/units/{id}/qr/rotate", "post"),
        ("/api/v1/units/{id}/poster.{format}", "get"),
        ("/api/v1/communities/{name}/posters.pdf", "get"),
        ("/api/v1/audit", "get"),
        ("/api/v1/outbox", "get"),
        ("/api/v1/outbox/{id}/retry", "post"),
        ("/api/v1/sublandlords", "post"),
        ("/api/v1/filings", "post"),
        ("/api/v1/filings", "get"),
        ("/api/v1/filings/{id}/approve", "post"),
        ("/api/v1/filings/{id}/reject", "post"),
        ("/api/v1/my/units", "get"),
        ("/api/v1/stats", "get"),
        ("/api/v1/me/{token}", "get"),
        ("/api/v1/me/{token}/confirm", "post"),
        ("/api/v1/me/{token}/occupants/{occupant}/move-out", "post"),
        ("/api/v1/me/{token}/corrections", "post"),
        ("/api/v1/corrections", "get"),
        ("/api/v1/tips", "post"),
        ("/api/v1/tips/by-reference/{reference}", "get"),
        ("/api/v1/tips/{id}/link", "post"),
        ("/api/v1/tips/{id}/unit", "post"),
        ("/api/v1/import/template.csv", "get"),
        ("/api/v1/my/units/{id}/undo", "get"),
        ("/api/v1/my/units/{id}/undo/{event}", "post"),
        ("/api/v1/door-checks/{id}/assign", "post"),
        ("/api/v1/door-checks/mine", "get"),
        ("/api/v1/units/{id}/sublandlord-phone", "post"),
        ("/api/v1/visit-photos/{id}", "get"),
        ("/api/v1/sublandlords/{id}", "get"),
        ("/api/v1/sublandlords/{id}/reveal", "post"),
        ("/api/v1/sublandlords.xlsx", "get"),
        ("/api/v1/sublandlords.csv", "get"),
        ("/api/v1/cases", "get"),
        ("/api/v1/cases.xlsx", "get"),
        ("/api/v1/cases/{id}", "get"),
        ("/api/v1/cases/{id}/evidence", "post"),
        ("/api/v1/cases/{id}/evidence/{eid}/photo", "get"),
        ("/api/v1/cases/{id}/decision", "post"),
        ("/api/v1/cases/{id}/close", "post"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} is missing"
        );
    }
    // The bodies of the tip routes are described, not just named.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "TipCreated",
        "TipStatusOut",
        "LinkRequest",
        "UnitForTipRequest",
    ] {
        assert!(schemas.contains_key(name), "schema {name} is missing");
    }
    // Every documented operation is really routed: called without a session or with an
    // empty body it answers, but never with the router's 404.
    let (_, unit_id, poster) = app.unit_fixture().await;
    // A tenant's link and one of its people, for the self-service routes.
    let answer: Value = app
        .register(
            &poster,
            &crate::helpers::registration(&[crate::helpers::occupant(crate::helpers::ID_A)]),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let link = answer["self_service_url"].as_str().unwrap();
    let me = link.rsplit('/').next().unwrap().to_string();
    let occupant: i64 = sqlx::query_scalar("select max(id) from occupants")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    // A tip, for the look-up by reference.
    let tip: Value = app
        .post_json(
            "/api/v1/tips",
            &serde_json::json!({"address": "影佳路 3号", "category": "other", "description": "x"}),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let reference = tip["receipt"].as_str().unwrap();
    for (path, item) in paths {
        let token = if path.starts_with("/api/v1/me/") {
            &me
        } else {
            &poster
        };
        let concrete = path
            .replace("{token}", token)
            .replace("{occupant}", &occupant.to_string())
            .replace("{id}", &unit_id.to_string())
            .replace("{eid}", "1")
            .replace("{format}", "png")
            .replace("{name}", "影佳")
            .replace("{reference}", reference);
        for method in item.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = app
                .client
                .request(method.clone(), app.url(&concrete))
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap();
            assert_ne!(res.status(), StatusCode::NOT_FOUND, "{method} {path}");
        }
    }
}

#[tokio::test]
async fn an_unknown_api_path_is_a_json_404_and_an_unknown_page_is_html() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/nothing", None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    let res = app.get("/nothing", None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("页面不存在"));
}
