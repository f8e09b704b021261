//! The JSON API under `/api/v1` (described by its OpenAPI document), `/healthz`,
//! `/readyz` and `/metrics`: parse the request, call the service, answer JSON.

pub mod audit;
pub mod auth;
pub mod cases;
pub mod door_checks;
pub mod events;
pub mod filings;
pub mod health;
pub mod import;
pub mod me;
pub mod openapi;
pub mod outbox;
pub mod registration;
pub mod reports;
pub mod reveal;
pub mod scan;
pub mod stats;
pub mod sublandlords;
pub mod tips;
pub mod units;
