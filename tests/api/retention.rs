//! The retention purge through the command line: what it empties, and that nothing of it
//! stays behind in the database files.

use std::process::Command;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ID_A, TEST_KEY, TestApp, TestDb, registration, spawn_app, token_of};

/// A name no other test uses, so that finding its bytes means finding this occupant.
const NAME: &str = "欧阳翠花";
const TIP_TEXT: &str = "三楼的赵大妈说每晚有十几个人进出";
const VISIT_NOTE: &str = "见到住户孙小明，称房东不让登记";

/// `renfang purge` as of `days` days from now, on the test's database; its output.
fn purge_in(app: &TestApp, days: i64) -> String {
    let at = (Utc::now() + Duration::days(days)).to_rfc3339();
    let out = Command::new(env!("CARGO_BIN_EXE_renfang"))
        .env("RENFANG_DATABASE_URL", &app.database_url)
        .env("RENFANG_DATA_KEY", TEST_KEY)
        .env_remove("RENFANG_REDIS_URL")
        .args(["purge", "--at", &at])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A sublandlord's unit with `NAME` registered through its poster and then moved out.
async fn moved_out_occupant(app: &TestApp) {
    app.admin_with(&["影佳"]).await;
    let res = app
        .post_json(
            "/api/v1/sublandlords",
            &json!({"name": "王二房", "phone": "13900001234", "id_type": "resident_id",
                    "id_number": "440524198001010013", "password": "landlord-pass-1"}),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let login: Value = app
        .post_json(
            "/api/v1/login",
            &json!({"username": "13900001234", "password": "landlord-pass-1"}),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let landlord = login["token"].as_str().unwrap().to_string();
    let res = app
        .post_json(
            "/api/v1/filings",
            &json!({"community": "影佳", "address": "影佳路 77弄 7号 701室", "rooms": 2,
                    "rental_mode": "whole", "start_date": Utc::now().date_naive().to_string(),
                    "planned_occupants": 1}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let filed: Value = res.json().await.unwrap();
    let unit = filed["unit_id"].as_i64().unwrap();
    let poster = token_of(filed["poster_url"].as_str().unwrap());
    let body = registration(&[json!({
        "name": NAME, "id_type": "resident_id", "id_number": ID_A,
        "phone": "13800138000", "room": "A", "move_in": "2026-11-01"
    })]);
    assert_eq!(
        app.register(&poster, &body, None).await.status(),
        StatusCode::CREATED
    );
    let mine: Value = app
        .get(&format!("/api/v1/my/units/{unit}"), Some(&landlord))
        .await
        .json()
        .await
        .unwrap();
    let occupant = mine["occupants"][0]["id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/occupants/{occupant}/move-out"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// Every file of the SQLite database that holds `needle`'s bytes.
fn files_holding(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    ["renfang.db", "renfang.db-wal", "renfang.db-shm"]
        .into_iter()
        .filter(|file| {
            std::fs::read(dir.join(file))
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        })
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn after_a_purge_no_sqlite_file_holds_the_purged_name() {
    let app = spawn_app().await;
    let TestDb::Sqlite(dir) = &app.db else {
        eprintln!("the database files are SQLite's; PostgreSQL keeps no such files here");
        return;
    };
    moved_out_occupant(&app).await;
    let stored: String = sqlx::query_scalar("select name from occupants")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(stored, NAME, "names are stored as written");
    assert!(
        !files_holding(dir.path(), NAME.as_bytes()).is_empty(),
        "the arrangement put the name on disk"
    );

    let out = purge_in(&app, 200);

    assert!(
        out.starts_with("purged personal data of 1 occupants"),
        "{out}"
    );
    assert_eq!(
        files_holding(dir.path(), NAME.as_bytes()),
        Vec::<String>::new(),
        "the purged name is still in these files"
    );
}

#[tokio::test]
async fn the_purge_empties_old_tip_texts_and_door_check_notes_and_keeps_every_row() {
    let app = spawn_app().await;
    let (admin, unit, _) = app.unit_fixture().await;
    let res = app
        .post_json(
            "/api/v1/tips",
            &json!({"address": "影佳路１００弄１号２０１", "category": "group_rental",
                    "description": TIP_TEXT, "contact": "13812345678"}),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let tip = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/tips/{tip}/triage"),
            &json!({"state": "closed", "note": VISIT_NOTE}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let check = app.overdue_check(unit, 0).await;
    let res = app
        .post_json(
            &format!("/api/v1/door-checks/{check}/result"),
            &json!({"outcome": "vacant", "note": VISIT_NOTE}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let counts = |app: &TestApp| {
        let app = app.store.clone();
        async move {
            let mut counts = Vec::new();
            for table in ["tips", "door_checks", "door_check_events"] {
                let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "select count(*) from {table}"
                )))
                .fetch_one(app.pool())
                .await
                .unwrap();
                counts.push(n);
            }
            counts
        }
    };
    let before = counts(&app).await;

    let early = purge_in(&app, 100);
    let out = purge_in(&app, 200);

    assert!(
        early.contains("emptied the notes of 0 door checks"),
        "{early}"
    );
    assert!(out.contains("emptied the notes of 1 door checks"), "{out}");
    assert_eq!(counts(&app).await, before, "rows are kept");
    let (description, contact, note): (String, Option<String>, Option<String>) =
        sqlx::query_as("select description, contact_masked, note from tips where id = $1")
            .bind(tip)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!((description.as_str(), contact, note), ("", None, None));
    let check_note: Option<String> =
        sqlx::query_scalar("select note from door_checks where id = $1")
            .bind(check)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    let event_notes: i64 =
        sqlx::query_scalar("select count(note) from door_check_events where door_check_id = $1")
            .bind(check)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!((check_note, event_notes), (None, 0));
    let audited: Vec<(String, Option<String>, Option<String>)> =
        sqlx::query_as("select action, detail, reason from audit_log")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert!(
        audited
            .iter()
            .any(|(action, ..)| action == "door_check.purge_notes"),
        "the purge is audited"
    );
    assert!(
        !audited.iter().any(|(_, detail, reason)| {
            [detail, reason]
                .iter()
                .any(|text| text.as_deref().is_some_and(|t| t.contains(VISIT_NOTE)))
        }),
        "the audit log, which is never purged, holds no note"
    );
}
