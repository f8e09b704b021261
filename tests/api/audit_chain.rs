//! The audit log against someone who can write to the database: triggers refuse changes,
//! and `renfang audit verify` names the first bad row whatever they did.

use std::path::PathBuf;

use crate::helpers::{TEST_KEY, TestApp, drop_audit_guards, spawn_app, spawn_app_with};
use renfang::store::audit::{Entry, plain_hash};

/// An application whose audit head file is in a folder of the test's own, with a few
/// audited changes made and the head written.
async fn audited_app() -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let head = dir.path().join("audit.head");
    let app = spawn_app_with(|s| s.audit_head_file = Some(head)).await;
    let (admin, _, _) = app.unit_fixture().await;
    for n in 1..=3 {
        app.create_unit(&admin, "影佳", &format!("影佳路 300弄 {n}号"))
            .await;
    }
    app.store.flush_audit_head().await;
    (app, dir)
}

/// `renfang audit verify` with the test's key and head places: exit code and output.
fn verify_cli(app: &TestApp, head_file: Option<PathBuf>) -> (Option<i32>, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_renfang"));
    cmd.env("RENFANG_DATABASE_URL", &app.database_url)
        .env("RENFANG_DATA_KEY", TEST_KEY)
        .env_remove("RENFANG_REDIS_URL")
        .env_remove("RENFANG_AUDIT_HEAD_FILE");
    if let Some(file) = head_file.or_else(|| app.settings.audit_head_file.clone()) {
        cmd.env("RENFANG_AUDIT_HEAD_FILE", file);
    }
    if let Some(url) = &app.settings.redis_url {
        cmd.env("RENFANG_REDIS_URL", url)
            .env("RENFANG_REDIS_PREFIX", &app.settings.redis_prefix);
    }
    let out = cmd.args(["audit", "verify"]).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

async fn ids(app: &TestApp) -> Vec<i64> {
    sqlx::query_scalar("select id from audit_log order by id")
        .fetch_all(app.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_database_refuses_to_update_delete_or_truncate_audit_rows() {
    let (app, _dir) = audited_app().await;
    let first = ids(&app).await[0];

    let update = sqlx::query("update audit_log set reason = 'x' where id = $1")
        .bind(first)
        .execute(app.store.pool())
        .await;
    let delete = sqlx::query("delete from audit_log where id = $1")
        .bind(first)
        .execute(app.store.pool())
        .await;
    let truncate = match app.store.backend() {
        renfang::store::Backend::Postgres => sqlx::query("truncate audit_log")
            .execute(app.store.pool())
            .await
            .map(|_| ()),
        renfang::store::Backend::Sqlite => Err(sqlx::Error::RowNotFound),
    };

    for result in [update.map(|_| ()), delete.map(|_| ()), truncate] {
        let err = result.expect_err("the change went through");
        if !matches!(err, sqlx::Error::RowNotFound) {
            assert!(err.to_string().contains("append-only"), "{err}");
        }
    }
    assert_eq!(verify_cli(&app, None).0, Some(0));
}

#[tokio::test]
async fn audit_verify_names_an_edited_row() {
    let (app, _dir) = audited_app().await;
    let ids = ids(&app).await;
    drop_audit_guards(&app.store).await;

    sqlx::query("update audit_log set subject = 'unit:999' where id = $1")
        .bind(ids[2])
        .execute(app.store.pool())
        .await
        .unwrap();

    let (code, out) = verify_cli(&app, None);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("broken at row {}", ids[2])), "{out}");
}

#[tokio::test]
async fn audit_verify_names_the_row_after_a_deleted_middle_row() {
    let (app, _dir) = audited_app().await;
    let ids = ids(&app).await;
    drop_audit_guards(&app.store).await;

    sqlx::query("delete from audit_log where id = $1")
        .bind(ids[2])
        .execute(app.store.pool())
        .await
        .unwrap();

    let (code, out) = verify_cli(&app, None);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("broken at row {}", ids[3])), "{out}");
}

#[tokio::test]
async fn audit_verify_finds_deleted_newest_rows_through_the_head_file() {
    let (app, _dir) = audited_app().await;
    let ids = ids(&app).await;
    let n = ids.len();
    assert_eq!(verify_cli(&app, None).0, Some(0));
    drop_audit_guards(&app.store).await;

    sqlx::query("delete from audit_log where id >= $1")
        .bind(ids[n - 2])
        .execute(app.store.pool())
        .await
        .unwrap();

    let (code, out) = verify_cli(&app, None);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(&format!("broken after row {}", ids[n - 3])),
        "{out}"
    );
    assert!(out.contains(&format!("up to row {}", ids[n - 1])), "{out}");
}

#[tokio::test]
async fn with_redis_the_head_in_redis_finds_deleted_newest_rows() {
    let app = spawn_app().await;
    if app.settings.redis_url.is_none() {
        eprintln!("no Redis configured; this test needs one and does nothing");
        return;
    }
    let (admin, _, _) = app.unit_fixture().await;
    app.create_unit(&admin, "影佳", "影佳路 300弄 9号").await;
    app.store.flush_audit_head().await;
    let ids = ids(&app).await;
    // A head file that was never written: only Redis knows the newest row.
    let empty = tempfile::tempdir().unwrap();
    let no_file = Some(empty.path().join("none.head"));
    assert_eq!(verify_cli(&app, no_file.clone()).0, Some(0));
    drop_audit_guards(&app.store).await;

    sqlx::query("delete from audit_log where id = $1")
        .bind(ids[ids.len() - 1])
        .execute(app.store.pool())
        .await
        .unwrap();

    let (code, out) = verify_cli(&app, no_file);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(&format!("broken after row {}", ids[ids.len() - 2])),
        "{out}"
    );
}

