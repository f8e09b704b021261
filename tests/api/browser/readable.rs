//! What a person should never have to read on a Chinese page: times as the machine keeps
//! them and codes where a label belongs. And one walk through every user's pages, at a
//! phone's and a desktop's width, that looks for them.

use serde_json::{Value, json};

use super::Driver;
use crate::helpers::{ID_A, ID_B, occupant, registration, spawn_app};

/// Wire names that are plain words; a page shows their Chinese labels instead.
const CODES: &[&str] = &[
    "open",
    "closed",
    "active",
    "vacant",
    "verified",
    "violation",
    "unreachable",
    "pending",
    "approved",
    "rejected",
    "whole",
    "shared",
    "daily",
    "group",
    "flat",
    "villa",
    "garage",
    "dormitory",
    "checking",
    "dismissed",
    "manual",
    "unconfirmed",
    "resident_id",
    "passport",
    "enforcement",
    "sublandlord",
    "property",
    "filed",
];

/// The machine times and codes in `text`, if any.
pub fn problems(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    // 2026-12-04T08:59
    for w in chars.windows(13) {
        let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| w[i].is_ascii_digit());
        if digits(0..4)
            && w[4] == '-'
            && digits(5..7)
            && w[7] == '-'
            && digits(8..10)
            && w[10] == 'T'
            && digits(11..13)
        {
            found.push(w.iter().collect());
        }
    }
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')) {
        let token = token.trim_matches('.');
        let lower_code = token.len() > 3
            && token
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
            && (token.contains('_') || token.contains('.'))
            && !token.ends_with(".pdf")
            && !token.ends_with(".csv")
            && !token.ends_with(".xlsx")
            && !token.ends_with(".png");
        if lower_code || CODES.contains(&token) {
            found.push(token.to_string());
        }
    }
    found
}

#[test]
fn machine_times_and_codes_are_found_and_labels_pass() {
    assert_eq!(
        problems("最近上传：2026-12-04T16:59:14Z"),
        ["2026-12-04T16"]
    );
    assert_eq!(problems("状态 open，原因 no_upload"), ["open", "no_upload"]);
    assert_eq!(problems("操作 door_check.open"), ["door_check.open"]);
    assert!(problems("2026-12-04 16:59（3 天前）待核查 逾期未上传 影佳.pdf admin3").is_empty());
}

