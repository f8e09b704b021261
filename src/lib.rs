//! renfang: the 人房共管 QR-code registration service.
//!
//! Layers, one direction only: the deliveries (`api`, `pages` on the shared `http`
//! plumbing, `cli`, `jobs`) call `service` (the business actions), which calls `domain`
//! (rules, no I/O) and `store` (SQL). See the README's "Architecture" section.

pub mod api;
pub mod app;
pub mod audit_head;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod display;
pub mod domain;
pub mod error;
pub mod export;
pub mod http;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod pages;
pub mod qr;
pub mod redis_link;
pub mod report;
pub mod service;
pub mod sessions;
pub mod store;
pub mod telemetry;

pub use app::Application;
pub use config::Settings;
