//! A filing of a flat whose unit the filer did not create waits for staff: it hands over no
//! poster, no occupants and no control of the unit until approved.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    ID_A, TestApp, csrf_of, occupant, page, page_login, page_post, registration, spawn_app,
};
use renfang::domain::document::with_check_char;

const PASSWORD: &str = "landlord-pass-1";

/// A signed-up sublandlord (`n` picks phone and document number): bearer token and cookie.
async fn sublandlord(app: &TestApp, n: u32) -> (String, String) {
    let phone = format!("1390001{n:04}");
    let id_number = with_check_char(&format!("31011719800202{n:03}")).unwrap();
    let res = app
        .post_json(
            "/api/v1/sublandlords",
            &json!({"name": "钱二房", "phone": phone, "id_type": "resident_id",
                    "id_number": id_number, "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let login = json!({"username": phone, "password": PASSWORD});
    let body: Value = app
        .post_json("/api/v1/login", &login, None)
        .await
        .json()
        .await
        .unwrap();
    let form = app
        .client
        .post(app.url("/login"))
        .form(&[("username", phone.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = form.headers()["set-cookie"].to_str().unwrap();
    (
        body["token"].as_str().unwrap().to_string(),
        cookie.split(';').next().unwrap().to_string(),
    )
}

fn filing(community: &str, address: &str, mode: &str) -> Value {
    json!({"community": community, "address": address, "rooms": 3, "rental_mode": mode,
           "start_date": chrono::Utc::now().date_naive().to_string(), "planned_occupants": 2})
}

/// The unit's sublandlord, rental mode, state and poster version, straight from the table.
async fn unit_row(app: &TestApp, unit: i64) -> (Option<i64>, String, String, i64, i64) {
    sqlx::query_as(
        "select sublandlord_id, rental_mode, state, qr_version, rooms from units where id = $1",
    )
    .bind(unit)
    .fetch_one(app.store.pool())
    .await
    .unwrap()
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("select action from audit_log order by id")
        .fetch_all(app.store.pool())
        .await
        .unwrap()
}

/// A staff-registered unit with one occupant, and a sublandlord's pending filing of it.
struct Pending {
    admin: String,
    unit: i64,
    poster: String,
    landlord: String,
    filing: i64,
}

async fn pending_filing(app: &TestApp) -> Pending {
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let res = app
        .post_json(
            "/api/v1/units",
            &json!({"community": "影佳", "address": "影佳路 30弄 2号 501室", "rooms": 2,
                    "kind": "flat", "rental_mode": "whole"}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let unit = created["unit_id"].as_i64().unwrap();
    let poster = crate::helpers::token_of(created["poster_url"].as_str().unwrap());
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (landlord, _) = sublandlord(app, 1).await;
    let res = app
        .post_json(
            "/api/v1/filings",
            &filing("影佳", "影佳路３０弄２号５０１", "group"),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let body: Value = res.json().await.unwrap();
    Pending {
        admin,
        unit,
        poster,
        landlord,
        filing: body["filing_id"].as_i64().unwrap(),
    }
}

#[tokio::test]
async fn a_filing_of_a_unit_staff_registered_waits_and_hands_the_filer_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let res = app
        .post_json(
            "/api/v1/units",
            &json!({"community": "影佳", "address": "影佳路 30弄 2号 501室", "rooms": 2,
                    "kind": "flat", "rental_mode": "whole"}),
            Some(&admin),
        )
        .await;
    let created: Value = res.json().await.unwrap();
    let unit = created["unit_id"].as_i64().unwrap();
    let poster = crate::helpers::token_of(created["poster_url"].as_str().unwrap());
    app.register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    let occupant_id: i64 = sqlx::query_scalar("select id from occupants where unit_id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let before = unit_row(&app, unit).await;
    let (intruder, _) = sublandlord(&app, 1).await;

    let res = app
        .post_json(
            "/api/v1/filings",
            &filing("影佳", "影佳路30弄2-501", "group"),
            Some(&intruder),
        )
        .await;

    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let text = res.text().await.unwrap();
    assert!(!text.contains(&poster), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["status"], "pending");
    assert!(body["filing_id"].as_i64().unwrap() > 0);
    assert!(
        body.get("unit_id").is_none() && body.get("poster_url").is_none(),
        "{body}"
    );
    // Nothing about the unit changed: not its sublandlord, mode, rooms, state or poster.
    assert_eq!(unit_row(&app, unit).await, before);
    assert_eq!(before.0, None);
    assert_eq!(before.1, "whole");
    // None of the unit's routes answer the filer, and none of them changed anything.
    let mine: Value = app
        .get("/api/v1/my/units", Some(&intruder))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"], json!([]));
    for (get, path) in [
        (true, format!("/api/v1/my/units/{unit}")),
        (true, format!("/api/v1/my/units/{unit}/poster.png")),
        (false, format!("/api/v1/my/units/{unit}/vacancy")),
        (false, format!("/api/v1/my/units/{unit}/qr/rotate")),
        (
            false,
            format!("/api/v1/my/units/{unit}/occupants/{occupant_id}/move-out"),
        ),
    ] {
        let res = if get {
            app.get(&path, Some(&intruder)).await
        } else {
            app.post_json(&path, &json!({}), Some(&intruder)).await
        };
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(unit_row(&app, unit).await, before);
    let res = app.get(&format!("/api/v1/scan/{poster}"), None).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the sticker on the door still works"
    );
    // The filer's own list shows the filing as pending, without the unit.
    let theirs = app.get("/api/v1/filings", Some(&intruder)).await;
    let text = theirs.text().await.unwrap();
    assert!(!text.contains(&poster));
    let theirs: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(theirs["items"][0]["status"], "pending");
    assert_eq!(theirs["items"][0]["unit_id"], Value::Null);
    assert!(
        audit_actions(&app)
            .await
            .contains(&"filing.create".to_string())
    );
}

#[tokio::test]
async fn staff_in_scope_approve_a_pending_filing_and_only_then_the_unit_is_linked() {
    let app = spawn_app().await;
    let p = pending_filing(&app).await;
    let approve = format!("/api/v1/filings/{}/approve", p.filing);
    let other_police = app.login_as("police", &["祥东"]).await;
    let community = app.login_as("community", &["影佳"]).await;

    // Out of scope: not listed, and 404; roles that do not review: 403. Nothing changes.
    let list: Value = app
        .get("/api/v1/filings?status=pending", Some(&other_police))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    let res = app
        .post_json(&approve, &json!({}), Some(&other_police))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    for role in ["enforcement", "property"] {
        let token = app.login_as(role, &["影佳"]).await;
        let res = app.post_json(&approve, &json!({}), Some(&token)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{role}");
    }
    let res = app.post_json(&approve, &json!({}), Some(&p.landlord)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(unit_row(&app, p.unit).await.0, None);

    // In scope: listed as pending, then approved.
    let list: Value = app
        .get("/api/v1/filings?status=pending", Some(&community))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["filing_id"], p.filing);
    assert_eq!(list["items"][0]["status"], "pending");
    assert_eq!(list["items"][0]["unit_id"], p.unit);
    let res = app.post_json(&approve, &json!({}), Some(&community)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "approved");
    assert_eq!(body["unit_id"], p.unit);

    // Linked now, with the filing's terms; the poster stays as printed.
    let (sublandlord, mode, state, qr_version, rooms) = unit_row(&app, p.unit).await;
    assert!(sublandlord.is_some());
    assert_eq!(
        (mode.as_str(), state.as_str(), qr_version, rooms),
        ("group", "active", 1, 3)
    );
    let mine: Value = app
        .get("/api/v1/my/units", Some(&p.landlord))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["unit_id"], p.unit);
    let res = app.get(&format!("/api/v1/scan/{}", p.poster), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.post_json(&approve, &json!({}), Some(&p.admin)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "decided once");
    let pending: Value = app
        .get("/api/v1/filings?status=pending", Some(&p.admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["total"], 0);
    let res = app
        .get("/api/v1/filings?status=maybe", Some(&p.admin))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        audit_actions(&app)
            .await
            .contains(&"filing.approve".to_string())
    );
}

#[tokio::test]
async fn a_rejected_filing_leaves_the_unit_as_it_was_and_tells_the_filer_why() {
    let app = spawn_app().await;
    let p = pending_filing(&app).await;
    let police = app.login_as("police", &["影佳"]).await;
    let before = unit_row(&app, p.unit).await;
    let reject = format!("/api/v1/filings/{}/reject", p.filing);

    let res = app
        .post_json(&reject, &json!({"reason": " "}), Some(&police))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_json(&reject, &json!({"reason": "房东未授权转租"}), Some(&police))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "rejected");
    assert_eq!(unit_row(&app, p.unit).await, before);
    let theirs: Value = app
        .get("/api/v1/filings", Some(&p.landlord))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["items"][0]["status"], "rejected");
    assert_eq!(theirs["items"][0]["reason"], "房东未授权转租");
    let res = app
        .post_json(
            &format!("/api/v1/filings/{}/approve", p.filing),
            &json!({}),
            Some(&p.admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let reason: Option<String> = sqlx::query_scalar(
        "select reason from audit_log where action = 'filing.reject' and subject = $1",
    )
    .bind(format!("filing:{}", p.filing))
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(reason.as_deref(), Some("房东未授权转租"));
}

#[tokio::test]
async fn the_filing_page_says_a_known_flat_waits_for_the_community_and_links_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (unit, poster) = app
        .create_unit(&admin, "影佳", "影佳路 31弄 1号 101室")
        .await;
    let (_, cookie) = sublandlord(&app, 2).await;
    let form = page(&app, &cookie, "/my/filings/new").await;
    let csrf = csrf_of(&form.text().await.unwrap());
    let today = chrono::Utc::now().date_naive().to_string();

    let res = page_post(
        &app,
        &cookie,
        "/my/filings",
        &[
            ("csrf", csrf.as_str()),
            ("community", "影佳"),
            ("address", "影佳路31弄1号101室"),
            ("rooms", "2"),
            ("rental_mode", "daily"),
            ("floor_area_m2", ""),
            ("start_date", today.as_str()),
            ("planned_occupants", "2"),
        ],
    )
    .await;

    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/my?done=pending");
    let home = page(&app, &cookie, "/my?done=pending")
        .await
        .text()
        .await
        .unwrap();
    assert!(home.contains("需由社区审核"), "{home}");
    assert!(!home.contains(&poster));
    assert_eq!(unit_row(&app, unit).await.0, None);
    let res = page(&app, &cookie, &format!("/my/units/{unit}")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn staff_approve_and_reject_pending_filings_in_the_console() {
    let app = spawn_app().await;
    let p = pending_filing(&app).await;
    let (second, _) = sublandlord(&app, 3).await;
    app.create_unit(&p.admin, "影佳", "影佳路 32弄 1号 101室")
        .await;
    let res = app
        .post_json(
            "/api/v1/filings",
            &filing("影佳", "影佳路 32弄 1号 101室", "whole"),
            Some(&second),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let other: i64 = res.json::<Value>().await.unwrap()["filing_id"]
        .as_i64()
        .unwrap();
    let cookie = page_login(&app, "community", &["影佳"]).await;
    let list = page(&app, &cookie, "/console/filings").await;
    assert_eq!(list.status(), StatusCode::OK);
    let html = list.text().await.unwrap();
    assert!(
        html.contains("影佳路 30弄 2号 501室") && html.contains("影佳路 32弄 1号 101室"),
        "{html}"
    );
    assert!(html.contains("确认驳回"));
    let csrf = csrf_of(&html);

    // Without the CSRF token or without the ticked box, nothing happens.
    let reject = format!("/console/filings/{other}/reject");
    let res = page_post(
        &app,
        &cookie,
        &reject,
        &[("csrf", "x"), ("reason", "不符"), ("confirm", "1")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = page_post(
        &app,
        &cookie,
        &reject,
        &[("csrf", &csrf), ("reason", "不符")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = page_post(
        &app,
        &cookie,
        &reject,
        &[
            ("csrf", &csrf),
            ("reason", "不是本人出租"),
            ("confirm", "1"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = page_post(
        &app,
        &cookie,
        &format!("/console/filings/{}/approve", p.filing),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    assert!(unit_row(&app, p.unit).await.0.is_some());
    let statuses: Vec<String> = sqlx::query_scalar("select status from filings order by id")
        .fetch_all(app.store.pool())
        .await
        .unwrap();
    assert_eq!(statuses, ["approved", "rejected"]);
    let html = page(&app, &cookie, "/console/filings")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("暂无待审核的报备"), "{html}");
}
