//! What every business action may use: the store, the key vault, the sessions, the
//! settings, the posters and the clock.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::scan_cache::ScanCache;
use crate::config::Settings;
use crate::crypto::Vault;
use crate::domain::token::QrToken;
use crate::metrics::Metrics;
use crate::qr::poster::Posters;
use crate::sessions::SessionStore;
use crate::store::Store;

/// The shared dependencies of the use-case layer; one per process.
pub struct Context {
    pub store: Store,
    pub vault: Arc<Vault>,
    pub sessions: SessionStore,
    pub settings: Settings,
    /// Base of poster URLs, without a trailing slash.
    pub public_url: String,
    /// Recently resolved posters, for showing scan pages and taking registrations.
    pub scan_cache: ScanCache,
    /// The poster templates and fonts.
    pub posters: Arc<Posters>,
    /// Counts of what was stored (registrations) besides the requests.
    pub metrics: Metrics,
}

impl Context {
    /// The URL printed in a unit's QR code.
    pub fn poster_url(&self, token: &QrToken) -> String {
        format!("{}/q/{}", self.public_url, token.as_ref())
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// Today's date in the configured time zone.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&self.settings.tz).date_naive()
    }
}
