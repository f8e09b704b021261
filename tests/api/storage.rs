use std::time::Duration;

use reqwest::StatusCode;
use sqlx::Row;

use crate::helpers::{ID_A, TestDb, occupant, registration, spawn_app};
use renfang::store::{Backend, Store};

#[tokio::test]
async fn sqlite_settings_hold_on_every_pooled_connection() {
    let app = spawn_app().await;
    if app.store.backend() != Backend::Sqlite {
        return; // this test is about the SQLite pool; the PostgreSQL run covers the rest
    }
    // Hold every connection of the pool at once, so each one is checked, not one reused.
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(
            tokio::time::timeout(Duration::from_secs(5), app.store.pool().acquire())
                .await
                .expect("pool has five connections")
                .unwrap(),
        );
    }
    for conn in held.iter_mut() {
        let mode: String = sqlx::query("pragma journal_mode")
            .fetch_one(&mut **conn)
            .await
            .unwrap()
            .get(0);
        let sync: i64 = sqlx::query("pragma synchronous")
            .fetch_one(&mut **conn)
            .await
            .unwrap()
            .get(0);
        let busy: i64 = sqlx::query("pragma busy_timeout")
            .fetch_one(&mut **conn)
            .await
            .unwrap()
            .get(0);
        let fk: i64 = sqlx::query("pragma foreign_keys")
            .fetch_one(&mut **conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous = FULL");
        assert_eq!(busy, 15000);
        assert_eq!(fk, 1);
    }
}

#[tokio::test]
async fn writers_in_separate_pools_wait_for_each_other_instead_of_failing() {
    let app = spawn_app().await;
    let (_, _, _) = app.unit_fixture().await;
    // Three independent stores behave like three processes on one database.
    let mut stores = Vec::new();
    for _ in 0..3 {
        let s = Store::connect(&app.database_url, 3).await.unwrap();
        stores.push(s);
    }
    let mut tasks = Vec::new();
    for (i, store) in stores.iter().enumerate() {
        for j in 0..40 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                renfang::store::communities::create(&store, &format!("c{i}-{j}"), 0).await
            }));
        }
    }
    for t in tasks {
        t.await
            .unwrap()
            .expect("a concurrent writer failed instead of waiting");
    }
    assert_eq!(app.count("communities").await, 121);
}

#[tokio::test]
async fn stored_data_does_not_contain_a_document_number_phone_or_poster_token() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let dump: Vec<u8> = match &app.db {
        TestDb::Sqlite(dir) => {
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(dir.path()).unwrap() {
                bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
            }
            bytes
        }
        TestDb::Postgres { url } => {
            let out = std::process::Command::new("pg_dump")
                .arg("--data-only")
                .arg(url)
                .output()
                .expect("pg_dump runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        }
        TestDb::Shared => unreachable!("spawn_app makes a database of its own"),
    };
    assert!(dump.len() > 1000, "the dump is not empty");
    let text = String::from_utf8_lossy(&dump);
    assert!(
        text.contains("影佳路"),
        "the dump holds the unit, so the check can see plain text"
    );
    for secret in [ID_A, "13800138000", poster.as_str()] {
        assert!(!text.contains(secret), "{secret} is stored in plain text");
    }
}

#[tokio::test]
async fn a_failing_write_undoes_only_itself_even_inside_a_shared_commit() {
    let app = spawn_app().await;
    let jobs = (0..60).map(|i| {
        let store = app.store.clone();
        async move {
            store
                .transact(Box::new(move |mut tx| {
                    Box::pin(async move {
                        sqlx::query("insert into communities (name, created_at) values ($1, 0)")
                            .bind(format!("c{i}"))
                            .execute(tx.conn())
                            .await?;
                        if i % 2 == 1 {
                            return Err(anyhow::anyhow!("job {i} fails after writing").into());
                        }
                        Ok(i)
                    })
                }))
                .await
        }
    });
    let results = futures_util::future::join_all(jobs).await;
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.is_ok(), i % 2 == 0, "job {i}");
    }
    assert_eq!(app.count("communities").await, 30);
}
