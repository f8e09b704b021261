//! The use-case layer: one function per business action (authorise, apply the rules,
//! write). The JSON API, the HTML pages, the CLI and the scheduled jobs call these
//! functions; none of them calls another delivery module. A service function takes a
//! [`Context`] and, where the action belongs to someone, the [`Caller`], and answers with
//! [`Error`], which the HTTP layer turns into its answer with one `From`.

pub mod accounts;
pub mod assignment;
pub mod audit;
pub mod caller;
pub mod cases;
pub mod context;
pub mod door_checks;
pub mod error;
pub mod feed;
pub mod filings;
pub mod imports;
pub mod ledger;
pub mod ledger_person;
pub mod my_units;
pub mod outbox;
pub mod paging;
pub mod photos;
pub mod posters;
pub mod registration;
pub mod reports;
pub mod reveal;
pub mod scan_cache;
pub mod self_service;
pub mod stats;
pub mod sublandlords;
pub mod tips;
pub mod undo;
pub mod units;
pub mod visits;

pub use caller::Caller;
pub use context::Context;
pub use error::{Error, Result};
pub use paging::{MAX_PAGE, paging, rfc3339};
