//! Recently resolved posters, kept in the process.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::store::units::ScanTarget;

/// How long a resolved poster is reused for showing its page and taking registrations.
const SCAN_CACHE_TTL: Duration = Duration::from_secs(10);
/// Most posters remembered; past this the cache starts afresh (a town has ~10k).
const SCAN_CACHE_MAX: usize = 50_000;

/// Recently resolved current posters, so that showing the page a tenant opens, and taking
/// what they submit, costs no extra database round trip. Only current posters are kept, for
/// at most `SCAN_CACHE_TTL`: a rotation evicts at once on this instance and within the TTL
/// on others. A submission is stored only if the statement that inserts it finds its poster
/// still current, so a replaced poster never stores anything.
#[derive(Default)]
pub struct ScanCache {
    entries: Mutex<HashMap<Vec<u8>, (Instant, ScanTarget)>>,
}

impl ScanCache {
    /// The unit behind a poster key, if resolved within the TTL.
    pub fn get(&self, key: &[u8]) -> Option<ScanTarget> {
        let entries = self.entries.lock();
        let (at, target) = entries.get(key)?;
        (at.elapsed() < SCAN_CACHE_TTL).then(|| target.clone())
    }

    /// Remembers a current poster.
    pub fn put(&self, key: Vec<u8>, target: ScanTarget) {
        let mut entries = self.entries.lock();
        if entries.len() >= SCAN_CACHE_MAX {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), target));
    }

    /// Forgets every poster of a unit (after a rotation or a closure).
    pub fn evict_unit(&self, unit_id: i64) {
        self.entries.lock().retain(|_, (_, t)| t.unit_id != unit_id);
    }
}
