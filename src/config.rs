//! Settings from `renfang.toml` (optional) overridden by `RENFANG_*` environment variables.
//!
//! A setting is a field of [`Settings`]: its doc line, its default and, where its text needs
//! reading or checking, the function that does it. The file key is the field's name and the
//! variable is `RENFANG_` and the name in capitals; nothing else lists them.

mod channels;
mod check;
mod source;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use smart_default::SmartDefault;

pub use channels::{DingTalk, Sms, WeCom, Webhook};
use check::parse_data_key;
pub use check::{DatabaseKind, DatabaseUrl};

/// Everything the service reads from its environment, resolved and checked once at start-up.
#[derive(Debug, Clone, SmartDefault, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://…` or `postgres://…`; the backend follows from it.
    #[default(DatabaseUrl::sqlite("data/renfang.db"))]
    pub database_url: DatabaseUrl,
    /// `redis://…`; `None` keeps limits and sessions in the process.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so several deployments (or tests) can share one Redis.
    #[default = "renfang:"]
    pub redis_prefix: String,
    /// Listen address; port 0 picks a free port.
    #[default = "127.0.0.1:8080"]
    pub bind: String,
    /// Base of the URLs printed in QR codes; `None` means `http://<bound address>`.
    #[serde(deserialize_with = "check::base_url")]
    pub public_url: Option<String>,
    /// The 32-byte data key; `None` means "generate or load the key file" (SQLite only).
    #[serde(deserialize_with = "check::data_key")]
    pub data_key: Option<[u8; 32]>,
    /// The N of the N-day rule.
    #[default(5)]
    #[serde(deserialize_with = "check::days::<_, 1, 365>")]
    pub overdue_days: u32,
    /// An occupied unit needs an upload or confirmation this often; also the longest a
    /// vacancy pauses the clock.
    #[default(30)]
    #[serde(deserialize_with = "check::days::<_, 1, 365>")]
    pub confirm_days: u32,
    /// Cron expression (seconds first) of the overdue sweep.
    #[default = "0 */10 * * * *"]
    pub sweep_cron: String,
    /// Time zone for days, months and schedules.
    #[default(chrono_tz::Asia::Shanghai)]
    #[serde(deserialize_with = "check::time_zone")]
    pub tz: chrono_tz::Tz,
    /// Connections in the database pool.
    #[default(16)]
    #[serde(deserialize_with = "check::whole::<_, 2, { u32::MAX }>")]
    pub db_max_connections: u32,
    /// Housing-density limits (Shanghai's rental rules): people per room, except a family.
    #[default(2)]
    #[serde(deserialize_with = "check::whole::<_, 1, 20>")]
    pub max_per_room: u32,
    /// Housing-density limits: floor area per person, in square metres.
    #[default(5.0)]
    #[serde(deserialize_with = "check::area")]
    pub min_area_per_person: f64,
    /// More registrations than this within a week look like letting by the day (日租): the
    /// unit gets a `daily_rental` check.
    #[default(3)]
    #[serde(deserialize_with = "check::whole::<_, 1, 100>")]
    pub daily_rental_turnover: u32,
    /// Folder of the poster templates (`*.svg`); `None`: the templates built into the binary.
    pub qr_templates: Option<PathBuf>,
    /// A font file for posters instead of the shipped subset (e.g. a full system font).
    pub poster_font: Option<PathBuf>,
    /// Resolution of PNG posters, dots per inch (print quality by default).
    #[default(300)]
    #[serde(deserialize_with = "check::whole::<_, 72, 1200>")]
    pub poster_dpi: u32,
    /// The enquiry line printed on posters.
    #[default = "12345"]
    #[serde(deserialize_with = "check::hotline")]
    pub hotline: String,
    /// Days after move-out at which an occupant's personal data is deleted.
    #[default(180)]
    #[serde(deserialize_with = "check::days::<_, 1, 3650>")]
    pub retention_days: u32,
    /// Cron expression (seconds first) of the retention purge.
    #[default = "0 30 3 * * *"]
    pub purge_cron: String,
    /// Cron expression (seconds first) of the monthly report; the 24th, so the office has
    /// it before the 25th.
    #[default = "0 0 6 24 * *"]
    pub report_cron: String,
    /// Proxies whose `X-Forwarded-For` names the client (addresses or CIDR blocks).
    pub trusted_proxies: crate::limits::TrustedProxies,
    /// Requests to public routes per client address per minute (0: no limit).
    #[default(300)]
    #[serde(deserialize_with = "check::limit")]
    pub rate_ip_per_minute: u32,
    /// Submissions through one poster per hour (0: no limit).
    #[default(60)]
    #[serde(deserialize_with = "check::limit")]
    pub rate_poster_per_hour: u32,
    /// Look-ups of unknown posters per client address per hour (0: no limit).
    #[default(30)]
    #[serde(deserialize_with = "check::limit")]
    pub rate_guesses_per_hour: u32,
    /// Where the audit log's newest position is kept outside the database; `None` means
    /// `renfang.head` beside a SQLite database, and no file with PostgreSQL.
    pub audit_head_file: Option<PathBuf>,
    /// Anonymous tips per client address per hour (0: no limit).
    #[default(10)]
    #[serde(deserialize_with = "check::limit")]
    pub rate_tips_per_hour: u32,
    /// Bytes of tip photos stored per client address per day (0: no limit); about 40
    /// photos as stored (shrunk to 1,600 px and re-encoded).
    #[default(20 * 1024 * 1024)]
    #[serde(deserialize_with = "check::limit")]
    pub tip_photo_bytes_per_day: u32,
    /// Enforcement cases per quarter the town aims for (the plan: about 20 typical cases).
    #[default(20)]
    #[serde(deserialize_with = "check::whole::<_, 1, 100000>")]
    pub case_target: u32,
    /// Delivery attempts of one outbox message before it is given up (`dead`); 12 with the
    /// doubling back-off span about a day.
    #[default(12)]
    #[serde(deserialize_with = "check::whole::<_, 1, 100>")]
    pub outbox_max_attempts: u32,
    /// Local times of day in which no SMS goes out (`HH:MM-HH:MM`, in `RENFANG_TZ`);
    /// empty or `off`: none. Messages due then wait for its end.
    #[default(crate::domain::quiet::QuietHours::parse("21:00-08:00").expect("a valid period"))]
    #[serde(deserialize_with = "check::quiet_hours")]
    pub quiet_hours: Option<crate::domain::quiet::QuietHours>,
    /// Cron expression (seconds first) of the reminders before the clock falls due.
    #[default = "0 */10 * * * *"]
    pub remind_cron: String,
    /// Cron expression (seconds first) of the police's morning digest.
    #[default = "0 0 8 * * *"]
    pub digest_cron: String,
    /// The `[[webhook]]` destinations of `renfang.toml` (the file only, not the environment).
    #[serde(skip)]
    pub webhook: Vec<Webhook>,
    /// The `[[wecom]]` group robots of `renfang.toml`.
    #[serde(skip)]
    pub wecom: Vec<WeCom>,
    /// The `[[dingtalk]]` group robots of `renfang.toml`.
    #[serde(skip)]
    pub dingtalk: Vec<DingTalk>,
    /// The `[[sms]]` gateways of `renfang.toml`.
    #[serde(skip)]
    pub sms: Vec<Sms>,
}

