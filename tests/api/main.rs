//! Integration tests through HTTP, each test with a database of its own: a temporary SQLite
//! file by default, a fresh PostgreSQL database when `RENFANG_TEST_DATABASE_URL` is set.

mod abuse;
mod accounts;
mod audit;
mod audit_chain;
mod auth;
mod browser;
mod cli;
mod console;
mod door_checks;
mod exports;
mod filing_review;
mod headers;
mod health;
mod helpers;
mod import;
mod instances;
mod layout;
mod ledger_identity;
mod limits;
mod matrix;
mod page;
mod police;
mod portal;
mod posters;
mod redis_start;
mod reports;
mod retention;
mod scan;
mod schema;
mod security;
mod stats;
mod storage;
mod sublandlords;
mod tips;
mod units;
