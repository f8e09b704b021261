//! Confirmations before a sublandlord's hard-to-take-back changes, and undoing a slip: the
//! account that recorded a move-out or a vacancy may undo it within 24 hours, once, while the
//! unit has not changed since; the clock goes back to what it was, and the undo is audited.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ID_A, ID_B, TestApp, csrf_of, occupant, page, page_post, registration};
use crate::sublandlords::{file, filing, sublandlord};

async fn json_of(res: reqwest::Response) -> Value {
    res.json().await.unwrap()
}

/// (state, clock_kind, clock_from) as stored.
async fn clock_of(app: &TestApp, unit: i64) -> (String, String, i64) {
    sqlx::query_as("select state, clock_kind, clock_from from units where id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

async fn current(app: &TestApp, unit: i64) -> i64 {
    sqlx::query_scalar("select count(*) from occupants where unit_id = $1 and moved_out_at is null")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

async fn audited(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_log where action = $1")
        .bind(action)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// A sublandlord's unit with two people registered: (token, unit, occupant ids).
async fn let_unit(app: &TestApp, n: u32) -> (String, i64, Vec<i64>) {
    app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(app, n).await;
    let filed = file(
        app,
        &landlord,
        &filing("影佳", "影佳路 9弄 2号 301室", 2, 2),
    )
    .await;
    let unit = filed["unit_id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/registrations"),
            &registration(&[occupant(ID_A), occupant(ID_B)]),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mine = json_of(
        app.get(&format!("/api/v1/my/units/{unit}"), Some(&landlord))
            .await,
    )
    .await;
    let ids = mine["occupants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    (landlord, unit, ids)
}

async fn undo_list(app: &TestApp, token: &str, unit: i64) -> Vec<Value> {
    let res = app
        .get(&format!("/api/v1/my/units/{unit}/undo"), Some(token))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    json_of(res).await.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_move_out_undone_puts_the_person_and_the_clock_back_once() {
    let app = crate::helpers::spawn_app().await;
    let (landlord, unit, people) = let_unit(&app, 1).await;
    let before = clock_of(&app, unit).await;
    assert_eq!(before.1, "unconfirmed");

    // Both people move out, one after the other: the unit is empty, its clock the N-day one.
    for id in &people {
        let res = app
            .post_json(
                &format!("/api/v1/my/units/{unit}/occupants/{id}/move-out"),
                &json!({"moved_out_on": chrono::Utc::now().date_naive().to_string()}),
                Some(&landlord),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(current(&app, unit).await, 0);
    assert_eq!(clock_of(&app, unit).await.1, "no_upload");

    let list = undo_list(&app, &landlord, unit).await;
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["event"], "moved_out");
    assert!(list[0]["label"].as_str().unwrap().contains("搬离"));
    assert!(list[0]["until"].as_str().unwrap().ends_with('Z'));

    // The newest one was a slip: undone, that person is back and the clock runs as before.
    let last = list[0]["event_id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/undo/{last}"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let undone = json_of(res).await;
    assert_eq!(undone["people"], 1);
    assert_eq!(undone["vacancy_withdrawn"], false);
    assert_eq!(current(&app, unit).await, 1);
    assert_eq!(clock_of(&app, unit).await, before);
    assert_eq!(audited(&app, "occupant.move_out_undone").await, 1);

    // Once only.
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/undo/{last}"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        json_of(res).await["message"]
            .as_str()
            .unwrap()
            .contains("24 小时")
    );
    assert_eq!(current(&app, unit).await, 1);
    assert_eq!(undo_list(&app, &landlord, unit).await.len(), 1);

    // Another sublandlord does not even see the unit.
    let other = sublandlord(&app, 2).await;
    let first = list[1]["event_id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/undo/{first}"),
            &json!({}),
            Some(&other),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(current(&app, unit).await, 1);
}

#[tokio::test]
async fn a_slip_older_than_a_day_cannot_be_undone() {
    let app = crate::helpers::spawn_app().await;
    let (landlord, unit, people) = let_unit(&app, 1).await;
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/occupants/{}/move-out", people[0]),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let event = undo_list(&app, &landlord, unit).await[0]["event_id"]
        .as_i64()
        .unwrap();
    // Recorded 25 hours ago, as far as the service can tell.
    let day_ago = chrono::Utc::now().timestamp_millis() - 25 * 3_600_000;
    sqlx::query("update unit_events set created_at = $1 where id = $2")
        .bind(day_ago)
        .bind(event)
        .execute(app.store.pool())
        .await
        .unwrap();
    assert!(undo_list(&app, &landlord, unit).await.is_empty());
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/undo/{event}"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(current(&app, unit).await, 1);
}

#[tokio::test]
async fn everyone_out_and_vacant_is_undone_as_one_step_unless_renewed_since() {
    let app = crate::helpers::spawn_app().await;
    let (landlord, unit, _) = let_unit(&app, 1).await;
    let before = clock_of(&app, unit).await;
    let vacancy = format!("/api/v1/my/units/{unit}/vacancy");
    let today = chrono::Utc::now().date_naive().to_string();
    let res = app
        .post_json(&vacancy, &json!({"moved_out_on": today}), Some(&landlord))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(clock_of(&app, unit).await.0, "vacant");
    let list = undo_list(&app, &landlord, unit).await;
    assert_eq!(list.len(), 1, "one step: {list:?}");
    assert_eq!(list[0]["event"], "vacant");
    assert_eq!(list[0]["people"].as_array().unwrap().len(), 2);

    // Undone: both people back, let again, the clock as it was before.
    let event = list[0]["event_id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/undo/{event}"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let undone = json_of(res).await;
    assert_eq!(
        (
            undone["people"].as_i64(),
            undone["vacancy_withdrawn"].as_bool()
        ),
        (Some(2), Some(true))
    );
    assert_eq!(clock_of(&app, unit).await, before);
    assert_eq!(current(&app, unit).await, 2);
    let history = json_of(
        app.get(
            &format!("/api/v1/units/{unit}"),
            Some(&app.login_as("admin", &["影佳"]).await),
        )
        .await,
    )
    .await;
    assert_eq!(history["history"][0]["event"], "undone", "{history}");
    assert_eq!(audited(&app, "unit.vacancy_undone").await, 1);

    // Vacant again, then declared again: the first declaration is no longer the standing one.
    let res = app
        .post_json(&vacancy, &json!({"moved_out_on": today}), Some(&landlord))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let event = undo_list(&app, &landlord, unit).await[0]["event_id"]
        .as_i64()
        .unwrap();
    sqlx::query("update units set clock_from = clock_from - 60000 where id = $1")
        .bind(unit)
        .execute(app.store.pool())
        .await
        .unwrap();
    let res = app.post_json(&vacancy, &json!({}), Some(&landlord)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/undo/{event}"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        json_of(res).await["message"]
            .as_str()
            .unwrap()
            .contains("新的变化")
    );
    assert_eq!(clock_of(&app, unit).await.0, "vacant");
    assert_eq!(current(&app, unit).await, 0);
}

#[tokio::test]
async fn an_officers_vacant_finding_is_not_a_slip_to_undo() {
    let app = crate::helpers::spawn_app().await;
    let (landlord, unit, _) = let_unit(&app, 1).await;
    let police = app.login_as("police", &["影佳"]).await;
    renfang::jobs::sweep::run(
        &app.store,
        crate::helpers::RULES,
        chrono::Utc::now() + chrono::Duration::days(31),
    )
    .await
    .unwrap();
    let check: i64 = sqlx::query_scalar("select id from door_checks where unit_id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/door-checks/{check}/result"),
            &json!({"outcome": "vacant"}),
            Some(&police),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(current(&app, unit).await, 0);
    assert!(undo_list(&app, &landlord, unit).await.is_empty());
    let undoable: i64 = sqlx::query_scalar(
        "select count(*) from unit_events where unit_id = $1 and clock_kind_before is not null",
    )
    .bind(unit)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(undoable, 0);
}

#[tokio::test]
async fn the_pages_ask_before_a_move_out_a_vacancy_and_a_new_poster_and_offer_the_undo() {
    let app = crate::helpers::spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let (phone, id_number) = (
        crate::sublandlords::phone(4),
        crate::sublandlords::id_number(4),
    );
    let cookie = crate::portal::page_sign_up(&app, &phone, &id_number).await;
    let res = crate::sublandlords::login(&app, &phone, "landlord-pass-1").await;
    let landlord = json_of(res).await["token"].as_str().unwrap().to_string();
    let filed = file(
        &app,
        &landlord,
        &filing("影佳", "影佳路 9弄 5号 101室", 2, 1),
    )
    .await;
    let unit = filed["unit_id"].as_i64().unwrap();
    let mut person = occupant(ID_A);
    person["name"] = json!("张三丰");
    person["room"] = json!("A");
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/registrations"),
            &registration(&[person]),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let get = |path: String| {
        let (app, cookie) = (&app, &cookie);
        async move { page(app, cookie, &path).await.text().await.unwrap() }
    };

    // The unit page links to the questions; no button there changes anything at once.
    let html = get(format!("/my/units/{unit}")).await;
    assert!(html.contains(&format!(
        "/my/units/{unit}/ask?action=move_out&amp;occupant="
    )));
    assert!(html.contains(&format!("/my/units/{unit}/ask?action=rotate")));
    assert!(!html.contains(r#"value="rotate""#) && !html.contains(r#"value="move_out""#));
    assert!(
        !html.contains("T0") && !html.contains("Z</"),
        "local times: {html}"
    );

    // Move-out: who, which day, and that it can be undone.
    let occupant_id = json_of(
        app.get(&format!("/api/v1/my/units/{unit}"), Some(&landlord))
            .await,
    )
    .await["occupants"][0]["id"]
        .as_i64()
        .unwrap();
    let ask = get(format!(
        "/my/units/{unit}/ask?action=move_out&occupant={occupant_id}"
    ))
    .await;
    assert!(ask.contains("张*") && ask.contains("（A）"), "{ask}");
    assert!(ask.contains(r#"type="date""#) && ask.contains("24 小时内可"));
    assert!(ask.contains("无人登记"), "what happens to the clock: {ask}");
    let csrf = csrf_of(&ask);
    let today = chrono::Utc::now().date_naive().to_string();
    let res = page_post(
        &app,
        &cookie,
        &format!("/my/units/{unit}/action"),
        &[
            ("csrf", &csrf),
            ("action", "move_out"),
            ("occupant", &occupant_id.to_string()),
            ("moved_out_on", &today),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = get(format!("/my/units/{unit}?done=moved")).await;
    assert!(
        html.contains("误操作可撤销") && html.contains("登记 张** 搬离"),
        "{html}"
    );
    let event = {
        let at = html.find(r#"name="event" value=""#).unwrap() + 20;
        html[at..].split('"').next().unwrap().to_string()
    };
    let res = page_post(
        &app,
        &cookie,
        &format!("/my/units/{unit}/action"),
        &[("csrf", &csrf), ("action", "undo"), ("event", &event)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(current(&app, unit).await, 1);
    // Twice is refused on the page, in words.
    let res = page_post(
        &app,
        &cookie,
        &format!("/my/units/{unit}/action"),
        &[("csrf", &csrf), ("action", "undo"), ("event", &event)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("没有可撤销的操作"));

    // A vacancy with a person listed asks about everyone out, listing them.
    let res = page(
        &app,
        &cookie,
        &format!("/my/units/{unit}/ask?action=vacancy"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let ask = get(format!("/my/units/{unit}/ask?action=vacancy_all_out")).await;
    assert!(ask.contains("张*") && ask.contains("暂停计时"), "{ask}");

    // A new poster: the sticker on the door stops working, and the new one is offered.
    let ask = get(format!("/my/units/{unit}/ask?action=rotate")).await;
    assert!(
        ask.contains("旧二维码立即失效") && ask.contains("无法撤销"),
        "{ask}"
    );
    let res = page_post(
        &app,
        &cookie,
        &format!("/my/units/{unit}/action"),
        &[("csrf", &csrf), ("action", "rotate")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = get(format!("/my/units/{unit}?done=rotate")).await;
    assert!(html.contains("下载新二维码并打印"), "{html}");

    // An unknown question, or someone not in the unit, is not found.
    let res = page(&app, &cookie, &format!("/my/units/{unit}/ask?action=close")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = page(
        &app,
        &cookie,
        &format!("/my/units/{unit}/ask?action=move_out&occupant=999999"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_slip_is_not_undone_over_newer_news_or_a_person_registered_again() {
    let app = crate::helpers::spawn_app().await;
    let (landlord, unit, people) = let_unit(&app, 1).await;
    let move_out = |id: i64| {
        let (app, landlord) = (&app, &landlord);
        async move {
            let res = app
                .post_json(
                    &format!("/api/v1/my/units/{unit}/occupants/{id}/move-out"),
                    &json!({}),
                    Some(landlord),
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
        }
    };
    move_out(people[0]).await;
    let event = undo_list(&app, &landlord, unit).await[0]["event_id"]
        .as_i64()
        .unwrap();

    // The person who moved out is registered in another flat since: the undo would make
    // them current in two places.
    let other = file(
        &app,
        &landlord,
        &filing("影佳", "影佳路 9弄 8号 101室", 1, 1),
    )
    .await;
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{}/registrations", other["unit_id"]),
            &registration(&[occupant(ID_A)]),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let undo = format!("/api/v1/my/units/{unit}/undo/{event}");
    let res = app.post_json(&undo, &json!({}), Some(&landlord)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(current(&app, unit).await, 1);

    // A confirmation since is newer news than the slip: the clock it restarted stays.
    move_out(people[1]).await;
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/registrations"),
            &registration(&[occupant(
                &renfang::domain::document::with_check_char("11010519900307123").unwrap(),
            )]),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let clock = clock_of(&app, unit).await;
    assert!(
        undo_list(&app, &landlord, unit).await.is_empty(),
        "nothing offered"
    );
    let last: i64 = sqlx::query_scalar(
        "select max(id) from unit_events where unit_id = $1 and event = 'moved_out'",
    )
    .bind(unit)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/undo/{last}"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(clock_of(&app, unit).await, clock);
    assert_eq!(current(&app, unit).await, 1);
}
