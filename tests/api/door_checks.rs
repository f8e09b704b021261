use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ID_A, TestApp, occupant, registration, spawn_app};
use renfang::jobs::sweep;
use renfang::store::Store;

/// An admin, communities 影佳 and 祥东, and units A and B (in that order) in 影佳.
async fn two_units(app: &TestApp) -> (String, i64, String, i64, String) {
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let (a, pa) = app
        .create_unit(&admin, "影佳", "影佳路 1弄 1号 101室")
        .await;
    let (b, pb) = app
        .create_unit(&admin, "影佳", "影佳路 1弄 2号 101室")
        .await;
    (admin, a, pa, b, pb)
}

async fn queue(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app
        .get(&format!("/api/v1/door-checks{query}"), Some(token))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["unit_id"].as_i64().unwrap())
        .collect()
}

async fn result(app: &TestApp, token: &str, check: i64, body: Value) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/door-checks/{check}/result"),
        &body,
        Some(token),
    )
    .await
}

#[tokio::test]
async fn the_sweep_opens_checks_at_n_days_and_not_before() {
    let app = spawn_app().await;
    let (admin, a, pa, b, _) = two_units(&app).await;
    let res = app
        .register(&pa, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let now = Utc::now();
    let sweep_at = |at| sweep::run(&app.store, crate::helpers::RULES, at);
    assert_eq!(
        sweep_at(now + Duration::days(5) - Duration::minutes(1))
            .await
            .unwrap(),
        0
    );
    // B has nobody registered: due after 5 days. A is occupied: due after 30.
    assert_eq!(
        sweep_at(now + Duration::days(5) + Duration::minutes(1))
            .await
            .unwrap(),
        1
    );
    let page = queue(&app, &admin, "").await;
    assert_eq!(page["total"], 1);
    assert_eq!(ids(&page), [b]);
    assert_eq!(page["items"][0]["reason"], "no_upload");
    assert_eq!(page["items"][0]["status"], "open");
    assert_eq!(
        sweep_at(now + Duration::days(30) + Duration::minutes(1))
            .await
            .unwrap(),
        1
    );
    let page = queue(&app, &admin, "").await;
    assert_eq!(page["total"], 2);
    let mut units = ids(&page);
    units.sort();
    assert_eq!(units, [a, b]);
    let a_reason = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["unit_id"] == a)
        .unwrap()["reason"]
        .clone();
    assert_eq!(a_reason, "unconfirmed");
}

