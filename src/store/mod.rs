//! Storage: SQL only, on SQLite or PostgreSQL through sqlx's `Any` driver.
//!
//! Every query is written once with `$1`-style parameters, which both backends accept, and
//! only portable types: integers (timestamps are milliseconds since the Unix epoch, UTC),
//! text, doubles and bytes. The backend is chosen from the URL scheme in [`Store::connect`].

pub mod assignment;
pub mod audit;
pub mod cases;
mod chain;
pub mod clock;
pub mod communities;
mod decode;
mod dialect;
pub mod door_checks;
mod error;
pub mod feed;
pub mod filing_review;
pub mod filings;
mod findings;
pub mod idempotency;
pub mod import;
pub mod ledger;
pub mod ledger_person;
mod native;
pub mod outbox;
mod pool;
pub mod registrations;
pub mod reminders;
pub mod reports;
pub mod retention;
pub mod scope;
pub mod self_service;
pub mod stats;
pub mod sublandlords;
mod time;
pub mod tips;
mod tx;
pub mod undo;
pub mod units;
mod upload;
pub mod users;
pub mod visits;
mod writer;

pub use dialect::Backend;
pub use error::{Constraint, StoreError, StoreResult};
pub use pool::Store;
pub use scope::Scope;
pub use time::{instant, millis};
pub use tx::{Tx, TxFn};
pub use writer::Writer;
