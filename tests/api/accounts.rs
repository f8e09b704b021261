//! An account's life: a password change ends the other sessions, a disabled account is
//! out at once, and the login lock counts per account and client address, with a higher
//! bound per account.

use reqwest::StatusCode;
use serde_json::{Value, json};

use renfang::service::accounts::{ACCOUNT_LOCK_AFTER, LOCK_AFTER};

use crate::helpers::{TestApp, page, page_login, spawn_app, spawn_app_with};

const PASSWORD: &str = "correct-horse-9";

/// An application that believes the loopback's `X-Forwarded-For`, so a test can speak
/// from several client addresses.
async fn behind_proxy() -> TestApp {
    spawn_app_with(|s| {
        s.trusted_proxies = renfang::limits::TrustedProxies::parse("127.0.0.1, ::1").unwrap();
    })
    .await
}

/// A login through the API from `client`; the status and the error code.
async fn login_from(app: &TestApp, client: &str, username: &str, password: &str) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/api/v1/login"))
        .header("X-Forwarded-For", client)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn change_password(app: &TestApp, token: &str, old: &str, new: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/password",
        &json!({"old_password": old, "new_password": new}),
        Some(token),
    )
    .await
}

/// A second API session of the user `login_as` made last.
async fn another_session(app: &TestApp, username: &str, password: &str) -> String {
    let (status, body) = login_from(app, "127.0.0.1", username, password).await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session_of_the_account_and_keeps_the_current_one() {
    let app = spawn_app().await;
    let cookie = page_login(&app, "admin", &[]).await;
    let username = format!("admin{}", app.users_made() - 1);
    let current = another_session(&app, &username, PASSWORD).await;
    let other = another_session(&app, &username, PASSWORD).await;
    let stranger = app.login_as("admin", &[]).await;
    assert_eq!(app.get("/api/v1/stats", Some(&other)).await.status(), 200);

    let res = change_password(&app, &current, PASSWORD, "a-new-long-password").await;

    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/stats", Some(&current)).await.status(), 200);
    assert_eq!(app.get("/api/v1/stats", Some(&other)).await.status(), 401);
    let console = page(&app, &cookie, "/console").await;
    assert_eq!(
        console.status(),
        StatusCode::SEE_OTHER,
        "the page session ended"
    );
    assert_eq!(
        app.get("/api/v1/stats", Some(&stranger)).await.status(),
        200
    );
    // The current session can change the password again: it is a full session still.
    let again = change_password(&app, &current, "a-new-long-password", "third-long-pass").await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT);
    let (status, _) = login_from(&app, "127.0.0.1", &username, "third-long-pass").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn wrong_old_passwords_on_the_password_change_count_toward_the_login_lock() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let token = app.login_as("property", &["影佳"]).await;
    let username = format!("property{}", app.users_made() - 1);
    let mut statuses = Vec::new();
    for _ in 0..LOCK_AFTER {
        let res = change_password(&app, &token, "a-wrong-guess", "a-new-long-password").await;
        statuses.push(res.status().as_u16());
    }
    assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == 422));
    assert_eq!(statuses.last(), Some(&429));

    // Locked: the right old password is refused too, and so is a login.
    let res = change_password(&app, &token, PASSWORD, "a-new-long-password").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "login_locked");
    let (status, body) = login_from(&app, "127.0.0.1", &username, PASSWORD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("login_locked"))
    );
}

#[tokio::test]
async fn a_stranger_elsewhere_cannot_lock_an_account_out_of_its_own_address() {
    let app = behind_proxy().await;
    app.login_as("admin", &[]).await;
    let username = format!("admin{}", app.users_made() - 1);
    let stranger = "203.0.113.66";
    for _ in 0..LOCK_AFTER {
        login_from(&app, stranger, &username, "a-wrong-guess").await;
    }
    let (status, body) = login_from(&app, stranger, &username, PASSWORD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("login_locked"))
    );

    let (status, body) = login_from(&app, "198.51.100.7", &username, PASSWORD).await;

    assert_eq!(status, 200, "the owner elsewhere signs in: {body}");
}

#[tokio::test]
async fn a_guess_spread_over_many_addresses_still_locks_the_account_everywhere() {
    let app = behind_proxy().await;
    app.login_as("admin", &[]).await;
    let username = format!("admin{}", app.users_made() - 1);
    // Fewer guesses from each address than slow it down, many addresses.
    let per_address = renfang::service::accounts::SLOW_AFTER;
    let addresses = ACCOUNT_LOCK_AFTER.div_ceil(per_address);
    let mut last = 0;
    for a in 0..addresses {
        let client = format!("198.18.{}.{}", a / 250, a % 250 + 1);
        for _ in 0..per_address {
            last = login_from(&app, &client, &username, "a-wrong-guess")
                .await
                .0;
        }
    }
    assert_eq!(last, 429);

    let (status, body) = login_from(&app, "192.0.2.200", &username, PASSWORD).await;

    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("login_locked"))
    );
}

