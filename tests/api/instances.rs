//! Several instances on one database and one Redis, as a city deploys them: a session made
//! on one works on the other, the public limits are counted together, and sweeps running
//! on both at once create each door check once. The Redis here is a real server of the
//! test's own, and a Redis outage is a real one: the test stops and starts it.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ID_A, ID_B, OwnRedis, TestApp, occupant, registration, spawn_app_with};

fn guess() -> String {
    // A token of the real shape, so the guess reaches the look-up.
    renfang::domain::token::QrToken::generate()
        .as_ref()
        .to_string()
}

/// A poster look-up from `client`, forwarded by the trusted proxy (the loopback).
async fn guess_from(app: &TestApp, client: &str) -> u16 {
    app.client
        .get(app.url(&format!("/q/{}", guess())))
        .header("X-Forwarded-For", client)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn on_own_redis(redis: &OwnRedis, guesses: u32) -> TestApp {
    let url = redis.url();
    spawn_app_with(move |s| {
        s.redis_url = Some(url);
        s.redis_prefix = format!("i{:08x}:", rand::random::<u32>());
        s.rate_guesses_per_hour = guesses;
        s.trusted_proxies = renfang::limits::TrustedProxies::parse("127.0.0.1, ::1").unwrap();
    })
    .await
}

#[tokio::test]
async fn two_instances_share_sessions_and_limits_and_sweep_each_unit_once() {
    let Some(redis) = OwnRedis::start() else {
        return;
    };
    let a = on_own_redis(&redis, 4).await;
    let b = a.another_instance().await;
    assert_ne!(a.address, b.address);

    // A session made on A works on B, and a logout on B ends it on A.
    let (admin, unit, _) = a.unit_fixture().await;
    assert_eq!(b.get("/api/v1/stats", Some(&admin)).await.status(), 200);
    let res = b
        .post_json("/api/v1/logout", &json!({}), Some(&admin))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(a.get("/api/v1/stats", Some(&admin)).await.status(), 401);

    // Four guesses allowed per client, however they are spread over the instances.
    let client = "198.51.100.20";
    assert_eq!(guess_from(&a, client).await, 404);
    assert_eq!(guess_from(&b, client).await, 404);
    assert_eq!(guess_from(&a, client).await, 404);
    assert_eq!(guess_from(&b, client).await, 404);
    assert_eq!(guess_from(&a, client).await, 429);
    assert_eq!(guess_from(&b, client).await, 429);

    // Both instances sweep at the same moment: one door check.
    sqlx::query("update units set clock_from = $1, watched_since = $1 where id = $2")
        .bind(0_i64)
        .bind(unit)
        .execute(a.store.pool())
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let (made_a, made_b) = tokio::join!(
        renfang::jobs::sweep::run(&a.store, crate::helpers::RULES, now),
        renfang::jobs::sweep::run(&b.store, crate::helpers::RULES, now),
    );
    assert_eq!(made_a.unwrap() + made_b.unwrap(), 1);
    assert_eq!(a.count("door_checks").await, 1);
}

#[tokio::test]
async fn while_redis_is_down_registrations_land_nothing_answers_5xx_and_no_login_fails_open() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let a = on_own_redis(&redis, 3).await;
    let (admin, _, poster) = a.unit_fixture().await;
    let mut statuses: Vec<u16> = Vec::new();
    assert_eq!(a.get("/api/v1/stats", Some(&admin)).await.status(), 200);

    redis.stop();

    // Tenants go on registering, through the API and the page.
    for id in [ID_A, ID_B] {
        let res = a
            .register(&poster, &registration(&[occupant(id)]), None)
            .await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "registration during the outage"
        );
    }
    let res = a.get(&format!("/q/{poster}"), None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(a.count("registrations").await, 2);

    // A session kept in Redis cannot be confirmed: refused, not accepted and not an error.
    let res = a.get("/api/v1/stats", Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Signing in again works on this instance, and so does logging out.
    let officer = a.login_as("police", &["影佳"]).await;
    assert_eq!(
        a.get("/api/v1/door-checks", Some(&officer)).await.status(),
        200
    );
    let res = a
        .post_json("/api/v1/logout", &json!({}), Some(&officer))
        .await;
    statuses.push(res.status().as_u16());
    assert_eq!(
        a.get("/api/v1/door-checks", Some(&officer)).await.status(),
        401
    );

    // Wrong passwords are still counted, and the lock still holds for the right one.
    let wrong = json!({"username": "police1", "password": "wrong-password"});
    for _ in 0..renfang::service::accounts::LOCK_AFTER {
        let res = a.post_json("/api/v1/login", &wrong, None).await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429));
    let right = json!({"username": "police1", "password": "correct-horse-9"});
    let res = a.post_json("/api/v1/login", &right, None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // The guessing limit holds in this process.
    let client = "198.51.100.30";
    for _ in 0..3 {
        statuses.push(guess_from(&a, client).await);
    }
    assert_eq!(guess_from(&a, client).await, 429);
    assert!(
        statuses.iter().all(|s| *s < 500),
        "no answer is a server error while Redis is down: {statuses:?}"
    );

    redis.resume();

    // Once Redis answers again, sessions and limits are shared again: A reconnects by
    // itself (a session it makes is soon seen by B), and after the short pause the limiter
    // keeps after a failure, both instances count the same client together.
    let b = a.another_instance().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let token = a.login_as("community", &["影佳"]).await;
        if b.get("/api/v1/stats", Some(&token)).await.status() == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the instance did not go back to Redis"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(renfang::limits::REDIS_PAUSE + Duration::from_millis(500)).await;
    // On a busy machine a call can still miss the limiter's short wait on Redis and pause it
    // once more; the counts must be shared again within a few pauses, each client afresh.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    for n in 31.. {
        let client = format!("198.51.100.{n}");
        let mut seen = Vec::new();
        for app in [&a, &b, &a, &b] {
            seen.push(guess_from(app, &client).await);
        }
        if seen == [404, 404, 404, 429] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "shared counts after the outage: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn a_hung_redis_delays_requests_by_its_wait_only_and_gets_the_sessions_and_logouts_kept_meanwhile()
 {
    let Some(redis) = OwnRedis::start() else {
        return;
    };
    let a = on_own_redis(&redis, 30).await;
    let b = a.another_instance().await;
    let (admin, _, poster) = a.unit_fixture().await;
    assert_eq!(b.get("/api/v1/stats", Some(&admin)).await.status(), 200);

    redis.freeze();
    // Registrations land, each waiting on Redis no longer than the limiter's wait.
    let started = std::time::Instant::now();
    for id in [ID_A, ID_B] {
        let res = a
            .register(&poster, &registration(&[occupant(id)]), None)
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "registrations waited {:?} on a hung Redis",
        started.elapsed()
    );
    // A logout while Redis hangs is kept, and so is a new login.
    let res = a
        .post_json("/api/v1/logout", &json!({}), Some(&admin))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let officer = a.login_as("police", &["影佳"]).await;
    assert_eq!(
        a.get("/api/v1/door-checks", Some(&officer)).await.status(),
        200
    );

    redis.thaw();
    // The next session check on A hands both over: B refuses the logged-out session (it
    // is still in Redis, which kept its data) and accepts the one made during the hang.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let _ = a.get("/api/v1/door-checks", Some(&officer)).await;
        let logged_out = b.get("/api/v1/stats", Some(&admin)).await.status();
        let made = b.get("/api/v1/door-checks", Some(&officer)).await.status();
        if logged_out == 401 && made == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not handed over: logged-out session {logged_out}, new session {made}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The connections open on `redis`, other than the one asking.
fn redis_clients(redis: &OwnRedis) -> usize {
    let mut conn = redis::Client::open(redis.url())
        .and_then(|c| c.get_connection())
        .expect("the test's Redis answers");
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut conn).unwrap();
    list.lines().count() - 1
}

#[tokio::test]
async fn each_worker_counts_through_a_redis_connection_of_its_own_and_the_limits_stay_shared() {
    let Some(redis) = OwnRedis::start() else {
        return;
    };
    let a = on_own_redis(&redis, 6).await;
    assert_eq!(redis_clients(&redis), 1, "only the start-up connection");

    // A worker's first counted request opens its own connection; the start-up one counts
    // meanwhile, so nothing waits for it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut guesses = 0;
    while redis_clients(&redis) < 2 {
        assert_eq!(guess_from(&a, "203.0.113.9").await, 404);
        guesses += 1;
        assert!(
            std::time::Instant::now() < deadline,
            "no worker opened its own connection"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        guesses <= 6,
        "{guesses} guesses before a worker's connection opened"
    );

    // Counted over the workers' connections and the start-up one alike, and shared with a
    // second instance (whose workers open their own too): the limit holds across them.
    let b = a.another_instance().await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let instance = if i % 2 == 0 { &a } else { &b };
        statuses.push(guess_from(instance, "203.0.113.10").await);
    }
    assert_eq!(statuses, [404, 404, 404, 404, 404, 404, 429, 429]);
    // Each instance's start-up connection and at least one worker's own.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while redis_clients(&redis) < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "instance B's worker opened no connection of its own"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
