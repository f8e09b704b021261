//! A file answered as a download, for the API and the pages alike.

use actix_web::{HttpResponse, HttpResponseBuilder};

/// The `Cache-Control` of files with personal data: no one keeps a copy.
pub const NO_COPIES: &str = "private, no-store";

/// The media type of an XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// An answer that browsers save as `file_name` rather than show; `cache_control` says who
/// may keep a copy.
pub fn attachment(content_type: &str, file_name: &str, cache_control: &str) -> HttpResponseBuilder {
    let mut answer = HttpResponse::Ok();
    answer
        .content_type(content_type)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{file_name}\""),
        ))
        .insert_header(("Cache-Control", cache_control.to_string()));
    answer
}

/// A monthly report as its XLSX download.
pub fn monthly_report(report: crate::service::reports::MonthlyReport) -> HttpResponse {
    attachment(XLSX, &format!("renfang-{}.xlsx", report.month), "no-store").body(report.xlsx)
}

/// A table as a download in `format` (`csv` or `xlsx`, else 404) named `stem.csv` or
/// `stem.xlsx`, its worksheet named `sheet`: the one path of every list export.
pub async fn table(
    table: crate::export::Table,
    format: &str,
    stem: &str,
    sheet: &'static str,
) -> Result<HttpResponse, crate::error::AppError> {
    match format {
        "csv" => Ok(
            attachment("text/csv; charset=utf-8", &format!("{stem}.csv"), NO_COPIES)
                .body(crate::export::csv(&table)),
        ),
        "xlsx" => {
            let bytes = actix_web::web::block(move || crate::export::xlsx(sheet, &table))
                .await
                .map_err(|e| anyhow::anyhow!("export task: {e}"))??;
            Ok(attachment(XLSX, &format!("{stem}.xlsx"), NO_COPIES).body(bytes))
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