/// Runs `renfang user ACTION --username NAME` on the application's database.
fn user_command(app: &TestApp, action: &str, username: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_renfang"))
        .env("RENFANG_DATABASE_URL", &app.database_url)
        .env("RENFANG_DATA_KEY", crate::helpers::TEST_KEY)
        .env_remove("RENFANG_REDIS_URL")
        .args(["user", action, "--username", username])
        .output()
        .unwrap()
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("select action from audit_log order by id")
        .fetch_all(app.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_disabled_account_is_out_at_once_and_enabling_it_does_not_bring_its_sessions_back() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let cookie = page_login(&app, "police", &["影佳"]).await;
    let username = format!("police{}", app.users_made() - 1);
    let token = another_session(&app, &username, PASSWORD).await;

    let out = user_command(&app, "disable", &username);

    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("disabled"));
    assert_eq!(
        app.get("/api/v1/door-checks", Some(&token)).await.status(),
        401
    );
    let console = page(&app, &cookie, "/police").await;
    assert_eq!(console.status(), StatusCode::SEE_OTHER);
    let (status, _) = login_from(&app, "127.0.0.1", &username, PASSWORD).await;
    assert_eq!(status, 401, "a disabled account cannot log in");
    assert_eq!(app.get("/api/v1/stats", Some(&admin)).await.status(), 200);

    let out = user_command(&app, "enable", &username);

    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        app.get("/api/v1/door-checks", Some(&token)).await.status(),
        401
    );
    let console = page(&app, &cookie, "/police").await;
    assert_eq!(console.status(), StatusCode::SEE_OTHER);
    let fresh = another_session(&app, &username, PASSWORD).await;
    assert_eq!(
        app.get("/api/v1/door-checks", Some(&fresh)).await.status(),
        200
    );
    let actions = audit_actions(&app).await;
    let disable = actions.iter().position(|a| a == "user.disable");
    let enable = actions.iter().position(|a| a == "user.enable");
    assert!(disable.is_some() && enable > disable, "{actions:?}");
}

#[tokio::test]
async fn the_user_commands_refuse_an_unknown_account_with_a_message() {
    let app = spawn_app().await;
    app.login_as("admin", &[]).await;
    let before = audit_actions(&app).await.len();
    for action in ["disable", "enable"] {
        let out = user_command(&app, action, "nobody-here");
        assert!(!out.status.success(), "{action} of an unknown user");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("nobody-here"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(audit_actions(&app).await.len(), before);
}

async fn user_id(app: &TestApp, username: &str) -> i64 {
    sqlx::query_scalar("select id from users where username = $1")
        .bind(username)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_console_disables_an_account_only_once_confirmed_and_enables_it_again() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let cookie = page_login(&app, "admin", &[]).await;
    let me = user_id(&app, &format!("admin{}", app.users_made() - 1)).await;
    let officer = app.login_as("police", &["影佳"]).await;
    let username = format!("police{}", app.users_made() - 1);
    let id = user_id(&app, &username).await;
    let list = page(&app, &cookie, "/console/users")
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains(&format!(r#"action="/console/users/{id}/disable""#)));
    assert!(
        !list.contains(&format!(r#"action="/console/users/{me}/disable""#)),
        "no button to disable oneself"
    );
    let csrf = crate::helpers::csrf_of(&list);

    // Asking, and a post without the session's CSRF token, change nothing.
    let ask = page(&app, &cookie, &format!("/console/users/{id}/disable")).await;
    assert_eq!(ask.status(), StatusCode::OK);
    assert!(ask.text().await.unwrap().contains("确定停用"));
    let path = format!("/console/users/{id}/disable");
    let forged = crate::helpers::page_post(&app, &cookie, &path, &[("csrf", "0")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/door-checks", Some(&officer))
            .await
            .status(),
        200
    );

    let done = crate::helpers::page_post(&app, &cookie, &path, &[("csrf", &csrf)]).await;

    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/api/v1/door-checks", Some(&officer))
            .await
            .status(),
        401
    );
    let (status, _) = login_from(&app, "127.0.0.1", &username, PASSWORD).await;
    assert_eq!(status, 401);
    let list = page(&app, &cookie, "/console/users")
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains(&format!(r#"action="/console/users/{id}/enable""#)));

    let path = format!("/console/users/{id}/enable");
    let done = crate::helpers::page_post(&app, &cookie, &path, &[("csrf", &csrf)]).await;

    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/api/v1/door-checks", Some(&officer))
            .await
            .status(),
        401
    );
    let (status, _) = login_from(&app, "127.0.0.1", &username, PASSWORD).await;
    assert_eq!(status, 200);
    let by: Vec<Option<i64>> = sqlx::query_scalar(
        "select user_id from audit_log where action in ('user.disable', 'user.enable') order by id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(by, [Some(me), Some(me)], "recorded as the admin's");
    // An admin cannot disable their own account.
    let own = format!("/console/users/{me}/disable");
    let res = crate::helpers::page_post(&app, &cookie, &own, &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn two_admins_racing_for_one_username_make_one_account_and_get_one_conflict() {
    use renfang::service::Error;
    use renfang::service::accounts::{NewStaff, add_staff};

    let app = spawn_app().await;
    let new = || NewStaff {
        username: "wang",
        role: "admin",
        communities: &[],
        password: "a-long-password",
    };
    let (first, second) = tokio::join!(
        add_staff(&app.store, None, new()),
        add_staff(&app.store, None, new())
    );
    let outcomes = [first, second];
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1);
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, Err(Error::Conflict(m)) if m == "该用户名已被使用")),
        "{outcomes:?}"
    );
    let again = add_staff(&app.store, None, new()).await;
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
}
