//! Settings from `renfang.toml` (optional) overridden by `RENFANG_*` environment variables.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Everything the service reads from its environment, resolved and checked once at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// `redis://…`; `None` keeps limits and sessions in the process.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so several deployments (or tests) can share one Redis.
    pub redis_prefix: String,
    /// Listen address; port 0 picks a free port.
    pub bind: String,
    /// Base of the URLs printed in QR codes; `None` means `http://<bound address>`.
    pub public_url: Option<String>,
    /// The 32-byte data key; `None` means "generate or load the key file" (SQLite only).
    pub data_key: Option<[u8; 32]>,
    /// The N of the N-day rule.
    pub overdue_days: u32,
    /// Cron expression (seconds first) of the overdue sweep.
    pub sweep_cron: String,
    /// Time zone for days, months and schedules.
    pub tz: chrono_tz::Tz,
    /// Connections in the database pool.
    pub db_max_connections: u32,
    /// Housing-density limits (Shanghai's rental rules): people per room, except a family.
    pub max_per_room: u32,
    /// Housing-density limits: floor area per person, in square metres.
    pub min_area_per_person: f64,
    /// Folder of the poster templates (`*.svg`); `None`: the templates built into the binary.
    pub qr_templates: Option<PathBuf>,
    /// A font file for posters instead of the shipped subset (e.g. a full system font).
    pub poster_font: Option<PathBuf>,
    /// Resolution of PNG posters, dots per inch.
    pub poster_dpi: u32,
    /// The enquiry line printed on posters.
    pub hotline: String,
    /// Days after move-out at which an occupant's personal data is deleted.
    pub retention_days: u32,
    /// Cron expression (seconds first) of the retention purge.
    pub purge_cron: String,
    /// Cron expression (seconds first) of the monthly report; the 24th, so the office has
    /// it before the 25th.
    pub report_cron: String,
    /// Proxies whose `X-Forwarded-For` names the client (addresses or CIDR blocks).
    pub trusted_proxies: crate::limits::TrustedProxies,
    /// Requests to public routes per client address per minute (0: no limit).
    pub rate_ip_per_minute: u32,
    /// Submissions through one poster per hour (0: no limit).
    pub rate_poster_per_hour: u32,
    /// Look-ups of unknown posters per client address per hour (0: no limit).
    pub rate_guesses_per_hour: u32,
    /// Where the audit log's newest position is kept outside the database; `None` means
    /// `renfang.head` beside a SQLite database, and no file with PostgreSQL.
    pub audit_head_file: Option<PathBuf>,
    /// Anonymous tips per client address per hour (0: no limit).
    pub rate_tips_per_hour: u32,
    /// Bytes of tip photos stored per client address per day (0: no limit).
    pub tip_photo_bytes_per_day: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/renfang.db".into(),
            redis_url: None,
            redis_prefix: "renfang:".into(),
            bind: "127.0.0.1:8080".into(),
            public_url: None,
            data_key: None,
            overdue_days: 5,
            sweep_cron: "0 */10 * * * *".into(),
            tz: chrono_tz::Asia::Shanghai,
            db_max_connections: 16,
            max_per_room: 2,
            min_area_per_person: 5.0,
            qr_templates: None,
            poster_font: None,
            poster_dpi: 300,
            hotline: "12345".into(),
            retention_days: 180,
            purge_cron: "0 30 3 * * *".into(),
            report_cron: "0 0 6 24 * *".into(),
            trusted_proxies: Default::default(),
            rate_ip_per_minute: 300,
            rate_poster_per_hour: 60,
            rate_guesses_per_hour: 30,
            audit_head_file: None,
            rate_tips_per_hour: 10,
            // About 40 photos as stored (shrunk to 1,600 px and re-encoded).
            tip_photo_bytes_per_day: 20 * 1024 * 1024,
        }
    }
}

const KEYS: [&str; 26] = [
    "audit_head_file",
    "database_url",
    "redis_url",
    "redis_prefix",
    "bind",
    "public_url",
    "data_key",
    "overdue_days",
    "sweep_cron",
    "tz",
    "db_max_connections",
    "max_per_room",
    "min_area_per_person",
    "qr_templates",
    "poster_font",
    "poster_dpi",
    "hotline",
    "retention_days",
    "purge_cron",
    "report_cron",
    "trusted_proxies",
    "rate_ip_per_minute",
    "rate_poster_per_hour",
    "rate_guesses_per_hour",
    "rate_tips_per_hour",
    "tip_photo_bytes_per_day",
];

