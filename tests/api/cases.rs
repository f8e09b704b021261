//! Enforcement cases: a violation found at the door opens one, the team gathers evidence,
//! decides and closes it, and the quarter's count and the sublandlord ledger follow.

use std::io::Cursor;

use calamine::{Data, DataType, Reader, Xlsx, open_workbook_from_rs};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{TestApp, csrf_of, page, page_login, page_post, spawn_app};

fn today() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string()
}

/// A unit of `community` at `address` referred to the enforcement team by a violation
/// result: the unit's id and its case's id.
pub async fn referred(app: &TestApp, admin: &str, community: &str, address: &str) -> (i64, i64) {
    let (unit, _) = app.create_unit(admin, community, address).await;
    (unit, refer(app, admin, unit).await)
}

/// Opens an overdue check of `unit`, records a violation there, and returns the case.
async fn refer(app: &TestApp, admin: &str, unit: i64) -> i64 {
    let check = app.overdue_check(unit, 0).await;
    let res = app
        .post_json(
            &format!("/api/v1/door-checks/{check}/result"),
            &json!({"outcome": "violation", "note": "隔断成 6 间，住 14 人"}),
            Some(admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    sqlx::query_scalar("select id from cases where door_check_id = $1")
        .bind(check)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// A decision with a number no other decision of the test run has.
fn decision(violation: &str, penalty: i64, day: &str) -> Value {
    static NUMBER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let n = NUMBER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    json!({"violation": violation, "penalty_yuan": penalty,
           "decision_number": format!("松综执罚〔2026〕{n}号"), "decided_on": day})
}

async fn json_of(res: reqwest::Response) -> Value {
    res.json().await.unwrap()
}

/// The ledger row of the only sublandlord in it, as the API shows it.
async fn only_ledger_item(app: &TestApp, token: &str) -> Value {
    let ledger = json_of(app.get("/api/v1/sublandlords", Some(token)).await).await;
    assert_eq!(ledger["total"], 1, "{ledger}");
    ledger["items"][0].clone()
}

/// A sublandlord's filed unit with a case: the unit and the case.
async fn sublandlords_case(app: &TestApp, admin: &str) -> (i64, i64) {
    let landlord = crate::sublandlords::sublandlord(app, 41).await;
    let filed = crate::sublandlords::file(
        app,
        &landlord,
        &crate::sublandlords::filing("影佳", "影佳路 8号 301室", 3, 2),
    )
    .await;
    let unit = filed["unit_id"].as_i64().unwrap();
    (unit, refer(app, admin, unit).await)
}

#[tokio::test]
async fn a_violation_result_opens_exactly_one_case_for_the_enforcement_team() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (unit, case) = referred(&app, &admin, "影佳", "影佳路 1号 101室").await;
    let check: i64 = sqlx::query_scalar("select door_check_id from cases where id = $1")
        .bind(case)
        .fetch_one(app.store.pool())
        .await
        .unwrap();

    // The same result again, or a different one, finds the check closed: nothing new.
    for outcome in ["violation", "verified"] {
        let res = app
            .post_json(
                &format!("/api/v1/door-checks/{check}/result"),
                &json!({"outcome": outcome, "note": "再次提交"}),
                Some(&admin),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
    }

    assert_eq!(app.count("cases").await, 1);
    assert_eq!(app.count("referrals").await, 1);
    let enforcement = app.login_as("enforcement", &["影佳"]).await;
    let list = json_of(app.get("/api/v1/cases", Some(&enforcement)).await).await;
    assert_eq!(list["total"], 1);
    let item = &list["items"][0];
    assert_eq!(item["id"], case);
    assert_eq!(item["unit_id"], unit);
    assert_eq!(item["address"], "影佳路 1号 101室");
    assert_eq!(item["community"], "影佳");
    assert_eq!(item["status"], "open");
    assert_eq!(item["violation"], Value::Null);
    assert_eq!(item["evidence_count"], 0);
    let detail = json_of(
        app.get(&format!("/api/v1/cases/{case}"), Some(&enforcement))
            .await,
    )
    .await;
    assert_eq!(detail["officer_note"], "隔断成 6 间，住 14 人");
    assert_eq!(detail["evidence"], json!([]));
    // Filters: no decided case yet; a bad status is named.
    let decided = json_of(
        app.get("/api/v1/cases?status=decided", Some(&enforcement))
            .await,
    )
    .await;
    assert_eq!(decided["total"], 0);
    let res = app
        .get("/api/v1/cases?status=pending", Some(&enforcement))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(res).await["fields"][0]["field"], "status");
}

#[tokio::test]
async fn evidence_keeps_a_photo_without_its_exif_data_and_a_note() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (_, case) = referred(&app, &admin, "影佳", "影佳路 2号 101室").await;
    let enforcement = app.login_as("enforcement", &["影佳"]).await;
    let with_gps = renfang::domain::tip::sample_jpeg_with_gps();
    assert!(with_gps.windows(3).any(|w| w == b"GPS"));

    let form = Form::new()
        .text("note", "客厅隔出 3 间，均有床铺")
        .part("photo", Part::bytes(with_gps).file_name("room.jpg"));
    let res = app
        .client
        .post(app.url(&format!("/api/v1/cases/{case}/evidence")))
        .bearer_auth(&enforcement)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let photo_id = json_of(res).await["id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/cases/{case}/evidence"),
            &json!({"note": "二房东称下月整改"}),
            Some(&enforcement),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let detail = json_of(
        app.get(&format!("/api/v1/cases/{case}"), Some(&enforcement))
            .await,
    )
    .await;
    let evidence = detail["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 2);
    assert_eq!(evidence[0]["kind"], "photo");
    assert_eq!(evidence[0]["note"], "客厅隔出 3 间，均有床铺");
    assert_eq!(evidence[1]["kind"], "note");
    assert_eq!(evidence[1]["photo_url"], Value::Null);
    let url = evidence[0]["photo_url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("/api/v1/cases/{case}/evidence/{photo_id}/photo")
    );
    let photo = app.get(url, Some(&enforcement)).await;
    assert_eq!(photo.status(), StatusCode::OK);
    assert_eq!(photo.headers()["content-type"], "image/jpeg");
    assert!(
        photo.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    let bytes = photo.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0xff, 0xd8]);
    assert!(!bytes.windows(4).any(|w| w == b"Exif"));
    assert!(!bytes.windows(3).any(|w| w == b"GPS"));
    let list = json_of(app.get("/api/v1/cases", Some(&enforcement)).await).await;
    assert_eq!(list["items"][0]["evidence_count"], 2);

    // Neither photo nor note, a note too long, or a GIF: refused, and nothing stored.
    for body in [json!({"note": "  "}), json!({"note": "长".repeat(501)})] {
        let res = app
            .post_json(
                &format!("/api/v1/cases/{case}/evidence"),
                &body,
                Some(&enforcement),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json_of(res).await["fields"][0]["field"], "note");
    }
    let gif = Form::new().part(
        "photo",
        Part::bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec()).file_name("x.jpg"),
    );
    let res = app
        .client
        .post(app.url(&format!("/api/v1/cases/{case}/evidence")))
        .bearer_auth(&enforcement)
        .multipart(gif)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("case_evidence").await, 2);
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'case.evidence'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn a_case_holds_at_most_thirty_pieces_of_evidence() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (_, case) = referred(&app, &admin, "影佳", "影佳路 3号 101室").await;
    let enforcement = app.login_as("enforcement", &["影佳"]).await;
    for n in 0..30 {
        let res = app
            .post_json(
                &format!("/api/v1/cases/{case}/evidence"),
                &json!({"note": format!("记录 {n}")}),
                Some(&enforcement),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{n}");
    }
    let res = app
        .post_json(
            &format!("/api/v1/cases/{case}/evidence"),
            &json!({"note": "第 31 项"}),
            Some(&enforcement),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(app.count("case_evidence").await, 30);
}

#[tokio::test]
async fn a_decision_is_refused_field_by_field_until_it_is_whole() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (_, case) = referred(&app, &admin, "影佳", "影佳路 4号 101室").await;
    let enforcement = app.login_as("enforcement", &["影佳"]).await;
    let tomorrow = (chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai)
        + chrono::Duration::days(2))
    .format("%Y-%m-%d")
    .to_string();
    let path = format!("/api/v1/cases/{case}/decision");
    for (body, field) in [
        (json!({}), "violation"),
        (json!({"violation": "arson"}), "violation"),
        (
            json!({"violation": "group_rental", "decision_number": "1", "decided_on": today()}),
            "penalty_yuan",
        ),
        (decision("group_rental", -5, &today()), "penalty_yuan"),
        (
            decision("group_rental", 1_000_001, &today()),
            "penalty_yuan",
        ),
        (decision("daily_rental", 100, &tomorrow), "decided_on"),
        (decision("daily_rental", 100, "2026-02-30"), "decided_on"),
        (
            json!({"violation": "other", "penalty_yuan": 1, "decision_number": "号".repeat(65),
                   "decided_on": today()}),
            "decision_number",
        ),
        (
            json!({"violation": "none", "penalty_yuan": 0}),
            "penalty_yuan",
        ),
        (
            json!({"violation": "group_rental", "penalty_yuan": 1.5, "decision_number": "1",
                   "decided_on": today()}),
            "penalty_yuan",
        ),
        (json!({"violation": "none", "fine": 1}), "fine"),
    ] {
        let res = app.post_json(&path, &body, Some(&enforcement)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let answer = json_of(res).await;
        let fields: Vec<&str> = answer["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{body}: {answer}");
    }
    let status: String = sqlx::query_scalar("select status from cases where id = $1")
        .bind(case)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(status, "open");
    // Nulls beside `none` are absent fields.
    let res = app
        .post_json(
            &path,
            &json!({"violation": "none", "penalty_yuan": null, "decision_number": null}),
            Some(&enforcement),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_decided_violation_raises_the_sublandlords_priority_by_fifteen() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (_, case) = sublandlords_case(&app, &admin).await;
    let enforcement = app.login_as("enforcement", &["影佳"]).await;
    let before = only_ledger_item(&app, &enforcement).await;
    assert_eq!(before["decided_cases"], 0);

    let res = app
        .post_json(
            &format!("/api/v1/cases/{case}/decision"),
            &decision("group_rental", 5000, &today()),
            Some(&enforcement),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let after = only_ledger_item(&app, &enforcement).await;
    assert_eq!(after["decided_cases"], 1);
    assert_eq!(
        after["priority"].as_i64().unwrap(),
        before["priority"].as_i64().unwrap() + 15
    );
    // A rebuild computes the same.
    let kept: Vec<(i64, i64, i64)> = sqlx::query_as(
        "select community_id, decided_cases, priority from ledger_rows order by community_id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    renfang::store::sublandlords::rebuild_ledger(&app.store)
        .await
        .unwrap();
    let rebuilt: Vec<(i64, i64, i64)> = sqlx::query_as(
        "select community_id, decided_cases, priority from ledger_rows order by community_id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(kept, rebuilt);
    assert!(kept.iter().all(|(_, decided, _)| *decided == 1));
    let item = json_of(
        app.get("/api/v1/cases?status=decided", Some(&enforcement))
            .await,
    )
    .await["items"][0]
        .clone();
    assert_eq!(item["violation"], "group_rental");
    assert_eq!(item["violation_label"], "群租");
    assert_eq!(item["penalty_yuan"], 5000);
    assert_eq!(item["decided_on"], today());
    // The ledger page has the column.
    let cookie = page_login(&app, "enforcement", &["影佳"]).await;
    let html = page(&app, &cookie, "/ledger").await.text().await.unwrap();
    assert!(html.contains("<th>已查处</th>"), "{html}");
    assert!(html.contains("15×已查处案件"));
}

#[tokio::test]
async fn no_violation_neither_raises_priority_nor_counts_toward_the_quarter() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (_, case) = sublandlords_case(&app, &admin).await;
    let enforcement = app.login_as("enforcement", &["影佳"]).await;
    let before = only_ledger_item(&app, &enforcement).await;

    let res = app
        .post_json(
            &format!("/api/v1/cases/{case}/decision"),
            &json!({"violation": "none"}),
            Some(&enforcement),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let after = only_ledger_item(&app, &enforcement).await;
    assert_eq!(after["decided_cases"], 0);
    assert_eq!(after["priority"], before["priority"]);
    let cookie = page_login(&app, "enforcement", &["影佳"]).await;
    let html = page(&app, &cookie, "/enforcement?status=decided")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("本季度已查办 0 / 20 件"), "{html}");
    assert!(html.contains("无违法"));
}

#[tokio::test]
async fn closing_needs_a_decision_first_and_a_closed_case_takes_nothing_more() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (_, case) = referred(&app, &admin, "影佳", "影佳路 5号 101室").await;
    let enforcement = app.login_as("enforcement", &["影佳"]).await;
    let close = format!("/api/v1/cases/{case}/close");

    let res = app.post_json(&close, &json!({}), Some(&enforcement)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        json_of(res).await["message"]
            .as_str()
            .unwrap()
            .contains("先记录处理决定")
    );
    let decide = format!("/api/v1/cases/{case}/decision");
    let res = app
        .post_json(
            &decide,
            &decision("illegal_wiring", 200, &today()),
            Some(&enforcement),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Decided once: a second decision is refused.
    let res = app
        .post_json(&decide, &json!({"violation": "none"}), Some(&enforcement))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app.post_json(&close, &json!({}), Some(&enforcement)).await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = app.post_json(&close, &json!({}), Some(&enforcement)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app
        .post_json(
            &format!("/api/v1/cases/{case}/evidence"),
            &json!({"note": "补充"}),
            Some(&enforcement),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let item = json_of(
        app.get("/api/v1/cases?status=closed", Some(&enforcement))
            .await,
    )
    .await["items"][0]
        .clone();
    assert_eq!(item["id"], case);
    assert!(item["closed_at"].as_str().unwrap().ends_with('Z'));
    let actions: Vec<String> =
        sqlx::query_scalar("select action from audit_log where subject = $1 order by id")
            .bind(format!("case:{case}"))
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(actions, ["case.decision", "case.close"]);
}

#[tokio::test]
async fn the_quarter_count_shows_on_the_home_page_and_in_the_monthly_report() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let enforcement = app.login_as("enforcement", &["影佳"]).await;
    let mut cases = Vec::new();
    for n in 1..=3 {
        cases.push(
            referred(&app, &admin, "影佳", &format!("影佳路 6号 10{n}室"))
                .await
                .1,
        );
    }
    // Two violations today, one finding of none; a case decided in an earlier quarter
    // does not count in this one.
    let bodies = [
        decision("group_rental", 1000, &today()),
        decision("garage_dwelling", 0, &today()),
        json!({"violation": "none"}),
    ];
    for (case, body) in cases.iter().zip(bodies) {
        let res = app
            .post_json(
                &format!("/api/v1/cases/{case}/decision"),
                &body,
                Some(&enforcement),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let (_, old) = referred(&app, &admin, "影佳", "影佳路 6号 201室").await;
    // Opened back then (an arrangement: a case of 2020).
    sqlx::query("update cases set opened_at = 1577836800000 where id = $1")
        .bind(old)
        .execute(app.store.pool())
        .await
        .unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/cases/{old}/decision"),
            &decision("other", 10, "2020-01-15"),
            Some(&enforcement),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let cookie = page_login(&app, "enforcement", &["影佳"]).await;
    let html = page(&app, &cookie, "/enforcement")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("本季度已查办 2 / 20 件"), "{html}");
    assert!(html.contains(r#"href="/ledger""#));

    let month = &today()[..7];
    let res = app
        .get(
            &format!("/api/v1/reports/monthly/{month}.xlsx"),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let yingjia = book.worksheet_range("影佳").unwrap();
    let row = yingjia
        .rows()
        .find(|r| r[0].get_string() == Some("本季度已查办执法案件（截至月末）"))
        .expect("the quarter's cases on the community's sheet");
    assert_eq!(row[1], Data::Float(2.0));
    let summary = book.worksheet_range("汇总").unwrap();
    let header = summary
        .rows()
        .position(|r| r.get(2).and_then(|c| c.get_string()) == Some("季度目标"))
        .expect("the cases' table under the summary");
    let total = summary.rows().nth(header + 1).unwrap();
    assert_eq!(total[0].get_string(), Some("合计"));
    assert_eq!(total[1], Data::Float(2.0));
    assert_eq!(total[2], Data::Float(20.0));
}

#[tokio::test]
async fn the_cases_export_has_chinese_headers_typed_numbers_and_labels() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (_, case) = referred(&app, &admin, "影佳", "影佳路 7号 101室").await;
    referred(&app, &admin, "影佳", "影佳路 7号 102室").await;
    let enforcement = app.login_as("enforcement", &["影佳"]).await;
    let res = app
        .post_json(
            &format!("/api/v1/cases/{case}/decision"),
            &decision("structural_alteration", 3000, &today()),
            Some(&enforcement),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = app.get("/api/v1/cases.xlsx", Some(&enforcement)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.contains("cases_"), "{disposition}");
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("执法案件").unwrap();
    assert!(
        sheet.rows().next().unwrap()[0]
            .to_string()
            .starts_with("执法案件\u{3000}影佳\u{3000}")
    );
    let header: Vec<String> = sheet
        .rows()
        .nth(1)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = |label: &str| header.iter().position(|h| h == label).unwrap();
    for label in [
        "案件编号",
        "社区",
        "地址",
        "状态",
        "违法类型",
        "罚款（元）",
        "决定日期",
        "状态代码",
    ] {
        assert!(header.iter().any(|h| h == label), "{label} in {header:?}");
    }
    let decided = sheet
        .rows()
        .skip(2)
        .find(|r| r[col("案件编号")] == Data::Float(case as f64))
        .unwrap();
    assert_eq!(decided[col("罚款（元）")], Data::Float(3000.0));
    assert_eq!(decided[col("违法类型")].get_string(), Some("改变房屋结构"));
    assert_eq!(decided[col("状态")].get_string(), Some("已决定"));
    assert_eq!(decided[col("状态代码")].get_string(), Some("decided"));
    assert!(matches!(decided[col("决定日期")], Data::DateTime(_)));
    let open = sheet
        .rows()
        .skip(2)
        .find(|r| r[col("案件编号")] != Data::Float(case as f64))
        .unwrap();
    assert_eq!(open[col("罚款（元）")], Data::Empty);
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'export.cases'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn police_read_cases_but_only_the_team_of_the_community_works_them() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let (_, case) = referred(&app, &admin, "影佳", "影佳路 9号 101室").await;
    let police = app.login_as("police", &["影佳"]).await;
    let res = app
        .get(&format!("/api/v1/cases/{case}"), Some(&police))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for (path, body) in [
        ("decision", decision("group_rental", 1, &today())),
        ("close", json!({})),
        ("evidence", json!({"note": "民警补充"})),
    ] {
        for token in [&police, &admin] {
            let res = app
                .post_json(&format!("/api/v1/cases/{case}/{path}"), &body, Some(token))
                .await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        }
    }
    let elsewhere = app.login_as("enforcement", &["祥东"]).await;
    let res = app
        .get(&format!("/api/v1/cases/{case}"), Some(&elsewhere))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .post_json(
            &format!("/api/v1/cases/{case}/decision"),
            &decision("group_rental", 1, &today()),
            Some(&elsewhere),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let list = json_of(app.get("/api/v1/cases", Some(&elsewhere)).await).await;
    assert_eq!(list["total"], 0);
    let res = app
        .get("/api/v1/cases?community=影佳", Some(&elsewhere))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let property = app.login_as("property", &["影佳"]).await;
    assert_eq!(
        app.get("/api/v1/cases", Some(&property)).await.status(),
        StatusCode::FORBIDDEN
    );
    let status: String = sqlx::query_scalar("select status from cases where id = $1")
        .bind(case)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(status, "open");
}

#[tokio::test]
async fn the_team_works_a_case_on_its_pages_from_evidence_to_closing() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (_, case) = referred(&app, &admin, "影佳", "影佳路 10号 101室").await;
    let cookie = page_login(&app, "enforcement", &["影佳"]).await;
    let home = page(&app, &cookie, "/enforcement")
        .await
        .text()
        .await
        .unwrap();
    assert!(home.contains("影佳路 10号 101室"), "{home}");
    assert!(home.contains("待查处"));
    let path = format!("/enforcement/cases/{case}");
    let html = page(&app, &cookie, &path).await.text().await.unwrap();
    assert!(html.contains("隔断成 6 间，住 14 人"));
    assert!(html.contains(r#"accept="image/*" capture="environment""#));
    assert!(html.contains("经查无违法"));
    assert!(!html.contains("<script"));
    let csrf = csrf_of(&html);

    // A photo and a note through the page's multipart form.
    let form = Form::new()
        .text("csrf", csrf.clone())
        .text("note", "厨房住人")
        .part(
            "photo",
            Part::bytes(renfang::domain::tip::sample_jpeg_with_gps()).file_name("k.jpg"),
        );
    let res = app
        .client
        .post(app.url(&format!("{path}/evidence")))
        .header("Cookie", &cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page(&app, &cookie, &format!("{path}?saved=evidence"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("厨房住人"));
    let photo: i64 = sqlx::query_scalar("select id from case_evidence where case_id = $1")
        .bind(case)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let thumb = format!("{path}/evidence/{photo}/photo");
    assert!(html.contains(&thumb));
    let res = page(&app, &cookie, &thumb).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");

    // A bad decision says why in Chinese; closing before deciding says what to do first.
    let res = page_post(
        &app,
        &cookie,
        &format!("{path}/decision"),
        &[
            ("csrf", &csrf),
            ("violation", "group_rental"),
            ("penalty_yuan", "一千"),
            ("decision_number", "1"),
            ("decided_on", &today()),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("罚款金额应为整数"));
    let res = page_post(&app, &cookie, &format!("{path}/close"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("先记录处理决定"));

    // A decision is read back before it is recorded, then confirmed.
    let decided = [
        ("csrf", csrf.as_str()),
        ("violation", "daily_rental"),
        ("penalty_yuan", "800"),
        ("decision_number", "松综执罚〔2026〕3号"),
        ("decided_on", &today()),
    ];
    let res = page_post(&app, &cookie, &format!("{path}/decision"), &decided).await;
    assert_eq!(res.status(), StatusCode::OK);
    let asked = res.text().await.unwrap();
    assert!(
        asked.contains("违法类型：日租；罚款 800 元") && asked.contains("确认记录"),
        "{asked}"
    );
    let undecided: Option<String> = sqlx::query_scalar("select violation from cases where id = $1")
        .bind(case)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(
        undecided, None,
        "nothing is recorded before the confirmation"
    );
    let mut confirmed = decided.to_vec();
    confirmed.push(("confirm", "1"));
    let res = page_post(&app, &cookie, &format!("{path}/decision"), &confirmed).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Closing asks first, and changes nothing until confirmed.
    let res = page_post(&app, &cookie, &format!("{path}/close"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("确认结案"));
    let status = |app: &TestApp| {
        let pool = app.store.pool().clone();
        async move {
            sqlx::query_scalar::<_, String>("select status from cases where id = $1")
                .bind(case)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(status(&app).await, "decided");
    let res = page_post(
        &app,
        &cookie,
        &format!("{path}/close"),
        &[("csrf", &csrf), ("confirm", "1")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(status(&app).await, "closed");
    let html = page(&app, &cookie, "/enforcement?status=closed")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("日租"), "{html}");
    // A wrong CSRF token changes nothing.
    let (_, other) = referred(&app, &admin, "影佳", "影佳路 10号 102室").await;
    let res = page_post(
        &app,
        &cookie,
        &format!("/enforcement/cases/{other}/decision"),
        &[("csrf", "0"), ("violation", "none")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // 无违法 cannot be changed afterwards: the page asks first.
    let res = page_post(
        &app,
        &cookie,
        &format!("/enforcement/cases/{other}/decision"),
        &[("csrf", &csrf), ("violation", "none")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("确认无违法"));
    let open: i64 = sqlx::query_scalar("select count(*) from cases where status = 'open'")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(open, 1);
    let res = page_post(
        &app,
        &cookie,
        &format!("/enforcement/cases/{other}/decision"),
        &[("csrf", &csrf), ("violation", "none"), ("confirm", "1")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let export = page(&app, &cookie, "/enforcement/export.xlsx").await;
    assert_eq!(export.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_decision_number_counts_once_and_a_decision_is_not_dated_before_its_case() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (_, first) = referred(&app, &admin, "影佳", "影佳路 8号 101室").await;
    let (_, second) = referred(&app, &admin, "影佳", "影佳路 8号 102室").await;
    let team = app.login_as("enforcement", &["影佳"]).await;
    let body = decision("group_rental", 2000, &today());
    let res = app
        .post_json(
            &format!("/api/v1/cases/{first}/decision"),
            &body,
            Some(&team),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_json(
            &format!("/api/v1/cases/{second}/decision"),
            &body,
            Some(&team),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(res).await["fields"][0]["field"], "decision_number");

    let res = app
        .post_json(
            &format!("/api/v1/cases/{second}/decision"),
            &decision("group_rental", 2000, "2024-03-01"),
            Some(&team),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(res).await["fields"][0]["field"], "decided_on");
    let open: String = sqlx::query_scalar("select status from cases where id = $1")
        .bind(second)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(open, "open");

    // Closing the case closes its referral, whose note then falls under retention.
    let res = app
        .post_json(
            &format!("/api/v1/cases/{first}/close"),
            &json!({}),
            Some(&team),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let referral: String = sqlx::query_scalar(
        "select r.status from referrals r join cases c on c.referral_id = r.id where c.id = $1",
    )
    .bind(first)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(referral, "closed");
}
