//! Rate limits on the public routes: per client address, per poster, and on guessed
//! poster tokens; the client address from a forwarding header only behind a trusted proxy.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{ID_A, ID_B, occupant, registration, spawn_app, spawn_app_with};

fn guess() -> String {
    // The shape of a real token, so the guess reaches the look-up.
    format!("{:032x}", rand::random::<u128>())
}

#[tokio::test]
async fn guessing_poster_tokens_is_refused_long_before_one_could_be_found() {
    let app = spawn_app().await;
    let (admin, _, poster) = app.unit_fixture().await;
    let guesses = app.settings.rate_guesses_per_hour;
    assert_eq!(guesses, 30, "the documented default");
    for _ in 0..guesses {
        let res = app.get(&format!("/q/{}", guess()), None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    // The next guess, on the page or the API, is refused without a look-up.
    let res = app.get(&format!("/q/{}", guess()), None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "Retry-After {wait}");
    assert!(res.text().await.unwrap().contains("请求过于频繁"));
    let res = app.get(&format!("/api/v1/scan/{}", guess()), None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
    // That address is done with posters for the hour, a real one included.
    let res = app.get(&format!("/q/{poster}"), None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Staff work is not a public route and goes on.
    assert_eq!(app.get("/api/v1/stats", Some(&admin)).await.status(), 200);
    // 30 guesses an hour against 128-bit tokens: not in a lifetime.
    assert_eq!(app.count("registrations").await, 0);
}

#[tokio::test]
async fn a_forwarding_header_names_the_client_only_behind_a_trusted_proxy() {
    // Without a trusted proxy, the header is the client's own claim and changes nothing.
    let app = spawn_app_with(|s| s.rate_guesses_per_hour = 2).await;
    for n in 0..3 {
        let res = app
            .client
            .get(app.url(&format!("/q/{}", guess())))
            .header("X-Forwarded-For", format!("198.51.100.{n}"))
            .send()
            .await
            .unwrap();
        let expected = if n < 2 {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(res.status(), expected, "guess {n}");
    }

    // Behind a trusted proxy (the loopback here), each forwarded client has its own count.
    let app = spawn_app_with(|s| {
        s.rate_guesses_per_hour = 2;
        s.trusted_proxies = renfang::limits::TrustedProxies::parse("127.0.0.1, ::1").unwrap();
    })
    .await;
    let from = |client: &'static str| {
        app.client
            .get(app.url(&format!("/q/{}", guess())))
            .header("X-Forwarded-For", client)
            .send()
    };
    for _ in 0..2 {
        assert_eq!(from("198.51.100.7").await.unwrap().status(), 404);
    }
    assert_eq!(from("198.51.100.7").await.unwrap().status(), 429);
    assert_eq!(from("198.51.100.8").await.unwrap().status(), 404);
    // A client cannot slip a fresh address in front of the one the proxy appended.
    assert_eq!(
        from("203.0.113.1, 198.51.100.7").await.unwrap().status(),
        429
    );
}

#[tokio::test]
async fn submissions_through_one_poster_are_limited_and_a_refusal_stores_nothing() {
    let app = spawn_app_with(|s| s.rate_poster_per_hour = 2).await;
    let (admin, _, poster) = app.unit_fixture().await;
    for id in [ID_A, ID_B] {
        let res = app
            .register(&poster, &registration(&[occupant(id)]), None)
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(app.count("registrations").await, 2);
    // The poster can still be read: only submissions are counted.
    assert_eq!(app.get(&format!("/q/{poster}"), None).await.status(), 200);
    // Another unit's poster has its own count.
    let (_, other) = app.create_unit(&admin, "影佳", "影佳路 9号 101室").await;
    let res = app
        .register(&other, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn public_routes_are_limited_per_client_address_and_logged_in_work_is_not() {
    let app = spawn_app_with(|s| s.rate_ip_per_minute = 5).await;
    let admin = app.admin_with(&["影佳"]).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(app.get("/tip", None).await.status().as_u16());
    }
    // The admin's login above was the first public request of this address.
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429, 429]);
    let res = app.get("/tip", None).await;
    let page = res.text().await.unwrap();
    assert!(
        page.contains("请求过于频繁") && page.contains("分钟后再试"),
        "{page}"
    );
    for _ in 0..10 {
        assert_eq!(app.get("/api/v1/stats", Some(&admin)).await.status(), 200);
    }
}
