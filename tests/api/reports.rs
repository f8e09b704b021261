//! The monthly report: the command line, the scheduler's copy and the download.

use std::io::Cursor;
use std::time::Duration;

use calamine::{Data, DataType, Reader, Xlsx, open_workbook_from_rs};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{ID_A, TestApp, occupant, registration, spawn_app, test_settings};

fn this_month() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m")
        .to_string()
}

/// Two communities, two units in 影佳, one registered this month.
async fn arrange(app: &TestApp) -> String {
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let (_, poster) = app.create_unit(&admin, "影佳", "影佳路 1号 101室").await;
    app.create_unit(&admin, "影佳", "影佳路 1号 102室").await;
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    admin
}

fn cell(sheet: &calamine::Range<Data>, row: usize, label: &str) -> Data {
    let header = sheet.rows().nth(1).expect("header row, under the title");
    let col = header
        .iter()
        .position(|c| c.get_string() == Some(label))
        .unwrap_or_else(|| panic!("no column {label}"));
    sheet.rows().nth(row).unwrap()[col].clone()
}

fn check_workbook(bytes: &[u8]) {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(book.sheet_names(), ["汇总", "影佳", "祥东"]);
    let summary = book.worksheet_range("汇总").unwrap();
    let title = summary.rows().next().unwrap()[0].to_string();
    assert!(
        title.starts_with(&format!(
            "人房共管月报 {}\u{3000}全部社区\u{3000}导出时间 ",
            this_month()
        )),
        "{title}"
    );
    // Row 2 is the total, then the communities by name.
    assert_eq!(summary.rows().nth(2).unwrap()[0].to_string(), "合计");
    assert_eq!(cell(&summary, 2, "房屋数"), Data::Float(2.0));
    assert_eq!(cell(&summary, 2, "本月上传次数"), Data::Float(1.0));
    assert_eq!(cell(&summary, 2, "上传率"), Data::Float(0.5));
    // The plan's 95% belongs to the advance-filing rate; staff-made units are not let by a
    // sublandlord, so there is no rate to meet it.
    assert_eq!(cell(&summary, 2, "事前报备率达到 95% 目标"), Data::Empty);
    let header = summary.rows().nth(1).unwrap();
    assert!(!header.iter().any(|c| c.to_string().contains("自主申报")));
    // 祥东 has no units: its rates are empty cells, and every count a number.
    assert_eq!(cell(&summary, 4, "上传率"), Data::Empty);
    for label in ["房屋数", "在租房屋", "当前逾期未上传", "本月线索举报"] {
        assert_eq!(cell(&summary, 4, label), Data::Float(0.0), "{label}");
    }
    let yingjia = book.worksheet_range("影佳").unwrap();
    assert!(
        yingjia.rows().next().unwrap()[0]
            .to_string()
            .contains("影佳")
    );
    let days: Vec<&[Data]> = yingjia
        .rows()
        .filter(|r| matches!(r[0], Data::DateTime(_)))
        .collect();
    assert!(days.len() >= 28, "one typed date a day: {}", days.len());
    let uploads: f64 = days.iter().map(|r| r[1].as_f64().unwrap()).sum();
    assert_eq!(uploads, 1.0);
    let xml = sheet_xml(bytes, "xl/worksheets/sheet1.xml");
    assert!(
        xml.contains(r#"state="frozen""#) && xml.contains(r#"ySplit="2""#),
        "{xml}"
    );
    assert!(xml.contains(r#"<autoFilter ref="A2:Q5"/>"#), "{xml}");
    let widths: Vec<&str> = xml
        .split(" width=\"")
        .skip(1)
        .map(|w| &w[..w.find('"').unwrap()])
        .collect();
    assert!(
        widths.len() > 2 && widths.iter().any(|w| *w != widths[0]),
        "{widths:?}"
    );
}

fn sheet_xml(bytes: &[u8], name: &str) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut xml).unwrap();
    xml
}

#[tokio::test]
async fn report_monthly_writes_a_summary_and_a_sheet_per_community() {
    let app = spawn_app().await;
    arrange(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.xlsx");

    let run = std::process::Command::new(env!("CARGO_BIN_EXE_renfang"))
        .args(["report", "monthly", "--month", &this_month(), "--out"])
        .arg(&out)
        .env("RENFANG_DATABASE_URL", &app.database_url)
        .env("RENFANG_DATA_KEY", crate::helpers::TEST_KEY)
        .output()
        .unwrap();

    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    check_workbook(&std::fs::read(&out).unwrap());
}

#[tokio::test]
async fn the_scheduler_keeps_the_report_for_admins_to_download() {
    let app = spawn_app().await;
    let admin = arrange(&app).await;
    let mut settings = test_settings(&app.database_url);
    settings.report_cron = "* * * * * *".into();

    let mut scheduler = renfang::jobs::start(app.store.clone(), &settings)
        .await
        .unwrap();
    let mut listed = Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        listed = app
            .get("/api/v1/reports", Some(&admin))
            .await
            .json()
            .await
            .unwrap();
        if listed.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
    }
    scheduler.shutdown().await.unwrap();

    assert_eq!(listed[0]["month"], this_month(), "{listed}");
    let res = app
        .get(listed[0]["url"].as_str().unwrap(), Some(&admin))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let month = this_month();
    assert_eq!(
        res.headers()["content-disposition"].to_str().unwrap(),
        format!(
            "attachment; filename=\"monthly-report_{month}.xlsx\"; filename*=UTF-8''%E6%9C%88%E6%8A%A5_{month}.xlsx"
        ),
        "月报_{month}.xlsx"
    );
    check_workbook(&res.bytes().await.unwrap());
    let police = app.login_as("police", &["影佳"]).await;
    let res = app
        .get(
            &format!("/api/v1/reports/monthly/{}.xlsx", this_month()),
            Some(&police),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .get("/api/v1/reports/monthly/2026-13.xlsx", Some(&admin))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
