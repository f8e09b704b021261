//! The outbox's channels besides webhooks: WeCom and DingTalk group robots (Markdown, the
//! robot's errcode, DingTalk's signature), an HTTP SMS gateway from a template (the phone
//! found and opened at delivery, never stored with the message) and the quiet hours.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use base64::Engine;
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use hmac::Mac;
use reqwest::StatusCode;
use serde_json::{Value, json};

use renfang::config::{DingTalk, Settings, Sms, WeCom};
use renfang::domain::event::{EventType, NewEvent};
use renfang::store::outbox;

use crate::helpers::{ID_A, TestApp, occupant, page, page_login, registration, spawn_app_with};

const OK: &str = r#"{"errcode":0,"errmsg":"ok"}"#;

/// A request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Got {
    method: String,
    /// Path and query, as sent.
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    fn query(&self, key: &str) -> Option<String> {
        let (_, query) = self.target.split_once('?')?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }
}

/// A receiver on 127.0.0.1 answering 200 with `script`'s bodies in order, then with
/// `otherwise`; it keeps every request.
pub(crate) struct Receiver {
    pub(crate) base: String,
    got: Arc<Mutex<Vec<Got>>>,
}

impl Receiver {
    pub(crate) fn start(script: Vec<&'static str>, otherwise: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let kept = got.clone();
        std::thread::spawn(move || {
            let mut script = script.into_iter();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_string();
                let target = parts.next().unwrap_or_default().to_string();
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
                kept.lock().unwrap().push(Got {
                    method,
                    target,
                    headers,
                    body: String::from_utf8(body).unwrap(),
                });
                let answer = script.next().unwrap_or(otherwise);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        Self { base, got }
    }

    pub(crate) fn requests(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }
}

fn wecom(url: String, events: &[&str]) -> WeCom {
    WeCom {
        name: "police-group".into(),
        url,
        url_env: None,
        events: events.iter().map(|e| e.to_string()).collect(),
        communities: vec![],
    }
}

pub(crate) fn sms(url: String, headers: &[(&str, &str)], body: &str) -> Sms {
    Sms {
        name: "gateway".into(),
        url,
        method: "POST".into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.into(),
        success_field: None,
        success_value: None,
        events: vec![
            "reminder.overdue_soon".into(),
            "reminder.confirmation_due".into(),
        ],
        communities: vec![],
    }
}

async fn app_with(change: impl FnOnce(&mut Settings)) -> (TestApp, String, i64, i64) {
    let app = spawn_app_with(change).await;
    let admin = app.admin_with(&["影佳"]).await;
    let (unit, _) = app
        .create_unit(&admin, "影佳", "影佳路 100弄 1号 201室")
        .await;
    let community: i64 = sqlx::query_scalar("select community_id from units where id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    (app, admin, unit, community)
}

/// Writes an event as its emitter does, in a transaction of the store, at `at`.
async fn enqueue(
    app: &TestApp,
    kind: EventType,
    community_id: i64,
    data: Value,
    at: DateTime<Utc>,
) {
    let event = NewEvent {
        kind,
        community_id,
        data,
    };
    let at_ms = at.timestamp_millis();
    app.store
        .transact::<i64>(Box::new(move |mut tx| {
            Box::pin(async move { outbox::enqueue_in(&mut tx, &event, at_ms).await })
        }))
        .await
        .unwrap();
}

/// Messages by destination: (id, state, attempts).
async fn messages_of(app: &TestApp, destination: &str) -> Vec<(i64, String, i64)> {
    sqlx::query_as(
        "select id, state, attempts from outbox_messages where destination = $1 order by id",
    )
    .bind(destination)
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

/// An instant given as local time in Shanghai (the tests' `RENFANG_TZ`).
fn shanghai(text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&naive)
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_wecom_robot_gets_markdown_and_an_errcode_answer_is_a_failure_then_retried() {
    let robot = Receiver::start(
        vec![r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#],
        OK,
    );
    let url = format!("{}/cgi-bin/webhook/send?key=K-1", robot.base);
    let (app, _, unit, community) =
        app_with(move |s| s.wecom = vec![wecom(url, &["door_check.opened"])]).await;
    let data = json!({"door_check_id": 7, "unit_id": unit,
                      "address": "影佳路 100弄 1号 201室", "reason": "tip"});
    enqueue(
        &app,
        EventType::DoorCheckOpened,
        community,
        data,
        Utc::now(),
    )
    .await;

    let mut clock = Utc::now();
    let ran = app.dispatcher.run_once(&app.store, clock).await.unwrap();
    assert_eq!((ran.sent, ran.failed), (0, 1), "errcode 93000 is a failure");
    let (id, state, attempts) = messages_of(&app, "police-group").await[0].clone();
    assert_eq!((state.as_str(), attempts), ("pending", 1));
    let kept = outbox::attempts(&app.store, id).await.unwrap();
    assert_eq!(kept[0].status, Some(200));
    assert_eq!(
        kept[0].error.as_deref(),
        Some("errcode 93000: invalid webhook url")
    );
    clock += Duration::hours(7);
    let ran = app.dispatcher.run_once(&app.store, clock).await.unwrap();
    assert_eq!(ran.sent, 1);
    assert_eq!(messages_of(&app, "police-group").await[0].1, "sent");

    let got = robot.requests();
    assert_eq!(got.len(), 2);
    let r = &got[1];
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("POST", "/cgi-bin/webhook/send?key=K-1")
    );
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let body = r.json();
    assert_eq!(body["msgtype"], "markdown");
    assert_eq!(
        body["markdown"]["content"],
        format!(
            "**影佳** 新增上门核查\n> 影佳路 100弄 1号 201室\n> 原因：线索举报\n\
             [打开核查队列]({}/police)",
            app.address
        )
    );
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");

    let cookie = page_login(&app, "admin", &[]).await;
    let html = page(&app, &cookie, "/console/outbox")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("police-group") && html.contains("企业微信机器人"),
        "the kind's Chinese name"
    );
}

#[tokio::test]
async fn a_signed_dingtalk_robot_gets_a_fresh_timestamp_and_the_sign_of_its_secret() {
    const SECRET: &str = "SEC0123456789abcdef0123456789abcdef";
    let robot = Receiver::start(vec![], OK);
    let url = format!("{}/robot/send?access_token=T-1", robot.base);
    let (app, _, _, community) = app_with(move |s| {
        s.dingtalk = vec![DingTalk {
            name: "town-group".into(),
            url,
            secret: SECRET.into(),
            secret_env: None,
            events: vec!["digest.police".into()],
            communities: vec![],
        }]
    })
    .await;
    let data = json!({"day": "2026-12-06", "new_checks": 7, "open_checks": 23,
                      "longest_overdue_days": 12, "results_yesterday": 5, "path": "/police"});
    enqueue(&app, EventType::DigestPolice, community, data, Utc::now()).await;
    let ran = app
        .dispatcher
        .run_once(&app.store, Utc::now())
        .await
        .unwrap();
    assert_eq!(ran.sent, 1);

    let got = robot.requests();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.method, "POST");
    assert!(
        r.target
            .starts_with("/robot/send?access_token=T-1&timestamp=")
    );
    assert_eq!(r.query("access_token").as_deref(), Some("T-1"));
    let timestamp: i64 = r.query("timestamp").unwrap().parse().unwrap();
    assert!(
        (Utc::now().timestamp_millis() - timestamp).abs() < 60_000,
        "a timestamp of now, in ms: {timestamp}"
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}\n{SECRET}").as_bytes());
    let want = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(r.query("sign"), Some(want), "the sign, URL-decoded");
    let body = r.json();
    assert_eq!(body["msgtype"], "markdown");
    assert_eq!(body["markdown"]["title"], "影佳 民警每日汇总");
    assert_eq!(
        body["markdown"]["text"],
        format!(
            "**影佳** 2026-12-06\n> 昨日新增待核查 7 处，现共 23 处待核查，逾期最久 12 天\n\
             > 昨日记录核查结果 5 条\n[打开核查队列]({}/police)",
            app.address
        )
    );
}

#[tokio::test]
async fn an_sms_gateway_with_a_json_template_texts_the_sublandlord_at_their_own_number() {
    let gateway = Receiver::start(
        vec![r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL"}"#],
        r#"{"Code":"OK"}"#,
    );
    let mut template = sms(
        format!("{}/sms/send?to={{phone}}", gateway.base),
        &[("Content-Type", "application/json"), ("X-Api-Key", "key-1")],
        r#"{"mobile":"{phone}","content":"{text}","sign":"人房共管"}"#,
    );
    template.success_field = Some("Code".into());
    template.success_value = Some("OK".into());
    let (app, _, unit, community) = app_with(move |s| {
        s.sms = vec![template];
        s.quiet_hours = None;
    })
    .await;
    crate::sublandlords::sublandlord(&app, 1).await;
    let sublandlord: i64 = sqlx::query_scalar("select id from sublandlords")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    // A text with quotes and an ampersand, as an address may have.
    let address = r#"影佳路 "东&西" 1号"#;
    let data = json!({"unit_id": unit, "address": address, "reason": "no_upload",
                      "days_left": 2, "due_on": "2026-12-08",
                      "sublandlord_id": sublandlord, "path": format!("/my/units/{unit}")});
    enqueue(
        &app,
        EventType::ReminderOverdueSoon,
        community,
        data,
        Utc::now(),
    )
    .await;

    let ran = app
        .dispatcher
        .run_once(&app.store, Utc::now())
        .await
        .unwrap();
    assert_eq!(ran.failed, 1, "a 200 whose Code is not OK is a failure");
    let (id, _, _) = messages_of(&app, "gateway").await[0].clone();
    let kept = outbox::attempts(&app.store, id).await.unwrap();
    assert_eq!(
        kept[0].error.as_deref(),
        Some("Code = isv.BUSINESS_LIMIT_CONTROL")
    );
    let ran = app
        .dispatcher
        .run_once(&app.store, Utc::now() + Duration::hours(7))
        .await
        .unwrap();
    assert_eq!(ran.sent, 1);

    let r = &gateway.requests()[1];
    let phone = crate::sublandlords::phone(1);
    assert_eq!(r.method, "POST");
    assert_eq!(r.target, format!("/sms/send?to={phone}"));
    assert_eq!(r.header("x-api-key"), Some("key-1"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    assert_eq!(body["mobile"], phone.as_str(), "the decrypted phone");
    assert_eq!(body["sign"], "人房共管");
    assert_eq!(
        body["content"],
        format!(
            "【人房共管】{address}尚无登记，2天后（12月8日）逾期，请及时处理：{}/my/units/{unit}",
            app.address
        )
    );
    let stored: Vec<String> =
        sqlx::query_scalar("select payload from outbox_messages union all select data from events")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert!(
        stored.iter().all(|p| !p.contains(&phone)),
        "no phone is stored"
    );
}

#[tokio::test]
async fn an_sms_to_a_tenant_is_form_encoded_and_carries_a_working_self_service_link() {
    let gateway = Receiver::start(vec![], "OK");
    let template = sms(
        format!("{}/send", gateway.base),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "mobile={phone}&msg={text}&sign=renfang",
    );
    let (app, admin, unit, community) = app_with(move |s| {
        s.sms = vec![template];
        s.quiet_hours = None;
    })
    .await;
    let (_, poster) = app
        .create_unit(&admin, "影佳", "影佳路 100弄 2号 301室")
        .await;
    // The tenant left a phone and asked to be reminded.
    let mut tenant = occupant(ID_A);
    tenant["remind"] = json!(true);
    let res = app.register(&poster, &registration(&[tenant]), None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (occupant_id, registration_id, tenant_unit): (i64, i64, i64) =
        sqlx::query_as("select id, registration_id, unit_id from occupants")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_ne!(tenant_unit, unit);
    let address = r#"影佳路 100弄 "2"号 301室 & 阁楼"#;
    let data = json!({"unit_id": tenant_unit, "address": address, "occupant_id": occupant_id,
                      "registration_id": registration_id, "due_on": "2026-12-31"});
    enqueue(
        &app,
        EventType::ReminderConfirmationDue,
        community,
        data,
        Utc::now(),
    )
    .await;
    let ran = app
        .dispatcher
        .run_once(&app.store, Utc::now())
        .await
        .unwrap();
    assert_eq!(ran.sent, 1);

    let r = &gateway.requests()[0];
    assert_eq!((r.method.as_str(), r.target.as_str()), ("POST", "/send"));
    let form: Vec<(String, String)> = url::form_urlencoded::parse(r.body.as_bytes())
        .into_owned()
        .collect();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(form.len(), 3, "the text's & is encoded: {}", r.body);
    assert_eq!(field("mobile"), "13800138000", "the decrypted phone");
    assert_eq!(field("sign"), "renfang");
    let text = field("msg");
    let prefix = format!("【人房共管】您在{address}的登记请于12月31日前确认：");
    assert!(text.starts_with(&prefix), "{text}");
    let link = &text[prefix.len()..];
    assert!(link.starts_with(&format!("{}/me/", app.address)), "{link}");
    let page = app.client.get(link).send().await.unwrap();
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "the link opens the tenant's record"
    );
}

#[tokio::test]
async fn with_no_phone_to_text_the_message_is_dead_at_once_after_one_attempt() {
    let gateway = Receiver::start(vec![], "OK");
    let template = sms(format!("{}/send", gateway.base), &[], "{phone} {text}");
    let (app, admin, unit, community) = app_with(move |s| {
        s.sms = vec![template];
        s.quiet_hours = None;
    })
    .await;
    // A sublandlord who is not there, and a tenant who moved out.
    let gone = json!({"unit_id": unit, "address": "a", "reason": "no_upload", "days_left": 1,
                      "due_on": "2026-12-07", "sublandlord_id": 999_999, "path": "/my/units/1"});
    enqueue(
        &app,
        EventType::ReminderOverdueSoon,
        community,
        gone,
        Utc::now(),
    )
    .await;
    let (_, poster) = app
        .create_unit(&admin, "影佳", "影佳路 100弄 3号 101室")
        .await;
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (occupant_id, registration_id): (i64, i64) =
        sqlx::query_as("select id, registration_id from occupants")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    sqlx::query("update occupants set moved_out_at = 1 where id = $1")
        .bind(occupant_id)
        .execute(app.store.pool())
        .await
        .unwrap();
    let moved = json!({"unit_id": unit, "address": "a", "occupant_id": occupant_id,
                       "registration_id": registration_id, "due_on": "2026-12-31"});
    enqueue(
        &app,
        EventType::ReminderConfirmationDue,
        community,
        moved,
        Utc::now(),
    )
    .await;

    let ran = app
        .dispatcher
        .run_once(&app.store, Utc::now())
        .await
        .unwrap();
    assert_eq!((ran.dead, ran.failed, ran.sent), (2, 0, 0));
    for (id, state, attempts) in messages_of(&app, "gateway").await {
        assert_eq!((state.as_str(), attempts), ("dead", 1));
        let kept = outbox::attempts(&app.store, id).await.unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].error.as_deref(), Some("无可用手机号"));
    }
    assert!(gateway.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn quiet_hours_hold_an_sms_from_ten_at_night_until_eight_but_not_a_chat_robot() {
    let gateway = Receiver::start(vec![], "OK");
    let robot = Receiver::start(vec![], OK);
    let template = sms(format!("{}/send", gateway.base), &[], "{phone}|{text}");
    let robot_url = format!("{}/cgi-bin/webhook/send?key=K", robot.base);
    let (app, _, unit, community) = app_with(move |s| {
        s.sms = vec![template];
        s.wecom = vec![wecom(robot_url, &["reminder.overdue_soon"])];
        // The default: 21:00-08:00 in RENFANG_TZ (Asia/Shanghai).
        assert_eq!(s.quiet_hours.unwrap().to_string(), "21:00-08:00");
    })
    .await;
    crate::sublandlords::sublandlord(&app, 2).await;
    let sublandlord: i64 = sqlx::query_scalar("select id from sublandlords")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let data = json!({"unit_id": unit, "address": "影佳路 100弄 1号 201室",
                      "reason": "unconfirmed", "days_left": 1, "due_on": "2026-12-08",
                      "sublandlord_id": sublandlord, "path": format!("/my/units/{unit}")});
    let evening = shanghai("2026-12-06 22:00");
    enqueue(
        &app,
        EventType::ReminderOverdueSoon,
        community,
        data,
        evening,
    )
    .await;

    let ran = app
        .dispatcher
        .run_once(&app.store, shanghai("2026-12-06 23:00"))
        .await
        .unwrap();
    assert_eq!(
        (ran.sent, ran.held),
        (1, 1),
        "the robot at once, the SMS held"
    );
    assert_eq!(robot.requests().len(), 1);
    assert!(gateway.requests().is_empty());
    let (id, state, attempts) = messages_of(&app, "gateway").await[0].clone();
    assert_eq!(
        (state.as_str(), attempts),
        ("pending", 0),
        "held is no attempt"
    );
    assert!(outbox::attempts(&app.store, id).await.unwrap().is_empty());

    let ran = app
        .dispatcher
        .run_once(&app.store, shanghai("2026-12-07 07:59"))
        .await
        .unwrap();
    assert_eq!(ran, Default::default(), "still quiet at 07:59");
    assert!(gateway.requests().is_empty());

    let ran = app
        .dispatcher
        .run_once(&app.store, shanghai("2026-12-07 08:00"))
        .await
        .unwrap();
    assert_eq!(ran.sent, 1, "delivered at 08:00");
    let got = gateway.requests();
    assert_eq!(got.len(), 1);
    let (phone, text) = got[0].body.split_once('|').unwrap();
    assert_eq!(phone, crate::sublandlords::phone(2));
    assert!(
        text.contains("住户信息需确认，1天后（12月8日）逾期"),
        "{text}"
    );
    assert_eq!(messages_of(&app, "gateway").await[0].1, "sent");
}
