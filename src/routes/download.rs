//! A file answered as a download, for the API and the pages alike.

use actix_web::{HttpResponse, HttpResponseBuilder};

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
