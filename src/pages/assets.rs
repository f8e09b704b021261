//! The pages' style sheets, built into the binary and served from `/assets/`: pages carry no
//! inline style, so their Content-Security-Policy can refuse any that an injection adds.

use actix_web::{HttpResponse, web};

use crate::error::AppError;

/// Every style sheet, by the name in its URL.
const SHEETS: &[(&str, &str)] = &[
    ("base.css", include_str!("../../assets/css/base.css")),
    ("console.css", include_str!("../../assets/css/console.css")),
    ("ledger.css", include_str!("../../assets/css/ledger.css")),
    ("my_unit.css", include_str!("../../assets/css/my_unit.css")),
    (
        "my_units.css",
        include_str!("../../assets/css/my_units.css"),
    ),
    (
        "police_filings.css",
        include_str!("../../assets/css/police_filings.css"),
    ),
    (
        "police_list.css",
        include_str!("../../assets/css/police_list.css"),
    ),
    (
        "police_unit.css",
        include_str!("../../assets/css/police_unit.css"),
    ),
];

/// Registers the style-sheet route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/{name}", web::get().to(sheet));
}

async fn sheet(name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (_, text) = SHEETS
        .iter()
        .find(|(n, _)| *n == name.as_str())
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        // An hour: a new release's styles reach every phone within one.
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(*text))
}