#[tokio::test]
async fn audit_verify_names_the_first_row_of_a_chain_recomputed_with_plain_sha256() {
    let (app, _dir) = audited_app().await;
    let ids = ids(&app).await;
    drop_audit_guards(&app.store).await;
    let rows: Vec<renfang::store::audit::Row> = sqlx::query_as(
        r"select id, at, user_id, action, subject, detail, reason, prev_hash, hash
          from audit_log order by id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();

    // Row 2 is changed and every later link recomputed as the chain used to be computed.
    let mut prev = rows[1].hash.clone();
    for row in &rows[2..] {
        let entry = Entry {
            user_id: row.user_id,
            action: row.action.clone(),
            subject: if row.id == ids[2] {
                Some("unit:999".into())
            } else {
                row.subject.clone()
            },
            detail: row.detail.clone(),
            reason: row.reason.clone(),
        };
        let hash = plain_hash(&prev, row.at, &entry);
        sqlx::query("update audit_log set subject = $1, prev_hash = $2, hash = $3 where id = $4")
            .bind(entry.subject.clone())
            .bind(prev.clone())
            .bind(hash.clone())
            .bind(row.id)
            .execute(app.store.pool())
            .await
            .unwrap();
        prev = hash;
    }

    let (code, out) = verify_cli(&app, None);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("broken at row {}", ids[2])), "{out}");
}

#[tokio::test]
async fn a_head_left_behind_by_a_crash_is_not_taken_for_tampering() {
    let (app, dir) = audited_app().await;
    let (id, hash): (i64, Vec<u8>) =
        sqlx::query_as("select id, hash from audit_log order by id limit 1 offset 1")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    // The head names an older row, as when the process stopped between commit and write.
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(dir.path().join("audit.head"), format!("{id} {hex}\n")).unwrap();

    let (code, out) = verify_cli(&app, None);

    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("intact"), "{out}");
}

#[tokio::test]
async fn rows_from_before_the_key_still_verify_but_a_plain_row_after_a_keyed_one_does_not() {
    use base64::Engine;
    let (_db, url) = crate::helpers::fresh_database().await;
    let key: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(TEST_KEY)
        .unwrap()
        .try_into()
        .unwrap();
    let store = renfang::store::Store::connect(&url, 2)
        .await
        .unwrap()
        .with_audit(renfang::store::audit::Chain::new(&key, None));
    store.migrate().await.unwrap();
    let entry = |action: &str| Entry {
        action: action.into(),
        ..Entry::default()
    };
    let insert_plain = |prev: Vec<u8>, action: &'static str| {
        let store = store.clone();
        async move {
            let hash = plain_hash(&prev, 1, &entry(action));
            sqlx::query(
                r"insert into audit_log (at, action, prev_hash, hash) values (1, $1, $2, $3)
                  returning id",
            )
            .bind(action)
            .bind(prev)
            .bind(hash.clone())
            .fetch_one(store.pool())
            .await
            .unwrap();
            hash
        }
    };
    // Arrange: two rows as the service wrote them before the chain was keyed.
    let first = insert_plain(Vec::new(), "old.one").await;
    insert_plain(first, "old.two").await;

    renfang::store::audit::append(&store, entry("new.keyed"), 2)
        .await
        .unwrap();
    let verdict = renfang::store::audit::verify(&store).await.unwrap();
    assert_eq!(verdict, renfang::store::audit::Verdict::Intact { rows: 3 });

    let last: Vec<u8> = sqlx::query_scalar("select hash from audit_log order by id desc limit 1")
        .fetch_one(store.pool())
        .await
        .unwrap();
    insert_plain(last, "forged.plain").await;
    let forged: i64 = sqlx::query_scalar("select max(id) from audit_log")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let verdict = renfang::store::audit::verify(&store).await.unwrap();
    assert_eq!(
        verdict,
        renfang::store::audit::Verdict::BrokenAt { id: forged }
    );
}

#[tokio::test]
async fn deleted_newest_rows_stay_found_after_the_service_appends_more() {
    let (app, _dir) = audited_app().await;
    let admin = app.login_as("admin", &[]).await;
    app.store.flush_audit_head().await;
    let before = ids(&app).await;
    let newest = before[before.len() - 1];
    drop_audit_guards(&app.store).await;
    sqlx::query("delete from audit_log where id >= $1")
        .bind(before[before.len() - 2])
        .execute(app.store.pool())
        .await
        .unwrap();

    // The service goes on: its next rows chain onto what is left and pass the old ids.
    for n in 1..=5 {
        app.create_unit(&admin, "影佳", &format!("影佳路 301弄 {n}号"))
            .await;
        app.store.flush_audit_head().await;
    }
    assert!(ids(&app).await.last().unwrap() > &newest);

    let (code, out) = verify_cli(&app, None);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("row {newest}")), "{out}");
}
