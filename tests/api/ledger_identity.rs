//! The ledger groups accounts under one person only when name and document number agree: a
//! sign-up with someone else's number is refused, so it can neither join their row nor
//! raise their priority.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const NUMBER: &str = "11010519491231002X";

async fn sign_up(app: &TestApp, name: &str, phone: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/sublandlords",
        &json!({"name": name, "phone": phone, "id_type": "resident_id",
                "id_number": NUMBER, "password": "landlord-pass-1"}),
        None,
    )
    .await
}

async fn login(app: &TestApp, phone: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/login",
        &json!({"username": phone, "password": "landlord-pass-1"}),
        None,
    )
    .await
}

type Rows = Vec<(i64, i64, i64, i64)>;

/// Every ledger row: person, community, units, priority.
async fn ledger_rows(app: &TestApp) -> Rows {
    sqlx::query_as(
        r"select person_id, community_id, units, priority from ledger_rows
          order by person_id, community_id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_sign_up_with_another_persons_document_number_is_refused_and_audited() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    assert_eq!(
        sign_up(&app, "王二房", "13900000001").await.status(),
        StatusCode::CREATED
    );
    let owner: Value = login(&app, "13900000001").await.json().await.unwrap();
    let filing = json!({"community": "影佳", "address": "影佳路 40弄 1号", "rooms": 2,
                        "rental_mode": "shared", "planned_occupants": 2,
                        "start_date": chrono::Utc::now().date_naive().to_string()});
    let res = app
        .post_json("/api/v1/filings", &filing, owner["token"].as_str())
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let before = ledger_rows(&app).await;
    let accounts = app.count("sublandlords").await;
    let users = app.count("users").await;

    let res = sign_up(&app, "李四", "13900000002").await;

    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "conflict");
    assert!(
        body["message"].as_str().unwrap().contains("联系社区"),
        "{body}"
    );
    assert_eq!(ledger_rows(&app).await, before, "nothing merged");
    assert_eq!(app.count("sublandlords").await, accounts);
    assert_eq!(app.count("users").await, users);
    assert_eq!(
        login(&app, "13900000002").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let refusals: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'sublandlord.signup_refused'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(refusals, 1);
    let ledger: Value = app
        .get("/api/v1/sublandlords", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ledger["total"], 1);
    assert_eq!(ledger["items"][0]["accounts"], 1);
}

#[tokio::test]
async fn the_sign_up_page_refuses_another_persons_document_number_in_chinese() {
    let app = spawn_app().await;
    assert_eq!(
        sign_up(&app, "王二房", "13900000001").await.status(),
        StatusCode::CREATED
    );

    let res = app
        .client
        .post(app.url("/sublandlord/register"))
        .form(&[
            ("name", "李四"),
            ("phone", "13900000003"),
            ("id_type", "resident_id"),
            ("id_number", NUMBER),
            ("password", "landlord-pass-1"),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("请联系社区"), "{html}");
    assert_eq!(app.count("sublandlords").await, 1);
}

#[tokio::test]
async fn the_same_name_and_number_with_another_phone_still_join_one_person() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    assert_eq!(
        sign_up(&app, "王二房", "13900000001").await.status(),
        StatusCode::CREATED
    );

    let res = sign_up(&app, "王二房", "13900000002").await;

    assert_eq!(res.status(), StatusCode::CREATED);
    let ledger: Value = app
        .get("/api/v1/sublandlords", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ledger["total"], 1);
    assert_eq!(ledger["items"][0]["accounts"], 2);
}
