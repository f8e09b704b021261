//! Safe exports: a formula typed into any text field comes out of every CSV and XLSX file
//! as text, never as something a spreadsheet would run.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::Utc;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{page, page_login, spawn_app};

const EVIL: &str = "=HYPERLINK(\"http://evil.example/x\",\"点我\")";

fn starts_like_a_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Every cell of a CSV export (after its byte-order mark), split the way a spreadsheet
/// splits it.
fn csv_cells(bytes: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(bytes)
        .unwrap()
        .trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .flat_map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

/// Every text cell of every sheet, after checking that the workbook holds no formula.
fn xlsx_cells(bytes: &[u8]) -> Vec<String> {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let mut cells = Vec::new();
    for name in book.sheet_names() {
        let formulas = book.worksheet_formula(&name).unwrap();
        assert!(
            formulas.used_cells().next().is_none(),
            "a formula in sheet {name}"
        );
        let range = book.worksheet_range(&name).unwrap();
        for (_, _, cell) in range.used_cells() {
            if let Data::String(text) = cell {
                cells.push(text.clone());
            }
        }
    }
    cells
}

fn assert_safe(what: &str, cells: &[String]) {
    let carrying: Vec<&String> = cells.iter().filter(|c| c.contains("HYPERLINK")).collect();
    assert!(!carrying.is_empty(), "{what}: the planted text is missing");
    for cell in cells {
        assert!(
            !starts_like_a_formula(cell),
            "{what}: live formula {cell:?}"
        );
    }
    for cell in carrying {
        assert!(
            cell.starts_with('\'') || !cell.starts_with('='),
            "{what}: {cell:?}"
        );
    }
}

#[tokio::test]
async fn a_formula_in_every_text_field_stays_text_in_every_export() {
    let app = spawn_app().await;
    let admin = app.admin_with(&[]).await;
    // Such a name is refused today, but one stored before that rule must still export as
    // text: put it in as an older release could have.
    sqlx::query("insert into communities (name, created_at) values ($1, 0)")
        .bind(EVIL)
        .execute(app.store.pool())
        .await
        .unwrap();
    let (unit, _) = app.create_unit(&admin, EVIL, EVIL).await;
    let month = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m")
        .to_string();
    // A check on the unit, so that the door-check exports have a row; its note too.
    let check = app.overdue_check(unit, 0).await;
    let res = app
        .post_json(
            &format!("/api/v1/door-checks/{check}/result"),
            &json!({"outcome": "unreachable", "note": EVIL}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = page_login(&app, "admin", &[]).await;

    let api_csv = app.get("/api/v1/door-checks.csv", Some(&admin)).await;
    assert_safe(
        "door-checks.csv",
        &csv_cells(&api_csv.bytes().await.unwrap()),
    );
    let api_xlsx = app.get("/api/v1/door-checks.xlsx", Some(&admin)).await;
    assert_safe(
        "door-checks.xlsx",
        &xlsx_cells(&api_xlsx.bytes().await.unwrap()),
    );
    let page_csv = page(&app, &cookie, "/police/export.csv").await;
    assert_safe(
        "police export.csv",
        &csv_cells(&page_csv.bytes().await.unwrap()),
    );
    let page_xlsx = page(&app, &cookie, "/police/export.xlsx").await;
    assert_safe(
        "police export.xlsx",
        &xlsx_cells(&page_xlsx.bytes().await.unwrap()),
    );
    let report = app
        .get(
            &format!("/api/v1/reports/monthly/{month}.xlsx"),
            Some(&admin),
        )
        .await;
    assert_eq!(report.status(), StatusCode::OK);
    assert_safe(
        "monthly report",
        &xlsx_cells(&report.bytes().await.unwrap()),
    );
}

/// Today in Shanghai, as file names and title rows write it.
fn today() -> String {
    Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string()
}

/// `text` percent-encoded the way RFC 5987 asks (every byte outside `attr-char`).
fn rfc5987(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The XML of the first worksheet of a workbook.
fn sheet_xml(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

/// `(column, width, hidden)` of every column a `<col>` of a sheet describes (one `<col>`
/// may stand for a run of alike columns), columns counted from 1.
fn columns(xml: &str) -> Vec<(usize, f64, bool)> {
    let attr = |col: &str, name: &str| -> String {
        let at = col.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        col[at..at + col[at..].find('"').unwrap()].to_string()
    };
    xml.split("<col ")
        .skip(1)
        .flat_map(|c| {
            let col = format!(" {}", &c[..c.find("/>").unwrap()]);
            let min: usize = attr(&col, "min").parse().unwrap();
            let max: usize = attr(&col, "max").parse().unwrap();
            let width: f64 = attr(&col, "width").parse().unwrap();
            let hidden = col.contains(" hidden=\"1\"");
            (min..=max).map(move |n| (n, width, hidden))
        })
        .collect()
}

#[tokio::test]
async fn the_door_check_workbook_is_built_for_excel_and_wps() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let (unit, _) = app
        .create_unit(&admin, "影佳", "影佳路 1188弄 22号 1201室")
        .await;
    app.overdue_check(unit, 0).await;

    let res = app
        .get("/api/v1/door-checks.xlsx?community=影佳社区", Some(&admin))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    let day = today();
    assert_eq!(
        disposition,
        format!(
            "attachment; filename=\"door-checks_{day}.xlsx\"; filename*=UTF-8''{}",
            rfc5987(&format!("上门核查_影佳_{day}.xlsx"))
        )
    );
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
    let sheet = book.worksheet_range("上门核查").unwrap();
    let title = sheet.rows().next().unwrap()[0].to_string();
    assert!(
        title.starts_with("上门核查\u{3000}影佳\u{3000}导出时间 ") && title.contains(&day),
        "{title}"
    );
    let header: Vec<String> = sheet
        .rows()
        .nth(1)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = |label: &str| {
        header
            .iter()
            .position(|h| h == label)
            .unwrap_or_else(|| panic!("no {label} in {header:?}"))
    };
    let row = sheet.rows().nth(2).unwrap();
    assert!(
        matches!(row[col("编号")], Data::Float(_)),
        "{:?}",
        row[col("编号")]
    );
    assert!(matches!(row[col("未上传天数")], Data::Float(_)));
    assert!(matches!(row[col("未遇次数")], Data::Float(_)));
    assert!(matches!(row[col("发起时间")], Data::DateTime(_)));
    assert_eq!(row[col("状态")], Data::String("待核查".into()));
    assert_eq!(row[col("原因")], Data::String("逾期未上传".into()));
    assert_eq!(row[col("状态代码")], Data::String("open".into()));
    assert_eq!(row[col("原因代码")], Data::String("no_upload".into()));
    assert_eq!(header.last().map(String::as_str), Some("结果代码"));

    let xml = sheet_xml(&bytes);
    assert!(
        xml.contains(r#"state="frozen""#) && xml.contains(r#"ySplit="2""#),
        "{xml}"
    );
    let last = (b'A' + header.len() as u8 - 1) as char;
    assert!(
        xml.contains(&format!(r#"<autoFilter ref="A2:{last}3"/>"#)),
        "{xml}"
    );
    let cols = columns(&xml);
    let width = |label: &str| cols.iter().find(|c| c.0 == col(label) + 1).unwrap().1;
    assert!(width("地址") > width("编号"), "{cols:?}");
    // 19 characters, 6 of them CJK: 25 half-width characters wide.
    assert!(width("地址") >= 25.0, "CJK counts double: {cols:?}");
    let hidden: Vec<usize> = cols.iter().filter(|c| c.2).map(|c| c.0 - 1).collect();
    assert_eq!(
        hidden,
        [col("原因代码"), col("状态代码"), col("结果代码")],
        "{cols:?}"
    );
}

#[tokio::test]
async fn the_door_check_csv_has_local_times_codes_last_and_a_named_file() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (unit, _) = app.create_unit(&admin, "影佳", "影佳路 1号 101室").await;
    app.overdue_check(unit, 0).await;

    let res = app.get("/api/v1/door-checks.csv", Some(&admin)).await;

    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    let day = today();
    assert!(
        disposition.contains(&format!("filename=\"door-checks_{day}.csv\""))
            && disposition.contains(&rfc5987(&format!("上门核查_全部_{day}.csv"))),
        "{disposition}"
    );
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xef\xbb\xbf");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.ends_with(",原因代码,状态代码,结果代码"), "{header}");
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.split(',').position(|h| h == "发起时间").unwrap();
    let local = chrono::NaiveDateTime::parse_from_str(row[at], "%Y-%m-%d %H:%M");
    assert!(local.is_ok(), "{}", row[at]);
    assert!(row.contains(&"待核查") && row.contains(&"open"), "{row:?}");
}

#[tokio::test]
async fn an_officers_export_is_named_after_their_only_community_and_a_wider_one_after_none() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let (unit, _) = app.create_unit(&admin, "影佳", "影佳路 1号 101室").await;
    app.overdue_check(unit, 0).await;
    let day = today();
    let named = |disposition: &str, file: &str| disposition.contains(&rfc5987(file));

    let officer = app.login_as("police", &["影佳"]).await;
    for (path, file) in [
        (
            "/api/v1/door-checks.csv",
            format!("上门核查_影佳_{day}.csv"),
        ),
        ("/api/v1/cases.xlsx", format!("执法案件_影佳_{day}.xlsx")),
    ] {
        let res = app.get(path, Some(&officer)).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let disposition = res.headers()["content-disposition"].to_str().unwrap();
        assert!(named(disposition, &file), "{path}: {disposition}");
    }

    let wider = app.login_as("police", &["影佳", "祥东"]).await;
    let res = app.get("/api/v1/door-checks.csv", Some(&wider)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(
        !disposition.contains(&rfc5987("影佳")) && !disposition.contains(&rfc5987("祥东")),
        "{disposition}"
    );
}
