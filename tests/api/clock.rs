//! The clock per unit: the N-day rule for units where nobody is registered, the
//! confirmation period for occupied ones, vacancies that pause it for at most that long, the
//! dodges refused, and every change kept in the unit's history.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ID_A, ID_B, RULES, TestApp, occupant, registration, spawn_app, token_of};
use crate::sublandlords::{file, filing, sublandlord};
use renfang::jobs::sweep;
use renfang::store::Store;

async fn json_of(res: reqwest::Response) -> Value {
    res.json().await.unwrap()
}

/// The unit's clock as stored: (state, clock_kind, clock_from).
async fn clock_of(app: &TestApp, unit: i64) -> (String, String, DateTime<Utc>) {
    let (state, kind, from): (String, String, i64) =
        sqlx::query_as("select state, clock_kind, clock_from from units where id = $1")
            .bind(unit)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    (state, kind, DateTime::from_timestamp_millis(from).unwrap())
}

/// The reasons of the unit's open checks, sorted.
async fn open_reasons(app: &TestApp, unit: i64) -> Vec<String> {
    sqlx::query_scalar(
        "select reason from door_checks where unit_id = $1 and status = 'open' order by reason",
    )
    .bind(unit)
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

async fn post(app: &TestApp, path: &str, body: Value, token: &str) -> reqwest::Response {
    app.post_json(path, &body, Some(token)).await
}

/// A sublandlord's filed unit with its poster token.
async fn filed_unit(app: &TestApp, landlord: &str, address: &str) -> (i64, String) {
    let filed = file(app, landlord, &filing("影佳", address, 3, 3)).await;
    (
        filed["unit_id"].as_i64().unwrap(),
        token_of(filed["poster_url"].as_str().unwrap()),
    )
}

#[tokio::test]
async fn unchanged_on_an_empty_unit_and_a_vacancy_with_people_listed_are_refused() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 1).await;
    let (unit, poster) = filed_unit(&app, &landlord, "影佳路 2弄 1号 101室").await;
    let confirm = format!("/api/v1/my/units/{unit}/confirm");
    let vacancy = format!("/api/v1/my/units/{unit}/vacancy");

    // Nobody registered: "unchanged" would restart the clock on no data.
    let res = post(&app, &confirm, json!({}), &landlord).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        json_of(res).await["message"]
            .as_str()
            .unwrap()
            .contains("申报空置")
    );
    assert_eq!(app.count("registrations").await, 0);

    // Three people listed: a vacancy would stop the clock on a let flat.
    let res = app
        .register(
            &poster,
            &registration(&[occupant(ID_A), occupant(ID_B)]),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = post(&app, &vacancy, json!({}), &landlord).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let message = json_of(res).await["message"].as_str().unwrap().to_string();
    assert!(message.contains("2 名"), "{message}");
    let (state, kind, _) = clock_of(&app, unit).await;
    assert_eq!((state.as_str(), kind.as_str()), ("active", "unconfirmed"));

    // A bad or future date is named; nothing moves.
    let tomorrow = (Utc::now() + Duration::days(2)).date_naive().to_string();
    for bad in ["2026-13-01", tomorrow.as_str()] {
        let res = post(&app, &vacancy, json!({"moved_out_on": bad}), &landlord).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let res = post(&app, &vacancy, json!({"moved_out": "x"}), &landlord).await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown field"
    );

    // Together with moving everyone out, with a date, in one request.
    let today = Utc::now().date_naive().to_string();
    let res = post(&app, &vacancy, json!({"moved_out_on": today}), &landlord).await;
    assert_eq!(res.status(), StatusCode::OK);
    let left: Vec<Option<String>> =
        sqlx::query_scalar("select moved_out_on from occupants where unit_id = $1")
            .bind(unit)
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(left, vec![Some(today.clone()), Some(today)]);
    let (state, kind, _) = clock_of(&app, unit).await;
    assert_eq!((state.as_str(), kind.as_str()), ("vacant", "no_upload"));
    let mine = json_of(
        app.get(&format!("/api/v1/my/units/{unit}"), Some(&landlord))
            .await,
    )
    .await;
    assert_eq!(mine["occupants"].as_array().unwrap().len(), 0);
    // "Unchanged" on the now empty unit is refused too.
    let res = post(&app, &confirm, json!({}), &landlord).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn an_empty_unit_is_due_at_exactly_n_days_and_an_occupied_one_after_the_confirmation_period()
{
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (empty, _) = app.create_unit(&admin, "影佳", "影佳路 4弄 1号").await;
    let (let_unit, poster) = app.create_unit(&admin, "影佳", "影佳路 4弄 2号").await;
    let (_, _, started) = clock_of(&app, empty).await;
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (_, kind, uploaded) = clock_of(&app, let_unit).await;
    assert_eq!(kind, "unconfirmed");

    let second = Duration::seconds(1);
    let n = Duration::days(5);
    assert_eq!(
        sweep::run(&app.store, RULES, started + n - second)
            .await
            .unwrap(),
        0
    );
    assert_eq!(sweep::run(&app.store, RULES, started + n).await.unwrap(), 1);
    assert_eq!(open_reasons(&app, empty).await, ["no_upload"]);
    // A stable tenancy is not flagged on day 6, nor a second before 30 days.
    assert!(open_reasons(&app, let_unit).await.is_empty());
    let month = Duration::days(30);
    assert_eq!(
        sweep::run(&app.store, RULES, uploaded + Duration::days(6))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        sweep::run(&app.store, RULES, uploaded + month - second)
            .await
            .unwrap(),
        0
    );
    assert!(open_reasons(&app, let_unit).await.is_empty());
    assert_eq!(
        sweep::run(&app.store, RULES, uploaded + month)
            .await
            .unwrap(),
        1
    );
    assert_eq!(open_reasons(&app, let_unit).await, ["unconfirmed"]);

    // The queue shows the reason with its label's code; an upload closes it.
    let page: Value = json_of(
        app.get("/api/v1/door-checks?per_page=10", Some(&admin))
            .await,
    )
    .await;
    let reasons: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"unconfirmed") && reasons.contains(&"no_upload"));
    let res = app
        .register(&poster, &registration(&[occupant(ID_B)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(open_reasons(&app, let_unit).await.is_empty());
    let outcome: String = sqlx::query_scalar(
        "select outcome from door_checks where unit_id = $1 and reason = 'unconfirmed'",
    )
    .bind(let_unit)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(outcome, "resolved_by_upload");
}

#[tokio::test]
async fn a_vacancy_pauses_the_clock_for_the_confirmation_period_and_then_lapses() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 2).await;
    let (unit, poster) = filed_unit(&app, &landlord, "影佳路 5弄 1号 101室").await;
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let occupant_id: i64 = sqlx::query_scalar("select id from occupants where unit_id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let res = post(
        &app,
        &format!("/api/v1/my/units/{unit}/occupants/{occupant_id}/move-out"),
        json!({"moved_out_on": Utc::now().date_naive().to_string()}),
        &landlord,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Emptied: the N-day rule runs from the move-out.
    let (_, kind, _) = clock_of(&app, unit).await;
    assert_eq!(kind, "no_upload");
    let res = post(
        &app,
        &format!("/api/v1/my/units/{unit}/vacancy"),
        json!({}),
        &landlord,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (state, _, declared) = clock_of(&app, unit).await;
    assert_eq!(state, "vacant");

    let month = Duration::days(30);
    let second = Duration::seconds(1);
    assert_eq!(
        sweep::run(&app.store, RULES, declared + month - second)
            .await
            .unwrap(),
        0
    );
    assert_eq!(clock_of(&app, unit).await.0, "vacant");
    assert_eq!(
        sweep::run(&app.store, RULES, declared + month)
            .await
            .unwrap(),
        1
    );
    assert_eq!(open_reasons(&app, unit).await, ["no_upload"]);
    assert_eq!(clock_of(&app, unit).await.0, "active");

    // The history says what happened, who did it and when.
    let detail = json_of(
        app.get(&format!("/api/v1/units/{unit}"), Some(&admin))
            .await,
    )
    .await;
    let events: Vec<(&str, Option<&str>, Option<&str>)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap(),
                e["state"].as_str(),
                e["role"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("vacancy_lapsed", Some("active"), None),
            ("vacant", Some("vacant"), Some("sublandlord")),
            ("moved_out", None, Some("sublandlord")),
        ]
    );
    let lapsed_at = detail["history"][0]["at"].as_str().unwrap();
    assert_eq!(
        DateTime::parse_from_rfc3339(lapsed_at).unwrap().timestamp(),
        (declared + month).timestamp()
    );
    assert_eq!(detail["clock"], "no_upload");

    // People registering end a vacancy, recorded as such.
    let res = post(
        &app,
        &format!("/api/v1/my/units/{unit}/vacancy"),
        json!({}),
        &landlord,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .register(&poster, &registration(&[occupant(ID_B)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let detail = json_of(
        app.get(&format!("/api/v1/units/{unit}"), Some(&admin))
            .await,
    )
    .await;
    assert_eq!(detail["state"], "active");
    assert_eq!(detail["clock"], "unconfirmed");
    assert_eq!(detail["history"][0]["event"], "reoccupied");
    assert_eq!(detail["history"][0]["state"], "active");
    // The police unit page shows the history in words.
    let cookie = crate::helpers::page_login(&app, "police", &["影佳"]).await;
    let html = crate::helpers::page(&app, &cookie, &format!("/police/units/{unit}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("房屋状态记录") && html.contains("空置期满"),
        "{html}"
    );
    assert!(html.contains("申报空置") && html.contains("二房东"));
}

#[tokio::test]
async fn concurrent_sweeps_open_each_unconfirmed_check_and_lapse_each_vacancy_once() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let mut vacant = Vec::new();
    for i in 0..6 {
        let (unit, poster) = app
            .create_unit(&admin, "影佳", &format!("影佳路 6弄 {i}号"))
            .await;
        if i % 2 == 0 {
            // A different person in each: one document in two flats is a finding of its own.
            let person = occupant(&crate::sublandlords::id_number(30 + i));
            let res = app.register(&poster, &registration(&[person]), None).await;
            assert_eq!(res.status(), StatusCode::CREATED);
        } else {
            vacant.push(unit);
        }
    }
    // The odd ones are declared vacant by an officer's visit.
    for &unit in &vacant {
        sqlx::query("update units set clock_from = 0 where id = $1")
            .bind(unit)
            .execute(app.store.pool())
            .await
            .unwrap();
    }
    sweep::run(&app.store, RULES, Utc::now()).await.unwrap();
    let checks: Vec<i64> =
        sqlx::query_scalar("select id from door_checks where status = 'open' order by unit_id")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(checks.len(), 3);
    for check in checks {
        let res = app
            .post_json(
                &format!("/api/v1/door-checks/{check}/result"),
                &json!({"outcome": "vacant"}),
                Some(&admin),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let at = Utc::now() + Duration::days(31);
    let mut stores = Vec::new();
    for _ in 0..3 {
        stores.push(Store::connect(&app.database_url, 3).await.unwrap());
    }
    let created: Vec<u64> =
        futures_util::future::join_all(stores.iter().map(|s| sweep::run(s, RULES, at)))
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
    // Three occupied units unconfirmed, three lapsed vacancies due under the N-day rule.
    assert_eq!(created.iter().sum::<u64>(), 6, "{created:?}");
    let lapses: i64 =
        sqlx::query_scalar("select count(*) from unit_events where event = 'vacancy_lapsed'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(lapses, 3);
    let reasons: Vec<(String, i64)> = sqlx::query_as(
        "select reason, count(*) from door_checks where status = 'open' group by reason order by reason",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(
        reasons,
        [("no_upload".to_string(), 3), ("unconfirmed".to_string(), 3)]
    );
}

#[tokio::test]
async fn the_unit_page_refuses_a_dodge_in_words_with_409() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let (phone, id_number) = (
        crate::sublandlords::phone(3),
        crate::sublandlords::id_number(3),
    );
    let cookie = crate::portal::page_sign_up(&app, &phone, &id_number).await;
    let res = crate::sublandlords::login(&app, &phone, "landlord-pass-1").await;
    let landlord = json_of(res).await["token"].as_str().unwrap().to_string();
    let (unit, _) = filed_unit(&app, &landlord, "影佳路 8弄 1号 101室").await;
    let html = crate::helpers::page(&app, &cookie, &format!("/my/units/{unit}"))
        .await
        .text()
        .await
        .unwrap();
    // An empty unit offers no "unchanged" button; a crafted one is refused on the page.
    assert!(!html.contains("居住人员无变化") && html.contains("申报空置"));
    let csrf = crate::helpers::csrf_of(&html);
    let res = crate::helpers::page_post(
        &app,
        &cookie,
        &format!("/my/units/{unit}/action"),
        &[("csrf", csrf.as_str()), ("action", "confirm")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        res.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(
        html.contains("无法确认") && html.contains("申报空置"),
        "{html}"
    );
}

/// A database as the release before the clock left it: its units, an occupied one and an
/// empty one, sweep by the new rules after the upgrade.
#[tokio::test]
async fn a_database_made_before_the_clock_still_sweeps_correctly_after_the_upgrade() {
    let (_db, url) = crate::helpers::fresh_database().await;
    let store = Store::connect(&url, 3).await.unwrap();
    store.migrate_up_to(14).await.unwrap();
    let day: i64 = 86_400_000;
    let now = Utc::now().timestamp_millis();
    let statements = [
        "insert into communities (id, name, created_at) values (1, '影佳', 0)".to_string(),
        // 1: occupied, uploaded 10 days ago; 2: empty, created 10 days ago;
        // 3: "vacant" with a person listed (a dodge); 4: vacant and empty.
        format!(
            "insert into units (id, community_id, address, address_key, kind, rental_mode, rooms,
                 state, watched_since, last_upload_at, clock_from, qr_version, created_at)
             values (1, 1, 'a', 'a', 'flat', 'whole', 2, 'active', {t}, {t}, {t}, 1, {t}),
                    (2, 1, 'b', 'b', 'flat', 'whole', 2, 'active', {t}, null, {t}, 1, {t}),
                    (3, 1, 'c', 'c', 'flat', 'whole', 2, 'vacant', {t}, {t}, {t}, 1, {t}),
                    (4, 1, 'd', 'd', 'flat', 'whole', 2, 'vacant', {t}, null, {t}, 1, {t})",
            t = now - 10 * day
        ),
        format!(
            "insert into registrations (id, unit_id, receipt, source, occupant_count, created_at)
             values (1, 1, 'R1', 'scan', 1, {t}), (2, 3, 'R2', 'scan', 1, {t})",
            t = now - 10 * day
        ),
        format!(
            "insert into occupants (unit_id, registration_id, name, id_type, id_number_enc,
                 id_number_index, id_number_masked, move_in, created_at)
             values (1, 1, 'x', 'resident_id', x'00', x'01', 'm', '2026-01-01', {t}),
                    (3, 2, 'y', 'resident_id', x'00', x'02', 'm', '2026-01-01', {t})",
            t = now - 10 * day
        ),
    ];
    for sql in &statements {
        let sql = if store.backend() == renfang::store::Backend::Postgres {
            sql.replace("values (", "overriding system value values (")
                .replace("x'00'", "'\\x00'::bytea")
                .replace("x'01'", "'\\x01'::bytea")
                .replace("x'02'", "'\\x02'::bytea")
        } else {
            sql.clone()
        };
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(store.pool())
            .await
            .unwrap();
    }
    store.migrate().await.unwrap();
    let at = Utc::now();
    let created = sweep::run(&store, RULES, at).await.unwrap();
    let open: Vec<(i64, String)> = sqlx::query_as(
        "select unit_id, reason from door_checks where status = 'open' order by unit_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    // The occupied ones (1, and 3 whose vacancy was void) are within 30 days; the empty
    // active one is overdue; the empty vacant one is paused.
    assert_eq!(open, [(2, "no_upload".to_string())]);
    assert_eq!(created, 1);
    let states: Vec<(String, String)> =
        sqlx::query_as("select state, clock_kind from units order by id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(
        states,
        [
            ("active".to_string(), "unconfirmed".to_string()),
            ("active".to_string(), "no_upload".to_string()),
            ("active".to_string(), "unconfirmed".to_string()),
            ("vacant".to_string(), "no_upload".to_string()),
        ]
    );
    let later = sweep::run(&store, RULES, at + Duration::days(21))
        .await
        .unwrap();
    assert_eq!(later, 2, "1 and 3 reach 30 days since their uploads");
    let last = sweep::run(&store, RULES, at + Duration::days(31))
        .await
        .unwrap();
    assert_eq!(
        last, 1,
        "the standing vacancy lapses 30 days after the upgrade"
    );
}

#[tokio::test]
async fn a_past_month_counts_units_by_the_state_they_were_in_then() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (a, _) = app.create_unit(&admin, "影佳", "影佳路 9弄 1号").await;
    let (b, _) = app.create_unit(&admin, "影佳", "影佳路 9弄 2号").await;
    let now = Utc::now();
    let day = Duration::days(1);
    // Both made 60 days ago; B was declared vacant 59 days ago and let again 5 days ago (an
    // arrangement of its history); A has been active throughout.
    let ms = |t: DateTime<Utc>| t.timestamp_millis();
    for unit in [a, b] {
        sqlx::query("update units set created_at = $1, watched_since = $1 where id = $2")
            .bind(ms(now - day * 60))
            .bind(unit)
            .execute(app.store.pool())
            .await
            .unwrap();
    }
    for (event, state, at) in [("vacant", "vacant", 59), ("reoccupied", "active", 5)] {
        sqlx::query(
            "insert into unit_events (unit_id, event, state, created_at) values ($1, $2, $3, $4)",
        )
        .bind(b)
        .bind(event)
        .bind(state)
        .bind(ms(now - day * at))
        .execute(app.store.pool())
        .await
        .unwrap();
    }

    let month = (now - day * 40).format("%Y-%m").to_string();
    let past = json_of(
        app.get(&format!("/api/v1/stats?month={month}"), Some(&admin))
            .await,
    )
    .await;
    assert_eq!(
        (
            past["overall"]["active"].as_i64(),
            past["overall"]["vacant"].as_i64()
        ),
        (Some(1), Some(1)),
        "then: A active, B vacant: {past}"
    );
    let today = json_of(app.get("/api/v1/stats", Some(&admin)).await).await;
    assert_eq!(
        (
            today["overall"]["active"].as_i64(),
            today["overall"]["vacant"].as_i64()
        ),
        (Some(2), Some(0)),
        "now: both active"
    );
}

#[tokio::test]
async fn declaring_a_vacant_unit_vacant_again_renews_the_vacancy_from_then() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 4).await;
    let (unit, _) = filed_unit(&app, &landlord, "影佳路 10弄 1号 101室").await;
    let vacancy = format!("/api/v1/my/units/{unit}/vacancy");
    assert_eq!(
        post(&app, &vacancy, json!({}), &landlord).await.status(),
        StatusCode::OK
    );
    // 29 days pass (an arrangement): one day before the vacancy would lapse.
    let earlier = (Utc::now() - Duration::days(29)).timestamp_millis();
    sqlx::query("update units set clock_from = $1 where id = $2")
        .bind(earlier)
        .bind(unit)
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(
        post(&app, &vacancy, json!({}), &landlord).await.status(),
        StatusCode::OK
    );
    let (state, _, from) = clock_of(&app, unit).await;
    assert_eq!(state, "vacant");
    assert!(
        from.timestamp_millis() > earlier + 86_400_000,
        "renewed from now"
    );
    // Two days on, the old vacancy would have lapsed; the renewed one has not.
    assert_eq!(
        sweep::run(&app.store, RULES, Utc::now() + Duration::days(2))
            .await
            .unwrap(),
        0
    );
    let renewals: i64 = sqlx::query_scalar(
        "select count(*) from unit_events where unit_id = $1 and event = 'vacant'",
    )
    .bind(unit)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(renewals, 2, "the declaration and its renewal");
}
