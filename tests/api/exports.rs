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
    let admin = app.admin_with(&[EVIL]).await;
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
