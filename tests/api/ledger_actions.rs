//! Acting on the sublandlord ledger: one person's page with their units, checks and
//! priority explained, the audited reveal of their name and phone, and the ledger as a file.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, csrf_of, page, page_login, page_post, spawn_app};
use crate::sublandlords::{file, filing, phone, sublandlord};

const NAME: &str = "王二房";

/// A person letting two units in 影佳 (one with an open check, one with a closed check)
/// and one in 祥东.
struct Fixture {
    app: TestApp,
    admin: String,
    person: i64,
    units: [i64; 3],
    open_check: i64,
    closed_check: i64,
}

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东", "虬长路"]).await;
    let token = sublandlord(&app, 301).await;
    let mut units = [0; 3];
    for (slot, (community, address, rooms)) in units.iter_mut().zip([
        ("影佳", "影佳路 1号 101室", 3),
        ("影佳", "影佳路 2号 102室", 2),
        ("祥东", "祥东路 3号 103室", 1),
    ]) {
        let filed = file(&app, &token, &filing(community, address, rooms, 1)).await;
        *slot = filed["unit_id"].as_i64().unwrap();
    }
    let open_check = app.overdue_check(units[0], 0).await;
    let closed_check = app.overdue_check(units[1], 0).await;
    let res = app
        .post_json(
            &format!("/api/v1/door-checks/{closed_check}/result"),
            &json!({"outcome": "vacant", "note": ""}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let person: i64 = sqlx::query_scalar(
        "select s.person_id from units u join sublandlords s on s.id = u.sublandlord_id where u.id = $1",
    )
    .bind(units[0])
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    Fixture {
        app,
        admin,
        person,
        units,
        open_check,
        closed_check,
    }
}

async fn reveals(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from audit_log where action = 'sublandlord.reveal'")
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

async fn reveal(f: &Fixture, token: &str, body: &Value) -> reqwest::Response {
    f.app
        .post_json(
            &format!("/api/v1/sublandlords/{}/reveal", f.person),
            body,
            Some(token),
        )
        .await
}

#[tokio::test]
async fn revealing_a_sublandlord_shows_the_full_name_and_phone_and_records_the_reason() {
    let f = fixture().await;
    let enforcement = f.app.login_as("enforcement", &["影佳"]).await;

    let res = reveal(&f, &enforcement, &json!({"reason": "核对违规线索"})).await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["name"], NAME);
    assert_eq!(body["phone"], phone(301));
    let (subject, reason): (String, String) =
        sqlx::query_as("select subject, reason from audit_log where action = 'sublandlord.reveal'")
            .fetch_one(f.app.store.pool())
            .await
            .unwrap();
    assert_eq!(subject, format!("person:{}", f.person));
    assert_eq!(reason, "核对违规线索");
}

#[tokio::test]
async fn a_reveal_without_a_reason_is_refused_and_records_nothing() {
    let f = fixture().await;
    let police = f.app.login_as("police", &["影佳"]).await;

    for body in [json!({"reason": ""}), json!({"reason": " 查 "}), json!({})] {
        let res = reveal(&f, &police, &body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let answer: Value = res.json().await.unwrap();
        assert_eq!(answer["fields"][0]["field"], "reason", "{answer}");
    }
    let too_long = "因".repeat(201);
    let res = reveal(&f, &police, &json!({ "reason": too_long })).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reveals(&f.app).await, 0);
}

#[tokio::test]
async fn police_of_another_community_get_404_on_the_person_and_the_reveal() {
    let f = fixture().await;
    let elsewhere = f.app.login_as("police", &["虬长路"]).await;

    let page = f
        .app
        .get(
            &format!("/api/v1/sublandlords/{}", f.person),
            Some(&elsewhere),
        )
        .await;
    let shown = reveal(&f, &elsewhere, &json!({"reason": "核对身份"})).await;
    let nobody = f
        .app
        .get("/api/v1/sublandlords/999999", Some(&f.admin))
        .await;

    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert_eq!(shown.status(), StatusCode::NOT_FOUND);
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);
    assert_eq!(reveals(&f.app).await, 0);
}