impl Settings {
    /// Reads `renfang.toml` (or the file named by `RENFANG_CONFIG`) and then the environment.
    pub fn load() -> anyhow::Result<Self> {
        let file = std::env::var("RENFANG_CONFIG").unwrap_or_else(|_| "renfang.toml".into());
        let mut values = read_toml(Path::new(&file))?;
        for key in KEYS {
            if let Ok(value) = std::env::var(format!("RENFANG_{}", key.to_uppercase())) {
                values.insert(key.to_string(), value);
            }
        }
        Self::from_values(&values)
    }

    /// Builds settings from key/value pairs (lower-case keys without the `RENFANG_` prefix).
    pub fn from_values(values: &HashMap<String, String>) -> anyhow::Result<Self> {
        let mut s = Self::default();
        let get = |k: &str| values.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        if let Some(v) = get("database_url") {
            s.database_url = v.to_string();
        }
        s.redis_url = get("redis_url").map(str::to_string);
        if let Some(v) = get("redis_prefix") {
            s.redis_prefix = v.to_string();
        }
        if let Some(v) = get("bind") {
            s.bind = v.to_string();
        }
        s.public_url = get("public_url").map(|v| v.trim_end_matches('/').to_string());
        if let Some(v) = get("data_key") {
            s.data_key = Some(parse_data_key(v).context("RENFANG_DATA_KEY")?);
        }
        if let Some(v) = get("overdue_days") {
            s.overdue_days = v
                .parse()
                .ok()
                .filter(|d| (1..=365).contains(d))
                .context("RENFANG_OVERDUE_DAYS must be a whole number of days from 1 to 365")?;
        }
        if let Some(v) = get("retention_days") {
            s.retention_days =
                v.parse().ok().filter(|d| (1..=3650).contains(d)).context(
                    "RENFANG_RETENTION_DAYS must be a whole number of days from 1 to 3650",
                )?;
        }
        if let Some(v) = get("purge_cron") {
            s.purge_cron = v.to_string();
        }
        if let Some(v) = get("report_cron") {
            s.report_cron = v.to_string();
        }
        if let Some(v) = get("sweep_cron") {
            s.sweep_cron = v.to_string();
        }
        if let Some(v) = get("tz") {
            s.tz = v
                .parse()
                .map_err(|_| anyhow::anyhow!("RENFANG_TZ: unknown time zone {v:?}"))?;
        }
        if let Some(v) = get("db_max_connections") {
            s.db_max_connections = v
                .parse()
                .ok()
                .filter(|n| *n >= 2)
                .context("RENFANG_DB_MAX_CONNECTIONS must be at least 2")?;
        }
        if let Some(v) = get("max_per_room") {
            s.max_per_room = v
                .parse()
                .ok()
                .filter(|n| (1..=20).contains(n))
                .context("RENFANG_MAX_PER_ROOM must be a whole number from 1 to 20")?;
        }
        if let Some(v) = get("min_area_per_person") {
            s.min_area_per_person = v
                .parse()
                .ok()
                .filter(|a: &f64| a.is_finite() && (0.0..=100.0).contains(a))
                .context("RENFANG_MIN_AREA_PER_PERSON must be square metres from 0 to 100")?;
        }
        if let Some(v) = get("qr_templates") {
            s.qr_templates = Some(PathBuf::from(v));
        }
        s.poster_font = get("poster_font").map(PathBuf::from);
        s.audit_head_file = get("audit_head_file")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        if let Some(v) = get("poster_dpi") {
            s.poster_dpi = v
                .parse()
                .ok()
                .filter(|d| (72..=1200).contains(d))
                .context("RENFANG_POSTER_DPI must be a whole number from 72 to 1200")?;
        }
        if let Some(v) = get("hotline") {
            if v.chars().count() > 30 || crate::domain::has_control(v) {
                bail!("RENFANG_HOTLINE must be at most 30 characters");
            }
            s.hotline = v.to_string();
        }
        if let Some(v) = get("trusted_proxies") {
            s.trusted_proxies = crate::limits::TrustedProxies::parse(v)
                .map_err(|e| anyhow::anyhow!("RENFANG_TRUSTED_PROXIES: {e}"))?;
        }
        for (key, field) in [
            ("rate_ip_per_minute", &mut s.rate_ip_per_minute),
            ("rate_poster_per_hour", &mut s.rate_poster_per_hour),
            ("rate_guesses_per_hour", &mut s.rate_guesses_per_hour),
            ("rate_tips_per_hour", &mut s.rate_tips_per_hour),
            ("tip_photo_bytes_per_day", &mut s.tip_photo_bytes_per_day),
        ] {
            if let Some(v) = get(key) {
                *field = v.parse().with_context(|| {
                    format!(
                        "RENFANG_{} must be a whole number (0 turns the limit off)",
                        key.to_uppercase()
                    )
                })?;
            }
        }
        if !(s.database_url.starts_with("sqlite:") || s.database_url.starts_with("postgres")) {
            bail!("RENFANG_DATABASE_URL must start with sqlite:// or postgres://");
        }
        Ok(s)
    }

