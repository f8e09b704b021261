//! Holes an attacker with a phone and a browser would try: redirects out of the site after
//! login, metric series made from request input, and renaming a neighbour through the poster
//! on their door.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ID_A, ID_B, occupant, registration, spawn_app};

/// Logs in a fresh police account through the form with `next` and returns where the
/// answer sends the browser.
async fn location_after_login(app: &crate::helpers::TestApp, next: &str) -> String {
    app.login_as("police", &["影佳"]).await;
    let n = app.users_made() - 1;
    let res = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", format!("police{n}")),
            ("password", "correct-horse-9".into()),
            ("next", next.into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "next = {next:?}");
    res.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn login_never_sends_the_browser_to_another_host() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    for next in [
        "/\\evil.example/",
        "/\\/evil.example/",
        "//evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example",
        "/ /evil.example",
        "https://evil.example/",
        "evil.example",
        "/%0a",
    ] {
        let to = location_after_login(&app, next).await;
        let plain_path = next == "/%0a";
        let want = if plain_path { "/%0a" } else { "/police" };
        assert_eq!(to, want, "next = {next:?}");
    }
    assert_eq!(
        location_after_login(&app, "/police/units/1?sort=address").await,
        "/police/units/1?sort=address"
    );
}

#[tokio::test]
async fn the_login_page_does_not_carry_a_foreign_next_into_its_form() {
    let app = spawn_app().await;
    let res = app.get("/login?next=/%5Cevil.example/", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(!html.contains("evil.example"), "{html}");
}

#[tokio::test]
async fn invented_http_methods_do_not_make_new_metric_series() {
    let app = spawn_app().await;
    let before = series(&app).await;
    for i in 0..200 {
        let method = Method::from_bytes(format!("X{i:03}INVENT").as_bytes()).unwrap();
        app.client
            .request(method, app.url("/healthz"))
            .send()
            .await
            .unwrap();
    }
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        !text.contains("INVENT"),
        "an invented method became a label"
    );
    assert!(
        text.contains("method=\"OTHER\""),
        "unknown methods are counted as OTHER"
    );
    let after = series(&app).await;
    assert!(
        after <= before + 4,
        "200 invented methods made {} new series",
        after - before
    );
}

/// How many request-counter series the metrics hold.
async fn series(app: &crate::helpers::TestApp) -> usize {
    app.get("/metrics", None)
        .await
        .text()
        .await
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("renfang_http_requests_total{"))
        .count()
}

/// Each current occupant of the unit: name, and whether a phone number is kept.
async fn current_person(app: &crate::helpers::TestApp, unit: i64) -> Vec<(String, bool)> {
    sqlx::query_as::<_, (String, Option<Vec<u8>>)>(
        "select name, phone_enc from occupants where unit_id = $1 and moved_out_at is null",
    )
    .bind(unit)
    .fetch_all(app.store.pool())
    .await
    .unwrap()
    .into_iter()
    .map(|(name, phone)| (name, phone.is_some()))
    .collect()
}

#[tokio::test]
async fn a_poster_cannot_rename_a_current_occupant_but_the_same_person_renews() {
    let app = spawn_app().await;
    let (_, unit, poster) = app.unit_fixture().await;
    let first = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);

    let mut impostor = occupant(ID_A);
    impostor["name"] = json!("李四");
    impostor.as_object_mut().unwrap().remove("phone");
    let res = app
        .register(&poster, &registration(&[occupant(ID_B), impostor]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "name_mismatch");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("第 2 位") && message.contains("另一姓名"),
        "{message}"
    );
    assert_eq!(app.count("registrations").await, 1, "nothing stored");
    assert_eq!(
        current_person(&app, unit).await,
        vec![("张三".to_string(), true)]
    );

    let renewal = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(
        renewal.status(),
        StatusCode::CREATED,
        "the same name renews"
    );
    assert_eq!(app.count("registrations").await, 2);
}

#[tokio::test]
async fn the_registration_page_explains_a_number_registered_under_another_name() {
    let app = spawn_app().await;
    let (_, unit, poster) = app.unit_fixture().await;
    let first = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let form: Vec<(&str, &str)> = vec![
        ("notice_version", renfang::domain::notice::NOTICE_VERSION),
        ("submission", "fedcba9876543210fedcba9876543210"),
        ("count", "1"),
        ("name_0", "王小明"),
        ("id_type_0", "resident_id"),
        ("id_number_0", ID_A),
        ("phone_0", "13900139000"),
        ("room_0", "B"),
        ("move_in_0", "2026-10-01"),
        ("consent", "1"),
        ("action", "submit"),
    ];
    let res = app
        .client
        .post(app.url(&format!("/q/{poster}")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let html = res.text().await.unwrap();
    assert!(html.contains("已在本户以另一姓名登记"), "{html}");
    assert!(html.contains("王小明"), "the form keeps what was typed");
    assert_eq!(
        current_person(&app, unit).await,
        vec![("张三".to_string(), true)]
    );
}
