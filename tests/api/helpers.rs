//! `spawn_app()` and typed request helpers.

use std::collections::HashMap;
use std::sync::OnceLock;

use renfang::store::Store;
use renfang::{Application, Settings};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

/// The clock's default periods: 5 days without data, 30 days between confirmations.
pub const RULES: renfang::domain::door_check::ClockRules =
    renfang::domain::door_check::ClockRules {
        overdue_days: 5,
        confirm_days: 30,
    };

/// A fixed data key for tests (base64 of 32 bytes).
pub const TEST_KEY: &str = "dGVzdC1rZXktZm9yLXJlbmZhbmctdGVzdHMtb25seSE=";

/// Valid resident ID numbers (check digits computed by hand and by the validator).
pub const ID_A: &str = "11010519491231002X";
pub const ID_B: &str = "440524198001010013";

/// Where the test's database lives.
pub enum TestDb {
    /// Dropped with the folder when the test ends.
    Sqlite(tempfile::TempDir),
    /// A database made for this test on the server of `RENFANG_TEST_DATABASE_URL`.
    Postgres { url: String },
    /// Another instance's database, cleaned up with that instance.
    Shared,
}

/// A running application and a client for it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub db: TestDb,
    pub database_url: String,
    /// The settings it runs with (a second instance can start from them).
    pub settings: Settings,
    /// The instance's outbox dispatcher (its destinations, key and public URL).
    pub dispatcher: renfang::jobs::outbox::Dispatcher,
    next_user: std::sync::atomic::AtomicU32,
}

