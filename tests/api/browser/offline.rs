//! An officer in a stairwell: the unit cards of "my checks" read without a network, two
//! results recorded offline wait on the phone and are stored once each when the network is
//! back, and sending them again with the same keys changes nothing.

use std::time::Duration;

use serde_json::{Value, json};

use super::Driver;
use crate::helpers::{TestApp, spawn_app};

impl Driver {
    async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Runs `script`, which ends by calling `done(value)`, and returns the value.
    async fn script_async(&self, script: &str) -> Value {
        let wrapped = format!("const done = arguments[arguments.length - 1]; {script}");
        self.call(
            reqwest::Method::POST,
            "/execute/async",
            json!({"script": wrapped, "args": []}),
        )
        .await
    }

    /// Turns the page's network off or on, as DevTools' "Offline" does (which also tells
    /// the page, through `navigator.onLine` and its `online` event).
    async fn emulate_offline(&self, offline: bool) {
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            json!({"cmd": "Network.enable", "params": {}}),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            json!({"cmd": "Network.emulateNetworkConditions", "params": {
                "offline": offline, "latency": 0,
                "downloadThroughput": -1, "uploadThroughput": -1}}),
        )
        .await;
    }

    /// Waits until `script` returns true.
    async fn wait_until(&self, what: &str, script: &str) {
        for _ in 0..150 {
            if self.script(script).await == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never: {what}");
    }

    /// The entries waiting in the phone's queue.
    async fn queued(&self) -> Vec<Value> {
        let v = self
            .script_async(
                "const r = indexedDB.open('renfang-police', 1);
                 r.onsuccess = () => {
                   const db = r.result;
                   if (!db.objectStoreNames.contains('queue')) { done([]); return; }
                   const q = db.transaction('queue').objectStore('queue').getAll();
                   q.onsuccess = () => done(q.result.map(e => ({url: e.url, key: e.key,
                     fields: e.fields.filter(f => typeof f[1] === 'string')})));
                 };
                 r.onerror = () => done(null);",
            )
            .await;
        v.as_array().expect("the queue").clone()
    }

    /// Whether a kept copy of `path` is in the page's caches.
    async fn kept(&self, path: &str) -> bool {
        let v = self
            .script_async(&format!(
                "caches.match('{path}').then(r => done(!!r)).catch(() => done(false));"
            ))
            .await;
        v.as_bool().unwrap_or(false)
    }
}