#[tokio::test]
async fn sweeping_again_or_from_three_stores_at_once_creates_each_check_once() {
    let app = spawn_app().await;
    let (admin, ..) = two_units(&app).await;
    for i in 0..8 {
        app.create_unit(&admin, "祥东", &format!("祥东路 9弄 {i}号"))
            .await;
    }
    let at = Utc::now() + Duration::days(6);
    let mut stores = Vec::new();
    for _ in 0..3 {
        stores.push(Store::connect(&app.database_url, 3).await.unwrap());
    }
    let created: Vec<u64> = futures_util::future::join_all(
        stores
            .iter()
            .map(|s| sweep::run(s, crate::helpers::RULES, at)),
    )
    .await
    .into_iter()
    .map(|r| r.unwrap())
    .collect();
    assert_eq!(created.iter().sum::<u64>(), 10, "{created:?}");
    assert_eq!(
        sweep::run(&app.store, crate::helpers::RULES, at + Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(app.count("door_checks").await, 10);
}

#[tokio::test]
async fn an_upload_closes_the_open_no_upload_check_and_keeps_its_history() {
    let app = spawn_app().await;
    let (admin, _, _, b, pb) = two_units(&app).await;
    sweep::run(
        &app.store,
        crate::helpers::RULES,
        Utc::now() + Duration::days(6),
    )
    .await
    .unwrap();
    let res = app
        .register(&pb, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let unit: Value = app
        .get(&format!("/api/v1/units/{b}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let checks = unit["door_checks"].as_array().unwrap();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0]["status"], "closed");
    assert_eq!(checks[0]["outcome"], "resolved_by_upload");
    let open = queue(&app, &admin, "").await;
    assert_eq!(open["total"], 1);
    let closed = queue(&app, &admin, "?status=closed").await;
    assert_eq!(ids(&closed), [b]);
}

#[tokio::test]
async fn the_queue_is_most_overdue_first_and_unreachable_moves_a_check_down() {
    let app = spawn_app().await;
    let (admin, a, _, b, _) = two_units(&app).await;
    sweep::run(
        &app.store,
        crate::helpers::RULES,
        Utc::now() + Duration::days(7),
    )
    .await
    .unwrap();
    let page = queue(&app, &admin, "").await;
    assert_eq!(ids(&page), [a, b], "A has waited longest");
    let days = page["items"][0]["days_since_upload"].as_i64().unwrap();
    assert_eq!(
        days, 0,
        "days are counted up to now, not up to the sweep's instant"
    );
    let check_a = page["items"][0]["id"].as_i64().unwrap();
    let res = result(&app, &admin, check_a, json!({"outcome": "unreachable"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = queue(&app, &admin, "").await;
    assert_eq!(ids(&page), [b, a]);
    assert_eq!(page["items"][1]["attempts"], 1);
    assert_eq!(page["items"][1]["status"], "open");
    // Paging walks both segments in order.
    let first = queue(&app, &admin, "?per_page=1&page=1").await;
    let second = queue(&app, &admin, "?per_page=1&page=2").await;
    assert_eq!((ids(&first), ids(&second)), (vec![b], vec![a]));
    assert_eq!(first["total"], 2);
    // With nothing ready, the first page is the deferred segment alone.
    let check_b = first["items"][0]["id"].as_i64().unwrap();
    let res = result(&app, &admin, check_b, json!({"outcome": "unreachable"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = queue(&app, &admin, "").await;
    let mut both = ids(&page);
    both.sort();
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(both, expected);
    assert_eq!(page["total"], 2);
}

#[tokio::test]
async fn verified_counts_as_an_upload_and_vacant_stops_the_clock() {
    let app = spawn_app().await;
    let (admin, a, _, b, _) = two_units(&app).await;
    let at = Utc::now() + Duration::days(6);
    sweep::run(&app.store, crate::helpers::RULES, at)
        .await
        .unwrap();
    let page = queue(&app, &admin, "").await;
    let (check_a, check_b) = (
        page["items"][0]["id"].as_i64().unwrap(),
        page["items"][1]["id"].as_i64().unwrap(),
    );
    let res = result(
        &app,
        &admin,
        check_a,
        json!({"outcome": "verified", "note": "已见本人"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = result(&app, &admin, check_b, json!({"outcome": "vacant"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let unit_a: Value = app
        .get(&format!("/api/v1/units/{a}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(unit_a["last_upload_at"].is_string());
    assert_eq!(unit_a["door_checks"][0]["outcome"], "verified");
    let unit_b: Value = app
        .get(&format!("/api/v1/units/{b}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unit_b["state"], "vacant");
    // A is fresh again and B is vacant: a later sweep finds nothing.
    assert_eq!(
        sweep::run(
            &app.store,
            crate::helpers::RULES,
            Utc::now() + Duration::days(4)
        )
        .await
        .unwrap(),
        0
    );
    // A closed check takes no second result.
    let res = result(&app, &admin, check_a, json!({"outcome": "vacant"})).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_violation_opens_a_referral_for_enforcement_in_that_community() {
    let app = spawn_app().await;
    let (admin, a, ..) = two_units(&app).await;
    sweep::run(
        &app.store,
        crate::helpers::RULES,
        Utc::now() + Duration::days(6),
    )
    .await
    .unwrap();
    let check = queue(&app, &admin, "").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let res = result(&app, &admin, check, json!({"outcome": "violation"})).await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a violation needs a note"
    );
    let res = result(
        &app,
        &admin,
        check,
        json!({"outcome": "violation", "note": "隔成 6 间群租"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let inside = app.login_as("enforcement", &["影佳"]).await;
    let outside = app.login_as("enforcement", &["祥东"]).await;
    let list: Value = app
        .get("/api/v1/referrals", Some(&inside))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["unit_id"], a);
    assert_eq!(list[0]["note"], "隔成 6 间群租");
    let list: Value = app
        .get("/api/v1/referrals", Some(&outside))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0);
    let res = app.get("/api/v1/door-checks", Some(&inside)).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "enforcement works referrals, not the queue"
    );
}

#[tokio::test]
async fn staff_of_another_community_neither_see_nor_change_its_checks() {
    let app = spawn_app().await;
    let (_, a, ..) = two_units(&app).await;
    sweep::run(
        &app.store,
        crate::helpers::RULES,
        Utc::now() + Duration::days(6),
    )
    .await
    .unwrap();
    let inside = app.login_as("police", &["影佳"]).await;
    let check = queue(&app, &inside, "").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    for role in ["police", "community"] {
        let outsider = app.login_as(role, &["祥东"]).await;
        let page = queue(&app, &outsider, "").await;
        assert_eq!(page["total"], 0, "{role} sees a foreign check");
        let res = app
            .get("/api/v1/door-checks?community=影佳", Some(&outsider))
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        for outcome in ["verified", "vacant", "violation", "unreachable"] {
            let res = result(
                &app,
                &outsider,
                check,
                json!({"outcome": outcome, "note": "x"}),
            )
            .await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{role} {outcome}");
        }
        assert_eq!(
            app.get(&format!("/api/v1/units/{a}"), Some(&outsider))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    }
    let page = queue(&app, &inside, "").await;
    assert_eq!(page["total"], 2, "nothing was changed");
    assert_eq!(page["items"][0]["attempts"], 0);
}

#[tokio::test]
async fn exports_are_excel_safe_csv_and_xlsx_of_the_same_list() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    app.create_unit(&admin, "影佳", "=HYPERLINK(\"http://evil\",\"x\") 1弄")
        .await;
    sweep::run(
        &app.store,
        crate::helpers::RULES,
        Utc::now() + Duration::days(6),
    )
    .await
    .unwrap();
    let res = app.get("/api/v1/door-checks.csv", Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xef\xbb\xbf", "BOM for Excel and WPS");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.starts_with("编号,社区,地址"));
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert_eq!(text.lines().count(), 2);
    let res = app.get("/api/v1/door-checks.xlsx", Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK");
}

#[tokio::test]
async fn bad_queue_queries_are_named() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    for (query, field) in [
        ("?status=maybe", "status"),
        ("?reason=ghost", "reason"),
        ("?per_page=0", "per_page"),
        ("?page=0", "page"),
        ("?sort=x", "sort"),
    ] {
        let res = app
            .get(&format!("/api/v1/door-checks{query}"), Some(&admin))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["fields"][0]["field"], field);
    }
}

#[tokio::test]
async fn the_scheduler_runs_the_sweep_on_its_cron_in_the_configured_zone() {
    let app = spawn_app().await;
    let (_, a, ..) = two_units(&app).await;
    // Unit A has been silent for ten days.
    let ten_days_ago = (Utc::now() - Duration::days(10)).timestamp_millis();
    sqlx::query("update units set clock_from = $1, watched_since = $1 where id = $2")
        .bind(ten_days_ago)
        .bind(a)
        .execute(app.store.pool())
        .await
        .unwrap();
    let mut settings = crate::helpers::test_settings(&app.database_url);
    settings.sweep_cron = "* * * * * *".into();
    settings.tz = chrono_tz::Asia::Shanghai;
    let mut scheduler = renfang::jobs::start(app.store.clone(), &settings)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    while app.count("door_checks").await == 0 {
        assert!(
            started.elapsed().as_secs() < 10,
            "the scheduled sweep never ran"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    scheduler.shutdown().await.unwrap();
    assert_eq!(
        app.count("door_checks").await,
        1,
        "only the silent unit is overdue"
    );
}

#[tokio::test]
async fn a_bad_cron_expression_is_refused_at_start_up() {
    let app = spawn_app().await;
    let mut settings = crate::helpers::test_settings(&app.database_url);
    settings.sweep_cron = "every tuesday".into();
    assert!(
        renfang::jobs::start(app.store.clone(), &settings)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_sweep_in_small_chunks_still_takes_every_overdue_unit_exactly_once() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    for i in 0..10 {
        app.create_unit(&admin, "影佳", &format!("影佳路 3弄 {i}号"))
            .await;
    }
    // Several units share one clock instant: ties are broken by id across chunk ends.
    sqlx::query("update units set clock_from = 1000 where id % 3 = 0")
        .execute(app.store.pool())
        .await
        .unwrap();
    let at = Utc::now() + Duration::days(6);
    let at_ms = at.timestamp_millis();
    let store = &app.store;
    use crate::helpers::RULES;
    use renfang::store::door_checks::sweep_in_chunks;
    assert_eq!(sweep_in_chunks(store, at_ms, RULES, 3).await.unwrap(), 10);
    assert_eq!(sweep_in_chunks(store, at_ms, RULES, 3).await.unwrap(), 0);
    assert_eq!(sweep_in_chunks(store, at_ms, RULES, 1).await.unwrap(), 0);
    assert_eq!(app.count("door_checks").await, 10);
}

/// The open-check counters the database keeps agree with counting the checks themselves.
async fn assert_counters_agree(app: &TestApp) {
    let counted: Vec<(i64, String, i64)> = sqlx::query_as(
        r"select community_id, reason, count(*) from door_checks where status = 'open'
          group by community_id, reason order by community_id, reason",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    let kept: Vec<(i64, String, i64)> = sqlx::query_as(
        r"select community_id, reason, open from open_check_counts where open <> 0
          order by community_id, reason",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(kept, counted);
}

#[tokio::test]
async fn the_open_counts_follow_every_way_a_check_opens_and_closes() {
    let app = spawn_app().await;
    let (admin, ..) = two_units(&app).await;
    let mut posters = Vec::new();
    for i in 0..6 {
        let (_, poster) = app
            .create_unit(&admin, "祥东", &format!("祥东路 7弄 {i}号"))
            .await;
        posters.push(poster);
    }
    // Three instances sweeping at once, then again.
    let at = Utc::now() + Duration::days(6);
    let mut stores = Vec::new();
    for _ in 0..3 {
        stores.push(Store::connect(&app.database_url, 3).await.unwrap());
    }
    futures_util::future::join_all(
        stores
            .iter()
            .map(|s| sweep::run(s, crate::helpers::RULES, at)),
    )
    .await;
    assert_counters_agree(&app).await;
    let page = queue(&app, &admin, "?per_page=100").await;
    assert_eq!(page["total"], 8);
    assert_eq!(page["items"].as_array().unwrap().len(), 8);

    // An upload closes one; each visit result either closes one or (unreachable) keeps it.
    let res = app
        .register(&posters[0], &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let page = queue(&app, &admin, "?per_page=100").await;
    let checks: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(checks.len(), 7);
    for (check, outcome) in checks
        .iter()
        .zip(["verified", "vacant", "violation", "unreachable"])
    {
        let res = result(
            &app,
            &admin,
            *check,
            json!({"outcome": outcome, "note": "门口"}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{outcome}");
    }
    assert_counters_agree(&app).await;
    assert_eq!(queue(&app, &admin, "").await["total"], 4);
    let res = app
        .get(
            "/api/v1/door-checks?community=%E7%A5%A5%E4%B8%9C",
            Some(&admin),
        )
        .await;
    let one: Value = res.json().await.unwrap();
    let in_community = one["items"].as_array().unwrap().len() as i64;
    assert_eq!(one["total"], in_community);
    assert_eq!(queue(&app, &admin, "?reason=tip").await["total"], 0);
    assert_eq!(queue(&app, &admin, "?reason=no_upload").await["total"], 4);
}