#[tokio::test]
async fn roles_that_do_not_read_the_ledger_get_403_on_the_reveal() {
    let f = fixture().await;
    let mut tokens = vec![
        f.app.login_as("community", &["影佳"]).await,
        f.app.login_as("property", &["影佳"]).await,
    ];
    tokens.push(sublandlord(&f.app, 302).await);

    for token in &tokens {
        let res = reveal(&f, token, &json!({"reason": "核对身份"})).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = f
            .app
            .get(&format!("/api/v1/sublandlords/{}", f.person), Some(token))
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(reveals(&f.app).await, 0);
}

#[tokio::test]
async fn the_person_lists_units_and_checks_in_scope_and_priority_terms_that_sum_to_the_priority() {
    let f = fixture().await;
    let police = f.app.login_as("police", &["影佳"]).await;

    let person: Value = f
        .app
        .get(&format!("/api/v1/sublandlords/{}", f.person), Some(&police))
        .await
        .json()
        .await
        .unwrap();
    let ledger: Value = f
        .app
        .get("/api/v1/sublandlords", Some(&police))
        .await
        .json()
        .await
        .unwrap();

    assert!(!person["name"].as_str().unwrap().contains("二房"));
    assert_eq!(person["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(person["accounts"][0]["disabled"], false);
    assert!(
        person["accounts"][0]["phone"]
            .as_str()
            .unwrap()
            .contains('*')
    );
    let units: Vec<i64> = person["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit_id"].as_i64().unwrap())
        .collect();
    assert_eq!(units.len(), 2);
    assert!(units.contains(&f.units[0]) && units.contains(&f.units[1]));
    assert!(!units.contains(&f.units[2]), "祥东's unit is not listed");
    assert_eq!(person["units_elsewhere"], 1);
    let checks = person["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0]["id"], f.open_check);
    assert_eq!(checks[0]["status"], "open");
    assert_eq!(checks[1]["id"], f.closed_check);
    assert_eq!(checks[1]["outcome"], "vacant");
    let terms = person["priority_terms"].as_array().unwrap();
    let sum: i64 = terms.iter().map(|t| t["points"].as_i64().unwrap()).sum();
    assert!(sum > 0);
    assert_eq!(sum, person["priority"].as_i64().unwrap());
    for t in terms {
        assert_eq!(
            t["points"].as_i64().unwrap(),
            t["count"].as_i64().unwrap() * t["weight"].as_i64().unwrap()
        );
    }
    assert_eq!(terms[0]["term"], "units");
    assert_eq!(
        terms[0]["count"], 2,
        "only 影佳's units count for its police"
    );
    assert_eq!(ledger["items"][0]["person_id"], f.person);
    assert_eq!(ledger["items"][0]["priority"], person["priority"]);
    // The admin sees every unit, and the priority over all communities.
    let all: Value = f
        .app
        .get(
            &format!("/api/v1/sublandlords/{}", f.person),
            Some(&f.admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["units"].as_array().unwrap().len(), 3);
    assert_eq!(all["units_elsewhere"], 0);
    assert!(all["priority"].as_i64().unwrap() > person["priority"].as_i64().unwrap());
}

#[tokio::test]
async fn the_person_page_explains_the_priority_and_links_the_units_and_the_ledger_links_it() {
    let f = fixture().await;
    let cookie = page_login(&f.app, "police", &["影佳"]).await;

    let ledger = page(&f.app, &cookie, "/ledger").await.text().await.unwrap();
    let res = page(&f.app, &cookie, &format!("/ledger/{}", f.person)).await;

    assert!(ledger.contains(&format!("href=\"/ledger/{}\"", f.person)));
    assert!(ledger.contains("href=\"/ledger.xlsx\""));
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("影佳路 1号 101室") && html.contains("影佳路 2号 102室"));
    assert!(!html.contains("祥东路"), "no details of other communities");
    assert!(html.contains("另有 1 处"));
    assert!(html.contains(&format!("href=\"/police/units/{}\"", f.units[0])));
    assert!(html.contains("房屋 2 处 × 2 = 4"), "{html}");
    assert!(html.contains("逾期未上传") && html.contains("空置"));
    assert!(!html.contains(NAME));
    // Enforcement reads the ledger but has no officer's unit page to link to.
    let enforcement = page_login(&f.app, "enforcement", &["影佳"]).await;
    let html = page(&f.app, &enforcement, &format!("/ledger/{}", f.person))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("影佳路 1号 101室"));
    assert!(!html.contains("/police/units/"));
    // Police of a community where the person lets nothing: as if there were no such person.
    let elsewhere = page_login(&f.app, "police", &["虬长路"]).await;
    let res = page(&f.app, &elsewhere, &format!("/ledger/{}", f.person)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_page_reveal_form_works_with_its_csrf_token_and_is_refused_without() {
    let f = fixture().await;
    let cookie = page_login(&f.app, "police", &["影佳"]).await;
    let path = format!("/ledger/{}", f.person);
    let html = page(&f.app, &cookie, &path).await.text().await.unwrap();
    let csrf = csrf_of(&html);
    let action = format!("{path}/reveal");
    assert!(html.contains(&format!("action=\"{action}\"")));

    let refused = page_post(
        &f.app,
        &cookie,
        &action,
        &[("csrf", "0".repeat(32).as_str()), ("reason", "核对身份")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(reveals(&f.app).await, 0);
    let no_reason = page_post(&f.app, &cookie, &action, &[("csrf", &csrf), ("reason", "")]).await;
    assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reveals(&f.app).await, 0);

    let shown = page_post(
        &f.app,
        &cookie,
        &action,
        &[("csrf", &csrf), ("reason", "核对身份")],
    )
    .await;

    assert_eq!(shown.status(), StatusCode::OK);
    assert_eq!(shown.headers()["cache-control"], "no-store");
    let html = shown.text().await.unwrap();
    assert!(html.contains(NAME));
    assert!(html.contains(&format!("href=\"tel:{}\"", phone(301))));
    assert_eq!(reveals(&f.app).await, 1);
}

/// Every cell of the first sheet.
fn sheet(bytes: &[u8]) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let name = book.sheet_names()[0].clone();
    book.worksheet_range(&name).unwrap()
}

#[tokio::test]
async fn the_ledger_exports_as_xlsx_with_chinese_headers_masked_names_and_typed_numbers() {
    let f = fixture().await;

    let res = f.app.get("/api/v1/sublandlords.xlsx", Some(&f.admin)).await;

    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    // 重点二房东_全部_
    assert!(
        disposition.contains(
            "filename*=UTF-8''%E9%87%8D%E7%82%B9%E4%BA%8C%E6%88%BF%E4%B8%9C_%E5%85%A8%E9%83%A8_"
        ),
        "{disposition}"
    );
    assert!(disposition.ends_with(".xlsx"));
    let range = sheet(&res.bytes().await.unwrap());
    let header: Vec<String> = range
        .rows()
        .nth(1)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    for label in ["排名", "二房东", "手机", "房屋", "事前报备率", "重点分"] {
        assert!(header.iter().any(|h| h == label), "{label} in {header:?}");
    }
    let column = |label: &str| header.iter().position(|h| h == label).unwrap();
    let row: Vec<Data> = range.rows().nth(2).unwrap().to_vec();
    assert!(matches!(row[column("排名")], Data::Float(r) if r == 1.0));
    assert!(matches!(row[column("房屋")], Data::Float(n) if n == 3.0));
    assert!(matches!(row[column("重点分")], Data::Float(p) if p > 0.0));
    assert!(
        matches!(row[column("事前报备率")], Data::Float(r) if (0.0..=1.0).contains(&r)),
        "{:?}",
        row[column("事前报备率")]
    );
    assert!(row[column("二房东")].to_string().starts_with('王'));
    for cell in range.used_cells().map(|(_, _, c)| c.to_string()) {
        assert!(!cell.contains(NAME), "the full name in {cell}");
        assert!(!cell.contains(&phone(301)), "the full phone in {cell}");
    }
    let exports: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'export.ledger'")
            .fetch_one(f.app.store.pool())
            .await
            .unwrap();
    assert_eq!(exports, 1);
    // One community's police get their community in the name, and the CSV as well.
    let police = f.app.login_as("police", &["影佳"]).await;
    let res = f.app.get("/api/v1/sublandlords.csv", Some(&police)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.contains("%E5%BD%B1%E4%BD%B3"), "{disposition}");
    let text = res.text().await.unwrap();
    assert!(text.starts_with('\u{feff}'));
    assert!(!text.contains(NAME));
}
