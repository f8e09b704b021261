use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ID_A, ID_B, TestApp, occupant, registration, spawn_app, token_of};
use renfang::domain::document::with_check_char;
use renfang::jobs::sweep;

const PASSWORD: &str = "landlord-pass-1";

/// A valid resident ID number, distinct for each `n`.
pub fn id_number(n: u32) -> String {
    with_check_char(&format!("31011719800101{n:03}")).unwrap()
}

pub fn phone(n: u32) -> String {
    format!("1390000{n:04}")
}

async fn sign_up(app: &TestApp, phone: &str, id_number: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/sublandlords",
        &json!({"name": "王二房", "phone": phone, "id_type": "resident_id",
                "id_number": id_number, "password": PASSWORD}),
        None,
    )
    .await
}

pub async fn login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/login",
        &json!({"username": username, "password": password}),
        None,
    )
    .await
}

/// A signed-up and logged-in sublandlord: their bearer token.
pub async fn sublandlord(app: &TestApp, n: u32) -> String {
    let res = sign_up(app, &phone(n), &id_number(n)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = login(app, &phone(n), PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["role"], "sublandlord");
    body["token"].as_str().unwrap().to_string()
}

pub fn filing(community: &str, address: &str, rooms: i64, planned: i64) -> Value {
    json!({"community": community, "address": address, "rooms": rooms,
           "rental_mode": "shared", "start_date": Utc::now().date_naive().to_string(),
           "planned_occupants": planned})
}

/// Files a unit and returns the answer's body (asserting 201).
pub async fn file(app: &TestApp, token: &str, body: &Value) -> Value {
    let res = app.post_json("/api/v1/filings", body, Some(token)).await;
    let status = res.status();
    let answer: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{answer} for {body}");
    answer
}

async fn json_of(res: reqwest::Response) -> Value {
    res.json().await.unwrap()
}

fn people(ids: &[&str]) -> Value {
    let list: Vec<Value> = ids.iter().map(|i| occupant(i)).collect();
    registration(&list)
}

#[tokio::test]
async fn a_sublandlord_signs_up_logs_in_with_the_phone_and_changes_the_password() {
    let app = spawn_app().await;
    let res = sign_up(&app, "139 0000 0001", &id_number(1)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let again = sign_up(&app, "13900000001", &id_number(2)).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    // Every bad field is named.
    let res = app
        .post_json(
            "/api/v1/sublandlords",
            &json!({"name": "", "phone": "12345", "id_type": "resident_id",
                    "id_number": "110105194912310021", "password": "short"}),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(res).await;
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "phone", "id_number", "password"]);
    let res = app
        .post_json(
            "/api/v1/sublandlords",
            &json!({"name": "王", "phone": "13900000009", "id_type": "resident_id",
                    "id_number": ID_A, "password": PASSWORD, "role": "admin"}),
            None,
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown field"
    );

    // The phone is the login, written either way; neither it nor the document number is
    // stored in clear.
    let res = login(&app, "13900000001", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = json_of(res).await["token"].as_str().unwrap().to_string();
    let names: Vec<String> = sqlx::query_scalar("select username from users")
        .fetch_all(app.store.pool())
        .await
        .unwrap();
    assert!(
        names.iter().all(|n| !n.contains("13900000001")),
        "{names:?}"
    );
    let masked: String = sqlx::query_scalar("select id_number_masked from sublandlords")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert!(masked.contains('*') && !masked.contains(&id_number(1)[6..14]));

    // A password change needs the old password and a long enough new one.
    let res = app
        .post_json(
            "/api/v1/password",
            &json!({"old_password": "wrong-password", "new_password": "another-pass-2"}),
            Some(&token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(res).await["fields"][0]["field"], "old_password");
    let res = app
        .post_json(
            "/api/v1/password",
            &json!({"old_password": PASSWORD, "new_password": "short"}),
            Some(&token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_json(
            "/api/v1/password",
            &json!({"old_password": PASSWORD, "new_password": "another-pass-2"}),
            Some(&token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        login(&app, "13900000001", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, "13900000001", "another-pass-2").await.status(),
        StatusCode::OK
    );
    let res = app
        .post_json("/api/v1/logout", &json!({}), Some(&token))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/my/units", Some(&token)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn repeated_failed_logins_are_slowed_and_then_locked() {
    let app = spawn_app().await;
    sublandlord(&app, 1).await;
    sublandlord(&app, 2).await;
    let user = phone(1);
    for attempt in 1..=9 {
        let started = Instant::now();
        let res = login(&app, &user, "not-the-password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
        if attempt == 5 {
            assert!(
                started.elapsed() >= StdDuration::from_millis(500),
                "the fifth failure is answered slowly"
            );
        }
    }
    let res = login(&app, &user, "not-the-password").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Locked: even the right password is refused for now, with a plain message.
    let res = login(&app, &user, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = json_of(res).await;
    assert_eq!(body["error"], "login_locked");
    assert!(body["message"].as_str().unwrap().contains("分钟"));
    // Another account is not affected.
    assert_eq!(
        login(&app, &phone(2), PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_filing_creates_the_unit_once_however_its_address_is_written() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let landlord = sublandlord(&app, 1).await;
    let first = file(
        &app,
        &landlord,
        &filing("影佳", "上海市嘉定区影佳路１２弄３号楼４０１", 2, 3),
    )
    .await;
    let unit = first["unit_id"].as_i64().unwrap();
    assert!(first["filing_id"].as_i64().unwrap() > 0);
    // The poster works at once.
    let poster = token_of(first["poster_url"].as_str().unwrap());
    let res = app.get(&format!("/api/v1/scan/{poster}"), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    // The same flat written differently links to the same unit and keeps its poster.
    let again = file(&app, &landlord, &filing("影佳", "影佳路 12弄 3-401", 3, 4)).await;
    assert_eq!(again["unit_id"].as_i64().unwrap(), unit);
    assert_eq!(again["poster_url"], first["poster_url"]);
    assert_eq!(app.count("units").await, 1);
    assert_eq!(app.count("filings").await, 2);

    // A flat staff created first is not doubled: the filing waits for staff, hands over no
    // poster, and links that very unit once approved.
    let (staff_unit, staff_poster) = app
        .create_unit(&admin, "祥东", "祥东路 5弄 6号 702室")
        .await;
    let res = app
        .post_json(
            "/api/v1/filings",
            &filing("祥东", "祥东路5弄6号702", 2, 2),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let waiting = json_of(res).await;
    assert_eq!(waiting["status"], "pending");
    assert!(!waiting.to_string().contains(&staff_poster));
    let res = app
        .post_json(
            &format!("/api/v1/filings/{}/approve", waiting["filing_id"]),
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["unit_id"].as_i64().unwrap(), staff_unit);
    assert_eq!(app.count("units").await, 2);

    // Another sublandlord cannot take it over.
    let other = sublandlord(&app, 2).await;
    let res = app
        .post_json(
            "/api/v1/filings",
            &filing("影佳", "影佳路12弄3号401室", 1, 1),
            Some(&other),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // Bad fields are named; an unknown community is one of them.
    let res = app
        .post_json(
            "/api/v1/filings",
            &json!({"community": "没有", "address": "", "rooms": 0, "rental_mode": "x",
                    "start_date": "2020-01-01", "planned_occupants": 0}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(res).await;
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "community",
            "address",
            "rooms",
            "rental_mode",
            "start_date",
            "planned_occupants"
        ]
    );

    // Police see the filings of their communities only; staff may not file.
    let police = app.login_as("police", &["祥东"]).await;
    let list = json_of(app.get("/api/v1/filings", Some(&police)).await).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["community"], "祥东");
    let mine = json_of(app.get("/api/v1/filings", Some(&landlord)).await).await;
    assert_eq!(mine["total"], 3);
    let res = app
        .post_json(
            "/api/v1/filings",
            &filing("祥东", "祥东路 1号", 1, 1),
            Some(&police),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn my_units_show_the_clock_and_every_action_works() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 1).await;
    let filed = file(
        &app,
        &landlord,
        &filing("影佳", "影佳路 1弄 1号 101室", 2, 4),
    )
    .await;
    let unit = filed["unit_id"].as_i64().unwrap();
    let poster = token_of(filed["poster_url"].as_str().unwrap());

    let list = json_of(app.get("/api/v1/my/units", Some(&landlord)).await).await;
    let item = &list["items"][0];
    assert_eq!(item["unit_id"].as_i64().unwrap(), unit);
    assert_eq!(item["overdue"], false);
    assert_eq!(item["days_left"], 5);
    assert_eq!(item["last_upload_at"], Value::Null);
    assert_eq!(item["occupants"].as_array().unwrap().len(), 0);

    // A tenant registers through the poster; the sublandlord registers another.
    let res = app.register(&poster, &people(&[ID_A]), None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/registrations"),
            &people(&[ID_B]),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mine = json_of(
        app.get(&format!("/api/v1/my/units/{unit}"), Some(&landlord))
            .await,
    )
    .await;
    let occupants = mine["occupants"].as_array().unwrap();
    assert_eq!(occupants.len(), 2);
    assert!(
        occupants
            .iter()
            .all(|o| o["id_number"].as_str().unwrap().contains('*'))
    );
    assert!(
        occupants
            .iter()
            .all(|o| o["name"].as_str().unwrap().contains('*'))
    );
    assert!(mine["last_upload_at"].is_string());

    // A move-out, then "unchanged" counts as an upload.
    let leaving = occupants[0]["id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/occupants/{leaving}/move-out"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/occupants/{leaving}/move-out"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "already moved out");
    let before = app.count("registrations").await;
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/confirm"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        json_of(res).await["receipt"]
            .as_str()
            .unwrap()
            .starts_with("RF")
    );
    assert_eq!(app.count("registrations").await, before + 1);
    let mine = json_of(
        app.get(&format!("/api/v1/my/units/{unit}"), Some(&landlord))
            .await,
    )
    .await;
    assert_eq!(mine["occupants"].as_array().unwrap().len(), 1);

    // Reprint keeps the token; rotation replaces it and the old poster answers 410.
    let res = app
        .get(
            &format!("/api/v1/my/units/{unit}/poster.png"),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let png = res.bytes().await.unwrap();
    let text = crate::posters::decode_png(&png);
    assert!(text.ends_with(&poster), "reprint carries the same token");
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/qr/rotate"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let rotated = json_of(res).await;
    assert_ne!(token_of(rotated["poster_url"].as_str().unwrap()), poster);
    let res = app.get(&format!("/api/v1/scan/{poster}"), None).await;
    assert_eq!(res.status(), StatusCode::GONE);

    // A vacancy pauses the clock for at most the confirmation period: the sweep passes the
    // unit by until then. The last occupant leaves first: a vacancy with people listed is
    // refused.
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/vacancy"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let last = mine["occupants"][0]["id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/occupants/{last}/move-out"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/vacancy"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let created = sweep::run(
        &app.store,
        crate::helpers::RULES,
        Utc::now() + Duration::days(29),
    )
    .await
    .unwrap();
    assert_eq!(created, 0);
    let mine = json_of(
        app.get(&format!("/api/v1/my/units/{unit}"), Some(&landlord))
            .await,
    )
    .await;
    assert_eq!(mine["state"], "vacant");
    assert_eq!(mine["days_left"], Value::Null);
}

/// The open checks of a unit as (reason, details) pairs.
async fn open_checks(app: &TestApp, unit: i64) -> Vec<(String, Value)> {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "select reason, details from door_checks where unit_id = $1 and status = 'open' order by reason",
    )
    .bind(unit)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(r, d)| {
            (
                r,
                serde_json::from_str(&d.unwrap_or_default()).unwrap_or(Value::Null),
            )
        })
        .collect()
}

#[tokio::test]
async fn more_people_than_filed_or_allowed_opens_checks_with_the_numbers() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 1).await;
    // One room, two planned: two people are within both limits.
    let filed = file(
        &app,
        &landlord,
        &filing("影佳", "影佳路 2弄 1号 101室", 1, 2),
    )
    .await;
    let unit = filed["unit_id"].as_i64().unwrap();
    let poster = token_of(filed["poster_url"].as_str().unwrap());
    let res = app
        .register(&poster, &people(&[&id_number(11), &id_number(12)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(open_checks(&app, unit).await.is_empty());
    // A third: more than 2 per room and more than filed.
    let res = app
        .register(&poster, &people(&[&id_number(13)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let checks = open_checks(&app, unit).await;
    let reasons: Vec<&str> = checks.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(reasons, ["filing_mismatch", "overcrowding"]);
    assert_eq!(checks[0].1["occupants"], 3);
    assert_eq!(checks[0].1["planned_occupants"], 2);
    assert_eq!(checks[1].1["occupants"], 3);
    assert_eq!(checks[1].1["rooms"], 1);
    assert_eq!(checks[1].1["max_per_room"], 2);
    // Police see them in the queue.
    let admin = app.login_as("admin", &[]).await;
    let queue = json_of(
        app.get("/api/v1/door-checks?reason=overcrowding", Some(&admin))
            .await,
    )
    .await;
    assert_eq!(queue["total"], 1);

    // A family of three in one room is not overcrowded by the per-room rule, but 12 m² for
    // three is less than 5 m² each; 15 m² is exactly enough. (The filing itself is held to
    // the same rules: the 12 m² flat can be filed for two only.)
    let family_unit = |area: f64, address: &str, planned: i64| {
        let mut body = filing("影佳", address, 1, planned);
        body["floor_area_m2"] = json!(area);
        body["family"] = json!(true);
        body
    };
    for (area, address, planned, expected) in [
        (15.0, "影佳路 2弄 2号 101室", 3, vec![]),
        (
            12.0,
            "影佳路 2弄 3号 101室",
            2,
            vec!["filing_mismatch", "overcrowding"],
        ),
    ] {
        let filed = file(&app, &landlord, &family_unit(area, address, planned)).await;
        let unit = filed["unit_id"].as_i64().unwrap();
        let mut body = people(&[&id_number(21), &id_number(22), &id_number(23)]);
        body["family"] = json!(true);
        let res = app
            .post_json(
                &format!("/api/v1/my/units/{unit}/registrations"),
                &body,
                Some(&landlord),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let reasons: Vec<String> = open_checks(&app, unit)
            .await
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        assert_eq!(reasons, expected, "{area} m²");
    }
}

#[tokio::test]
async fn the_self_declaration_rate_counts_filings_before_the_first_registration() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let landlord = sublandlord(&app, 1).await;
    // 影佳: filed, then registered: in advance.
    let filed = file(&app, &landlord, &filing("影佳", "影佳路 3弄 1号", 2, 2)).await;
    let poster = token_of(filed["poster_url"].as_str().unwrap());
    app.register(&poster, &people(&[ID_A]), None).await;
    // 祥东: registered first (staff-made unit), filed afterwards: late.
    let (_, late_poster) = app.create_unit(&admin, "祥东", "祥东路 3弄 1号").await;
    app.register(&late_poster, &people(&[ID_B]), None).await;
    let res = app
        .post_json(
            "/api/v1/filings",
            &filing("祥东", "祥东路 3弄 1号", 2, 2),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let waiting = json_of(res).await;
    let res = app
        .post_json(
            &format!("/api/v1/filings/{}/approve", waiting["filing_id"]),
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // A unit without a sublandlord is not in the rate.
    app.create_unit(&admin, "祥东", "祥东路 3弄 2号").await;

    let stats = json_of(app.get("/api/v1/stats", Some(&admin)).await).await;
    assert_eq!(stats["filing_rate_target"], 0.95);
    assert_eq!(stats["overall"]["units"], 3);
    assert_eq!(stats["overall"]["sublandlord_units"], 2);
    assert_eq!(stats["overall"]["filed_in_advance"], 1);
    assert_eq!(stats["overall"]["filing_rate"], 0.5);
    assert_eq!(stats["overall"]["filing_rate_met"], false);
    assert_eq!(stats["overall"]["occupants"], 2);
    let by: Vec<(String, Value)> = stats["communities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["community"].as_str().unwrap().to_string(),
                c["filing_rate"].clone(),
            )
        })
        .collect();
    assert!(by.contains(&("影佳".into(), json!(1.0))), "{by:?}");
    assert!(by.contains(&("祥东".into(), json!(0.0))), "{by:?}");
    // Scoped staff see their community only; a month before the data counts no uploads and
    // no units, which did not exist yet.
    let police = app.login_as("police", &["影佳"]).await;
    let mine = json_of(app.get("/api/v1/stats", Some(&police)).await).await;
    assert_eq!(mine["communities"].as_array().unwrap().len(), 1);
    assert_eq!(mine["overall"]["filing_rate_met"], true);
    let old = json_of(app.get("/api/v1/stats?month=2020-01", Some(&admin)).await).await;
    assert_eq!(old["overall"]["registrations"], 0);
    assert_eq!(old["overall"]["units"], 0);
    let res = app.get("/api/v1/stats?month=2026-13", Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app.get("/api/v1/stats?community=祥东", Some(&police)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_ledger_ranks_people_and_groups_accounts_of_one_person() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let small = sublandlord(&app, 1).await;
    let big = sublandlord(&app, 2).await;
    // The same person (document number of #2) with a second phone.
    let res = sign_up(&app, &phone(3), &id_number(2)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let second = json_of(login(&app, &phone(3), PASSWORD).await).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    file(&app, &small, &filing("影佳", "影佳路 9弄 1号", 1, 1)).await;
    file(&app, &big, &filing("影佳", "影佳路 9弄 2号", 3, 4)).await;
    let third = file(&app, &second, &filing("祥东", "祥东路 9弄 3号", 4, 6)).await;
    // A violation found at one of the second account's units.
    sweep::run(
        &app.store,
        crate::helpers::RULES,
        Utc::now() + Duration::days(6),
    )
    .await
    .unwrap();
    let queue = json_of(
        app.get("/api/v1/door-checks?community=祥东", Some(&admin))
            .await,
    )
    .await;
    let check = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["unit_id"] == third["unit_id"])
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/door-checks/{check}/result"),
            &json!({"outcome": "violation", "note": "隔断群租"}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let enforcement = app.login_as("enforcement", &["影佳", "祥东"]).await;
    let ledger = json_of(
        app.get("/api/v1/sublandlords?sort=priority", Some(&enforcement))
            .await,
    )
    .await;
    assert_eq!(ledger["total"], 2, "three accounts, two people");
    let first = &ledger["items"][0];
    assert_eq!(first["accounts"], 2);
    assert_eq!(first["units"], 2);
    assert_eq!(first["rooms"], 7);
    assert_eq!(first["violations"], 1);
    assert_eq!(first["past_checks"], 1);
    assert_eq!(first["open_checks"], 1);
    assert!(first["id_number"].as_str().unwrap().contains('*'));
    // 2·2 units + 7 rooms + 3·1 open + 1 past + 10·1 violation = 25.
    assert_eq!(first["priority"], 25);
    let last = &ledger["items"][1];
    assert_eq!(last["units"], 1);
    assert!(last["priority"].as_i64().unwrap() < 25);
    // Paged.
    let page2 = json_of(
        app.get("/api/v1/sublandlords?per_page=1&page=2", Some(&enforcement))
            .await,
    )
    .await;
    assert_eq!(page2["items"][0]["person_id"], last["person_id"]);
    // Police of one community see only what their units add up to.
    let police = app.login_as("police", &["祥东"]).await;
    let theirs = json_of(app.get("/api/v1/sublandlords", Some(&police)).await).await;
    assert_eq!(theirs["total"], 1);
    assert_eq!(theirs["items"][0]["units"], 1);
    // Others may not read it.
    for token in [&small, &app.login_as("property", &["影佳"]).await] {
        let res = app.get("/api/v1/sublandlords", Some(token)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    let res = app
        .get("/api/v1/sublandlords?sort=name", Some(&enforcement))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_ledger_is_current(&app).await;
}

type LedgerSnapshot = Vec<(i64, i64, i64, i64, i64, i64, i64, i64, i64)>;

async fn ledger_rows(app: &TestApp) -> LedgerSnapshot {
    sqlx::query_as(
        r"select person_id, community_id, units, rooms, occupants, open_checks, past_checks,
                 violations, priority
          from ledger_rows order by person_id, community_id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

/// The ledger kept by every write equals one recomputed from the records.
async fn assert_ledger_is_current(app: &TestApp) {
    let kept = ledger_rows(app).await;
    renfang::store::sublandlords::rebuild_ledger(&app.store)
        .await
        .unwrap();
    assert_eq!(kept, ledger_rows(app).await);
}

#[tokio::test]
async fn the_ledger_keeps_up_with_concurrent_writes_to_one_persons_units() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 1).await;
    let mut posters = Vec::new();
    for i in 0..4 {
        let filed = file(
            &app,
            &landlord,
            &filing("影佳", &format!("影佳路 11弄 {i}号"), 2, 4),
        )
        .await;
        posters.push(token_of(filed["poster_url"].as_str().unwrap()));
    }
    // Twelve registrations at once over the four units, then a sweep past the
    // confirmation period.
    let registrations = (0..12u32).map(|n| {
        let poster = posters[n as usize % 4].clone();
        let body = people(&[&id_number(100 + n)]);
        let app = &app;
        async move { app.register(&poster, &body, None).await.status() }
    });
    for status in futures_util::future::join_all(registrations).await {
        assert_eq!(status, StatusCode::CREATED);
    }
    let rows = ledger_rows(&app).await;
    let all = rows.iter().find(|r| r.1 == 0).unwrap();
    assert_eq!((all.2, all.4), (4, 12), "4 units, 12 occupants");
    sweep::run(
        &app.store,
        crate::helpers::RULES,
        Utc::now() + Duration::days(31),
    )
    .await
    .unwrap();
    let rows = ledger_rows(&app).await;
    assert_eq!(
        rows.iter().find(|r| r.1 == 0).unwrap().5,
        4,
        "4 open checks"
    );
    assert_ledger_is_current(&app).await;
}

#[tokio::test]
async fn a_sweep_in_parallel_chunks_counts_each_new_check_once_in_the_ledger() {
    use renfang::store::door_checks::sweep_in_chunks;
    let app = spawn_app().await;
    app.admin_with(&["影佳", "祥东"]).await;
    let first = sublandlord(&app, 1).await;
    let second = sublandlord(&app, 2).await;
    for i in 0..3 {
        file(
            &app,
            &first,
            &filing("影佳", &format!("影佳路 12弄 {i}号"), 2, 2),
        )
        .await;
        file(
            &app,
            &first,
            &filing("祥东", &format!("祥东路 12弄 {i}号"), 1, 1),
        )
        .await;
        file(
            &app,
            &second,
            &filing("影佳", &format!("影佳路 13弄 {i}号"), 1, 1),
        )
        .await;
    }
    // Nobody registered anywhere: all nine units are overdue six days on. Two sweeps of the
    // same instant at once, each in chunks of two units written side by side, then a third.
    let at_ms = (Utc::now() + Duration::days(6)).timestamp_millis();
    let rules = crate::helpers::RULES;
    let (a, b) = tokio::join!(
        sweep_in_chunks(&app.store, at_ms, rules, 2),
        sweep_in_chunks(&app.store, at_ms, rules, 2)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 9, "each unit's check opened once");
    assert_eq!(
        sweep_in_chunks(&app.store, at_ms, rules, 1).await.unwrap(),
        0
    );
    // Per person over all communities (community 0): 3 and 6; per person and community:
    // 3 each (two people in 影佳, one in 祥东).
    let rows = ledger_rows(&app).await;
    let open = |overall: bool| {
        let mut v: Vec<i64> = rows
            .iter()
            .filter(|r| (r.1 == 0) == overall)
            .map(|r| r.5)
            .collect();
        v.sort_unstable();
        v
    };
    assert_eq!(open(true), [3, 6]);
    assert_eq!(open(false), [3, 3, 3]);
    assert_ledger_is_current(&app).await;
}

/// What a sublandlord route might change about a unit.
async fn unit_state(app: &TestApp, unit: i64) -> (String, i64, i64, i64, i64) {
    sqlx::query_as(
        r"select u.state, u.qr_version,
                 (select count(*) from registrations r where r.unit_id = u.id),
                 (select count(*) from occupants o where o.unit_id = u.id and o.moved_out_at is null),
                 (select count(*) from filings f where f.unit_id = u.id)
          from units u where u.id = $1",
    )
    .bind(unit)
    .fetch_one(app.store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_sublandlord_reaches_only_their_own_units_and_no_staff_route() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let owner = sublandlord(&app, 1).await;
    let intruder = sublandlord(&app, 2).await;
    let filed = file(&app, &owner, &filing("影佳", "影佳路 7弄 1号", 2, 2)).await;
    let unit = filed["unit_id"].as_i64().unwrap();
    let poster = token_of(filed["poster_url"].as_str().unwrap());
    app.register(&poster, &people(&[ID_A]), None).await;
    let occupant: i64 = sqlx::query_scalar("select id from occupants where unit_id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let (staff_unit, _) = app.create_unit(&admin, "影佳", "影佳路 7弄 2号").await;
    let before = unit_state(&app, unit).await;

    let gets = [
        format!("/api/v1/my/units/{unit}"),
        format!("/api/v1/my/units/{unit}/poster.png"),
        format!("/api/v1/my/units/{staff_unit}"),
    ];
    for path in &gets {
        let res = app.get(path, Some(&intruder)).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "GET {path}");
    }
    let posts = [
        (format!("/api/v1/my/units/{unit}/confirm"), json!({})),
        (format!("/api/v1/my/units/{unit}/vacancy"), json!({})),
        (
            format!("/api/v1/my/units/{unit}/registrations"),
            people(&[ID_B]),
        ),
        (
            format!("/api/v1/my/units/{unit}/occupants/{occupant}/move-out"),
            json!({}),
        ),
        (format!("/api/v1/my/units/{unit}/qr/rotate"), json!({})),
        (format!("/api/v1/my/units/{staff_unit}/confirm"), json!({})),
    ];
    for (path, body) in &posts {
        let res = app.post_json(path, body, Some(&intruder)).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    // The staff routes of a unit are a function sublandlords do not have: 403, whoever's
    // unit it is.
    for path in [
        format!("/api/v1/units/{unit}"),
        format!("/api/v1/units/{unit}/poster.png"),
    ] {
        let res = app.get(&path, Some(&intruder)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "GET {path}");
    }
    let res = app
        .post_json(
            &format!("/api/v1/units/{unit}/qr/rotate"),
            &json!({}),
            Some(&intruder),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(unit_state(&app, unit).await, before, "nothing changed");
    let mine = json_of(app.get("/api/v1/my/units", Some(&intruder)).await).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 0);
    let theirs = json_of(app.get("/api/v1/filings", Some(&intruder)).await).await;
    assert_eq!(theirs["total"], 0);

    // Staff routes are closed to sublandlords.
    for path in [
        "/api/v1/door-checks",
        "/api/v1/door-checks.csv",
        "/api/v1/referrals",
        "/api/v1/sublandlords",
        "/api/v1/stats",
    ] {
        let res = app.get(path, Some(&intruder)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "GET {path}");
    }
    let res = app
        .post_json(
            "/api/v1/units",
            &json!({"community": "影佳", "address": "影佳路 7弄 3号", "rooms": 1,
                    "kind": "flat", "rental_mode": "whole"}),
            Some(&intruder),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post_json(
            "/api/v1/communities",
            &json!({"name": "新"}),
            Some(&intruder),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // And sublandlord routes are closed to staff.
    let res = app.get("/api/v1/my/units", Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
