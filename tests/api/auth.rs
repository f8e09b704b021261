use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_401() {
    let app = spawn_app().await;
    app.login_as("admin", &[]).await;
    for (user, password) in [("admin0", "wrong-password"), ("nobody", "correct-horse-9")] {
        let res = app
            .post_json(
                "/api/v1/login",
                &json!({"username": user, "password": password}),
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized");
    }
}

#[tokio::test]
async fn login_returns_the_role_and_logout_ends_the_session() {
    let app = spawn_app().await;
    let token = app.login_as("admin", &[]).await;
    let ok = app
        .post_json(
            "/api/v1/communities",
            &json!({"name": "影佳"}),
            Some(&token),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let res = app
        .post_json("/api/v1/logout", &json!({}), Some(&token))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let after = app
        .post_json(
            "/api/v1/communities",
            &json!({"name": "祥东"}),
            Some(&token),
        )
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_ends_when_its_account_is_disabled_and_keeps_its_scope_until_then() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let police = app.login_as("police", &["祥东"]).await;
    let units = app.get("/api/v1/door-checks", Some(&police)).await;
    assert_eq!(units.status(), StatusCode::OK);
    // Scoped to 祥东: the other community is not there for this account.
    let other = app
        .get("/api/v1/door-checks?community=影佳", Some(&police))
        .await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    sqlx::query("update users set disabled_at = 1 where username = $1")
        .bind(format!("police{}", app.users_made() - 1))
        .execute(app.store.pool())
        .await
        .unwrap();
    let after = app.get("/api/v1/door-checks", Some(&police)).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    // Another account's session is untouched.
    let still = app.get("/api/v1/door-checks", Some(&admin)).await;
    assert_eq!(still.status(), StatusCode::OK);
}

#[tokio::test]
async fn staff_routes_refuse_a_missing_or_forged_token() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/units/1", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.get("/api/v1/units/1", Some("forged-token")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_user_command_refuses_short_passwords_and_unknown_roles() {
    let app = spawn_app().await;
    let short = renfang::cli::user::add_staff(&app.store, "a", "admin", &[], "short").await;
    assert!(short.is_err());
    let role = renfang::cli::user::add_staff(&app.store, "b", "root", &[], "long-enough-pw").await;
    assert!(role.is_err());
    let scope =
        renfang::cli::user::add_staff(&app.store, "c", "police", &[], "long-enough-pw").await;
    assert!(scope.is_err(), "police without a community must be refused");
}
