//! Paging of the lists the actions answer with.

use super::{Error, Result};

/// The highest page number any list accepts: far past any real list, and low enough that
/// no offset computed from it can overflow.
pub const MAX_PAGE: i64 = 1_000_000;

/// `page` (from 1) and `per_page` (1–200, default 50) as an offset and a limit, or a
/// validation error naming the value out of range.
pub fn paging(page: Option<i64>, per_page: Option<i64>) -> Result<(i64, i64)> {
    let per_page = per_page.unwrap_or(50);
    if !(1..=200).contains(&per_page) {
        return Err(Error::invalid("per_page"));
    }
    let page = page.unwrap_or(1);
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(Error::invalid("page"));
    }
    Ok(((page - 1) * per_page, per_page))
}

/// An instant (milliseconds since the epoch) in RFC 3339, UTC, with second precision.
pub fn rfc3339(ms: i64) -> String {
    crate::store::instant(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
