//! An instance started while its Redis is down: scanning, registering and tips work at
//! once, signing in answers 503 until Redis answers, and then it works without a restart.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ID_A, OwnRedis, occupant, registration, spawn_app_with};

#[tokio::test]
async fn an_instance_started_while_redis_is_down_takes_registrations_and_signs_in_once_redis_answers()
 {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    // The unit and its poster, made through an instance without Redis.
    let setup = spawn_app_with(|s| s.redis_url = None).await;
    let (admin, _, poster) = setup.unit_fixture().await;
    let username = format!("admin{}", setup.users_made() - 1);
    redis.stop();

    let mut settings = setup.settings.clone();
    settings.redis_url = Some(redis.url());
    settings.redis_prefix = format!("s{:08x}:", rand::random::<u32>());
    let started = tokio::time::timeout(
        Duration::from_secs(10),
        renfang::Application::build(settings),
    )
    .await
    .expect("the start does not hang on Redis")
    .expect("the instance starts while Redis is down");
    let port = started.port();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    tokio::spawn(started.run_until_stopped());
    let client = &setup.client;

    // Posters, registrations and tips work.
    let page = client
        .get(url(&format!("/q/{poster}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let res = client
        .post(url(&format!("/api/v1/scan/{poster}/registrations")))
        .json(&registration(&[occupant(ID_A)]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let tip = json!({"token": poster, "category": "other", "description": "楼道堆物"});
    let res = client
        .post(url("/api/v1/tips"))
        .json(&tip)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    // Logins, signed-in API calls and console pages answer 503 with a plain message.
    let login = json!({"username": username, "password": "correct-horse-9"});
    let res = client
        .post(url("/api/v1/login"))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "sessions_unavailable");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("登录服务暂时不可用")
    );
    let res = client
        .get(url("/api/v1/stats"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let res = client.get(url("/login")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.text().await.unwrap().contains("登录服务暂时不可用"));
    let res = client
        .post(url("/login"))
        .form(&[
            ("username", username.as_str()),
            ("password", "correct-horse-9"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let res = client
        .get(url("/console"))
        .header("Cookie", "renfang_session=any-session")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let html = res.text().await.unwrap();
    assert!(html.contains("lang=\"zh-CN\"") && html.contains("登录服务暂时不可用"));

    redis.resume();

    // The instance reconnects by itself: signing in works, and the session holds.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let token = loop {
        let res = client
            .post(url("/api/v1/login"))
            .json(&login)
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::OK {
            let body: Value = res.json().await.unwrap();
            break body["token"].as_str().unwrap().to_string();
        }
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            std::time::Instant::now() < deadline,
            "no login after Redis came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let res = client
        .get(url("/api/v1/stats"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(setup.count("registrations").await, 1);
}
