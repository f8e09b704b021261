//! A file answered as a download, for the API and the pages alike.

use actix_web::{HttpResponse, HttpResponseBuilder};

use crate::export::FileName;

/// The `Cache-Control` of files with personal data: no one keeps a copy.
pub const NO_COPIES: &str = "private, no-store";

/// The media type of an XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// An answer that browsers save under `name` rather than show; `cache_control` says who
/// may keep a copy.
pub fn attachment(content_type: &str, name: &FileName, cache_control: &str) -> HttpResponseBuilder {
    let mut answer = HttpResponse::Ok();
    answer
        .content_type(content_type)
        .insert_header((
            "Content-Disposition",
            content_disposition("attachment", name),
        ))
        .insert_header(("Cache-Control", cache_control.to_string()));
    answer
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266; `kind` is `attachment` or
/// `inline`): the ASCII name for old clients, the full UTF-8 name percent-encoded
/// (RFC 5987) for every browser since 2012.
pub fn content_disposition(kind: &str, name: &FileName) -> String {
    let ascii: String = name
        .ascii
        .chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control() && !matches!(c, '"' | '\\'))
        .collect();
    format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        percent_encode(&name.name)
    )
}

/// Every byte outside RFC 5987's `attr-char` as `%XX`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A monthly report as its XLSX download, `月报_2026-11.xlsx`.
pub fn monthly_report(report: crate::service::reports::MonthlyReport) -> HttpResponse {
    let name = FileName {
        name: format!("月报_{}.xlsx", report.month),
        ascii: format!("monthly-report_{}.xlsx", report.month),
    };
    attachment(XLSX, &name, "no-store").body(report.xlsx)
}

/// The import template as its CSV download, `房屋导入模板.csv`.
pub fn import_template(csv: Vec<u8>) -> HttpResponse {
    let name = FileName {
        name: "房屋导入模板.csv".into(),
        ascii: "units-import-template.csv".into(),
    };
    attachment("text/csv; charset=utf-8", &name, NO_COPIES).body(csv)
}

/// A table as a download in `format` (`csv` or `xlsx`, else 404) named from what the table
/// says it is, its worksheet named `sheet`: the one path of every list export.
pub async fn table(
    table: crate::export::Table,
    format: &str,
    sheet: &'static str,
) -> Result<HttpResponse, crate::error::AppError> {
    let name = table.about.file_name(table.tz, format);
    match format {
        "csv" => Ok(attachment("text/csv; charset=utf-8", &name, NO_COPIES)
            .body(crate::export::csv(&table))),
        "xlsx" => {
            let bytes = actix_web::web::block(move || crate::export::xlsx(sheet, &table))
                .await
                .map_err(|e| anyhow::anyhow!("export task: {e}"))??;
            Ok(attachment(XLSX, &name, NO_COPIES).body(bytes))
        }
        _ => Err(crate::error::AppError::NotFound),
    }
}

/// A file with personal data shown in the browser (a tip's photo, a poster), kept by no
/// cache.
pub fn private(content_type: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", NO_COPIES))
        .body(body)
}

/// Like [`private`], under `name` when the reader saves it.
pub fn private_named(content_type: &str, name: &FileName, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Disposition", content_disposition("inline", name)))
        .insert_header(("Cache-Control", NO_COPIES))
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_name_has_an_ascii_fallback_and_a_percent_encoded_utf8_name() {
        let name = FileName {
            name: "上门核查_影佳 1\"_2026-12-04.xlsx".into(),
            ascii: "door-checks_2026-12-04.xlsx".into(),
        };
        assert_eq!(
            content_disposition("attachment", &name),
            "attachment; filename=\"door-checks_2026-12-04.xlsx\"; \
             filename*=UTF-8''%E4%B8%8A%E9%97%A8%E6%A0%B8%E6%9F%A5_%E5%BD%B1%E4%BD%B3%201%22_2026-12-04.xlsx"
        );
    }
}
