//! What every list and query shares: paging and the answer to a value outside its set.

use crate::error::AppError;

pub use crate::service::MAX_PAGE;

/// The page number a page (HTML) asks for: a missing or out-of-range one shows the nearest
/// page instead of an error.
pub fn page_number(page: Option<i64>) -> i64 {
    page.unwrap_or(1).clamp(1, MAX_PAGE)
}

/// `page` (from 1) and `per_page` (1–200, default 50) as an offset and a limit, or 422.
pub fn paging(page: Option<i64>, per_page: Option<i64>) -> Result<(i64, i64), AppError> {
    Ok(crate::service::paging(page, per_page)?)
}

/// A 422 for a query value outside its allowed set.
pub fn invalid(field: &str) -> AppError {
    crate::service::Error::invalid(field).into()
}