/// Every user's pages at one width: the sublandlord's units, a unit with an undo, the
/// questions before a move-out and a new poster; the police queue and a unit card; the
/// console home, statistics, audit log, tips and units; the tenant form and a tip's status.
async fn every_page_walk(width: u32, height: u32) {
    let Some(driver) = Driver::start(width, height).await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let admin_name = format!("admin{}", app.users_made() - 1);
    let (_, empty_poster) = app
        .create_unit(&admin, "影佳", "影佳路 88弄 6号 302室")
        .await;
    renfang::jobs::sweep::run(
        &app.store,
        crate::helpers::RULES,
        chrono::Utc::now() + chrono::Duration::days(6),
    )
    .await
    .unwrap();
    let landlord = crate::sublandlords::sublandlord(&app, 5).await;
    let filed = crate::sublandlords::file(
        &app,
        &landlord,
        &crate::sublandlords::filing("影佳", "影佳路 66弄 3号 401室", 2, 2),
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
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let mine: Value = app
        .get(&format!("/api/v1/my/units/{unit}"), Some(&landlord))
        .await
        .json()
        .await
        .unwrap();
    let first = mine["occupants"][0]["id"].as_i64().unwrap();
    let second = mine["occupants"][1]["id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{unit}/occupants/{first}/move-out"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let tip = reqwest::multipart::Form::new()
        .text("address", "影佳路 66弄 3号 401室")
        .text("category", "group_rental")
        .text("description", "晚上很多人进出");
    let res = app
        .client
        .post(app.url("/api/v1/tips"))
        .multipart(tip)
        .send()
        .await
        .unwrap();
    let tip: Value = res.json().await.unwrap();
    let reference = tip["receipt"].as_str().unwrap().to_string();

    // The sublandlord.
    driver.goto(&app.url("/login")).await;
    driver.wait_for("登录").await;
    driver
        .type_into("#username", &crate::sublandlords::phone(5))
        .await;
    driver.type_into("#password", "landlord-pass-1").await;
    driver.click("button[type=submit]").await;
    driver.wait_for("影佳路 66弄 3号 401室").await;
    driver.review("walk-my-units", width).await;
    driver.goto(&app.url(&format!("/my/units/{unit}"))).await;
    let page = driver.wait_for("误操作可撤销").await;
    assert!(
        page.contains("天前") || page.contains("刚刚"),
        "relative times"
    );
    driver.review("walk-my-unit", width).await;
    driver
        .goto(&app.url(&format!(
            "/my/units/{unit}/ask?action=move_out&occupant={second}"
        )))
        .await;
    driver.wait_for("确认搬离").await;
    driver.review("walk-ask-move-out", width).await;
    driver
        .goto(&app.url(&format!("/my/units/{unit}/ask?action=vacancy_all_out")))
        .await;
    driver.wait_for("全部搬离并申报空置").await;
    driver.review("walk-ask-vacancy", width).await;
    driver
        .goto(&app.url(&format!("/my/units/{unit}/ask?action=rotate")))
        .await;
    driver.wait_for("旧二维码立即失效").await;
    driver.review("walk-ask-rotate", width).await;
    // Out again: the browser forgets the session.
    driver
        .call(reqwest::Method::DELETE, "/cookie", json!({}))
        .await;

    // The tenant's form and the tip's status.
    driver.goto(&app.url(&format!("/q/{empty_poster}"))).await;
    driver.wait_for("影佳路 88弄 6号 302室").await;
    driver.review("walk-scan", width).await;
    driver
        .goto(&app.url(&format!("/tip/status?reference={reference}")))
        .await;
    driver.wait_for("处理状态").await;
    driver.review("walk-tip-status", width).await;

    // Staff: the police pages and the console.
    driver.goto(&app.url("/login")).await;
    driver.wait_for("工作人员登录").await;
    driver.type_into("#username", &admin_name).await;
    driver.type_into("#password", "correct-horse-9").await;
    driver.click("button[type=submit]").await;
    driver.wait_for("退出").await;
    for (path, name, expect) in [
        ("/console", "walk-console-home", "负责社区"),
        ("/console/stats", "walk-stats", "事前报备率"),
        ("/console/audit", "walk-audit", "审计日志"),
        ("/console/tips", "walk-tips", "线索"),
        ("/console/units", "walk-units", "影佳路"),
        ("/police", "walk-police-list", "影佳路 88弄 6号 302室"),
        ("/police/filings", "walk-police-filings", "报备"),
        ("/ledger", "walk-ledger", "二房东"),
        ("/console/filings", "walk-console-filings", "报备"),
        ("/console/reports", "walk-reports", "月报"),
        ("/console/users", "walk-users", "账号"),
        ("/console/communities", "walk-communities", "祥东"),
    ] {
        driver.goto(&app.url(path)).await;
        driver.wait_for(expect).await;
        driver.review(name, width).await;
    }
    // The outbox page names the configuration file where destinations are set.
    driver.goto(&app.url("/console/outbox")).await;
    driver.wait_for("失败的消息").await;
    driver
        .review_with("walk-outbox", width, &["renfang.toml"])
        .await;
    // The import page lists the English values a spreadsheet may use, on purpose.
    driver.goto(&app.url("/console/import")).await;
    driver.wait_for("模板").await;
    let english = [
        "flat",
        "villa",
        "garage",
        "dormitory",
        "other",
        "whole",
        "shared",
        "daily",
        "group",
    ];
    driver.review_with("walk-import", width, &english).await;
    let (empty_unit,): (i64,) = sqlx::query_as("select id from units where address like $1")
        .bind("影佳路 88弄 6号%")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    driver
        .goto(&app.url(&format!("/police/units/{empty_unit}")))
        .await;
    driver.wait_for("已核实").await;
    driver.review("walk-police-unit", width).await;

    // An officer takes the check from the unit's card and finds it on their day's list.
    app.login_as("police", &["影佳"]).await;
    let officer = format!("police{}", app.users_made() - 1);
    driver
        .call(reqwest::Method::DELETE, "/cookie", json!({}))
        .await;
    driver.goto(&app.url("/login")).await;
    driver.wait_for("工作人员登录").await;
    driver.type_into("#username", &officer).await;
    driver.type_into("#password", "correct-horse-9").await;
    driver.click("button[type=submit]").await;
    driver.wait_for("退出").await;
    driver
        .goto(&app.url(&format!("/police/units/{empty_unit}")))
        .await;
    driver.wait_for("领取").await;
    driver.click("form.take button").await;
    let list = driver.wait_for("顺路排列").await;
    assert!(list.contains("共 1 处"), "{list}");
    driver.review("walk-police-mine", width).await;

    // A crowded flat: one card with both its reasons and their figures, and the form for
    // people found at the door.
    let crowd = crate::sublandlords::file(
        &app,
        &landlord,
        &crate::sublandlords::filing("影佳", "影佳路 70弄 1号 201室", 1, 2),
    )
    .await;
    let crowd = crowd["unit_id"].as_i64().unwrap();
    let people: Vec<Value> = (0..4)
        .map(|i| occupant(&crate::sublandlords::id_number(400 + i)))
        .collect();
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{crowd}/registrations"),
            &registration(&people),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    driver
        .goto(&app.url(&format!("/police/units/{crowd}")))
        .await;
    let card = driver.wait_for("待核查（2 项）").await;
    assert!(card.contains("报备 2 人，实际登记在住 4 人"), "{card}");
    driver.review("walk-police-card", width).await;
    driver
        .goto(&app.url(&format!("/police/units/{crowd}/register")))
        .await;
    driver.wait_for("现场登记人员").await;
    driver.review("walk-police-register", width).await;

    // The officer hands it to enforcement; the ledger explains the sublandlord.
    let checks: Vec<i64> =
        sqlx::query_scalar("select id from door_checks where unit_id = $1 and status = 'open'")
            .bind(crowd)
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/door-checks/{}/result", checks[0]),
            &json!({"outcome": "violation", "note": "四人同住一间，只报备两人",
                    "also_close": &checks[1..]}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let (person, case): (i64, i64) = sqlx::query_as(
        r"select s.person_id, c.id from units u join sublandlords s on s.id = u.sublandlord_id
          join cases c on c.unit_id = u.id where u.id = $1",
    )
    .bind(crowd)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    driver.goto(&app.url(&format!("/ledger/{person}"))).await;
    driver.wait_for("重点分").await;
    driver.review("walk-ledger-person", width).await;
    app.login_as("enforcement", &["影佳"]).await;
    let team = format!("enforcement{}", app.users_made() - 1);
    driver
        .call(reqwest::Method::DELETE, "/cookie", json!({}))
        .await;
    driver.goto(&app.url("/login")).await;
    driver.wait_for("工作人员登录").await;
    driver.type_into("#username", &team).await;
    driver.type_into("#password", "correct-horse-9").await;
    driver.click("button[type=submit]").await;
    driver.wait_for("本季度").await;
    driver.review("walk-enforcement", width).await;
    driver
        .goto(&app.url(&format!("/enforcement/cases/{case}")))
        .await;
    driver.wait_for("四人同住一间").await;
    driver.review("walk-enforcement-case", width).await;
}

#[tokio::test]
async fn every_users_pages_show_local_times_and_labels_at_a_phones_and_a_desktops_width() {
    every_page_walk(390, 844).await;
    every_page_walk(1366, 900).await;
}
