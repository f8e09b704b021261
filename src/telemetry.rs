//! Structured logs: JSON lines when `RENFANG_LOG_FORMAT=json`, compact text otherwise.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Our own events at INFO; every other crate (the scheduler, sqlx, actix's server) only
/// when something is wrong, so start-up prints the logins and the listening line, not a
/// library's housekeeping.
pub const DEFAULT_FILTER: &str = "warn,renfang=info";

/// Installs the global subscriber once; later calls (as in tests) are ignored.
pub fn init() {
    let filter =
        EnvFilter::try_from_env("RENFANG_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let json = std::env::var("RENFANG_LOG_FORMAT").is_ok_and(|v| v == "json");
    let registry = tracing_subscriber::registry().with(filter);
    // Logs go to stderr so that stdout carries only what commands print for people and scripts.
    let result = if json {
        registry
            .with(fmt::layer().json().with_writer(std::io::stderr))
            .try_init()
    } else {
        registry
            .with(
                fmt::layer()
                    .compact()
                    // Colours only for a terminal: a log file keeps plain, greppable text.
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .with_writer(std::io::stderr),
            )
            .try_init()
    };
    let _ = result;
}
