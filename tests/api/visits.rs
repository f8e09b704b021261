//! One visit per flat: every open reason on one card with its figures, one result closing
//! the reasons the officer picks, the people met and an evidence photo kept until the
//! retention purge, people registered at the door, and the sublandlord's phone revealed
//! with a reason.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, csrf_of, occupant, page, page_login, page_post, registration, spawn_app, token_of,
};
use crate::sublandlords::{file, filing, id_number, phone, sublandlord};

/// A flat filed for 2 people in 1 room where 4 are registered: overcrowded and past its
/// filing, two open reasons. Its id and the ids of its open checks.
async fn crowded_flat(app: &TestApp) -> (i64, Vec<i64>) {
    app.admin_with(&["影佳", "祥东"]).await;
    let landlord = sublandlord(app, 7).await;
    let filed = file(
        app,
        &landlord,
        &filing("影佳", "影佳路 12弄 3号 401室", 1, 2),
    )
    .await;
    let unit = filed["unit_id"].as_i64().unwrap();
    let token = token_of(filed["poster_url"].as_str().unwrap());
    let people: Vec<Value> = (0..4).map(|i| occupant(&id_number(200 + i))).collect();
    let res = app.register(&token, &registration(&people), None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let checks: Vec<i64> = sqlx::query_scalar(
        "select id from door_checks where unit_id = $1 and status = 'open' order by id",
    )
    .bind(unit)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    (unit, checks)
}

async fn occupant_ids(app: &TestApp, unit: i64) -> Vec<i64> {
    sqlx::query_scalar(
        "select id from occupants where unit_id = $1 and moved_out_at is null order by id",
    )
    .bind(unit)
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

fn photo_part() -> Part {
    Part::bytes(renfang::domain::tip::sample_jpeg_with_gps())
        .file_name("door.jpg")
        .mime_str("image/jpeg")
        .unwrap()
}

#[tokio::test]
async fn the_card_shows_every_open_reason_with_its_figures_and_one_result_closes_them_all() {
    let app = spawn_app().await;
    let (unit, checks) = crowded_flat(&app).await;
    assert_eq!(checks.len(), 2, "overcrowding and filing mismatch");
    let cookie = page_login(&app, "police", &["影佳"]).await;

    let html = page(&app, &cookie, &format!("/police/units/{unit}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("待核查（2 项）"), "one card for the flat");
    assert!(
        html.contains("报备 2 人，实际登记在住 4 人"),
        "filed vs living"
    );
    assert!(
        html.contains("1 间，在住 4 人，每间 4 人"),
        "people per room"
    );
    // The list shows the flat once, with both reasons.
    let list = page(&app, &cookie, "/police").await.text().await.unwrap();
    assert_eq!(list.matches("影佳路 12弄 3号 401室").count(), 1, "{list}");
    assert!(list.contains("超员居住、与报备不符") || list.contains("与报备不符、超员居住"));

    let met = occupant_ids(&app, unit).await;
    let csrf = csrf_of(&html);
    let form = Form::new()
        .text("csrf", csrf)
        .text("check", checks[0].to_string())
        .text("check", checks[1].to_string())
        .text("met", met[0].to_string())
        .text("met", met[2].to_string())
        .text("note", "四人同住一间，二房东称只报备两人")
        .text("outcome", "violation")
        .part("photo", photo_part());
    let res = app
        .client
        .post(app.url(&format!("/police/units/{unit}/result")))
        .header("Cookie", &cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let open: i64 = sqlx::query_scalar(
        "select count(*) from door_checks where unit_id = $1 and status = 'open'",
    )
    .bind(unit)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(open, 0, "one result closed both reasons");
    let referrals: i64 = sqlx::query_scalar("select count(*) from referrals where unit_id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(referrals, 1, "one visit, one referral");
    let violations: i64 = sqlx::query_scalar(
        r"select l.violations from ledger_rows l
          join sublandlords s on s.person_id = l.person_id
          join units u on u.sublandlord_id = s.id
          where u.id = $1 and l.community_id = 0",
    )
    .bind(unit)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(violations, 1, "the ledger counts the visit once");
    let events: Vec<(Option<String>, Option<i64>)> = sqlx::query_as(
        r"select e.met_occupants, e.photo_id from door_check_events e
          join door_checks d on d.id = e.door_check_id where d.unit_id = $1",
    )
    .bind(unit)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(events.len(), 2);
    let met_stored: Vec<i64> = serde_json::from_str(events[0].0.as_deref().unwrap()).unwrap();
    assert_eq!(met_stored, [met[0], met[2]]);
    let photo = events[0].1.expect("the photo is kept with the visit");
    assert_eq!(
        events[1].1,
        Some(photo),
        "both checks point at the one photo"
    );

    // The photo comes back without its EXIF block, to staff of the community only.
    let bytes = page(&app, &cookie, &format!("/police/photos/{photo}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..2], b"\xff\xd8");
    assert!(!bytes.windows(3).any(|w| w == b"GPS"));
    let elsewhere = page_login(&app, "police", &["祥东"]).await;
    assert_eq!(
        page(&app, &elsewhere, &format!("/police/photos/{photo}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let html = page(&app, &cookie, &format!("/police/units/{unit}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("见到 2 人"), "who was met is in the history");
    assert!(html.contains(&format!("/police/photos/{photo}")));

    // The enforcement team sees the photo of the visit that referred the flat to them.
    let team = app.login_as("enforcement", &["影佳"]).await;
    let res = app
        .get(&format!("/api/v1/visit-photos/{photo}"), Some(&team))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let case: i64 = sqlx::query_scalar("select id from cases where unit_id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let detail: Value = app
        .get(&format!("/api/v1/cases/{case}"), Some(&team))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["door_photos"], json!([photo]));

    // Kept until the retention purge, then emptied.
    let now = chrono::Utc::now().timestamp_millis();
    let purged = renfang::store::retention::purge(&app.store, now + 1, now)
        .await
        .unwrap();
    assert_eq!(purged.visit_photos, 1);
    assert_eq!(
        page(&app, &cookie, &format!("/police/photos/{photo}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_officer_picks_which_reasons_a_result_answers_and_a_closed_one_is_a_conflict() {
    let app = spawn_app().await;
    let (unit, checks) = crowded_flat(&app).await;
    let officer = app.login_as("police", &["影佳"]).await;

    // Through the API: this check alone, people met by id.
    let met = occupant_ids(&app, unit).await;
    let res = app
        .post_json(
            &format!("/api/v1/door-checks/{}/result", checks[1]),
            &json!({"outcome": "verified", "met_occupants": [met[1]]}),
            Some(&officer),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["checks"], json!([checks[1]]));
    let open: Vec<i64> =
        sqlx::query_scalar("select id from door_checks where unit_id = $1 and status = 'open'")
            .bind(unit)
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(open, [checks[0]], "the other reason stays open");

    // Naming the closed one with the open one records nothing.
    let res = app
        .post_json(
            &format!("/api/v1/door-checks/{}/result", checks[0]),
            &json!({"outcome": "unreachable", "also_close": [checks[1]]}),
            Some(&officer),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let attempts: i64 = sqlx::query_scalar("select attempts from door_checks where id = $1")
        .bind(checks[0])
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(attempts, 0);

    // Someone who does not live there cannot be "met".
    let res = app
        .post_json(
            &format!("/api/v1/door-checks/{}/result", checks[0]),
            &json!({"outcome": "verified", "met_occupants": [999_999]}),
            Some(&officer),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A check of another flat, or people "met" at a door nobody opened, are refused.
    let (other_unit, _) = app.create_unit(&officer, "影佳", "影佳路 99号 101室").await;
    let other = app.overdue_check(other_unit, 0).await;
    for body in [
        json!({"outcome": "verified", "also_close": [other]}),
        json!({"outcome": "unreachable", "met_occupants": [met[0]]}),
    ] {
        let res = app
            .post_json(
                &format!("/api/v1/door-checks/{}/result", checks[0]),
                &body,
                Some(&officer),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }

    // A photo through the API, as multipart.
    let form = Form::new()
        .text("outcome", "verified")
        .text("met_occupants", format!("{},{}", met[0], met[3]))
        .part("photo", photo_part());
    let res = app
        .client
        .post(app.url(&format!("/api/v1/door-checks/{}/result", checks[0])))
        .bearer_auth(&officer)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let photo: Option<i64> = sqlx::query_scalar(
        "select photo_id from door_check_events where door_check_id = $1 and outcome = 'verified'",
    )
    .bind(checks[0])
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let res = app
        .get(
            &format!("/api/v1/visit-photos/{}", photo.unwrap()),
            Some(&officer),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
}

#[tokio::test]
async fn an_officer_registers_people_found_at_the_door_and_it_is_audited() {
    let app = spawn_app().await;
    let (unit, _) = crowded_flat(&app).await;
    let cookie = page_login(&app, "police", &["影佳"]).await;
    let form = page(&app, &cookie, &format!("/police/units/{unit}/register"))
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains("现场登记人员"));
    let csrf = csrf_of(&form);
    let number = id_number(300);
    let res = page_post(
        &app,
        &cookie,
        &format!("/police/units/{unit}/register"),
        &[
            ("csrf", &csrf),
            ("name", "李四"),
            ("id_type", "resident_id"),
            ("id_number", &number),
            ("room", "B"),
            ("move_in", "2026-11-20"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(occupant_ids(&app, unit).await.len(), 5);
    let (source, audited): (String, i64) = sqlx::query_as(
        r"select (select source from registrations where unit_id = $1
                  order by id desc limit 1),
                 (select count(*) from audit_log where action = 'occupants.register_at_door')",
    )
    .bind(unit)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!((source.as_str(), audited), ("officer", 1));

    // A bad number is shown on the form, in Chinese, and stores nothing.
    let res = page_post(
        &app,
        &cookie,
        &format!("/police/units/{unit}/register"),
        &[
            ("csrf", &csrf),
            ("name", "李五"),
            ("id_type", "resident_id"),
            ("id_number", "110101199001011230"),
            ("move_in", "2026-11-20"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(occupant_ids(&app, unit).await.len(), 5);
    // Staff of another community do not reach the form.
    let elsewhere = page_login(&app, "police", &["祥东"]).await;
    assert_eq!(
        page(&app, &elsewhere, &format!("/police/units/{unit}/register"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_sublandlords_phone_is_revealed_with_a_reason_and_audited() {
    let app = spawn_app().await;
    let (unit, _) = crowded_flat(&app).await;
    let officer = app.login_as("police", &["影佳"]).await;
    let path = format!("/api/v1/units/{unit}/sublandlord-phone");

    let res = app
        .post_json(&path, &json!({"reason": ""}), Some(&officer))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_json(
            &path,
            &json!({"reason": "上门未遇，联系开门"}),
            Some(&officer),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["phone"], phone(7));
    let reason: String = sqlx::query_scalar(
        "select reason from audit_log where action = 'sublandlord.reveal_phone'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(reason, "上门未遇，联系开门");

    let elsewhere = app.login_as("police", &["祥东"]).await;
    let res = app
        .post_json(
            &path,
            &json!({"reason": "上门未遇，联系开门"}),
            Some(&elsewhere),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let property = app.login_as("property", &["影佳"]).await;
    let res = app
        .post_json(
            &path,
            &json!({"reason": "上门未遇，联系开门"}),
            Some(&property),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The page shows it with a call link.
    let cookie = page_login(&app, "police", &["影佳"]).await;
    let html = page(&app, &cookie, &format!("/police/units/{unit}"))
        .await
        .text()
        .await
        .unwrap();
    let res = page_post(
        &app,
        &cookie,
        &format!("/police/units/{unit}/sublandlord-phone"),
        &[("csrf", &csrf_of(&html)), ("reason", "联系二房东开门")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let shown = res.text().await.unwrap();
    assert!(shown.contains(&format!("tel:{}", phone(7))), "{shown}");
}
