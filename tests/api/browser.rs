//! One walk through the police pages in headless Chromium at a phone's width, driven over
//! the WebDriver protocol (chromedriver), with screenshots saved under `target/screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test says so on stderr
//! and passes, unless `RENFANG_TEST_REQUIRE_SERVICES=1` (as in CI), where it fails.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};

mod offline;
mod readable;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One browser at a time: several Chromium instances at once on a 2-core machine starve
/// each other until chromedriver drops connections.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Driver {
    child: Child,
    base: String,
    session: String,
    /// The browser's profile folder, removed with the browser.
    profile: std::path::PathBuf,
    http: reqwest::Client,
    /// Held while this browser runs; released after `drop` has stopped it.
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Ending the session makes chromedriver close Chromium; killing chromedriver alone
        // would leave Chromium and its helpers running after every test. Drop cannot await,
        // so the request is written by hand on a blocking socket.
        let address = self.base.trim_start_matches("http://").to_string();
        if let Ok(mut stream) = std::net::TcpStream::connect(&address) {
            use std::io::{Read, Write};
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let request = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n",
                self.session
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
        // Whatever is left of the group chromedriver leads (it was started as its leader).
        // The `--` matters: without it procps' kill reads `-KILL -1234` as `kill(-1, …)`
        // and ends every process on the machine, the test run and its database included.
        let group = self.child.id();
        assert!(group > 1, "chromedriver's process group");
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{group}")])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn find_binary(name: &str) -> Option<String> {
    let out = Command::new("which").arg(name).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl Driver {
    async fn start(width: u32, height: u32) -> Option<Driver> {
        let (Some(driver), Some(browser)) = (find_binary("chromedriver"), find_binary("chromium"))
        else {
            assert!(
                std::env::var("RENFANG_TEST_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "chromium and chromedriver are required (apt-get install chromium chromium-driver)"
            );
            eprintln!("SKIPPED browser test: chromium or chromedriver is not installed");
            return None;
        };
        let turn = ONE_BROWSER.lock().await;
        // A port the system says is free, rather than a random guess that may be taken.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap().keep();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            // The console log, where Chromium reports what a Content-Security-Policy blocked.
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"binary": browser,
                // A phone's viewport: headless windows cannot be narrower than 500 px.
                "mobileEmulation": {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0}},
                "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--no-first-run", "--disable-dev-shm-usage", "--disable-component-update",
                format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", profile.display()),
            ]}
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .unwrap();
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {res}"))
            .to_string();
        Some(Driver {
            child,
            base,
            session,
            profile,
            http,
            _turn: turn,
        })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = self.http.request(method.clone(), url);
        let req = if method == reqwest::Method::GET {
            req
        } else {
            req.json(&body)
        };
        let res: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(res["value"]["error"].is_null(), "{path}: {res}");
        res["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({"text": text}),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            json!({}),
        )
        .await;
    }

    async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", Value::Null)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The page source once it contains `text` (a click's navigation may still be loading).
    async fn wait_for(&self, text: &str) -> String {
        for _ in 0..100 {
            let source = self.source().await;
            if source.contains(text) {
                return source;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page never showed {text:?}: {}", self.source().await);
    }

    async fn screenshot(&self, name: &str) {
        let data = self
            .call(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        assert_eq!(&png[..4], b"\x89PNG");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }
}

#[tokio::test]
async fn an_officer_works_the_queue_on_a_360_px_phone() {
    let Some(driver) = Driver::start(360, 780).await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (unit, _) = app
        .create_unit(&admin, "影佳", "影佳路 88弄 6号 302室")
        .await;
    app.create_unit(&admin, "影佳", "影佳路 88弄 7号 101室")
        .await;
    renfang::jobs::sweep::run(
        &app.store,
        crate::helpers::RULES,
        Utc::now() + chrono::Duration::days(6),
    )
    .await
    .unwrap();
    app.login_as("police", &["影佳"]).await;
    let username = format!("police{}", app.users_made() - 1);

    driver.goto(&app.url("/police")).await;
    assert!(
        driver.source().await.contains("工作人员登录"),
        "redirected to the login page"
    );
    driver.type_into("#username", &username).await;
    driver.type_into("#password", "correct-horse-9").await;
    driver.click("button[type=submit]").await;
    let list = driver.wait_for("影佳路 88弄 6号 302室").await;
    assert!(list.contains("待核查"));
    driver.assert_no_policy_violation("police queue").await;
    driver.screenshot("police-list-360.png").await;

    // Two taps: the unit in the list, then the outcome.
    driver
        .click(&format!("a[href='/police/units/{unit}']"))
        .await;
    driver.wait_for("已核实").await;
    driver.screenshot("police-unit-360.png").await;
    driver.click("button[value=verified]").await;
    driver.wait_for("已记录核查结果").await;
    driver.assert_no_policy_violation("police unit").await;
    driver.screenshot("police-unit-saved-360.png").await;

    let unit_json: Value = app
        .get(&format!("/api/v1/units/{unit}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unit_json["door_checks"][0]["outcome"], "verified");
}

#[tokio::test]
async fn a_sublandlord_signs_up_files_and_confirms_on_a_360_px_phone() {
    let Some(driver) = Driver::start(360, 780).await else {
        return;
    };
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;

    driver.goto(&app.url("/sublandlord/register")).await;
    driver.type_into("#name", "王建华").await;
    driver.type_into("#phone", "13900000001").await;
    driver.type_into("#id_number", crate::helpers::ID_A).await;
    driver.type_into("#password", "short").await;
    driver.click("button[type=submit]").await;
    driver.wait_for("密码至少 10 个字符").await;
    driver.assert_no_policy_violation("sign-up form").await;
    driver.screenshot("sublandlord-signup-error-360.png").await;
    driver.type_into("#password", "landlord-pass-1").await;
    driver.click("button[type=submit]").await;
    driver.wait_for("还没有房屋").await;

    driver.goto(&app.url("/my/filings/new")).await;
    driver.type_into("#address", "影佳路 66弄 3号 401室").await;
    driver.type_into("#rooms", "2").await;
    driver.type_into("#planned_occupants", "3").await;
    driver.screenshot("sublandlord-filing-360.png").await;
    driver.click("button[type=submit]").await;
    driver.wait_for("报备成功").await;
    driver.screenshot("sublandlord-unit-360.png").await;
    // Nobody lives there yet: "unchanged" is not offered; the tenant comes first.
    let unit_page = driver.wait_for("目前无人登记").await;
    assert!(!unit_page.contains("居住人员无变化"), "{unit_page}");
    driver.click("a[href$='/register']").await;
    driver.type_into("#name", "李四").await;
    driver.type_into("#id_number", crate::helpers::ID_B).await;
    driver.set_value("#move_in", "2026-11-01").await;
    driver.screenshot("sublandlord-register-360.png").await;
    driver.click("button[type=submit]").await;
    driver.wait_for("登记成功").await;
    driver.click("button[value=confirm]").await;
    driver.wait_for("已确认居住人员无变化").await;
    driver.screenshot("sublandlord-unit-occupied-360.png").await;
    driver
        .assert_no_policy_violation("sublandlord's unit")
        .await;

    driver.goto(&app.url("/my")).await;
    let page = driver.wait_for("影佳路 66弄 3号 401室").await;
    assert!(page.contains("还剩"), "the clock is shown");
    driver
        .assert_no_policy_violation("sublandlord's units")
        .await;
    driver.screenshot("sublandlord-units-360.png").await;
    assert_eq!(
        app.count("registrations").await,
        2,
        "the registration and the confirmation are uploads"
    );
}

/// Community staff reject one pending filing (reason and ticked box) and approve another.
#[tokio::test]
async fn community_staff_decide_pending_filings_on_a_360_px_phone() {
    let Some(driver) = Driver::start(360, 780).await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let signup = json!({"name": "王建华", "phone": "13900000001", "id_type": "resident_id",
                        "id_number": crate::helpers::ID_A, "password": "landlord-pass-1"});
    app.post_json("/api/v1/sublandlords", &signup, None).await;
    let login = json!({"username": "13900000001", "password": "landlord-pass-1"});
    let session: Value = app
        .post_json("/api/v1/login", &login, None)
        .await
        .json()
        .await
        .unwrap();
    let mut filings = Vec::new();
    for address in ["影佳路 8弄 1号 101室", "影佳路 8弄 2号 102室"] {
        app.create_unit(&admin, "影佳", address).await;
        let filing = json!({"community": "影佳", "address": address, "rooms": 1,
                            "rental_mode": "whole", "planned_occupants": 1,
                            "start_date": chrono::Utc::now().date_naive().to_string()});
        let res = app
            .post_json("/api/v1/filings", &filing, session["token"].as_str())
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::ACCEPTED);
        filings.push(res.json::<Value>().await.unwrap()["filing_id"].clone());
    }
    app.login_as("community", &["影佳"]).await;
    let username = format!("community{}", app.users_made() - 1);

    driver.goto(&app.url("/console/filings")).await;
    driver.type_into("#username", &username).await;
    driver.type_into("#password", "correct-horse-9").await;
    driver.click("button[type=submit]").await;
    driver.wait_for("待审核的二房东报备").await;
    assert!(
        !driver.overflows().await,
        "the pending filings page scrolls sideways at 360 px"
    );
    driver.screenshot("console-filings-360.png").await;
    let reject = format!("form[action='/console/filings/{}/reject']", filings[0]);
    driver
        .type_into(&format!("{reject} input[name=reason]"), "不是本人出租")
        .await;
    driver.click(&format!("{reject} input[name=confirm]")).await;
    driver.click(&format!("{reject} button")).await;
    driver.wait_for("已驳回").await;
    let approve = format!("form[action='/console/filings/{}/approve']", filings[1]);
    driver.click(&format!("{approve} button")).await;
    driver.wait_for("已批准").await;

    let statuses: Vec<String> = sqlx::query_scalar("select status from filings order by id")
        .fetch_all(app.store.pool())
        .await
        .unwrap();
    assert_eq!(statuses, ["rejected", "approved"]);
}

impl Driver {
    /// Whether the page is wider than the window (a phone would have to scroll sideways).
    async fn overflows(&self) -> bool {
        let v = self
            .call(
                reqwest::Method::POST,
                "/execute/sync",
                json!({"script": "return document.documentElement.scrollWidth > window.innerWidth + 1;", "args": []}),
            )
            .await;
        v.as_bool().expect("a boolean from the page")
    }
}

impl Driver {
    /// Asserts that the page's style sheet applied and that the browser blocked nothing
    /// under the page's Content-Security-Policy since the last look at its log.
    async fn assert_no_policy_violation(&self, what: &str) {
        let styled = self
            .call(
                reqwest::Method::POST,
                "/execute/sync",
                json!({"script": "return getComputedStyle(document.body).backgroundColor;", "args": []}),
            )
            .await;
        assert_eq!(
            styled, "rgb(244, 245, 247)",
            "{what}: the style sheet did not apply"
        );
        let log = self
            .call(reqwest::Method::POST, "/se/log", json!({"type": "browser"}))
            .await;
        let blocked: Vec<&str> = log
            .as_array()
            .expect("log entries")
            .iter()
            .filter_map(|entry| entry["message"].as_str())
            .filter(|m| {
                m.contains("Content Security Policy") || m.contains("Content-Security-Policy")
            })
            .collect();
        assert!(blocked.is_empty(), "{what}: {blocked:?}");
    }
}

/// Community staff log in, read the statistics and import a survey file, at one width.
async fn console_walk(width: u32, height: u32) {
    let Some(driver) = Driver::start(width, height).await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (_, poster) = app.create_unit(&admin, "影佳", "影佳路 1号 101室").await;
    let body = crate::helpers::registration(&[crate::helpers::occupant(crate::helpers::ID_A)]);
    app.register(&poster, &body, None).await;
    app.login_as("community", &["影佳"]).await;
    let username = format!("community{}", app.users_made() - 1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("底数.csv");
    let survey = "社区,地址,间数,类型,出租方式\n影佳,影佳路 2号 201室,2,住宅,合租\n影佳,影佳路 2号 202室,3,宿舍,群租\n影佳,影佳路 2号 203室,0,住宅,整租\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(survey);
    std::fs::write(&file, &gbk).unwrap();

    driver.goto(&app.url("/console/stats")).await;
    driver.type_into("#username", &username).await;
    driver.type_into("#password", "correct-horse-9").await;
    driver.click("button[type=submit]").await;
    let stats = driver.wait_for("每日上传次数").await;
    driver.assert_no_policy_violation("statistics").await;
    assert!(stats.contains("<svg class=\"chart\""));
    assert!(
        !driver.overflows().await,
        "the statistics page scrolls sideways at {width} px"
    );
    driver
        .screenshot(&format!("console-stats-{width}.png"))
        .await;

    driver.goto(&app.url("/console/import")).await;
    driver.type_into("#file", file.to_str().unwrap()).await;
    driver.click("button.primary").await;
    let result = driver.wait_for("导入结果").await;
    driver.assert_no_policy_violation("import").await;
    assert!(result.contains("新建 2 套"), "{result}");
    assert!(result.contains("退回 1 行"));
    assert!(
        !driver.overflows().await,
        "the import page scrolls sideways at {width} px"
    );
    driver
        .screenshot(&format!("console-import-{width}.png"))
        .await;
    assert_eq!(app.count("units").await, 3);
}

#[tokio::test]
async fn community_staff_read_statistics_and_import_a_survey_on_a_360_px_phone() {
    console_walk(360, 780).await;
}

#[tokio::test]
async fn community_staff_read_statistics_and_import_a_survey_on_a_1280_px_desktop() {
    console_walk(1280, 900).await;
}

#[tokio::test]
async fn a_neighbour_opens_a_poster_and_files_a_tip_on_a_360_px_phone() {
    let Some(driver) = Driver::start(360, 780).await else {
        return;
    };
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;

    driver.goto(&app.url(&format!("/q/{poster}"))).await;
    driver.wait_for("影佳路 100弄 1号 201室").await;
    driver.assert_no_policy_violation("poster page").await;
    driver.screenshot("poster-page-360.png").await;
    driver.goto(&app.url(&format!("/tip?t={poster}"))).await;
    driver.wait_for("线索举报").await;
    driver.click("#category option[value=group_rental]").await;
    driver.type_into("#description", "每天晚上很多人进出").await;
    driver.click("button.primary").await;
    driver.wait_for("举报已收到").await;
    driver.assert_no_policy_violation("tip form").await;

    assert_eq!(app.count("tips").await, 1);
}

#[tokio::test]
async fn a_tip_is_looked_up_and_staff_make_its_unit_on_a_360_px_phone() {
    let Some(driver) = Driver::start(360, 780).await else {
        return;
    };
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let body = json!({"address": "影佳路 8号 302室", "community": "影佳", "category": "structural_alteration",
                      "description": "拆掉了隔墙"});
    let answer: Value = app
        .post_json("/api/v1/tips", &body, None)
        .await
        .json()
        .await
        .unwrap();
    let (id, reference) = (
        answer["id"].as_i64().unwrap(),
        answer["receipt"].as_str().unwrap(),
    );
    app.login_as("community", &["影佳"]).await;
    let username = format!("community{}", app.users_made() - 1);

    driver
        .goto(&app.url(&format!("/tip/status?reference={reference}")))
        .await;
    let status = driver.wait_for("处理状态").await;
    assert!(status.contains("已收到，等待处理") && !status.contains("隔墙"));
    driver.review("tip-status", 360).await;

    driver.goto(&app.url(&format!("/console/tips/{id}"))).await;
    driver.type_into("#username", &username).await;
    driver.type_into("#password", "correct-horse-9").await;
    driver.click("button[type=submit]").await;
    driver.wait_for("新建房屋并关联").await;
    driver.review("tip-unmatched", 360).await;
    driver.click("form[action$='/unit'] button.primary").await;
    driver.wait_for("派发上门核查").await;
    driver.review("tip-linked", 360).await;

    let unit: Option<i64> = sqlx::query_scalar("select unit_id from tips where id = $1")
        .bind(id)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert!(unit.is_some());
}

impl Driver {
    /// Sets a field's value from outside the page (a date input takes typed keys in the
    /// browser's locale order, which a test cannot rely on).
    async fn set_value(&self, css: &str, value: &str) {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": "document.querySelector(arguments[0]).value = arguments[1];",
                   "args": [css, value]}),
        )
        .await;
    }

    /// One look at a page as a user gets it: styled, nothing blocked, no sideways scroll,
    /// and a screenshot `review-{name}-{width}.png`.
    async fn review(&self, name: &str, width: u32) {
        self.review_with(name, width, &[]).await;
    }

    /// `review`, where the page may show the codes `allowed` (a help text that lists the
    /// English values a file may use).
    async fn review_with(&self, name: &str, width: u32, allowed: &[&str]) {
        self.assert_no_policy_violation(name).await;
        assert!(
            !self.overflows().await,
            "{name} scrolls sideways at {width} px"
        );
        if !name.ends_with("-en") {
            self.assert_readable(name, allowed).await;
        }
        self.screenshot(&format!("review-{name}-{width}.png")).await;
    }

    /// Asserts that the visible text shows no machine time (`2026-12-04T08:59`) and no
    /// code where a Chinese label belongs (`no_upload`, `door_check.open`, `verified`).
    async fn assert_readable(&self, name: &str, allowed: &[&str]) {
        let text = self
            .call(
                reqwest::Method::POST,
                "/execute/sync",
                json!({"script": "return document.body.innerText;", "args": []}),
            )
            .await;
        let text = text.as_str().expect("the page's text").to_string();
        let problems: Vec<String> = readable::problems(&text)
            .into_iter()
            .filter(|p| !allowed.contains(&p.as_str()))
            .collect();
        assert!(problems.is_empty(), "{name} shows {problems:?} in:\n{text}");
    }
}

/// The pages changed for security, walked at one width: the pending filings, the user list
/// and its disable confirmation, a registration refused for a number registered under another
/// name, the tip form and its hourly limit, the login page and a refused sign-up.
async fn security_pages_walk(width: u32, height: u32) {
    let Some(driver) = Driver::start(width, height).await else {
        return;
    };
    let app = spawn_app_with(|s| s.rate_tips_per_hour = 1).await;
    let admin = app.admin_with(&["影佳"]).await;
    let admin_name = format!("admin{}", app.users_made() - 1);
    let (_, poster) = app
        .create_unit(&admin, "影佳", "影佳路 100弄 1号 201室")
        .await;
    let first = crate::helpers::registration(&[crate::helpers::occupant(crate::helpers::ID_A)]);
    assert_eq!(
        app.register(&poster, &first, None).await.status(),
        reqwest::StatusCode::CREATED
    );
    app.create_unit(&admin, "影佳", "影佳路 30弄 2号 501室")
        .await;
    let landlord_number = renfang::domain::document::with_check_char("31011719800202001").unwrap();
    let signup = json!({"name": "钱二房", "phone": "13900010001", "id_type": "resident_id",
                        "id_number": landlord_number, "password": "landlord-pass-1"});
    let res = app.post_json("/api/v1/sublandlords", &signup, None).await;
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let login = json!({"username": "13900010001", "password": "landlord-pass-1"});
    let session: Value = app
        .post_json("/api/v1/login", &login, None)
        .await
        .json()
        .await
        .unwrap();
    let filing = json!({"community": "影佳", "address": "影佳路 30弄 2号 501室", "rooms": 2,
                        "rental_mode": "group", "planned_occupants": 4,
                        "start_date": chrono::Utc::now().date_naive().to_string()});
    let res = app
        .post_json("/api/v1/filings", &filing, session["token"].as_str())
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::ACCEPTED);
    app.login_as("police", &["影佳"]).await;
    let officer = format!("police{}", app.users_made() - 1);
    let officer_id: i64 = sqlx::query_scalar("select id from users where username = $1")
        .bind(&officer)
        .fetch_one(app.store.pool())
        .await
        .unwrap();

    // The login page, and in through it.
    driver.goto(&app.url("/login")).await;
    driver.wait_for("工作人员登录").await;
    driver.review("login", width).await;
    driver.type_into("#username", &admin_name).await;
    driver.type_into("#password", "correct-horse-9").await;
    driver.click("button[type=submit]").await;
    driver.wait_for("退出").await;

    // The pending filing, with its reject form asking for a reason and a ticked box.
    driver.goto(&app.url("/console/filings")).await;
    let filings = driver.wait_for("待审核的二房东报备").await;
    assert!(filings.contains("影佳路 30弄 2号 501室"), "{filings}");
    assert!(filings.contains("驳回理由") && filings.contains("确认驳回"));
    assert!(filings.contains("群租"), "the rental mode by its label");
    driver.review("filings", width).await;

    // The user list, and the page that asks before disabling an account.
    driver.goto(&app.url("/console/users")).await;
    let users = driver.wait_for("工作人员账号").await;
    assert!(
        users.contains(&officer) && users.contains("停用"),
        "{users}"
    );
    driver.review("users", width).await;
    driver
        .goto(&app.url(&format!("/console/users/{officer_id}/disable")))
        .await;
    let ask = driver.wait_for("确定停用").await;
    assert!(ask.contains(&officer));
    driver.review("user-disable", width).await;
    driver.click(".top button").await;
    driver.wait_for("工作人员登录").await;

    // A tenant types a number already registered in the flat under another name.
    driver.goto(&app.url(&format!("/q/{poster}"))).await;
    driver.wait_for("影佳路 100弄 1号 201室").await;
    driver.type_into("#name_0", "王小明").await;
    driver.type_into("#id_number_0", crate::helpers::ID_A).await;
    driver.type_into("#phone_0", "13900139000").await;
    driver.type_into("#room_0", "B").await;
    driver.set_value("#move_in_0", "2026-10-01").await;
    driver.click("input[name=consent]").await;
    driver.click("button[value=submit]").await;
    let refused = driver.wait_for("已在本户以另一姓名登记").await;
    assert!(refused.contains("王小明"), "the form keeps what was typed");
    assert!(
        refused.contains("此证件号码已在本户以另一姓名登记"),
        "the person's number is marked"
    );
    let seen = driver
        .call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": "const r = document.getElementById('problem').getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;", "args": []}),
        )
        .await;
    assert_eq!(
        seen, true,
        "the explanation is in view, not below the notice"
    );
    driver.review("register-conflict", width).await;

    // The tip form, and the page past the hourly limit (one tip an hour here).
    driver.goto(&app.url("/tip")).await;
    driver.wait_for("线索举报").await;
    driver.review("tip", width).await;
    let mut limited = false;
    for _ in 0..3 {
        driver.goto(&app.url("/tip")).await;
        driver.wait_for("线索举报").await;
        driver.type_into("#address", "影佳路 66弄 3号 401室").await;
        driver.click("#category option[value=group_rental]").await;
        driver.type_into("#description", "每天晚上很多人进出").await;
        driver.click("button.primary").await;
        for _ in 0..100 {
            let page = driver.source().await;
            if page.contains("举报已达上限") {
                limited = true;
                break;
            }
            if page.contains("举报已收到") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if limited {
            break;
        }
    }
    assert!(limited, "the hourly tip limit was never shown");
    let limit = driver.source().await;
    assert!(limit.contains("分钟后再试"), "{limit}");
    driver.review("tip-limit", width).await;

    // A sign-up with the number of someone already signed up under another name.
    driver.goto(&app.url("/sublandlord/register")).await;
    driver.type_into("#name", "李四").await;
    driver.type_into("#phone", "13900000003").await;
    driver.type_into("#id_number", &landlord_number).await;
    driver.type_into("#password", "landlord-pass-1").await;
    driver.click("button[type=submit]").await;
    driver.wait_for("请联系社区").await;
    driver.review("signup-error", width).await;
    assert_eq!(app.count("sublandlords").await, 1);
}

