//! Integration tests through HTTP, each test with a database of its own: a temporary SQLite
//! file by default, a fresh PostgreSQL database when `RENFANG_TEST_DATABASE_URL` is set.

mod abuse;
mod audit;
mod auth;
mod browser;
mod cli;
mod console;
mod door_checks;
mod exports;
mod headers;
mod health;
mod helpers;
mod import;
mod instances;
mod limits;
mod matrix;
mod page;
mod police;
mod portal;
mod posters;
mod reports;
mod scan;
mod stats;
mod storage;
mod sublandlords;
mod tips;
mod units;
