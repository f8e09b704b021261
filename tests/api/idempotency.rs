//! `Idempotency-Key` on staff posts: a result sent again from an officer's phone (its
//! answer lost on the way) is answered as the first time and stored once.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, csrf_of, page, page_login, spawn_app};

/// An open check on a new unit at `address` in 影佳, and an admin token.
async fn open_check(app: &TestApp, address: &str) -> (String, i64) {
    let admin = app.admin_with(&["影佳"]).await;
    let (unit, _) = app.create_unit(&admin, "影佳", address).await;
    (admin, app.overdue_check(unit, 0).await)
}

async fn post_result(
    app: &TestApp,
    token: &str,
    check: i64,
    outcome: &str,
    key: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(&format!("/api/v1/door-checks/{check}/result")))
        .bearer_auth(token)
        .json(&json!({ "outcome": outcome, "note": "二次上门" }));
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    req.send().await.unwrap()
}

async fn events_of(app: &TestApp, check: i64) -> i64 {
    sqlx::query_scalar("select count(*) from door_check_events where door_check_id = $1")
        .bind(check)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

async fn attempts_of(app: &TestApp, check: i64) -> i64 {
    sqlx::query_scalar("select attempts from door_checks where id = $1")
        .bind(check)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_result_sent_twice_with_one_key_is_answered_the_same_and_stored_once() {
    let app = spawn_app().await;
    let (_, check) = open_check(&app, "影佳路 1弄 1号 101室").await;
    let police = app.login_as("police", &["影佳"]).await;

    let first = post_result(&app, &police, check, "verified", Some("phone-key-1")).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.headers().get("idempotent-replay").is_none());
    let first: Value = first.json().await.unwrap();
    let again = post_result(&app, &police, check, "verified", Some("phone-key-1")).await;

    assert_eq!(
        again.status(),
        StatusCode::OK,
        "not the 409 of a closed check"
    );
    assert_eq!(again.headers()["idempotent-replay"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(events_of(&app, check).await, 1);
}

#[tokio::test]
async fn an_unreachable_visit_sent_twice_with_one_key_adds_one_attempt() {
    let app = spawn_app().await;
    let (_, check) = open_check(&app, "影佳路 1弄 2号 101室").await;
    let police = app.login_as("police", &["影佳"]).await;

    let first = post_result(&app, &police, check, "unreachable", Some("stairwell-7")).await;
    assert_eq!(first.status(), StatusCode::OK);
    let again = post_result(&app, &police, check, "unreachable", Some("stairwell-7")).await;

    assert_eq!(again.headers()["idempotent-replay"], "true");
    assert_eq!(attempts_of(&app, check).await, 1);
    assert_eq!(events_of(&app, check).await, 1);
    // A new visit is a new key, and counts.
    let next = post_result(&app, &police, check, "unreachable", Some("stairwell-8")).await;
    assert_eq!(next.status(), StatusCode::OK);
    assert_eq!(attempts_of(&app, check).await, 2);
}

#[tokio::test]
async fn without_a_key_a_repeated_unreachable_visit_counts_twice_as_before() {
    let app = spawn_app().await;
    let (_, check) = open_check(&app, "影佳路 1弄 3号 101室").await;
    let police = app.login_as("police", &["影佳"]).await;

    post_result(&app, &police, check, "unreachable", None).await;
    post_result(&app, &police, check, "unreachable", None).await;

    assert_eq!(attempts_of(&app, check).await, 2);
    assert_eq!(app.count("staff_idempotency_keys").await, 0);
}

#[tokio::test]
async fn another_officer_with_the_same_key_is_a_request_of_their_own() {
    let app = spawn_app().await;
    let (admin, check) = open_check(&app, "影佳路 1弄 4号 101室").await;
    let (unit, _) = app
        .create_unit(&admin, "影佳", "影佳路 1弄 5号 101室")
        .await;
    let other_check = app.overdue_check(unit, 0).await;
    let first = app.login_as("police", &["影佳"]).await;
    let second = app.login_as("police", &["影佳"]).await;

    post_result(&app, &first, check, "unreachable", Some("same-key")).await;
    let theirs = post_result(&app, &second, other_check, "verified", Some("same-key")).await;

    assert_eq!(theirs.status(), StatusCode::OK);
    assert!(theirs.headers().get("idempotent-replay").is_none());
    assert_eq!(events_of(&app, other_check).await, 1);
    assert_eq!(app.count("staff_idempotency_keys").await, 2);
}

#[tokio::test]
async fn a_result_for_a_check_someone_else_closed_is_a_conflict_and_replays_as_one() {
    let app = spawn_app().await;
    let (_, check) = open_check(&app, "影佳路 1弄 6号 101室").await;
    let colleague = app.login_as("police", &["影佳"]).await;
    let officer = app.login_as("police", &["影佳"]).await;
    post_result(&app, &colleague, check, "verified", None).await;

    let late = post_result(&app, &officer, check, "vacant", Some("queued-1")).await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    let late: Value = late.json().await.unwrap();
    let again = post_result(&app, &officer, check, "vacant", Some("queued-1")).await;

    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(again.headers()["idempotent-replay"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), late);
    assert_eq!(events_of(&app, check).await, 1);
}

#[tokio::test]
async fn a_key_sent_to_another_route_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (_, check) = open_check(&app, "影佳路 1弄 7号 101室").await;
    let police = app.login_as("police", &["影佳"]).await;
    post_result(&app, &police, check, "unreachable", Some("reused")).await;

    let res = app
        .client
        .post(app.url(&format!("/api/v1/door-checks/{check}/assign")))
        .bearer_auth(&police)
        .header("Idempotency-Key", "reused")
        .json(&json!({ "user_id": null }))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["fields"][0]["field"], "Idempotency-Key");
}

#[tokio::test]
async fn a_repeat_while_the_first_request_still_runs_is_told_to_wait() {
    let app = spawn_app().await;
    let (_, check) = open_check(&app, "影佳路 1弄 8号 101室").await;
    let police = app.login_as("police", &["影佳"]).await;
    let user: i64 = sqlx::query_scalar("select id from users where username = $1")
        .bind(format!("police{}", app.users_made() - 1))
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    // The first request has claimed the key and not answered yet.
    let claim = renfang::store::idempotency::claim(
        &app.store,
        user,
        "in-flight",
        &format!("POST /api/v1/door-checks/{check}/result"),
        chrono::Utc::now().timestamp_millis(),
    )
    .await
    .unwrap();
    assert!(matches!(claim, renfang::store::idempotency::Claim::Claimed));

    let res = post_result(&app, &police, check, "verified", Some("in-flight")).await;

    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "in_progress");
    assert_eq!(events_of(&app, check).await, 0);
}

