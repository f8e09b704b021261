//! The audit log: what is recorded, who may read it, and the hash chain's verification.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TEST_KEY, drop_audit_guards, spawn_app};
use renfang::store::audit::{Verdict, verify};

fn verify_cli(database_url: &str) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_renfang"))
        .env("RENFANG_DATABASE_URL", database_url)
        .env("RENFANG_DATA_KEY", TEST_KEY)
        .env_remove("RENFANG_REDIS_URL")
        .args(["audit", "verify"])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[tokio::test]
async fn changes_and_exports_are_chained_and_a_tampered_row_is_found() {
    let app = spawn_app().await;
    let (admin, unit, _) = app.unit_fixture().await;
    let res = app
        .post_json(
            &format!("/api/v1/units/{unit}/qr/rotate"),
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.get("/api/v1/door-checks.csv", Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::OK);

    let page: Value = app
        .get("/api/v1/audit?per_page=50", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "export.door_checks",
            "unit.rotate_poster",
            "unit.create",
            "user.create"
        ],
        "newest first"
    );
    assert_eq!(page["items"][1]["subject"], format!("unit:{unit}"));
    assert!(page["items"][1]["user_id"].is_i64(), "who");
    let police = app.login_as("police", &["影佳"]).await;
    let res = app.get("/api/v1/audit", Some(&police)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let rows = page["total"].as_i64().unwrap() as u64;
    assert_eq!(
        verify(&app.store).await.unwrap(),
        Verdict::Intact { rows: rows + 1 },
        "the police user just made is one more row"
    );
    let (code, out) = verify_cli(&app.database_url);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("intact"), "{out}");

    // Someone edits a row behind the service's back: that row breaks the chain.
    drop_audit_guards(&app.store).await;
    let second: i64 = sqlx::query_scalar("select id from audit_log order by id limit 1 offset 1")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    sqlx::query("update audit_log set reason = 'nothing to see' where id = $1")
        .bind(second)
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(
        verify(&app.store).await.unwrap(),
        Verdict::BrokenAt { id: second }
    );
    let (code, out) = verify_cli(&app.database_url);
    assert_eq!(code, Some(1));
    assert!(out.contains(&format!("broken at row {second}")), "{out}");
}

#[tokio::test]
async fn a_deleted_row_breaks_the_link_of_the_next() {
    let app = spawn_app().await;
    let (admin, _, _) = app.unit_fixture().await;
    app.create_unit(&admin, "影佳", "影佳路 100弄 5号").await;
    let ids: Vec<i64> = sqlx::query_scalar("select id from audit_log order by id")
        .fetch_all(app.store.pool())
        .await
        .unwrap();
    assert!(ids.len() >= 3);
    drop_audit_guards(&app.store).await;
    sqlx::query("delete from audit_log where id = $1")
        .bind(ids[1])
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(
        verify(&app.store).await.unwrap(),
        Verdict::BrokenAt { id: ids[2] }
    );
}

async fn actions(app: &crate::helpers::TestApp) -> Vec<(String, Option<String>)> {
    sqlx::query_as("select action, reason from audit_log order by id")
        .fetch_all(app.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reveal_needs_a_reason_and_an_authorised_role_in_scope_and_is_recorded() {
    let app = spawn_app().await;
    let (admin, unit, poster) = app.unit_fixture().await;
    let body = crate::helpers::registration(&[crate::helpers::occupant(crate::helpers::ID_A)]);
    assert_eq!(
        app.register(&poster, &body, None).await.status(),
        StatusCode::CREATED
    );
    let got: Value = app
        .get(&format!("/api/v1/units/{unit}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let occupant = got["occupants"][0]["id"].as_i64().unwrap();
    assert_ne!(got["occupants"][0]["id_number"], crate::helpers::ID_A);
    let path = format!("/api/v1/occupants/{occupant}/reveal");
    let police = app.login_as("police", &["影佳"]).await;
    app.admin_with(&["祥东"]).await;
    let stranger = app.login_as("police", &["祥东"]).await;
    let community = app.login_as("community", &["影佳"]).await;
    let before = actions(&app).await.len();

    let no_reason = app
        .post_json(&path, &json!({"reason": " "}), Some(&police))
        .await;
    let wrong_role = app
        .post_json(&path, &json!({"reason": "核查群租"}), Some(&community))
        .await;
    let elsewhere = app
        .post_json(&path, &json!({"reason": "核查群租"}), Some(&stranger))
        .await;
    assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_role.status(), StatusCode::FORBIDDEN);
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    assert_eq!(actions(&app).await.len(), before);

    let res = app
        .post_json(
            &path,
            &json!({"reason": "上门核查 #12 需核对证件"}),
            Some(&police),
        )
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    let shown: Value = res.json().await.unwrap();
    assert_eq!(shown["id_number"], crate::helpers::ID_A);
    let last = actions(&app).await.pop().unwrap();
    assert_eq!(last.0, "occupant.reveal");
    assert_eq!(last.1.as_deref(), Some("上门核查 #12 需核对证件"));
}

#[tokio::test]
async fn a_sublandlords_filing_confirmation_registration_and_vacancy_are_recorded() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let signup = json!({"name": "王五", "phone": "13900000009", "id_type": "resident_id",
                        "id_number": crate::helpers::ID_B, "password": "landlord-pass-1"});
    assert_eq!(
        app.post_json("/api/v1/sublandlords", &signup, None)
            .await
            .status(),
        StatusCode::CREATED
    );
    let login: Value = app
        .post_json(
            "/api/v1/login",
            &json!({"username": "13900000009", "password": "landlord-pass-1"}),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap();
    let filing = json!({"community": "影佳", "address": "影佳路 9号 101室", "rooms": 2,
                        "rental_mode": "shared",
                        "start_date": chrono::Utc::now().date_naive().to_string(),
                        "planned_occupants": 2});
    let filed: Value = app
        .post_json("/api/v1/filings", &filing, Some(token))
        .await
        .json()
        .await
        .unwrap();
    let unit = filed["unit_id"].as_i64().unwrap();
    let body = crate::helpers::registration(&[crate::helpers::occupant(crate::helpers::ID_A)]);
    let password = json!({"old_password": "landlord-pass-1", "new_password": "landlord-pass-2"});
    for (path, body) in [
        ("/api/v1/password".to_string(), password),
        (format!("/api/v1/my/units/{unit}/registrations"), body),
        (format!("/api/v1/my/units/{unit}/confirm"), json!({})),
        // The person registered moves out with the vacancy, in one request.
        (
            format!("/api/v1/my/units/{unit}/vacancy"),
            json!({"moved_out_on": chrono::Utc::now().date_naive().to_string()}),
        ),
    ] {
        let res = app.post_json(&path, &body, Some(token)).await;
        assert!(res.status().is_success(), "{path}: {}", res.status());
    }

    let recorded: Vec<String> = actions(&app).await.into_iter().map(|a| a.0).collect();
    for action in [
        "filing.create",
        "occupants.register",
        "occupants.confirm",
        "unit.vacancy",
    ] {
        assert!(
            recorded.iter().any(|a| a == action),
            "{action} in {recorded:?}"
        );
    }
    let by: Vec<Option<i64>> = sqlx::query_scalar(
        "select user_id from audit_log where action in ('filing.create', 'unit.vacancy')",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert!(by.iter().all(Option::is_some));
    assert_eq!(
        verify(&app.store).await.unwrap(),
        Verdict::Intact {
            rows: recorded.len() as u64
        }
    );
}
