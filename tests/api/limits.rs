//! Rate limits on the public routes: per client address, per poster, and on guessed
//! poster tokens; the client address from a forwarding header only behind a trusted proxy.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{ID_A, ID_B, occupant, registration, spawn_app, spawn_app_with};

fn guess() -> String {
    // A token of the real shape, so the guess reaches the look-up.
    renfang::domain::token::QrToken::generate()
        .as_ref()
        .to_string()
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
    // The window is a clock minute: start early in one, so all of it falls in the same.
    let second = chrono::Utc::now().timestamp() % 60;
    if second > 45 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
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

#[tokio::test]
async fn guesses_count_however_the_path_is_written_and_through_a_tips_token() {
    let app = spawn_app_with(|s| s.rate_guesses_per_hour = 3).await;
    // The router decodes %71 to q: the limit must see the same route.
    let res = app.get(&format!("/%71/{}", guess()), None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app.get(&format!("/api/v1/%73can/{}", guess()), None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A tip naming a poster that does not exist is a guess too.
    let tip = serde_json::json!({"token": guess(), "category": "other", "description": "x"});
    let res = app.post_json("/api/v1/tips", &tip, None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app.get(&format!("/q/{}", guess()), None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let res = app.post_json("/api/v1/tips", &tip, None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn guesses_sent_all_at_once_are_bounded_by_the_address_limit_and_then_refused() {
    let app = spawn_app_with(|s| {
        s.rate_guesses_per_hour = 5;
        s.rate_ip_per_minute = 20;
    })
    .await;
    let answers =
        futures_util::future::join_all((0..40).map(|_| app.get_owned(format!("/q/{}", guess()))))
            .await;
    let looked_up = answers.iter().filter(|s| **s == 404).count();
    let refused = answers.iter().filter(|s| **s == 429).count();
    assert_eq!(looked_up + refused, 40, "{answers:?}");
    // The request limit is counted before a request runs, so a burst cannot pass it.
    assert!(looked_up <= 20, "{looked_up} guesses reached the look-up");
    assert!(looked_up >= 5, "{answers:?}");
    // Once the misses are in, the address is refused for the rest of the hour.
    assert_eq!(app.get_owned(format!("/q/{}", guess())).await, 429);
}

/// Waits out the last seconds of a fixed window, so what a test counts falls in one.
async fn early_in_window(window_secs: i64) {
    let into = chrono::Utc::now().timestamp() % window_secs;
    if into > window_secs - 10 {
        tokio::time::sleep(std::time::Duration::from_secs(
            (window_secs - into + 1) as u64,
        ))
        .await;
    }
}

fn plain_tip(n: usize) -> Value {
    serde_json::json!({"address": format!("影佳路 {n}号 101室"), "category": "group_rental",
                       "description": "晚上很多人进出"})
}

#[tokio::test]
async fn a_burst_of_tips_from_one_address_stops_at_the_hourly_limit_on_every_instance() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    assert_eq!(
        app.settings.rate_tips_per_hour, 10,
        "the documented default"
    );
    early_in_window(3600).await;

    // Sent all at once, as a flood would be: the limit is counted before a tip is read.
    let sent = futures_util::future::join_all((0..25).map(|n| {
        app.client
            .post(app.url("/api/v1/tips"))
            .json(&plain_tip(n))
            .send()
    }))
    .await;

    let sent: Vec<_> = sent.into_iter().map(Result::unwrap).collect();
    let statuses: Vec<u16> = sent.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        15,
        "{statuses:?}"
    );
    assert_eq!(app.count("tips").await, 10);
    let refused = sent.into_iter().find(|r| r.status() == 429).unwrap();
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "Retry-After {wait}");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
    // The form says so in a page, in Chinese.
    let form = reqwest::multipart::Form::new()
        .text("address", "影佳路 1号 101室")
        .text("category", "other")
        .text("description", "x");
    let res = app
        .client
        .post(app.url("/tip"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.text().await.unwrap().contains("举报已达上限"));
    // Another instance counts in the same Redis, so it refuses this address too.
    if crate::helpers::redis_url().is_some() {
        let other = app.another_instance().await;
        let res = other.post_json("/api/v1/tips", &plain_tip(99), None).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(app.count("tips").await, 10);
}

fn photo_tip(photo: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("address", "影佳路 100弄 1号 201室")
        .text("category", "group_rental")
        .text("description", "门口贴着床位出租的广告")
        .part(
            "photo",
            reqwest::multipart::Part::bytes(photo).file_name("door.jpg"),
        )
}

#[tokio::test]
async fn tip_photos_past_the_daily_allowance_of_an_address_are_refused_and_not_stored() {
    let photo = renfang::domain::tip::sample_jpeg_with_gps();
    let stored = renfang::domain::tip::reencode_photo(&photo).unwrap().len() as u32;
    assert_eq!(
        renfang::Settings::default().tip_photo_bytes_per_day,
        20 * 1024 * 1024,
        "the documented default"
    );
    // Room for two photos and a half.
    let app = spawn_app_with(|s| s.tip_photo_bytes_per_day = stored * 5 / 2).await;
    app.unit_fixture().await;
    early_in_window(86_400).await;
    let send = |path: &'static str| {
        app.client
            .post(app.url(path))
            .multipart(photo_tip(photo.clone()))
            .send()
    };

    for _ in 0..2 {
        assert_eq!(send("/api/v1/tips").await.unwrap().status(), 201);
    }
    // The third would go past the allowance once stored: refused, tip and all.
    let res = send("/api/v1/tips").await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "photo_allowance", "{body}");
    assert!(body["message"].as_str().unwrap().contains("照片已达上限"));
    // The page says the same in Chinese.
    let res = send("/tip").await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.text().await.unwrap().contains("不带照片的举报仍可提交"));
    assert_eq!(app.count("tips").await, 2);
    // A tip without a photo still goes through.
    let res = app.post_json("/api/v1/tips", &plain_tip(1), None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(app.count("tips").await, 3);
}