#[tokio::test]
async fn the_page_form_replays_its_redirect_and_records_one_visit() {
    let app = spawn_app().await;
    let (_, check) = open_check(&app, "影佳路 1弄 9号 101室").await;
    let unit: i64 = sqlx::query_scalar("select unit_id from door_checks where id = $1")
        .bind(check)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let cookie = page_login(&app, "police", &["影佳"]).await;
    let card = page(&app, &cookie, &format!("/police/units/{unit}")).await;
    let csrf = csrf_of(&card.text().await.unwrap());
    let send = || {
        app.client
            .post(app.url(&format!("/police/checks/{check}/result")))
            .header("Cookie", &cookie)
            .header("Idempotency-Key", "form-1")
            .form(&[("csrf", csrf.as_str()), ("outcome", "unreachable")])
            .send()
    };

    let first = send().await.unwrap();
    let again = send().await.unwrap();

    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(again.headers()["location"], first.headers()["location"]);
    assert_eq!(again.headers()["idempotent-replay"], "true");
    assert_eq!(attempts_of(&app, check).await, 1);
}

#[tokio::test]
async fn keys_older_than_a_week_are_purged() {
    let app = spawn_app().await;
    let (_, check) = open_check(&app, "影佳路 1弄 10号 101室").await;
    let police = app.login_as("police", &["影佳"]).await;
    post_result(&app, &police, check, "unreachable", Some("old")).await;

    let early = renfang::jobs::purge::run(&app.store, 4000, chrono::Utc::now())
        .await
        .unwrap();
    let late = renfang::jobs::purge::run(
        &app.store,
        4000,
        chrono::Utc::now() + chrono::Duration::days(8),
    )
    .await
    .unwrap();

    assert_eq!(early.idempotency_keys, 0);
    assert_eq!(late.idempotency_keys, 1);
    assert_eq!(app.count("staff_idempotency_keys").await, 0);
}

#[tokio::test]
async fn a_refused_form_token_is_not_kept_and_the_retry_after_a_new_login_is_recorded() {
    let app = spawn_app().await;
    let (_, check) = open_check(&app, "影佳路 1弄 11号 101室").await;
    let cookie = page_login(&app, "police", &["影佳"]).await;
    let card = page(&app, &cookie, "/police/mine").await;
    let csrf = csrf_of(&card.text().await.unwrap());
    let send = |token: String| {
        app.client
            .post(app.url(&format!("/police/checks/{check}/result")))
            .header("Cookie", &cookie)
            .header("Idempotency-Key", "after-login")
            .form(&[("csrf", token), ("outcome", "unreachable".into())])
            .send()
    };

    let refused = send("0".repeat(32)).await.unwrap();
    let retried = send(csrf).await.unwrap();

    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(retried.status(), StatusCode::SEE_OTHER);
    assert!(retried.headers().get("idempotent-replay").is_none());
    assert_eq!(attempts_of(&app, check).await, 1);
}