    /// The housing-density limits the checks apply.
    pub fn density(&self) -> crate::domain::sublandlord::DensityLimits {
        crate::domain::sublandlord::DensityLimits {
            max_per_room: i64::from(self.max_per_room),
            min_area_per_person: self.min_area_per_person,
        }
    }

    /// The rate limits of the public routes.
    pub fn rate_rules(&self) -> crate::limits::Rules {
        use crate::limits::Rule;
        use std::time::Duration;
        const MINUTE: Duration = Duration::from_secs(60);
        const HOUR: Duration = Duration::from_secs(3600);
        const DAY: Duration = Duration::from_secs(86_400);
        crate::limits::Rules {
            client_ip: Rule::new(self.rate_ip_per_minute, MINUTE),
            poster_token: Rule::new(self.rate_poster_per_hour, HOUR),
            token_miss: Rule::new(self.rate_guesses_per_hour, HOUR),
            tip: Rule::new(self.rate_tips_per_hour, HOUR),
            tip_photo_bytes: Rule::new(self.tip_photo_bytes_per_day, DAY),
        }
    }

    /// Whether the database is the embedded SQLite backend.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// The folder of the SQLite database file (where the generated key file lives).
    pub fn sqlite_dir(&self) -> Option<PathBuf> {
        let path = sqlite_path(&self.database_url)?;
        Some(match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        })
    }

    /// The file holding the audit log's newest position: the configured one, or
    /// `renfang.head` beside a SQLite database (where the key file is).
    pub fn audit_head_path(&self) -> Option<PathBuf> {
        self.audit_head_file
            .clone()
            .or_else(|| Some(self.sqlite_dir()?.join("renfang.head")))
    }

    /// The data key: the configured one, or for SQLite the key file beside the database,
    /// generated once with mode 0600.
    pub fn resolve_data_key(&self) -> anyhow::Result<[u8; 32]> {
        if let Some(key) = self.data_key {
            return Ok(key);
        }
        let Some(dir) = self.sqlite_dir() else {
            bail!("RENFANG_DATA_KEY is required with PostgreSQL (base64 of 32 random bytes)");
        };
        let path = dir.join("renfang.key");
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading the data key {}", path.display()))?;
            return parse_data_key(text.trim())
                .with_context(|| format!("the data key {} is damaged", path.display()));
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let key: [u8; 32] = rand::random();
        write_private(&path, &STANDARD.encode(key))?;
        tracing::warn!(path = %path.display(), "generated a new data key; back it up with the database");
        Ok(key)
    }
}

/// The file path of a `sqlite://` URL, if it is one (in-memory databases have none).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn parse_data_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD
        .decode(text)
        .context("not valid base64 (standard alphabet)")?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("must decode to 32 bytes, got {}", b.len()))
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

fn read_toml(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(HashMap::new());
    };
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    let mut values = HashMap::new();
    for (key, value) in table {
        // Either `bind = …` or the environment spelling `RENFANG_BIND = …`.
        let key = key.to_lowercase();
        let key = key.strip_prefix("renfang_").unwrap_or(&key).to_string();
        if !KEYS.contains(&key.as_str()) {
            bail!("{}: unknown setting {key:?}", path.display());
        }
        let value = match value {
            toml::Value::String(s) => s,
            other => other.to_string(),
        };
        values.insert(key, value);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = Settings::from_values(&HashMap::new()).unwrap();
        assert_eq!(s.database_url, "sqlite://data/renfang.db");
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.overdue_days, 5);
        assert_eq!(s.sweep_cron, "0 */10 * * * *");
        assert_eq!(s.tz, chrono_tz::Asia::Shanghai);
        assert_eq!(s.sqlite_dir().unwrap(), PathBuf::from("data"));
    }

    #[test]
    fn a_data_key_of_the_wrong_length_is_refused() {
        let err = Settings::from_values(&values(&[("data_key", "AAAA")])).unwrap_err();
        assert!(format!("{err:#}").contains("32 bytes"), "{err:#}");
    }

    #[test]
    fn postgres_without_a_data_key_is_refused() {
        let s = Settings::from_values(&values(&[("database_url", "postgres://x/y")])).unwrap();
        assert!(s.resolve_data_key().is_err());
    }

    #[test]
    fn the_key_file_is_generated_once_with_private_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/sub/r.db", dir.path().display());
        let s = Settings::from_values(&values(&[("database_url", &url)])).unwrap();
        let first = s.resolve_data_key().unwrap();
        let second = s.resolve_data_key().unwrap();
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("sub/renfang.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn an_unknown_time_zone_is_refused() {
        assert!(Settings::from_values(&values(&[("tz", "Mars/Olympus")])).is_err());
    }
}
