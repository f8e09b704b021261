//! The plan's special cases: 群租 (density at filing time), 车库住人 (people in a garage),
//! 别墅群租 (villas under the flats' rules), 日租 (letting by the day, by mode or turnover),
//! and one document number current in two units.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ID_A, ID_B, TestApp, occupant, registration, spawn_app, token_of};
use crate::sublandlords::{id_number, sublandlord};

async fn json_of(res: reqwest::Response) -> Value {
    res.json().await.unwrap()
}

/// The unit's open checks as (reason, related address) pairs, sorted.
async fn open_checks(app: &TestApp, unit: i64) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        r"select d.reason, r.address from door_checks d
          left join units r on r.id = d.related_unit_id
          where d.unit_id = $1 and d.status = 'open' order by d.reason",
    )
    .bind(unit)
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

fn reasons(checks: &[(String, Option<String>)]) -> Vec<&str> {
    checks.iter().map(|c| c.0.as_str()).collect()
}

async fn new_unit(app: &TestApp, admin: &str, body: Value) -> (i64, String) {
    let res = app.post_json("/api/v1/units", &body, Some(admin)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body = json_of(res).await;
    (
        body["unit_id"].as_i64().unwrap(),
        token_of(body["poster_url"].as_str().unwrap()),
    )
}

fn filing(address: &str, rooms: i64, planned: i64, mode: &str) -> Value {
    json!({"community": "影佳", "address": address, "rooms": rooms, "rental_mode": mode,
           "start_date": chrono::Utc::now().date_naive().to_string(),
           "planned_occupants": planned})
}

#[tokio::test]
async fn a_group_rental_beyond_the_density_rules_is_refused_naming_the_rule() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 1).await;
    let post = |body: Value| {
        let app = &app;
        let landlord = landlord.clone();
        async move {
            app.post_json("/api/v1/filings", &body, Some(&landlord))
                .await
        }
    };
    // 12 people in 3 rooms: the plan's 群租.
    let res = post(filing("影佳路 20弄 1号 101室", 3, 12, "group")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(res).await;
    assert_eq!(body["fields"][0]["field"], "planned_occupants");
    assert_eq!(body["fields"][0]["code"], "density_per_room");
    assert!(
        body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2 人")
    );
    // The floor area per person applies to families too.
    let mut family = filing("影佳路 20弄 1号 102室", 3, 7, "whole");
    family["family"] = json!(true);
    family["floor_area_m2"] = json!(30.0);
    let res = post(family.clone()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(res).await["fields"][0]["code"], "density_area");
    family["floor_area_m2"] = json!(60.0);
    assert_eq!(post(family).await.status(), StatusCode::CREATED);
    assert_eq!(
        app.count("filings").await,
        1,
        "nothing stored for a refusal"
    );
    // A group rental within the rules is accepted: in effect a shared flat.
    let res = post(filing("影佳路 20弄 1号 103室", 3, 6, "group")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn letting_by_the_day_by_mode_or_by_turnover_opens_a_daily_rental_check_once() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 2).await;
    // Filed, created and imported as daily: a check at once.
    let res = app
        .post_json(
            "/api/v1/filings",
            &filing("影佳路 21弄 1号 101室", 2, 2, "daily"),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let filed = json_of(res).await["unit_id"].as_i64().unwrap();
    assert_eq!(reasons(&open_checks(&app, filed).await), ["daily_rental"]);
    let (created, _) = new_unit(
        &app,
        &admin,
        json!({"community": "影佳", "address": "影佳路 21弄 2号", "rooms": 1,
               "kind": "flat", "rental_mode": "daily"}),
    )
    .await;
    assert_eq!(reasons(&open_checks(&app, created).await), ["daily_rental"]);
    let csv = "社区,地址,间数,类型,出租方式,面积\r\n影佳,影佳路 21弄 3号,1,住宅,日租,\r\n";
    let res = app
        .post_bytes(
            "/api/v1/units/import",
            csv.as_bytes().to_vec(),
            "text/csv",
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let imported: i64 = sqlx::query_scalar("select id from units where address like '%3号'")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(
        reasons(&open_checks(&app, imported).await),
        ["daily_rental"]
    );

    // A flat let whole: three groups in a week is busy, a fourth is letting by the day.
    let (unit, poster) = new_unit(
        &app,
        &admin,
        json!({"community": "影佳", "address": "影佳路 21弄 4号", "rooms": 2,
               "kind": "flat", "rental_mode": "whole"}),
    )
    .await;
    for n in 0..3 {
        let res = app
            .register(
                &poster,
                &registration(&[occupant(&id_number(50 + n))]),
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    assert!(open_checks(&app, unit).await.is_empty());
    // The fourth and fifth arrive at once: one check.
    let (fourth, fifth) = (
        registration(&[occupant(&id_number(60))]),
        registration(&[occupant(&id_number(61))]),
    );
    let (a, b) = tokio::join!(
        app.register(&poster, &fourth, None),
        app.register(&poster, &fifth, None),
    );
    assert_eq!(
        (a.status(), b.status()),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert!(reasons(&open_checks(&app, unit).await).contains(&"daily_rental"));
    let daily: i64 = sqlx::query_scalar(
        "select count(*) from door_checks where unit_id = $1 and reason = 'daily_rental'",
    )
    .bind(unit)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(daily, 1);
}

#[tokio::test]
async fn people_in_a_garage_and_too_many_in_a_villa_open_their_checks() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (garage, garage_poster) = new_unit(
        &app,
        &admin,
        json!({"community": "影佳", "address": "影佳路 22弄 1号 车库", "rooms": 1,
               "kind": "garage", "rental_mode": "whole"}),
    )
    .await;
    assert!(
        open_checks(&app, garage).await.is_empty(),
        "an empty garage is fine"
    );
    for id in [ID_A, ID_B] {
        let res = app
            .register(&garage_poster, &registration(&[occupant(id)]), None)
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    assert_eq!(
        reasons(&open_checks(&app, garage).await),
        ["garage_dwelling"]
    );

    // 别墅群租: a villa of 2 rooms with 5 people is overcrowded like a flat.
    let (villa, villa_poster) = new_unit(
        &app,
        &admin,
        json!({"community": "影佳", "address": "影佳路 22弄 2号", "rooms": 2,
               "kind": "villa", "rental_mode": "shared"}),
    )
    .await;
    let people: Vec<Value> = (70..75).map(|n| occupant(&id_number(n))).collect();
    let res = app
        .register(&villa_poster, &registration(&people), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(reasons(&open_checks(&app, villa).await), ["overcrowding"]);

    // Each counts in the month's statistics by reason.
    let stats = json_of(app.get("/api/v1/stats", Some(&admin)).await).await;
    let by_reason = &stats["overall"]["checks_opened_by_reason"];
    assert_eq!(by_reason["garage_dwelling"], 1, "{stats}");
    assert_eq!(by_reason["overcrowding"], 1);
}

#[tokio::test]
async fn a_document_current_in_a_second_unit_flags_the_earlier_one_with_both_addresses() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (first, first_poster) = app.create_unit(&admin, "影佳", "影佳路 23弄 1号").await;
    let (second, second_poster) = app.create_unit(&admin, "影佳", "影佳路 23弄 2号").await;
    let (third, third_poster) = app.create_unit(&admin, "影佳", "影佳路 23弄 3号").await;
    let res = app
        .register(&first_poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(open_checks(&app, first).await.is_empty());
    // The same person registers in two other flats at once.
    let same = registration(&[occupant(ID_A)]);
    let (a, b) = tokio::join!(
        app.register(&second_poster, &same, None),
        app.register(&third_poster, &same, None),
    );
    assert_eq!(
        (a.status(), b.status()),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    let checks = open_checks(&app, first).await;
    assert_eq!(
        reasons(&checks),
        ["identity_conflict"],
        "exactly one on the first"
    );
    let other = checks[0].1.clone().unwrap();
    assert!(
        other == "影佳路 23弄 2号" || other == "影佳路 23弄 3号",
        "{other}"
    );
    // Where one of the two committed first, the later flags it too (on PostgreSQL two truly
    // simultaneous ones may not see each other); never the unit just registered.
    let flagged: i64 =
        sqlx::query_scalar("select count(*) from door_checks where reason = 'identity_conflict'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert!((1..=2).contains(&flagged), "{flagged}");
    let _ = (second, third);

    // The officer sees both addresses, in the queue and on the unit page.
    let queue = json_of(
        app.get("/api/v1/door-checks?reason=identity_conflict", Some(&admin))
            .await,
    )
    .await;
    let item = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["unit_id"] == first)
        .unwrap()
        .clone();
    assert_eq!(item["address"], "影佳路 23弄 1号");
    assert_eq!(item["other_address"], other.as_str());
    let cookie = crate::helpers::page_login(&app, "police", &["影佳"]).await;
    let html = crate::helpers::page(&app, &cookie, &format!("/police/units/{first}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("证件多处在住") && html.contains(&other),
        "{html}"
    );
}

#[tokio::test]
async fn a_passport_needs_a_nationality_and_the_statistics_count_three_groups() {
    let app = spawn_app().await;
    let (admin, _, poster) = app.unit_fixture().await;
    let passport = |nationality: Option<&str>| {
        let mut person = json!({"name": "KIM MINSU", "id_type": "passport",
                                "id_number": "M12345678", "phone": "13800138000",
                                "room": "B", "move_in": "2026-11-01"});
        if let Some(n) = nationality {
            person["nationality"] = json!(n);
        }
        person
    };
    for (nationality, code) in [(None, "required"), (Some("KR"), "unknown")] {
        let res = app
            .register(&poster, &registration(&[passport(nationality)]), None)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = json_of(res).await;
        assert_eq!(
            body["fields"][0]["field"], "occupants[0].nationality",
            "{body}"
        );
        assert_eq!(body["fields"][0]["code"], code);
    }
    assert_eq!(app.count("occupants").await, 0);
    let res = app
        .register(
            &poster,
            &registration(&[passport(Some("kor")), occupant(ID_A)]),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let stored: Vec<Option<String>> =
        sqlx::query_scalar("select nationality from occupants order by id")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(stored, [Some("KOR".to_string()), None]);
    let stats = json_of(app.get("/api/v1/stats", Some(&admin)).await).await;
    let groups = &stats["overall"]["occupants_by_group"];
    assert_eq!(
        (groups["foreign"].as_i64(), groups["mainland"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(stats["overall"]["occupants"], 2);

    // The tenant's English page lists the countries in Chinese and English; the Chinese one
    // stays light and asks once a passport is sent without one.
    let html = app
        .get(&format!("/q/{poster}?lang=en"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("韩国 South Korea (KOR)") && html.contains("name=\"nationality_0\""));
    let html = app
        .get(&format!("/q/{poster}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("South Korea"), "no list until it is needed");
}
