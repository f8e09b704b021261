//! The police pages as an installable app: its manifest, icons and scripts are served from
//! this site, only the police pages may run a script, and they may be kept on the phone
//! while pages with revealed data and every other page may not.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{ID_A, csrf_of, occupant, page, page_login, registration, spawn_app};

#[tokio::test]
async fn the_manifest_names_the_app_and_starts_at_my_checks() {
    let app = spawn_app().await;

    let res = app.get("/police/manifest.webmanifest", None).await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/manifest+json");
    let manifest: Value = res.json().await.unwrap();
    assert_eq!(manifest["name"], "人房共管·民警");
    assert_eq!(manifest["start_url"], "/police/mine");
    assert_eq!(manifest["display"], "standalone");
    for icon in manifest["icons"].as_array().unwrap() {
        let src = icon["src"].as_str().unwrap();
        assert!(
            src.starts_with('/'),
            "served here, not from elsewhere: {src}"
        );
        let res = app.get(src, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{src}");
        assert_eq!(res.headers()["content-type"], "image/png");
        let png = res.bytes().await.unwrap();
        let side: u32 = icon["sizes"]
            .as_str()
            .unwrap()
            .split('x')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), side);
    }
    assert_eq!(
        app.get("/assets/icon-100.png", None).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_service_worker_is_asked_for_again_on_every_visit_and_may_serve_the_police_pages() {
    let app = spawn_app().await;

    let worker = app.get("/police/sw.js", None).await;
    let script = app.get("/police/offline.js", None).await;

    assert_eq!(worker.status(), StatusCode::OK);
    assert!(
        worker.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(worker.headers()["cache-control"], "no-cache");
    assert_eq!(worker.headers()["service-worker-allowed"], "/police");
    assert_eq!(script.status(), StatusCode::OK);
    assert_eq!(script.headers()["cache-control"], "no-cache");
    assert!(script.text().await.unwrap().contains("Idempotency-Key"));
}

#[tokio::test]
async fn police_pages_load_the_offline_script_and_may_be_kept_on_the_phone() {
    let app = spawn_app().await;
    let (admin, unit, _) = app.unit_fixture().await;
    let cookie = page_login(&app, "police", &["影佳"]).await;
    let other = page_login(&app, "police", &["影佳"]).await;

    for path in [
        "/police",
        "/police/mine",
        "/police/filings",
        &format!("/police/units/{unit}"),
    ] {
        let res = page(&app, &cookie, path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let policy = res.headers()["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(policy.contains("worker-src 'self'"), "{path}: {policy}");
        assert!(policy.contains("default-src 'none'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        assert_eq!(
            res.headers()["cache-control"],
            "private, no-cache",
            "{path}"
        );
        let session = res.headers()["x-offline-key"].to_str().unwrap().to_string();
        let theirs = page(&app, &other, path).await;
        assert_ne!(
            theirs.headers()["x-offline-key"],
            session.as_str(),
            "{path}"
        );
        let html = res.text().await.unwrap();
        assert!(
            html.contains(r#"<script src="/police/offline.js" defer></script>"#),
            "{path}"
        );
        assert!(html.contains(r#"<link rel="manifest" href="/police/manifest.webmanifest">"#));
        assert!(!html.contains("<script>"), "{path}: no inline script");
    }
    // The console and the JSON API are as they were: no script, nothing kept.
    let console = page(&app, &cookie, "/console").await;
    let policy = console.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(!policy.contains("script-src"), "{policy}");
    let api = app
        .get(&format!("/api/v1/units/{unit}"), Some(&admin))
        .await;
    assert_eq!(api.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn a_revealed_document_number_is_never_marked_as_keepable() {
    let app = spawn_app().await;
    let (_, unit, poster) = app.unit_fixture().await;
    app.register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    let cookie = page_login(&app, "police", &["影佳"]).await;
    let card = page(&app, &cookie, &format!("/police/units/{unit}")).await;
    let csrf = csrf_of(&card.text().await.unwrap());
    let occupant: i64 = sqlx::query_scalar("select id from occupants where unit_id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();

    let shown = app
        .client
        .post(app.url(&format!("/police/occupants/{occupant}/reveal")))
        .header("Cookie", &cookie)
        .header("Idempotency-Key", "reveal-1")
        .form(&[("csrf", csrf.as_str()), ("reason", "核对住户身份")])
        .send()
        .await
        .unwrap();

    assert_eq!(shown.status(), StatusCode::OK);
    assert_eq!(shown.headers()["cache-control"], "no-store");
    assert!(shown.headers().get("x-offline-key").is_none());
    assert!(shown.text().await.unwrap().contains(ID_A));
    assert_eq!(
        app.count("staff_idempotency_keys").await,
        0,
        "a revealed number is never stored for a replay"
    );
}

#[tokio::test]
async fn tenant_pages_carry_no_script() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    let body: Value = res.json().await.unwrap();
    let me = body["self_service_url"].as_str().unwrap();
    let me = &me[me.find("/me/").unwrap()..];

    for path in [
        format!("/q/{poster}"),
        me.to_string(),
        "/tip".into(),
        "/login".into(),
    ] {
        let res = app.get(&path, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let policy = res.headers()["content-security-policy"].to_str().unwrap();
        assert!(!policy.contains("script-src"), "{path}: {policy}");
        let html = res.text().await.unwrap().to_lowercase();
        assert!(!html.contains("<script"), "{path}");
        assert!(!html.contains("manifest"), "{path}");
    }
}
