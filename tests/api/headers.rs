//! Security headers: a strict policy on every page (which then must carry no script, but
//! for the police pages' own offline script, and no inline style), `nosniff` and a same-origin referrer everywhere, and no caching of
//! answers that carry personal data.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ID_A, TestApp, occupant, page_login, registration, spawn_app};

/// The headers every answer carries.
fn assert_common(res: &reqwest::Response, what: &str) {
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "same-origin", "{what}");
}

/// A page's headers and body: the policy, and nothing in the page that it would block.
async fn assert_page(app: &TestApp, res: reqwest::Response, what: &str) {
    assert_common(&res, what);
    let h = res.headers().clone();
    assert!(
        h["content-type"].to_str().unwrap().starts_with("text/html"),
        "{what}"
    );
    let policy = h["content-security-policy"].to_str().unwrap();
    for part in [
        "default-src 'none'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(policy.contains(part), "{what}: {policy}");
    }
    assert!(!policy.contains("unsafe-inline") && !policy.contains("script-src"));
    let body = res.text().await.unwrap();
    for inline in ["<script", "<style", " style=", " onclick=", " onload="] {
        assert!(!body.contains(inline), "{what} has {inline}");
    }
    // Each style sheet the page links to is served, as a style sheet.
    for part in body.split(r#"<link rel="stylesheet" href=""#).skip(1) {
        let href = &part[..part.find('"').unwrap()];
        let sheet = app.get(href, None).await;
        assert_eq!(sheet.status(), StatusCode::OK, "{what}: {href}");
        assert_eq!(sheet.headers()["content-type"], "text/css; charset=utf-8");
    }
    assert!(body.contains("/assets/base.css"), "{what} is styled");
}

/// A police page: the page policy plus this site's offline script (and its worker and
/// manifest), still no inline script or style.
async fn assert_police_page(app: &TestApp, res: reqwest::Response, what: &str) {
    assert_common(&res, what);
    let policy = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    for part in [
        "default-src 'none'",
        "style-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(policy.contains(part), "{what}: {policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{what}: {policy}");
    let body = res.text().await.unwrap();
    for inline in [
        "<script>",
        "<style",
        " style=",
        " onclick=",
        " onload=",
        " onsubmit=",
    ] {
        assert!(!body.contains(inline), "{what} has {inline}");
    }
    for part in body.split(r#"<link rel="stylesheet" href=""#).skip(1) {
        let href = &part[..part.find('"').unwrap()];
        let sheet = app.get(href, None).await;
        assert_eq!(sheet.status(), StatusCode::OK, "{what}: {href}");
    }
    for part in body.split("<script src=\"").skip(1) {
        let src = &part[..part.find('"').unwrap()];
        let script = app.get(src, None).await;
        assert_eq!(script.status(), StatusCode::OK, "{what}: {src}");
        assert_eq!(
            script.headers()["content-type"],
            "text/javascript; charset=utf-8"
        );
    }
}

#[tokio::test]
async fn every_page_carries_a_policy_that_allows_no_script_no_inline_style_and_no_framing() {
    let app = spawn_app().await;
    let (admin, unit, poster) = app.unit_fixture().await;
    app.register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    let tip = json!({"token": poster, "category": "other", "description": "门口很多快递"});
    let tip: Value = app
        .post_json("/api/v1/tips", &tip, Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let tip = tip["id"].as_i64().unwrap();

    let public = [
        format!("/q/{poster}"),
        format!("/tip?t={poster}"),
        "/login".to_string(),
        "/sublandlord/register".to_string(),
        "/no-such-page".to_string(),
        "/q/not-a-poster".to_string(),
    ];
    for path in &public {
        assert_page(&app, app.get(path, None).await, path).await;
    }
    let cookie = page_login(&app, "admin", &[]).await;
    let staff = [
        "/console".to_string(),
        "/console/stats".to_string(),
        "/console/units".to_string(),
        "/console/tips".to_string(),
        format!("/console/tips/{tip}"),
        "/console/users".to_string(),
        "/console/audit".to_string(),
    ];
    for path in &staff {
        let res = crate::helpers::page(&app, &cookie, path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_page(&app, res, path).await;
    }
    let police = page_login(&app, "police", &["影佳"]).await;
    for path in ["/police".to_string(), format!("/police/units/{unit}")] {
        let res = crate::helpers::page(&app, &police, &path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_police_page(&app, res, &path).await;
    }
    // A refusal by the rate limits is a page too.
    let limited = crate::helpers::spawn_app_with(|s| s.rate_ip_per_minute = 1).await;
    limited.get("/login", None).await;
    let res = limited.get("/login", None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_page(&limited, res, "429 page").await;
}

#[tokio::test]
async fn answers_with_personal_data_are_never_stored_by_browsers_or_proxies() {
    let app = spawn_app().await;
    let (admin, unit, poster) = app.unit_fixture().await;
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    let police = app.login_as("police", &["影佳"]).await;
    let got: Value = app
        .get(&format!("/api/v1/units/{unit}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let occupant = got["occupants"][0]["id"].as_i64().unwrap();

    let mut answers = vec![
        (
            "unit with occupants",
            app.get(&format!("/api/v1/units/{unit}"), Some(&admin))
                .await,
        ),
        (
            "reveal",
            app.post_json(
                &format!("/api/v1/occupants/{occupant}/reveal"),
                &json!({"reason": "核查群租"}),
                Some(&police),
            )
            .await,
        ),
        (
            "door checks",
            app.get("/api/v1/door-checks", Some(&admin)).await,
        ),
        (
            "door checks CSV",
            app.get("/api/v1/door-checks.csv", Some(&admin)).await,
        ),
        (
            "door checks XLSX",
            app.get("/api/v1/door-checks.xlsx", Some(&admin)).await,
        ),
        (
            "ledger",
            app.get("/api/v1/sublandlords?sort=priority", Some(&admin))
                .await,
        ),
        ("audit", app.get("/api/v1/audit", Some(&admin)).await),
        (
            "scan",
            app.get(&format!("/api/v1/scan/{poster}"), None).await,
        ),
    ];
    answers.push((
        "an error",
        app.get("/api/v1/units/999999", Some(&admin)).await,
    ));
    for (what, res) in &answers {
        assert!(
            res.status().is_success() || *what == "an error",
            "{what}: {}",
            res.status()
        );
        assert_common(res, what);
        let cache = res.headers()["cache-control"].to_str().unwrap();
        assert!(cache.contains("no-store"), "{what}: {cache}");
    }
    // The style sheets alone may be kept, for an hour.
    let sheet = app.get("/assets/base.css", None).await;
    assert_eq!(sheet.headers()["cache-control"], "public, max-age=3600");
    assert_common(&sheet, "style sheet");
    assert_eq!(app.get("/assets/nothing.css", None).await.status(), 404);
}

#[tokio::test]
async fn the_icon_browsers_ask_for_is_a_real_icon() {
    let app = spawn_app().await;
    let res = app.get("/favicon.ico", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/x-icon");
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 1, 0], "an ICO header");
    assert_eq!(&bytes[22..26], b"\x89PNG", "holding a PNG");
    let image = image::load_from_memory(&bytes[22..]).unwrap();
    assert_eq!((image.width(), image.height()), (32, 32));
}
