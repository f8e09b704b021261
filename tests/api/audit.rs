//! The audit log: what is recorded, who may read it, and the hash chain's verification.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TEST_KEY, spawn_app};
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