impl Settings {
    /// The configured destinations: name, channel kind and the events each takes.
    pub fn outbox_routes(
        &self,
    ) -> Vec<(
        String,
        crate::domain::event::ChannelKind,
        crate::domain::event::Route,
    )> {
        channels::routes(&self.webhook, &self.wecom, &self.dingtalk, &self.sms)
    }

    /// The two periods of the clock.
    pub fn clock(&self) -> crate::domain::door_check::ClockRules {
        crate::domain::door_check::ClockRules {
            overdue_days: self.overdue_days,
            confirm_days: self.confirm_days,
        }
    }

    /// Reads `renfang.toml` (or the file named by `RENFANG_CONFIG`) and then the environment.
    pub fn load() -> anyhow::Result<Self> {
        let file = std::env::var("RENFANG_CONFIG").unwrap_or_else(|_| "renfang.toml".into());
        let mut values = source::read_file(Path::new(&file))?;
        values.extend(source::read_environment());
        let mut settings = Self::from_values(&values)?;
        let destinations = channels::read(Path::new(&file))?;
        settings.webhook = destinations.webhook;
        settings.wecom = destinations.wecom;
        settings.dingtalk = destinations.dingtalk;
        settings.sms = destinations.sms;
        // A text carries a link to the unit's page or the tenant's own record: without the
        // address people reach the service at, it would point at the bound socket.
        if !settings.sms.is_empty() && settings.public_url.is_none() {
            anyhow::bail!("{file}: an [[sms]] gateway needs RENFANG_PUBLIC_URL for its links");
        }
        Ok(settings)
    }