fn require_services() -> bool {
    std::env::var("RENFANG_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

fn postgres_base() -> Option<String> {
    std::env::var("RENFANG_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// The Redis URL for tests, if one is configured and reachable (required when
/// `RENFANG_TEST_REQUIRE_SERVICES=1`).
pub fn redis_url() -> Option<String> {
    static CHECKED: OnceLock<Option<String>> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let url = std::env::var("RENFANG_TEST_REDIS_URL")
                .ok()
                .filter(|u| !u.is_empty())?;
            let reachable = redis::Client::open(url.as_str())
                .and_then(|c| c.get_connection_with_timeout(std::time::Duration::from_secs(2)))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                .is_ok();
            if !reachable {
                assert!(!require_services(), "Redis at {url} is unreachable");
                eprintln!("Redis at {url} is unreachable; using in-process sessions");
                return None;
            }
            Some(url)
        })
        .clone()
}

/// A fresh, empty database URL for one test.
pub async fn fresh_database() -> (TestDb, String) {
    if let Some(base) = postgres_base() {
        let name = format!("renfang_t_{:016x}", rand::random::<u64>());
        let admin = base.clone();
        let created = async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
                .execute(&mut conn)
                .await?;
            conn.close().await
        }
        .await;
        match created {
            Ok(()) => {
                let mut url = url::Url::parse(&base).expect("RENFANG_TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                let url = url.to_string();
                return (TestDb::Postgres { url: url.clone() }, url);
            }
            Err(err) => {
                assert!(
                    !require_services(),
                    "PostgreSQL at {base} is unreachable: {err}"
                );
                eprintln!("PostgreSQL unreachable ({err}); using SQLite");
            }
        }
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}/renfang.db", dir.path().display());
    (TestDb::Sqlite(dir), url)
}

/// Settings for a test application on `database_url`.
pub fn test_settings(database_url: &str) -> Settings {
    let mut values = HashMap::new();
    values.insert("database_url".to_string(), database_url.to_string());
    values.insert("bind".to_string(), "127.0.0.1:0".to_string());
    values.insert("data_key".to_string(), TEST_KEY.to_string());
    values.insert("db_max_connections".to_string(), "5".to_string());
    if let Some(url) = redis_url() {
        values.insert("redis_url".to_string(), url);
        values.insert(
            "redis_prefix".to_string(),
            format!("t{:012x}:", rand::random::<u64>() & 0xffff_ffff_ffff),
        );
    }
    Settings::from_values(&values).expect("test settings are valid")
}

/// Starts an application on a database of its own.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts an application on a database of its own, with settings changed by `change`.
pub async fn spawn_app_with(change: impl FnOnce(&mut renfang::config::Settings)) -> TestApp {
    let (db, database_url) = fresh_database().await;
    let mut settings = test_settings(&database_url);
    change(&mut settings);
    start(settings, db, database_url).await
}

async fn start(settings: Settings, db: TestDb, database_url: String) -> TestApp {
    let app = Application::build(settings.clone())
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.store().clone();
    let dispatcher = app.dispatcher();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // The server closes a connection idle for 5 s; a pooled one older than that
            // could be closed under a request being written, which then fails.
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap(),
        store,
        db,
        database_url,
        settings,
        dispatcher,
        next_user: Default::default(),
    }
}

impl TestApp {
    /// A second instance on the same database and the same Redis (and key prefix), as a
    /// deployment with several instances runs them. It shares this test's database, which
    /// outlives it.
    pub async fn another_instance(&self) -> TestApp {
        let mut app = start(
            self.settings.clone(),
            TestDb::Shared,
            self.database_url.clone(),
        )
        .await;
        // Users made through either instance must not collide.
        app.next_user = std::sync::atomic::AtomicU32::new(1000);
        app
    }
}

/// A Redis server of the test's own, on a free port, that the test can stop and start:
/// the real program, so an outage is a real one. `None` when `redis-server` is not
/// installed, unless services are required.
pub struct OwnRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    pub fn start() -> Option<Self> {
        let installed = std::process::Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !installed {
            assert!(!require_services(), "redis-server is not installed");
            eprintln!("redis-server is not installed; this test needs it and does nothing");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self {
            port,
            dir: tempfile::tempdir().expect("temporary folder"),
            child: None,
        };
        redis.resume();
        Some(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server and waits until its port refuses connections.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("Redis on port {} did not stop", self.port);
    }

    /// Stops the server without closing its connections (SIGSTOP): Redis hangs.
    pub fn freeze(&self) {
        self.signal("STOP");
    }

    /// Lets a frozen server go on (SIGCONT).
    pub fn thaw(&self) {
        self.signal("CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("Redis runs").id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-s", signal, "--", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
    }

    /// Starts the server (again) on the same port and waits until it answers PING.
    pub fn resume(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        for _ in 0..250 {
            let pong = redis::Client::open(self.url().as_str())
                .and_then(|c| c.get_connection_with_timeout(std::time::Duration::from_millis(200)))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
            if pong.is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("Redis on port {} did not start", self.port);
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Drops the triggers that keep the audit log append-only, as someone with write access to
/// the database could, so that a test can tamper with the log.
pub async fn drop_audit_guards(store: &Store) {
    let statements: &[&str] = match store.backend() {
        renfang::store::Backend::Sqlite => &[
            "drop trigger audit_log_no_update",
            "drop trigger audit_log_no_delete",
        ],
        renfang::store::Backend::Postgres => &[
            "drop trigger audit_log_append_only on audit_log",
            "drop trigger audit_log_no_truncate on audit_log",
        ],
    };
    for sql in statements {
        sqlx::query(*sql).execute(store.pool()).await.unwrap();
    }
}

/// A valid occupant as JSON.
pub fn occupant(id_number: &str) -> Value {
    json!({
        "name": "张三", "id_type": "resident_id", "id_number": id_number,
        "phone": "13800138000", "room": "A", "move_in": "2026-11-01"
    })
}

/// A valid registration body for the current notice.
pub fn registration(occupants: &[Value]) -> Value {
    json!({"notice_version": renfang::domain::notice::NOTICE_VERSION, "occupants": occupants})
}

/// The token at the end of a poster URL.
pub fn token_of(poster_url: &str) -> String {
    poster_url.rsplit('/').next().unwrap().to_string()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    /// The status of an anonymous GET, from a future that borrows nothing but `self`.
    pub async fn get_owned(&self, path: String) -> u16 {
        self.get(&path, None).await.status().as_u16()
    }

    pub async fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    /// Creates a staff user with the CLI's own function and logs in.
    pub async fn login_as(&self, role: &str, communities: &[&str]) -> String {
        let n = self
            .next_user
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let username = format!("{role}{n}");
        let names: Vec<String> = communities.iter().map(|c| c.to_string()).collect();
        renfang::cli::user::add_staff(&self.store, &username, role, &names, "correct-horse-9")
            .await
            .expect("staff user created");
        let res = self
            .post_json(
                "/api/v1/login",
                &json!({"username": username, "password": "correct-horse-9"}),
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    /// How many users `login_as` has made (the last one is `{role}{users_made() - 1}`).
    pub fn users_made(&self) -> u32 {
        self.next_user.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// An admin token, with the communities created.
    pub async fn admin_with(&self, communities: &[&str]) -> String {
        let admin = self.login_as("admin", &[]).await;
        for name in communities {
            let res = self
                .post_json("/api/v1/communities", &json!({"name": name}), Some(&admin))
                .await;
            assert_eq!(res.status(), StatusCode::CREATED, "community {name}");
        }
        admin
    }

    /// Creates a unit and returns its id and poster token.
    pub async fn create_unit(&self, token: &str, community: &str, address: &str) -> (i64, String) {
        let res = self
            .post_json(
                "/api/v1/units",
                &json!({"community": community, "address": address, "rooms": 2,
                        "kind": "flat", "rental_mode": "shared"}),
                Some(token),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        (
            body["unit_id"].as_i64().unwrap(),
            token_of(body["poster_url"].as_str().unwrap()),
        )
    }

    /// A ready unit: an admin token, a community "影佳" and one unit's id and poster token.
    pub async fn unit_fixture(&self) -> (String, i64, String) {
        let admin = self.admin_with(&["影佳"]).await;
        let (unit_id, poster) = self
            .create_unit(&admin, "影佳", "影佳路 100弄 1号 201室")
            .await;
        (admin, unit_id, poster)
    }

    /// Posts a registration through a poster token.
    pub async fn register(&self, poster: &str, body: &Value, key: Option<&str>) -> Response {
        let mut req = self
            .client
            .post(self.url(&format!("/api/v1/scan/{poster}/registrations")))
            .json(body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send().await.expect("request sent")
    }

    /// Counts rows of a table (tests only).
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
            .fetch_one(self.store.pool())
            .await
            .unwrap()
    }
}

/// Logs in through the form and returns the `Cookie` header value.
pub async fn page_login(app: &TestApp, role: &str, communities: &[&str]) -> String {
    // Makes the user `{role}{n}` (and an API session we do not need), then uses the form.
    app.login_as(role, communities).await;
    let n = app.users_made() - 1;
    let res = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", format!("{role}{n}")),
            ("password", "correct-horse-9".into()),
            ("next", String::new()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    cookie.split(';').next().unwrap().to_string()
}

pub async fn page(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
}

pub fn csrf_of(html: &str) -> String {
    let start = html.find(r#"name="csrf" value=""#).unwrap() + 19;
    html[start..start + 32].to_string()
}

/// Posts a form with a session cookie.
pub async fn page_post(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("Cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

impl TestApp {
    /// Posts a raw body (a file) with a content type.
    pub async fn post_bytes(
        &self,
        path: &str,
        body: Vec<u8>,
        content_type: &str,
        token: Option<&str>,
    ) -> Response {
        let mut req = self
            .client
            .post(self.url(path))
            .header("Content-Type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }
}

impl TestApp {
    /// Makes a unit's N-day clock start at `clock_from_ms` (an arrangement: time has
    /// passed), runs the sweep now and returns the door check it opened.
    pub async fn overdue_check(&self, unit: i64, clock_from_ms: i64) -> i64 {
        sqlx::query("update units set clock_from = $1, watched_since = $1 where id = $2")
            .bind(clock_from_ms)
            .bind(unit)
            .execute(self.store.pool())
            .await
            .unwrap();
        renfang::jobs::sweep::run(&self.store, crate::helpers::RULES, chrono::Utc::now())
            .await
            .unwrap();
        sqlx::query_scalar("select id from door_checks where unit_id = $1 and status = 'open'")
            .bind(unit)
            .fetch_one(self.store.pool())
            .await
            .unwrap()
    }
}