/// The phone's link to the server: the browser talks to this relay, which can be cut.
/// DevTools' offline switch covers the page but not its service worker, whose requests go
/// out on their own; cutting the relay takes the network from both, as a stairwell does.
struct Link {
    base: String,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Link {
    async fn to(app: &TestApp) -> Link {
        let server: std::net::SocketAddr = app
            .address
            .trim_start_matches("http://")
            .parse()
            .expect("the app's address");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (cut, _) = tokio::sync::watch::channel(false);
        let watch = cut.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut down = watch.subscribe();
                if *down.borrow() {
                    continue; // dropped: the browser sees the connection fail
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(server).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = down.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Link { base, cut }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Takes the network away from the phone (page and service worker), or gives it back.
async fn set_offline(driver: &Driver, link: &Link, offline: bool) {
    link.cut.send_replace(offline);
    driver.emulate_offline(offline).await;
}

/// Logs in on the login page that `/police/mine` leads to, waits for the list to show
/// `shown`, then for the service worker to control the page (reloading once if needed).
async fn open_my_checks(driver: &Driver, link: &Link, username: &str, shown: &str) {
    driver.goto(&link.url("/police/mine")).await;
    driver.type_into("#username", username).await;
    driver.type_into("#password", "correct-horse-9").await;
    driver.click("button[type=submit]").await;
    driver.wait_for(shown).await;
    let controlled = "return !!navigator.serviceWorker.controller;";
    for attempt in 0..2 {
        for _ in 0..50 {
            if driver.script(controlled).await == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(attempt, 0, "the service worker never took over the page");
        driver.goto(&link.url("/police/mine")).await;
    }
}

/// An officer account of 影佳 with `checks` given to it: its username.
async fn officer_with(app: &TestApp, admin: &str, checks: &[i64]) -> String {
    app.login_as("police", &["影佳"]).await;
    let username = format!("police{}", app.users_made() - 1);
    let officer: i64 = sqlx::query_scalar("select id from users where username = $1")
        .bind(&username)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    for check in checks {
        let res = app
            .post_json(
                &format!("/api/v1/door-checks/{check}/assign"),
                &json!({ "user_id": officer }),
                Some(admin),
            )
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::OK);
    }
    username
}

#[tokio::test]
async fn an_officer_reads_cards_and_queues_results_without_a_network() {
    let Some(driver) = Driver::start(390, 844).await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let addresses = ["影佳路 88弄 6号 302室", "影佳路 88弄 7号 101室"];
    let mut units = Vec::new();
    let mut checks = Vec::new();
    for address in addresses {
        let (unit, _) = app.create_unit(&admin, "影佳", address).await;
        checks.push(app.overdue_check(unit, 0).await);
        units.push(unit);
    }
    let username = officer_with(&app, &admin, &checks).await;
    let link = Link::to(&app).await;

    // Online: log in, open "my checks"; the worker takes over and keeps both cards.
    open_my_checks(&driver, &link, &username, addresses[1]).await;
    driver.assert_no_policy_violation("my checks").await;
    for unit in &units {
        driver
            .goto(&link.url(&format!("/police/units/{unit}")))
            .await;
        driver.wait_for("已核实").await;
    }
    for path in [
        "/police/mine",
        "/assets/base.css",
        "/assets/police_offline.css",
    ]
    .into_iter()
    .map(String::from)
    .chain(units.iter().map(|u| format!("/police/units/{u}")))
    {
        assert!(
            driver.kept(&path).await,
            "{path} is kept for offline reading"
        );
    }

    // Offline: the cards still read, and two results wait on the phone.
    set_offline(&driver, &link, true).await;
    driver
        .goto(&link.url(&format!("/police/units/{}", units[0])))
        .await;
    driver.wait_for(addresses[0]).await;
    driver
        .wait_until("the page knows it is offline", "return !navigator.onLine;")
        .await;
    // A page never opened is not there: the worker's network is off too.
    driver.goto(&link.url("/police/filings")).await;
    driver.wait_for("这个页面还没有在本机保存过").await;
    driver
        .goto(&link.url(&format!("/police/units/{}", units[0])))
        .await;
    driver.wait_for(addresses[0]).await;
    driver.click("button[value=verified]").await;
    driver.wait_for("1 条待发送").await;
    driver
        .goto(&link.url(&format!("/police/units/{}", units[1])))
        .await;
    driver.wait_for(addresses[1]).await;
    driver.click("button[value=vacant]").await;
    let page = driver.wait_for("2 条待发送").await;
    assert!(page.contains("已离线保存，联网后自动提交"), "{page}");
    driver.wait_for("当前离线").await;
    let banner = driver
        .script(
            "return getComputedStyle(document.getElementById('offline-banner')).backgroundColor;",
        )
        .await;
    assert_eq!(
        banner, "rgb(236, 239, 243)",
        "the banner's style sheet is kept too"
    );
    driver.review("police-offline-queued", 390).await;
    assert_eq!(
        app.count("door_check_events").await,
        0,
        "nothing reached the server"
    );
    let queued = driver.queued().await;
    assert_eq!(queued.len(), 2);

    // Online again: the queue is sent and emptied, one result per check.
    set_offline(&driver, &link, false).await;
    driver
        .wait_until(
            "the queue is sent",
            "return !document.getElementById('offline-banner') || document.getElementById('offline-banner').hidden;",
        )
        .await;
    assert!(driver.queued().await.is_empty());
    driver.screenshot("police-offline-sent-390.png").await;
    let outcomes: Vec<(i64, String)> = sqlx::query_as(
        "select door_check_id, outcome from door_check_events order by door_check_id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(
        outcomes,
        [(checks[0], "verified".into()), (checks[1], "vacant".into())]
    );

    // The same two requests again, with their keys: answered as before, nothing stored.
    let cookie = driver
        .call(reqwest::Method::GET, "/cookie/renfang_session", Value::Null)
        .await;
    let cookie = format!("renfang_session={}", cookie["value"].as_str().unwrap());
    for entry in &queued {
        let fields: Vec<(String, String)> = entry["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f[0].as_str().unwrap().into(), f[1].as_str().unwrap().into()))
            .collect();
        let res = app
            .client
            .post(app.url(entry["url"].as_str().unwrap()))
            .header("Cookie", &cookie)
            .header("Idempotency-Key", entry["key"].as_str().unwrap())
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["idempotent-replay"], "true");
    }
    assert_eq!(app.count("door_check_events").await, 2);

    // Logging out forgets every kept page.
    driver.goto(&link.url("/police/mine")).await;
    driver.wait_for("我的核查").await;
    driver.click("form[action='/logout'] button").await;
    driver.wait_for("工作人员登录").await;
    let left = driver
        .script_async(
            "caches.keys().then(k => done(k.filter(n => n.startsWith('renfang-police-')).length));",
        )
        .await;
    assert_eq!(left, json!(0), "no kept page outlives the session");
}

#[tokio::test]
async fn a_result_for_a_check_a_colleague_closed_meanwhile_is_kept_as_a_conflict() {
    let Some(driver) = Driver::start(390, 844).await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let address = "影佳路 90弄 1号 201室";
    let (unit, _) = app.create_unit(&admin, "影佳", address).await;
    let check = app.overdue_check(unit, 0).await;
    let username = officer_with(&app, &admin, &[check]).await;
    let link = Link::to(&app).await;
    open_my_checks(&driver, &link, &username, address).await;
    driver
        .goto(&link.url(&format!("/police/units/{unit}")))
        .await;
    driver.wait_for("已核实").await;

    set_offline(&driver, &link, true).await;
    driver.click("button[value=unreachable]").await;
    driver.wait_for("1 条待发送").await;
    let colleague = app.login_as("police", &["影佳"]).await;
    let closed = app
        .post_json(
            &format!("/api/v1/door-checks/{check}/result"),
            &json!({"outcome": "verified"}),
            Some(&colleague),
        )
        .await;
    assert_eq!(closed.status(), reqwest::StatusCode::OK);
    set_offline(&driver, &link, false).await;
    driver
        .wait_until(
            "the queue is sent",
            "return document.getElementById('offline-banner').textContent.includes('冲突 1 条');",
        )
        .await;

    driver.goto(&link.url("/police/mine")).await;
    let page = driver.wait_for("该核查已由他人完成：地址").await;
    assert!(page.contains(address), "{page}");
    driver.review("police-offline-conflict", 390).await;
    assert!(driver.queued().await.is_empty());
    let outcomes: Vec<String> =
        sqlx::query_scalar("select outcome from door_check_events where door_check_id = $1")
            .bind(check)
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(
        outcomes,
        ["verified"],
        "the colleague's result stands alone"
    );

    // Dismissed after a confirmation, the conflict is gone.
    driver.click("#offline-banner li button").await;
    driver
        .call(reqwest::Method::POST, "/alert/accept", json!({}))
        .await;
    driver
        .wait_until(
            "the conflict is dismissed",
            "return !document.getElementById('offline-banner').textContent.includes('冲突');",
        )
        .await;

    // Another officer logs in on the same phone (no logout in between): the first
    // officer's kept card is gone before anything of theirs is kept.
    assert!(driver.kept(&format!("/police/units/{unit}")).await);
    let next = officer_with(&app, &admin, &[]).await;
    driver.goto(&link.url("/login")).await;
    driver.type_into("#username", &next).await;
    driver.type_into("#password", "correct-horse-9").await;
    driver.click("button[type=submit]").await;
    driver.wait_for("待核查").await;
    let mut dropped = false;
    for _ in 0..50 {
        if !driver.kept(&format!("/police/units/{unit}")).await {
            dropped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        dropped,
        "a new session's page drops the previous session's copies"
    );
    set_offline(&driver, &link, true).await;
    driver
        .goto(&link.url(&format!("/police/units/{unit}")))
        .await;
    let page = driver.wait_for("这个页面还没有在本机保存过").await;
    assert!(!page.contains(address), "{page}");
    set_offline(&driver, &link, false).await;
}