    /// Builds settings from key/value pairs (lower-case keys without the `RENFANG_` prefix);
    /// a blank value leaves the default.
    pub fn from_values(values: &HashMap<String, String>) -> anyhow::Result<Self> {
        source::deserialize(values)
    }

    /// The housing-density limits the checks apply.
    pub fn density(&self) -> crate::domain::sublandlord::DensityLimits {
        crate::domain::sublandlord::DensityLimits {
            max_per_room: i64::from(self.max_per_room),
            min_area_per_person: self.min_area_per_person,
            daily_turnover: i64::from(self.daily_rental_turnover),
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
        self.database_url.kind() == DatabaseKind::Sqlite
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

/// The file path of a `sqlite://` URL, if it is one (in-memory databases have none): the
/// file the SQLite driver opens, whose parser decodes percent-escapes (`a%20b` is `a b`), so
/// that the folder made for it and the key file beside it are where the database is.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(
        <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(url)
            .map_or_else(|_| PathBuf::from(path), |o| o.get_filename().to_path_buf()),
    )
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
        assert_eq!(s.confirm_days, 30);
        assert_eq!(s.case_target, 20);
        assert_eq!(s.sweep_cron, "0 */10 * * * *");
        assert_eq!(s.remind_cron, "0 */10 * * * *");
        assert_eq!(s.digest_cron, "0 0 8 * * *");
        assert_eq!(s.tz, chrono_tz::Asia::Shanghai);
        assert_eq!(s.sqlite_dir().unwrap(), PathBuf::from("data"));
    }

