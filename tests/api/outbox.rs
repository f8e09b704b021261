//! The outbox: events leave with the change that caused them, signed, at least once, with
//! retries on a schedule and a dead state an admin sees and can retry.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use hmac::Mac;
use reqwest::StatusCode;
use serde_json::{Value, json};

use renfang::config::Webhook;
use renfang::domain::event::{EventType, NewEvent};
use renfang::store::{StoreError, outbox};

use crate::helpers::{TestApp, page, page_login, spawn_app_with};

const SECRET: &str = "a-secret-of-the-town-office";

/// A request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP receiver on 127.0.0.1 that answers with `script`'s statuses in order, then 200,
/// and keeps every request.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(script: Vec<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let kept = got.clone();
        std::thread::spawn(move || {
            let mut script = script.into_iter();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let mut headers = Vec::new();
                let mut length = 0;
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    let h = h.trim_end();
                    if h.is_empty() {
                        break;
                    }
                    let (k, v) = h.split_once(':').unwrap();
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap();
                    }
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                kept.lock().unwrap().push(Received {
                    headers,
                    body: String::from_utf8(body).unwrap(),
                });
                let status = script.next().unwrap_or(200);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
        Self { url, got }
    }

    /// A URL where nothing listens.
    fn down() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        drop(listener);
        url
    }

    fn requests(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

fn webhook(name: &str, url: &str, events: &[&str]) -> Webhook {
    Webhook {
        name: name.into(),
        url: url.into(),
        secret: SECRET.into(),
        secret_env: None,
        events: events.iter().map(|e| e.to_string()).collect(),
        communities: vec![],
    }
}

async fn app_sending_to(url: &str, events: &[&str], max_attempts: u32) -> TestApp {
    let hook = webhook("town", url, events);
    spawn_app_with(move |s| {
        s.webhook = vec![hook];
        s.outbox_max_attempts = max_attempts;
    })
    .await
}

/// Records an `unreachable` result on an overdue check of a new unit: one `visit.recorded`.
async fn record_a_visit(app: &TestApp) -> i64 {
    let admin = app.admin_with(&["影佳"]).await;
    record_a_visit_at(app, &admin, "影佳路 1号 101室").await
}

/// As [`record_a_visit`], by `admin` at a new unit at `address`.
async fn record_a_visit_at(app: &TestApp, admin: &str, address: &str) -> i64 {
    let (unit, _) = app.create_unit(admin, "影佳", address).await;
    let check = app.overdue_check(unit, 0).await;
    let res = app
        .post_json(
            &format!("/api/v1/door-checks/{check}/result"),
            &json!({"outcome": "unreachable", "note": "敲门无人应答，邻居说白天上班"}),
            Some(admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    unit
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

async fn only_message(app: &TestApp) -> (i64, String, i64) {
    sqlx::query_as("select id, state, attempts from outbox_messages")
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

fn expected_signature(timestamp: &str, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

#[tokio::test]
async fn a_visit_queues_one_message_that_arrives_signed_with_its_idempotency_key() {
    let receiver = Receiver::start(vec![]);
    let app = app_sending_to(&receiver.url, &["visit.recorded"], 12).await;
    let unit = record_a_visit(&app).await;
    assert_eq!(app.count("outbox_messages").await, 1);

    let dispatcher = app.dispatcher.clone();
    let ran = dispatcher.run_once(&app.store, Utc::now()).await.unwrap();
    assert_eq!(ran.sent, 1);
    let got = receiver.requests();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-renfang-event"), Some("visit.recorded"));
    let key = r.header("idempotency-key").unwrap();
    assert!(
        key.starts_with("renfang-") && key.ends_with("-town"),
        "{key}"
    );
    let timestamp = r.header("x-renfang-timestamp").unwrap();
    assert_eq!(
        r.header("x-renfang-signature").unwrap(),
        expected_signature(timestamp, &r.body)
    );
    assert_ne!(
        r.header("x-renfang-signature").unwrap(),
        expected_signature(timestamp, &r.body.replace("unreachable", "verified"))
    );
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["type"], "visit.recorded");
    assert_eq!(body["data"]["unit_id"], unit);
    assert_eq!(body["data"]["outcome"], "unreachable");
    assert_eq!(body["data"]["community"], "影佳");
    assert_eq!(body["data"]["address"], "影佳路 1号 101室");
    assert!(!r.body.contains("邻居"), "the officer's note stays home");
    assert!(chrono::DateTime::parse_from_rfc3339(body["occurred_at"].as_str().unwrap()).is_ok());
    let (_, state, attempts) = only_message(&app).await;
    assert_eq!((state.as_str(), attempts), ("sent", 1));
    // Nothing more is due: a second run sends nothing.
    let again = dispatcher.run_once(&app.store, Utc::now()).await.unwrap();
    assert_eq!(again.sent + again.failed, 0);
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn with_no_destination_the_event_is_kept_and_nothing_is_queued() {
    let app = spawn_app_with(|_| {}).await;
    record_a_visit(&app).await;
    assert_eq!(
        scalar(
            &app,
            "select count(*) from events where type = 'visit.recorded'"
        )
        .await,
        1
    );
    assert_eq!(app.count("outbox_messages").await, 0);
}

#[tokio::test]
async fn a_receiver_failing_three_times_gets_one_success_and_four_attempts_are_kept() {
    let receiver = Receiver::start(vec![500, 503, 429]);
    let app = app_sending_to(&receiver.url, &["*"], 12).await;
    record_a_visit(&app).await;
    let dispatcher = app.dispatcher.clone();
    let mut clock = Utc::now();
    for _ in 0..3 {
        let ran = dispatcher.run_once(&app.store, clock).await.unwrap();
        assert_eq!((ran.sent, ran.failed), (0, 1));
        // Not due again at once: the back-off holds it.
        let early = dispatcher.run_once(&app.store, clock).await.unwrap();
        assert_eq!(early.failed + early.sent, 0);
        clock += Duration::hours(7);
    }
    let ran = dispatcher.run_once(&app.store, clock).await.unwrap();
    assert_eq!(ran.sent, 1);
    let (id, state, attempts) = only_message(&app).await;
    assert_eq!((state.as_str(), attempts), ("sent", 4));
    let kept = outbox::attempts(&app.store, id).await.unwrap();
    let statuses: Vec<Option<i64>> = kept.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(429), Some(200)]);
    assert!(kept[..3].iter().all(|a| a.error.is_some()) && kept[3].error.is_none());
    let got = receiver.requests();
    assert_eq!(got.len(), 4);
    let keys: std::collections::HashSet<_> = got
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 1, "every attempt carries the same key");
}

#[tokio::test]
async fn a_receiver_down_all_along_ends_dead_shows_in_the_console_and_can_be_retried() {
    let app = app_sending_to(&Receiver::down(), &["visit.recorded"], 3).await;
    record_a_visit(&app).await;
    let dispatcher = app.dispatcher.clone();
    let mut clock = Utc::now();
    let mut dead = 0;
    for _ in 0..3 {
        dead += dispatcher.run_once(&app.store, clock).await.unwrap().dead;
        clock += Duration::hours(7);
    }
    assert_eq!(dead, 1);
    let (id, state, attempts) = only_message(&app).await;
    assert_eq!((state.as_str(), attempts), ("dead", 3));
    let kept = outbox::attempts(&app.store, id).await.unwrap();
    assert!(kept.iter().all(|a| a.status.is_none() && a.error.is_some()));
    // Dead stays dead however long one waits.
    let later = dispatcher
        .run_once(&app.store, clock + Duration::days(30))
        .await
        .unwrap();
    assert_eq!(later.failed + later.dead + later.sent, 0);

    let admin = app.login_as("admin", &[]).await;
    let overview: Value = app
        .get("/api/v1/outbox", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(overview["destinations"][0]["destination"], "town");
    assert_eq!(overview["destinations"][0]["dead"], 1);
    assert_eq!(overview["failing"][0]["id"], id);
    let cookie = page_login(&app, "admin", &[]).await;
    let html = page(&app, &cookie, "/console/outbox")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("已放弃") && html.contains("town") && html.contains("立即重试"));
    assert!(html.contains("记录上门结果"), "the event's Chinese name");

    let police = app.login_as("police", &["影佳"]).await;
    let res = app
        .post_json(
            &format!("/api/v1/outbox/{id}/retry"),
            &json!({}),
            Some(&police),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post_json("/api/v1/outbox/999999/retry", &json!({}), Some(&admin))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .post_json(
            &format!("/api/v1/outbox/{id}/retry"),
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["messages"], 1);
    let (_, state, attempts) = only_message(&app).await;
    assert_eq!(
        (state.as_str(), attempts),
        ("pending", 3),
        "attempts are kept"
    );
    assert_eq!(
        scalar(
            &app,
            "select count(*) from audit_log where action = 'outbox.retry'"
        )
        .await,
        1
    );
    // Retried now, and down still: one more attempt, dead again.
    let ran = dispatcher.run_once(&app.store, Utc::now()).await.unwrap();
    assert_eq!(ran.dead, 1);
    assert_eq!(outbox::attempts(&app.store, id).await.unwrap().len(), 4);
}

#[tokio::test]
async fn a_rolled_back_change_queues_nothing_and_a_committed_one_queues_once() {
    let receiver = Receiver::start(vec![]);
    let app = app_sending_to(&receiver.url, &["*"], 12).await;
    let admin = app.admin_with(&["影佳"]).await;
    let (unit, _) = app.create_unit(&admin, "影佳", "影佳路 2号 101室").await;
    let community: i64 = sqlx::query_scalar("select community_id from units where id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let event = move || NewEvent {
        kind: EventType::TipReceived,
        community_id: community,
        data: json!({"unit_id": unit}),
    };
    let events_before = app.count("events").await;
    let refused = app
        .store
        .transact::<()>(Box::new(move |mut tx| {
            Box::pin(async move {
                outbox::enqueue_in(&mut tx, &event(), 1).await?;
                Err(StoreError::Other(anyhow::anyhow!("the change failed")))
            })
        }))
        .await;
    assert!(refused.is_err());
    assert_eq!(app.count("outbox_messages").await, 0);
    assert_eq!(app.count("events").await, events_before);

    app.store
        .transact::<i64>(Box::new(move |mut tx| {
            Box::pin(async move { outbox::enqueue_in(&mut tx, &event(), 1).await })
        }))
        .await
        .unwrap();
    assert_eq!(app.count("outbox_messages").await, 1);
    assert_eq!(app.count("events").await, events_before + 1);
}

#[tokio::test]
async fn two_instances_deliver_each_of_fifty_messages_exactly_once() {
    let receiver = Receiver::start(vec![]);
    let app = app_sending_to(&receiver.url, &["*"], 12).await;
    let other = app.another_instance().await;
    let admin = app.admin_with(&["影佳"]).await;
    let (unit, _) = app.create_unit(&admin, "影佳", "影佳路 3号 101室").await;
    let community: i64 = sqlx::query_scalar("select community_id from units where id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    for _ in 0..50 {
        app.store
            .transact::<i64>(Box::new(move |mut tx| {
                Box::pin(async move {
                    let event = NewEvent {
                        kind: EventType::DoorCheckOpened,
                        community_id: community,
                        data: json!({"unit_id": unit}),
                    };
                    outbox::enqueue_in(&mut tx, &event, 1).await
                })
            }))
            .await
            .unwrap();
    }
    let first = app.dispatcher.clone();
    let second = other.dispatcher.clone();
    let now = Utc::now();
    let (a, b) = tokio::join!(
        first.run_once(&app.store, now),
        second.run_once(&other.store, now)
    );
    assert_eq!(a.unwrap().sent + b.unwrap().sent, 50);
    let got = receiver.requests();
    let keys: std::collections::HashSet<_> = got
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_string())
        .collect();
    assert_eq!((got.len(), keys.len()), (50, 50));
    assert_eq!(
        scalar(
            &app,
            "select count(*) from outbox_messages where state = 'sent'"
        )
        .await,
        50
    );
    assert_eq!(app.count("outbox_attempts").await, 50);
}

#[tokio::test]
async fn metrics_count_messages_per_destination_and_state() {
    let app = app_sending_to(&Receiver::down(), &["*"], 12).await;
    record_a_visit(&app).await;
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        text.contains(r#"renfang_outbox_messages{destination="town",state="pending"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn a_tip_its_check_a_violation_and_a_decision_each_queue_their_event_without_personal_data() {
    let receiver = Receiver::start(vec![]);
    let app = app_sending_to(&receiver.url, &["*"], 12).await;
    let admin = app.admin_with(&["影佳"]).await;
    let (unit, _) = app.create_unit(&admin, "影佳", "影佳路 8号 801室").await;
    let res = app
        .post_json(
            "/api/v1/tips",
            &json!({"address": "影佳路 8号 801室", "category": "group_rental",
                    "description": "每天晚上很多人进出，像是群租。", "contact": "13812345678"}),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let tip = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/tips/{tip}/door-check"),
            &json!({}),
            Some(&admin),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let check: i64 = sqlx::query_scalar(
        "select id from door_checks where unit_id = $1 and reason = 'tip' and status = 'open'",
    )
    .bind(unit)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/door-checks/{check}/result"),
            &json!({"outcome": "violation", "note": "隔断成 6 间，住 14 人"}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let case: i64 = sqlx::query_scalar("select id from cases where door_check_id = $1")
        .bind(check)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let enforcement = app.login_as("enforcement", &["影佳"]).await;
    let day = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string();
    let res = app
        .post_json(
            &format!("/api/v1/cases/{case}/decision"),
            &json!({"violation": "group_rental", "penalty_yuan": 5000,
                    "decision_number": "松综执罚〔2026〕921号", "decided_on": day}),
            Some(&enforcement),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );

    let ran = app
        .dispatcher
        .run_once(&app.store, Utc::now())
        .await
        .unwrap();
    assert_eq!(ran.sent, 5);
    let got = receiver.requests();
    let mut kinds: Vec<String> = got
        .iter()
        .map(|r| r.header("x-renfang-event").unwrap().to_string())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "case.decided",
            "case.opened",
            "door_check.opened",
            "tip.received",
            "visit.recorded"
        ]
    );
    for r in &got {
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["data"]["community"], "影佳");
        for private in ["13812345678", "群租。", "隔断"] {
            assert!(!r.body.contains(private), "{private} left in {}", r.body);
        }
    }
    let decided = got
        .iter()
        .find(|r| r.header("x-renfang-event") == Some("case.decided"))
        .unwrap();
    let body: Value = serde_json::from_str(&decided.body).unwrap();
    assert_eq!(body["data"]["case_id"], case);
    assert_eq!(body["data"]["penalty_yuan"], 5000);
    let opened = got
        .iter()
        .find(|r| r.header("x-renfang-event") == Some("door_check.opened"))
        .unwrap();
    let body: Value = serde_json::from_str(&opened.body).unwrap();
    assert_eq!(
        (
            body["data"]["door_check_id"].as_i64(),
            body["data"]["reason"].as_str()
        ),
        (Some(check), Some("tip"))
    );
}

#[tokio::test]
async fn the_console_retries_a_message_and_a_whole_destination() {
    let app = app_sending_to(&Receiver::down(), &["*"], 1).await;
    let admin = app.admin_with(&["影佳"]).await;
    record_a_visit_at(&app, &admin, "影佳路 1号 101室").await;
    record_a_visit_at(&app, &admin, "影佳路 1号 102室").await;
    let dispatcher = app.dispatcher.clone();
    let ran = dispatcher.run_once(&app.store, Utc::now()).await.unwrap();
    assert_eq!(ran.dead, 2, "one attempt allowed");
    let cookie = page_login(&app, "admin", &[]).await;
    let html = page(&app, &cookie, "/console/outbox")
        .await
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::csrf_of(&html);
    let first: i64 = scalar(&app, "select min(id) from outbox_messages").await;
    let res = crate::helpers::page_post(
        &app,
        &cookie,
        "/console/outbox/retry",
        &[("csrf", csrf.as_str()), ("message", &first.to_string())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        scalar(
            &app,
            "select count(*) from outbox_messages where state = 'pending'"
        )
        .await,
        1
    );
    let res = crate::helpers::page_post(
        &app,
        &cookie,
        "/console/outbox/retry",
        &[("csrf", "forged"), ("destination", "town")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = crate::helpers::page_post(
        &app,
        &cookie,
        "/console/outbox/retry",
        &[("csrf", csrf.as_str()), ("destination", "town")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        scalar(
            &app,
            "select count(*) from outbox_messages where state = 'pending'"
        )
        .await,
        2
    );
    assert_eq!(
        scalar(
            &app,
            "select count(*) from audit_log where action = 'outbox.retry'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn the_purge_forgets_old_deliveries_and_events_but_keeps_what_is_pending() {
    let receiver = Receiver::start(vec![]);
    let app = app_sending_to(&receiver.url, &["visit.recorded"], 12).await;
    let admin = app.admin_with(&["影佳"]).await;
    for n in 1..=3 {
        record_a_visit_at(&app, &admin, &format!("影佳路 {n}号")).await;
    }
    let dispatcher = app.dispatcher.clone();
    let now = Utc::now();
    // Two delivered, one still pending (made not due before the delivery run).
    let pending: i64 = scalar(&app, "select max(id) from outbox_messages").await;
    sqlx::query("update outbox_messages set next_attempt_at = $1 where id = $2")
        .bind(renfang::store::millis(now + Duration::days(400)))
        .bind(pending)
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(dispatcher.run_once(&app.store, now).await.unwrap().sent, 2);
    assert_eq!(app.count("outbox_attempts").await, 2);

    // A month less a day later nothing goes; a month and a day later the deliveries go
    // with their attempts, the events stay (they are the feed's history) and so does the
    // pending message.
    let early = renfang::jobs::purge::run(&app.store, 180, now + Duration::days(29))
        .await
        .unwrap();
    assert_eq!(early.outbox, Default::default());
    let late = renfang::jobs::purge::run(&app.store, 180, now + Duration::days(31))
        .await
        .unwrap();
    assert_eq!(
        (late.outbox.sent, late.outbox.dead, late.outbox.events),
        (2, 0, 0)
    );
    assert_eq!(app.count("outbox_messages").await, 1);
    assert_eq!(app.count("outbox_attempts").await, 0);
    assert_eq!(
        scalar(
            &app,
            "select count(*) from events where type = 'visit.recorded'"
        )
        .await,
        3
    );
    // After the retention period the events nothing refers to go; the pending message's
    // event stays with it.
    let later = renfang::jobs::purge::run(&app.store, 180, now + Duration::days(181))
        .await
        .unwrap();
    assert_eq!(later.outbox.events, 2);
    assert_eq!(app.count("outbox_messages").await, 1);
    assert_eq!(
        scalar(
            &app,
            "select count(*) from events e join outbox_messages m on m.event_id = e.id"
        )
        .await,
        1
    );
    // A message given up goes after the retention period too, and its event with it.
    sqlx::query("update outbox_messages set state = 'dead', next_attempt_at = $1")
        .bind(renfang::store::millis(now))
        .execute(app.store.pool())
        .await
        .unwrap();
    let dead = renfang::jobs::purge::run(&app.store, 180, now + Duration::days(181))
        .await
        .unwrap();
    assert_eq!((dead.outbox.dead, dead.outbox.events), (1, 1));
    assert_eq!(app.count("outbox_messages").await, 0);
    assert_eq!(app.count("events").await, 0);
}
