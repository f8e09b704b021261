//! A day's walk: checks given to an officer of their community, listed in walking order,
//! taken from the unit page, and refused for anyone who is not such an officer.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, csrf_of, page, page_login, page_post, spawn_app};

/// The id of the account made last (`{role}{n}`).
async fn last_user(app: &TestApp, role: &str) -> i64 {
    let username = format!("{role}{}", app.users_made() - 1);
    sqlx::query_scalar("select id from users where username = $1")
        .bind(username)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// An open check on a new unit at `address` in 影佳.
async fn check_at(app: &TestApp, admin: &str, address: &str) -> i64 {
    let (unit, _) = app.create_unit(admin, "影佳", address).await;
    app.overdue_check(unit, 0).await
}

async fn assign(app: &TestApp, token: &str, check: i64, user: Option<i64>) -> StatusCode {
    assign_with(app, token, check, json!({ "user_id": user })).await
}

async fn assign_with(app: &TestApp, token: &str, check: i64, body: Value) -> StatusCode {
    app.post_json(
        &format!("/api/v1/door-checks/{check}/assign"),
        &body,
        Some(token),
    )
    .await
    .status()
}

async fn mine(app: &TestApp, token: &str) -> Vec<String> {
    let res = app.get("/api/v1/door-checks/mine", Some(token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["address"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn checks_given_to_an_officer_come_back_in_walking_order() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let addresses = [
        "影佳路 88弄 12号 101室",
        "影佳路 10号 101室",
        "影佳路 88弄 6号 302室",
        "影佳路 9号 201室",
    ];
    let mut checks = Vec::new();
    for a in addresses {
        checks.push(check_at(&app, &admin, a).await);
    }
    let officer = app.login_as("police", &["影佳"]).await;
    let officer_name = format!("police{}", app.users_made() - 1);
    let community = app.login_as("community", &["影佳"]).await;

    // By username, as other systems name an officer.
    for check in &checks {
        assert_eq!(
            assign_with(&app, &community, *check, json!({ "officer": officer_name })).await,
            StatusCode::OK
        );
    }

    assert_eq!(
        mine(&app, &officer).await,
        [
            "影佳路 9号 201室",
            "影佳路 10号 101室",
            "影佳路 88弄 6号 302室",
            "影佳路 88弄 12号 101室",
        ]
    );
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'door_check.assign'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(audited, 4);
    // Back to the queue.
    assert_eq!(
        assign(&app, &officer, checks[0], None).await,
        StatusCode::OK
    );
    assert_eq!(mine(&app, &officer).await.len(), 3);
    assert!(
        mine(&app, &community).await.is_empty(),
        "nothing given to them"
    );
}

#[tokio::test]
async fn a_check_goes_only_to_an_active_officer_of_its_community() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let check = check_at(&app, &admin, "影佳路 1号 101室").await;
    app.login_as("police", &["祥东"]).await;
    let elsewhere = last_user(&app, "police").await;
    app.login_as("community", &["影佳"]).await;
    let not_police = last_user(&app, "community").await;
    app.login_as("police", &["影佳"]).await;
    let disabled = last_user(&app, "police").await;
    sqlx::query("update users set disabled_at = 1 where id = $1")
        .bind(disabled)
        .execute(app.store.pool())
        .await
        .unwrap();

    for user in [elsewhere, not_police, disabled, 999_999] {
        assert_eq!(
            assign(&app, &admin, check, Some(user)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "user {user}"
        );
    }
    assert_eq!(
        assign_with(&app, &admin, check, json!({ "officer": "nobody-here" })).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Staff of another community do not see the check; a role off the queue may not assign.
    let theirs = app.login_as("police", &["祥东"]).await;
    assert_eq!(
        assign(&app, &theirs, check, None).await,
        StatusCode::NOT_FOUND
    );
    let property = app.login_as("property", &["影佳"]).await;
    assert_eq!(
        assign(&app, &property, check, None).await,
        StatusCode::FORBIDDEN
    );
    let assigned: Option<i64> =
        sqlx::query_scalar("select assigned_to from door_checks where id = $1")
            .bind(check)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(assigned, None, "nothing was given");

    // A closed check is not given any more.
    sqlx::query("update door_checks set status = 'closed', closed_at = 1, outcome = 'cancelled' where id = $1")
        .bind(check)
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(
        assign(&app, &admin, check, None).await,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn an_officer_takes_a_check_from_the_unit_page_and_prints_the_days_list() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (unit, _) = app.create_unit(&admin, "影佳", "影佳路 5号 101室").await;
    let check = app.overdue_check(unit, 0).await;
    let cookie = page_login(&app, "police", &["影佳"]).await;

    let card = page(&app, &cookie, &format!("/police/units/{unit}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        card.contains(&format!("/police/checks/{check}/take")),
        "{card}"
    );
    let csrf = csrf_of(&card);
    let res = page_post(
        &app,
        &cookie,
        &format!("/police/checks/{check}/take"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/police/mine");

    let list = page(&app, &cookie, "/police/mine")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("影佳路 5号 101室") && list.contains("共 1 处"),
        "{list}"
    );
    assert!(list.contains("逾期未上传"), "the reason by its label");
    // Without the form's token nothing is given.
    let res = page_post(
        &app,
        &cookie,
        &format!("/police/checks/{check}/take"),
        &[("csrf", "x")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