    #[test]
    fn a_sqlite_url_names_the_file_the_driver_opens() {
        for (url, path) in [
            ("sqlite://data/renfang.db", Some("data/renfang.db")),
            ("sqlite:data/renfang.db?mode=rwc", Some("data/renfang.db")),
            (
                "sqlite:///srv/a%20b/renfang.db",
                Some("/srv/a b/renfang.db"),
            ),
            ("sqlite://%E4%BA%BA%E6%88%BF/x.db", Some("人房/x.db")),
            ("sqlite::memory:", None),
            ("sqlite://", None),
            ("postgres://x/y", None),
        ] {
            assert_eq!(sqlite_path(url), path.map(PathBuf::from), "{url}");
        }
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

    #[test]
    fn every_field_is_a_setting_with_its_variable() {
        let keys = source::keys();
        assert_eq!(keys.len(), 33);
        assert!(keys.contains(&"tip_photo_bytes_per_day") && keys.contains(&"tz"));
        assert!(keys.contains(&"case_target"));
        assert_eq!(source::variable("poster_dpi"), "RENFANG_POSTER_DPI");
    }

    #[test]
    fn values_are_read_from_text_and_blank_ones_keep_the_default() {
        let s = Settings::from_values(&values(&[
            ("database_url", "postgresql://db/renfang"),
            ("overdue_days", " 7 "),
            ("min_area_per_person", "4.5"),
            ("public_url", "https://renfang.example.gov.cn/"),
            ("redis_url", "  "),
            ("poster_font", "/fonts/a.ttc"),
            ("trusted_proxies", "10.0.0.0/8, ::1"),
            ("tz", "America/New_York"),
        ]))
        .unwrap();
        assert_eq!(s.database_url.kind(), DatabaseKind::Postgres);
        assert!(!s.is_sqlite());
        assert_eq!(s.overdue_days, 7);
        assert_eq!(s.min_area_per_person, 4.5);
        assert_eq!(
            s.public_url.as_deref(),
            Some("https://renfang.example.gov.cn")
        );
        assert_eq!(s.redis_url, None);
        assert_eq!(s.poster_font, Some(PathBuf::from("/fonts/a.ttc")));
        assert!(s.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        assert_eq!(s.tz, chrono_tz::America::New_York);
        assert_eq!(s.poster_dpi, Settings::default().poster_dpi);
        assert_eq!(s.tip_photo_bytes_per_day, 20 * 1024 * 1024);
    }

    #[test]
    fn a_bad_value_is_refused_naming_its_variable() {
        for (key, value, variable) in [
            ("overdue_days", "0", "RENFANG_OVERDUE_DAYS"),
            ("overdue_days", "five", "RENFANG_OVERDUE_DAYS"),
            ("confirm_days", "0", "RENFANG_CONFIRM_DAYS"),
            ("retention_days", "4000", "RENFANG_RETENTION_DAYS"),
            ("db_max_connections", "1", "RENFANG_DB_MAX_CONNECTIONS"),
            ("max_per_room", "21", "RENFANG_MAX_PER_ROOM"),
            ("min_area_per_person", "NaN", "RENFANG_MIN_AREA_PER_PERSON"),
            ("poster_dpi", "71", "RENFANG_POSTER_DPI"),
            ("hotline", &"1".repeat(31), "RENFANG_HOTLINE"),
            ("rate_tips_per_hour", "-1", "RENFANG_RATE_TIPS_PER_HOUR"),
            ("case_target", "0", "RENFANG_CASE_TARGET"),
            ("trusted_proxies", "10.0.0.0/33", "RENFANG_TRUSTED_PROXIES"),
            ("database_url", "mysql://x/y", "RENFANG_DATABASE_URL"),
            ("data_key", "not base64!", "RENFANG_DATA_KEY"),
        ] {
            let err = Settings::from_values(&values(&[(key, value)])).unwrap_err();
            assert!(
                format!("{err:#}").starts_with(variable),
                "{key}={value}: {err:#}"
            );
        }
    }

    #[test]
    fn the_file_takes_either_spelling_and_refuses_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("renfang.toml");
        std::fs::write(&path, "RENFANG_BIND = \"0.0.0.0:9000\"\noverdue_days = 9\n").unwrap();
        let s = Settings::from_values(&source::read_file(&path).unwrap()).unwrap();
        assert_eq!((s.bind.as_str(), s.overdue_days), ("0.0.0.0:9000", 9));
        std::fs::write(&path, "overdue_dayz = 9\n").unwrap();
        let err = source::read_file(&path).unwrap_err();
        assert!(
            format!("{err:#}").contains("unknown setting \"overdue_dayz\""),
            "{err:#}"
        );
        assert!(
            source::read_file(&dir.path().join("absent.toml"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn webhooks_are_read_from_the_file_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("renfang.toml");
        let hook = "[[webhook]]\nname = \"town\"\nurl = \"http://10.0.0.5/in\"\n\
                    secret = \"0123456789abcdef\"\nevents = [\"case.opened\"]\n";
        std::fs::write(&path, format!("overdue_days = 9\n{hook}")).unwrap();
        let values = source::read_file(&path).unwrap();
        assert_eq!(values.len(), 1, "the array is not a setting");
        let hooks = channels::read(&path).unwrap().webhook;
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0].events, ["case.opened"]);
        assert!(hooks[0].communities.is_empty());
        assert!(!format!("{:?}", hooks[0]).contains("0123456789abcdef"));
        for (bad, says) in [
            (
                hook.replace("case.opened", "case.lost"),
                "unknown event type",
            ),
            (hook.replace("0123456789abcdef", "short"), "16 characters"),
            (hook.replace("http://", "ftp://"), "url must be"),
            (format!("{hook}{hook}"), "different"),
        ] {
            std::fs::write(&path, bad).unwrap();
            let err = channels::read(&path).unwrap_err();
            assert!(format!("{err:#}").contains(says), "{err:#}");
        }
    }

    #[test]
    fn robots_and_gateways_take_their_default_events_and_share_one_namespace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("renfang.toml");
        let robots = "[[wecom]]\nname = \"police-group\"\n\
                      url = \"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K1\"\n\
                      [[dingtalk]]\nname = \"town-group\"\n\
                      url = \"https://oapi.dingtalk.com/robot/send?access_token=T1\"\n\
                      secret = \"SECabc\"\n\
                      [[sms]]\nname = \"sms\"\nurl = \"http://10.0.0.9/send\"\n\
                      body = \"{phone} {text}\"\n";
        std::fs::write(&path, robots).unwrap();
        assert!(source::read_file(&path).unwrap().is_empty());
        let read = channels::read(&path).unwrap();
        assert_eq!(read.wecom[0].events, ["digest.police", "door_check.opened"]);
        assert_eq!(read.dingtalk[0].events, read.wecom[0].events);
        assert_eq!(
            read.sms[0].events,
            ["reminder.overdue_soon", "reminder.confirmation_due"]
        );
        assert_eq!(read.sms[0].method, "POST");
        let kinds: Vec<&str> = read.routes().iter().map(|r| r.1.as_str()).collect();
        assert_eq!(kinds, ["wecom", "dingtalk", "sms"]);
        assert!(
            !format!("{:?}", read.wecom[0]).contains("K1"),
            "the key stays out"
        );
        for (bad, says) in [
            (robots.replace("town-group", "police-group"), "different"),
            (
                robots.replace("body =", "events = [\"case.opened\"]\nbody ="),
                "no one to text",
            ),
            (
                robots.replace("body =", "success_field = \"Code\"\nbody ="),
                "go together",
            ),
            (robots.replace("http://10", "ftp://10"), "url must be"),
        ] {
            std::fs::write(&path, bad).unwrap();
            let err = channels::read(&path).unwrap_err();
            assert!(format!("{err:#}").contains(says), "{err:#}");
        }
    }

    #[test]
    fn quiet_hours_default_to_the_night_and_can_be_turned_off() {
        let night = Settings::from_values(&HashMap::new()).unwrap().quiet_hours;
        assert_eq!(night.unwrap().to_string(), "21:00-08:00");
        for off in ["off", ""] {
            let s = Settings::from_values(&values(&[("quiet_hours", off)])).unwrap();
            assert_eq!(s.quiet_hours, None, "{off:?}");
        }
        let s = Settings::from_values(&values(&[("quiet_hours", "22:30-07:00")])).unwrap();
        assert_eq!(s.quiet_hours.unwrap().to_string(), "22:30-07:00");
        let err = Settings::from_values(&values(&[("quiet_hours", "22-7")])).unwrap_err();
        assert!(
            format!("{err:#}").starts_with("RENFANG_QUIET_HOURS"),
            "{err:#}"
        );
    }
}
