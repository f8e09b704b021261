//! Tenants keep their own record: the private link of each registration, what it shows and
//! what it lets them do, and who looked at their data.

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ID_A, ID_B, RULES, TestApp, occupant, registration, spawn_app};
use renfang::jobs::sweep;

async fn json_of(res: reqwest::Response) -> Value {
    res.json().await.unwrap()
}

/// Registers two people through the poster; the answer's self-service link (its path).
async fn registered(app: &TestApp, poster: &str, key: Option<&str>) -> (Value, String) {
    let res = app
        .register(
            poster,
            &registration(&[occupant(ID_A), occupant(ID_B)]),
            key,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body = json_of(res).await;
    let url = body["self_service_url"].as_str().unwrap().to_string();
    let path = url[url.find("/me/").unwrap()..].to_string();
    (body, path)
}

#[tokio::test]
async fn each_registration_gets_its_own_unguessable_link_that_nothing_stores() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let (first, link) = registered(&app, &poster, Some("retry-1")).await;
    // A retry gets the same answer, link included.
    let (again, same) = registered(&app, &poster, Some("retry-1")).await;
    assert_eq!(
        (again["receipt"].clone(), same.clone()),
        (first["receipt"].clone(), link.clone())
    );
    let token = link.trim_start_matches("/me/");
    let tag = token.split('.').nth(1).unwrap();
    assert!(tag.len() >= 22, "at least 128 bits: {token}");
    // Nothing of the tag is in the database.
    for (table, column) in [("registrations", "receipt"), ("idempotency_keys", "body")] {
        let hits: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select count(*) from {table} where {column} like '%' || $1 || '%'"
        )))
        .bind(tag)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
        assert_eq!(hits, 0, "{table}");
    }
    // A tampered tag, another receipt's tag, garbage: 404 alike.
    let mut tampered = token.to_string();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    for bad in [
        tampered.as_str(),
        "RF000000-AAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
        "x",
    ] {
        let res = app.get(&format!("/api/v1/me/{bad}"), None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
        let res = app.get(&format!("/me/{bad}"), None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    let me = json_of(app.get(&format!("/api/v1{link}"), None).await).await;
    assert_eq!(me["receipt"], first["receipt"]);
    assert_eq!(me["occupants"].as_array().unwrap().len(), 2);
    assert_eq!(me["occupants"][0]["name"], "张*", "masked");
    assert!(
        me["occupants"][0]["id_number"]
            .as_str()
            .unwrap()
            .contains('*')
    );
    // Another registration has another link.
    let (_, other) = registered(&app, &poster, None).await;
    assert_ne!(other, link);
}

#[tokio::test]
async fn a_tenant_confirms_records_a_move_out_and_asks_for_a_correction() {
    let app = spawn_app().await;
    let (admin, unit, poster) = app.unit_fixture().await;
    let (_, link) = registered(&app, &poster, None).await;
    let api = format!("/api/v1{link}");
    let (from,): (i64,) = sqlx::query_as("select clock_from from units where id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();

    // "Nothing has changed" restarts the clock.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let res = app
        .post_json(&format!("{api}/confirm"), &json!({}), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (after,): (i64,) = sqlx::query_as("select clock_from from units where id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert!(after > from);

    // A move-out with a date, for one of this registration's people only.
    let me = json_of(app.get(&api, None).await).await;
    let first = me["occupants"][0]["id"].as_i64().unwrap();
    let today = Utc::now().date_naive().to_string();
    let res = app
        .post_json(
            &format!("{api}/occupants/{first}/move-out"),
            &json!({"moved_out_on": "2099-01-01"}),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_json(
            &format!("{api}/occupants/{first}/move-out"),
            &json!({"moved_out_on": today}),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_json(
            &format!("{api}/occupants/{first}/move-out"),
            &json!({"moved_out_on": today}),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "already moved out");
    // Someone else's occupant through this link: 404.
    let (_, other_poster) = app
        .create_unit(&admin, "影佳", "影佳路 100弄 2号 201室")
        .await;
    let stranger_id = crate::sublandlords::id_number(7);
    let res = app
        .register(
            &other_poster,
            &registration(&[occupant(&stranger_id)]),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let stranger: i64 = sqlx::query_scalar("select max(id) from occupants")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let res = app
        .post_json(
            &format!("{api}/occupants/{stranger}/move-out"),
            &json!({"moved_out_on": today}),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let me = json_of(app.get(&api, None).await).await;
    assert_eq!(me["occupants"][0]["current"], false);
    assert_eq!(me["occupants"][0]["moved_out_on"], today.as_str());
    assert_eq!(me["occupants"][1]["current"], true);
    let detail = json_of(
        app.get(&format!("/api/v1/units/{unit}"), Some(&admin))
            .await,
    )
    .await;
    assert_eq!(detail["history"][0]["event"], "moved_out");
    assert_eq!(detail["history"][0]["role"], "tenant");

    // A correction goes to the community, five at most waiting.
    for n in 0..5 {
        let res = app
            .post_json(
                &format!("{api}/corrections"),
                &json!({"note": format!("房间号应为 B 室 ({n})")}),
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .post_json(
            &format!("{api}/corrections"),
            &json!({"note": "再一条"}),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app
        .post_json(&format!("{api}/corrections"), &json!({"note": " "}), None)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let list = json_of(app.get("/api/v1/corrections", Some(&admin)).await).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 5);
    assert_eq!(list["items"][0]["address"], "影佳路 100弄 1号 201室");
    let police = app.login_as("enforcement", &["影佳"]).await;
    let res = app.get("/api/v1/corrections", Some(&police)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Once everybody has left, "nothing has changed" is refused.
    let second = me["occupants"][1]["id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("{api}/occupants/{second}/move-out"),
            &json!({"moved_out_on": today}),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_json(&format!("{api}/confirm"), &json!({}), None)
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_tenant_sees_who_revealed_their_number_and_who_visited() {
    let app = spawn_app().await;
    let (admin, unit, poster) = app.unit_fixture().await;
    let (_, link) = registered(&app, &poster, None).await;
    let api = format!("/api/v1{link}");
    let me = json_of(app.get(&api, None).await).await;
    assert!(me["access"].as_array().unwrap().is_empty());
    // An officer reveals one number with a reason, then records a visit.
    let police = app.login_as("police", &["影佳"]).await;
    let occupant = me["occupants"][0]["id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/occupants/{occupant}/reveal"),
            &json!({"reason": "上门核对身份证件"}),
            Some(&police),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    sweep::run(&app.store, RULES, Utc::now() + chrono::Duration::days(31))
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
            &json!({"outcome": "verified"}),
            Some(&police),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let me = json_of(app.get(&api, None).await).await;
    let access: Vec<(&str, &str)> = me["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["what"].as_str().unwrap(), a["role"].as_str().unwrap()))
        .collect();
    assert_eq!(access, [("visit", "police"), ("reveal", "police")]);
    let _ = admin;

    // The page says it in words, in Chinese and in English, with no script.
    let html = app.get(&link, None).await.text().await.unwrap();
    assert!(html.contains("谁查阅过我的信息") && html.contains("查看完整证件号码"));
    assert!(html.contains("上门核查") && html.contains("民警"), "{html}");
    assert!(!html.contains("<script"));
    let html = app
        .get(&format!("{link}?lang=en"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Who has looked at my data") && html.contains("revealed"));
}

#[tokio::test]
async fn the_receipt_page_gives_the_link_and_its_forms_work_without_script() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let form = [
        ("notice_version", renfang::domain::notice::NOTICE_VERSION),
        ("submission", "0123456789abcdef0123456789abcdef"),
        ("count", "1"),
        ("name_0", "王小明"),
        ("id_type_0", "resident_id"),
        ("id_number_0", ID_A),
        ("phone_0", ""),
        ("room_0", "B"),
        ("move_in_0", "2026-10-01"),
        ("consent", "1"),
        ("action", "submit"),
    ];
    let res = app
        .client
        .post(app.url(&format!("/q/{poster}")))
        .form(&form)
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    assert!(html.contains("请收藏或保存下面的链接"), "{html}");
    let start = html.find("/me/").unwrap();
    let link: String = html[start..]
        .chars()
        .take_while(|c| *c != '"' && *c != '<')
        .collect();
    // "Nothing has changed" through the page's own form.
    let res = app
        .client
        .post(app.url(&link))
        .form(&[("action", "confirm"), ("lang", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    assert!(to.ends_with("done=confirm"), "{to}");
    let html = app.get(&to, None).await.text().await.unwrap();
    assert!(html.contains("已确认人员无变化"));
    // A future move-out date is said on the page, 422, nothing changes.
    let occupant: i64 = sqlx::query_scalar("select id from occupants")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let res = app
        .client
        .post(app.url(&link))
        .form(&[
            ("action", "move_out"),
            ("occupant", occupant.to_string().as_str()),
            ("moved_out_on", "2099-01-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("搬离日期不能晚于今天"));
}
