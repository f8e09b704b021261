use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ID_A, ID_B, TestApp, occupant, registration, spawn_app};
use renfang::store::Backend;

#[tokio::test]
async fn a_poster_shows_its_unit_and_the_notice() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let res = app.get(&format!("/api/v1/scan/{poster}"), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["unit"]["community"], "影佳");
    assert_eq!(body["unit"]["address"], "影佳路 100弄 1号 201室");
    assert_eq!(body["unit"]["rooms"], 2);
    assert_eq!(
        body["notice_version"],
        renfang::domain::notice::NOTICE_VERSION
    );
    assert!(body["notice"].as_str().unwrap().contains("保存多久"));
}

#[tokio::test]
async fn an_unknown_or_malformed_token_is_a_404() {
    let app = spawn_app().await;
    for token in ["AAAAAAAAAAAAAAAAAAAAAAAA", "short", "%27%20or%201=1--"] {
        let res = app.get(&format!("/api/v1/scan/{token}"), None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{token}");
    }
}

#[tokio::test]
async fn a_registration_is_stored_and_answered_with_a_receipt() {
    let app = spawn_app().await;
    let (admin, unit_id, poster) = app.unit_fixture().await;
    let res = app
        .register(
            &poster,
            &registration(&[occupant(ID_A), occupant(ID_B)]),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert!(body["receipt"].as_str().unwrap().starts_with("RF"));
    assert_eq!(body["registered"], 2);

    let unit: Value = app
        .get(&format!("/api/v1/units/{unit_id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(unit["last_upload_at"].is_string(), "{unit}");
    let occupants = unit["occupants"].as_array().unwrap();
    assert_eq!(occupants.len(), 2);
    let numbers: Vec<&str> = occupants
        .iter()
        .map(|o| o["id_number"].as_str().unwrap())
        .collect();
    assert!(numbers.contains(&"110***********002X"), "{numbers:?}");
    assert_eq!(occupants[0]["phone"], "138****8000");
    assert!(
        !unit.to_string().contains(ID_A),
        "an unmasked number was returned"
    );
}

#[tokio::test]
async fn registering_the_same_person_again_replaces_them_instead_of_doubling() {
    let app = spawn_app().await;
    let (admin, unit_id, poster) = app.unit_fixture().await;
    for _ in 0..2 {
        let res = app
            .register(&poster, &registration(&[occupant(ID_A)]), None)
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let unit: Value = app
        .get(&format!("/api/v1/units/{unit_id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unit["occupants"].as_array().unwrap().len(), 1);
    assert_eq!(unit["registrations"], 2);
}

#[tokio::test]
async fn a_wrong_check_digit_is_a_422_naming_the_field() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let res = app
        .register(
            &poster,
            &registration(&[occupant(ID_A), occupant("110105194912310021")]),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "validation");
    assert_eq!(body["fields"][0]["field"], "occupants[1].id_number");
    assert_eq!(body["fields"][0]["code"], "check_digit");
    assert_eq!(
        app.count("registrations").await,
        0,
        "nothing may be half-stored"
    );
    assert_eq!(app.count("occupants").await, 0);
}

#[tokio::test]
async fn unknown_fields_broken_json_and_an_old_notice_get_their_4xx_and_store_nothing() {
    // Sizes, content types, encodings and hostile text have their own tests in abuse.rs.
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let path = app.url(&format!("/api/v1/scan/{poster}/registrations"));

    let mut unknown = registration(&[occupant(ID_A)]);
    unknown["occupants"][0]["nickname"] = json!("x");
    let res = app.register(&poster, &unknown, None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["fields"][0]["field"], "occupants[0].nickname");

    let res = app
        .client
        .post(&path)
        .header("Content-Type", "application/json")
        .body("{\"notice_version\":")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let mut old = registration(&[occupant(ID_A)]);
    old["notice_version"] = json!("2020-01-v0");
    let res = app.register(&poster, &old, None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(app.count("registrations").await, 0);
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_returns_the_first_receipt_and_stores_once() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let body = registration(&[occupant(ID_A)]);
    let first: Value = app
        .register(&poster, &body, Some("key-1"))
        .await
        .json()
        .await
        .unwrap();
    let res = app.register(&poster, &body, Some("key-1")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let second: Value = res.json().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(app.count("registrations").await, 1);
}

#[tokio::test]
async fn racing_requests_with_one_idempotency_key_store_exactly_once() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let body = registration(&[occupant(ID_A), occupant(ID_B)]);
    let answers = futures_util::future::join_all(
        (0..16).map(|_| app.register(&poster, &body, Some("race-key"))),
    )
    .await;
    let mut receipts = Vec::new();
    for res in answers {
        assert_eq!(res.status(), StatusCode::CREATED);
        let v: Value = res.json().await.unwrap();
        receipts.push(v["receipt"].as_str().unwrap().to_string());
    }
    receipts.dedup();
    assert_eq!(receipts.len(), 1, "every racer gets the first receipt");
    assert_eq!(app.count("registrations").await, 1);
    assert_eq!(app.count("occupants").await, 2);
}

#[tokio::test]
async fn concurrent_registrations_in_one_unit_count_each_other_for_the_density_rules() {
    let app = spawn_app().await;
    // Two rooms: more than four people is overcrowding.
    let (_, unit_id, poster) = app.unit_fixture().await;
    let bodies: Vec<Value> = (0..8)
        .map(|n| {
            let id = renfang::domain::document::with_check_char(&format!("31011719850101{n:03}"))
                .unwrap();
            registration(&[occupant(&id)])
        })
        .collect();
    let answers =
        futures_util::future::join_all(bodies.iter().map(|b| app.register(&poster, b, None))).await;
    for res in answers {
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let crowded: Vec<Option<String>> = sqlx::query_scalar(
        "select details from door_checks where unit_id = $1 and reason = 'overcrowding'",
    )
    .bind(unit_id)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(crowded.len(), 1);
    let details: Value = serde_json::from_str(crowded[0].as_deref().unwrap()).unwrap();
    // Opened by the registration that made it five: each counted those before it.
    assert_eq!(details["occupants"], 5, "{details}");
}

#[tokio::test]
async fn an_idempotency_key_reused_for_another_body_is_refused() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), Some("k"))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .register(&poster, &registration(&[occupant(ID_B)]), Some("k"))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["fields"][0]["code"], "reused");
    assert_eq!(app.count("registrations").await, 1);
}

#[tokio::test]
async fn a_rotated_poster_answers_410_and_the_new_one_works() {
    let app = spawn_app().await;
    let (admin, unit_id, old) = app.unit_fixture().await;
    let res = app
        .post_json(
            &format!("/api/v1/units/{unit_id}/qr/rotate"),
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let new = crate::helpers::token_of(body["poster_url"].as_str().unwrap());
    assert_ne!(new, old);
    let res = app
        .register(&old, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert_eq!(
        app.get(&format!("/api/v1/scan/{old}"), None).await.status(),
        StatusCode::GONE
    );
    let res = app
        .register(&new, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let unit: Value = app
        .get(&format!("/api/v1/units/{unit_id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unit["qr_version"], 2);
}

#[tokio::test]
async fn concurrent_registrations_all_land() {
    let app = spawn_app().await;
    let (admin, _, _) = app.unit_fixture().await;
    let mut posters = Vec::new();
    for i in 0..4 {
        let (_, p) = app
            .create_unit(&admin, "影佳", &format!("影佳路 1弄 {i}号"))
            .await;
        posters.push(p);
    }
    let ids: Vec<String> = (0..60)
        .map(|n| {
            renfang::domain::document::with_check_char(&format!("31011719900101{:03}", n)).unwrap()
        })
        .collect();
    let bodies: Vec<_> = ids.iter().map(|id| registration(&[occupant(id)])).collect();
    let answers = futures_util::future::join_all(
        bodies
            .iter()
            .enumerate()
            .map(|(n, body)| app.register(&posters[n % 4], body, None)),
    )
    .await;
    for res in answers {
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    assert_eq!(app.count("registrations").await, 60);
    assert_eq!(app.count("occupants").await, 60);
}

/// A unit and its poster, which this instance has just shown and so remembers.
async fn remembered_poster(app: &TestApp) -> (i64, String) {
    let (_, unit_id, poster) = app.unit_fixture().await;
    assert_eq!(
        app.get(&format!("/api/v1/scan/{poster}"), None)
            .await
            .status(),
        StatusCode::OK
    );
    (unit_id, poster)
}

#[tokio::test]
async fn a_poster_rotated_by_another_instance_never_stores_a_registration() {
    let app = spawn_app().await;
    let (unit_id, poster) = remembered_poster(&app).await;
    // Another instance rotates the poster, bypassing this one's memory.
    let vault = renfang::crypto::Vault::new(&{
        use base64::Engine;
        let key = base64::engine::general_purpose::STANDARD
            .decode(crate::helpers::TEST_KEY)
            .unwrap();
        <[u8; 32]>::try_from(key).unwrap()
    });
    renfang::store::units::rotate_token(&app.store, &vault, unit_id, None, 0)
        .await
        .unwrap()
        .unwrap();
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(
        res.status(),
        StatusCode::GONE,
        "the insert checks the poster it came through"
    );
    for table in ["registrations", "occupants"] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
    // The refusal made this instance forget the poster: its page says so at once.
    assert_eq!(
        app.get(&format!("/api/v1/scan/{poster}"), None)
            .await
            .status(),
        StatusCode::GONE
    );
}

#[tokio::test]
async fn a_rotation_that_commits_while_a_registration_waits_for_the_unit_refuses_it() {
    let app = spawn_app().await;
    let (unit_id, poster) = remembered_poster(&app).await;
    // A rotation as `rotate_token` makes it, held open after it has taken the unit's row.
    let mut rotation = app.store.pool().begin().await.unwrap();
    sqlx::query("update units set qr_version = qr_version + 1 where id = $1")
        .bind(unit_id)
        .execute(&mut *rotation)
        .await
        .unwrap();
    let waiting = {
        let client = app.client.clone();
        let url = app.url(&format!("/api/v1/scan/{poster}/registrations"));
        tokio::spawn(async move {
            client
                .post(url)
                .json(&registration(&[occupant(ID_A)]))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    // The registration must be waiting for the unit before the rotation commits: on
    // PostgreSQL, until a session waits on a lock; SQLite's one writer waits for the
    // database's write lock, which shows no such sign.
    if app.store.backend() == Backend::Postgres {
        let mut waited = 0;
        loop {
            let blocked: i64 = sqlx::query_scalar(
                "select count(*) from pg_stat_activity
                 where datname = current_database() and wait_event_type = 'Lock'",
            )
            .fetch_one(app.store.pool())
            .await
            .unwrap();
            if blocked > 0 {
                break;
            }
            waited += 1;
            assert!(waited < 500, "the registration never waited for the unit");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    } else {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    sqlx::query("update qr_tokens set replaced_at = 1 where unit_id = $1")
        .bind(unit_id)
        .execute(&mut *rotation)
        .await
        .unwrap();
    rotation.commit().await.unwrap();
    assert_eq!(waiting.await.unwrap(), StatusCode::GONE);
    for table in ["registrations", "occupants"] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
}

#[tokio::test]
async fn a_unit_closed_after_its_poster_was_shown_takes_no_registration() {
    let app = spawn_app().await;
    let (unit_id, poster) = remembered_poster(&app).await;
    // The unit is closed behind this instance's back.
    sqlx::query("update units set state = 'closed' where id = $1")
        .bind(unit_id)
        .execute(app.store.pool())
        .await
        .unwrap();
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), Some("closed-1"))
        .await;
    assert_eq!(res.status(), StatusCode::GONE);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("停止登记"),
        "{body}"
    );
    for table in ["registrations", "occupants", "idempotency_keys"] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
}