#[tokio::test]
async fn the_pages_changed_for_security_read_well_on_a_phone_and_a_desktop() {
    security_pages_walk(390, 844).await;
    security_pages_walk(1366, 900).await;
}

/// A tenant with a passport registers through the poster (the nationality asked for), keeps
/// the link the receipt gives, and uses their own record: confirms, reads who looked, in
/// Chinese and in English.
async fn tenant_record_walk(width: u32, height: u32) {
    let Some(driver) = Driver::start(width, height).await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (_, poster) = app
        .create_unit(&admin, "影佳", "影佳路 100弄 1号 201室")
        .await;
    driver.goto(&app.url(&format!("/q/{poster}"))).await;
    driver.wait_for("影佳路 100弄 1号 201室").await;
    driver.type_into("#name_0", "KIM MINSU").await;
    driver.click("#id_type_0 option[value=passport]").await;
    driver.type_into("#id_number_0", "M12345678").await;
    driver.type_into("#phone_0", "13900139000").await;
    driver.set_value("#move_in_0", "2026-10-01").await;
    // The tenant asks for an SMS before the confirmation falls due; the box stays ticked
    // when the form comes back.
    driver.click("input[name=remind_0]").await;
    driver.click("input[name=consent]").await;
    driver.click("button[value=submit]").await;
    driver.wait_for("请选择国籍").await;
    driver.review("passport-needs-nationality", width).await;
    driver.click("#nationality_0 option[value=KOR]").await;
    driver
        .call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": "document.querySelector('input[name=consent]').checked = true;",
                   "args": []}),
        )
        .await;
    driver.click("button[value=submit]").await;
    driver.wait_for("您的个人登记页").await;
    driver.review("receipt-with-link", width).await;
    let link = driver
        .call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": "return document.querySelector('.url a').href;", "args": []}),
        )
        .await;
    let link = link.as_str().unwrap().to_string();
    assert!(link.contains("/me/RF"), "{link}");
    let reminded: i64 = sqlx::query_scalar("select count(*) from occupants where remind_ok")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(reminded, 1, "the box was ticked");

    driver.goto(&link).await;
    let page = driver.wait_for("谁查阅过我的信息").await;
    assert!(page.contains("KIM") || page.contains("K*"), "{page}");
    driver.review("me", width).await;
    driver.click("button[value=confirm]").await;
    driver.wait_for("已确认人员无变化").await;
    driver.review("me-confirmed", width).await;
    driver.goto(&format!("{link}?lang=en")).await;
    driver.wait_for("Who has looked at my data").await;
    driver.review("me-en", width).await;
    assert_eq!(
        app.count("registrations").await,
        2,
        "registration and confirmation"
    );
}

#[tokio::test]
async fn a_tenant_keeps_their_own_record_on_a_phone_and_a_desktop() {
    tenant_record_walk(390, 844).await;
    tenant_record_walk(1366, 900).await;
}
