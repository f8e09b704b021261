//! Reminders before the clock falls due, to sublandlords and to tenants who asked for one,
//! and the police's morning digest: each queued once, at its moment, with its cause.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use renfang::config::Webhook;
use renfang::jobs::reminders;

use crate::helpers::{ID_A, ID_B, RULES, TestApp, registration, spawn_app_with, token_of};
use crate::sublandlords::{file, filing, id_number, sublandlord};

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;
const OVERDUE_SOON: &str = "reminder.overdue_soon";
const CONFIRMATION_DUE: &str = "reminder.confirmation_due";
const DIGEST: &str = "digest.police";

/// An application with a destination taking the reminders and the digest.
async fn app() -> TestApp {
    let hook = Webhook {
        name: "sms".into(),
        url: "http://127.0.0.1:9/events".into(),
        secret: "a-secret-of-the-sms-gateway".into(),
        secret_env: None,
        events: vec![OVERDUE_SOON.into(), CONFIRMATION_DUE.into(), DIGEST.into()],
        communities: vec![],
    };
    spawn_app_with(move |s| s.webhook = vec![hook]).await
}

async fn remind(app: &TestApp, at: DateTime<Utc>) -> u64 {
    reminders::run(&app.store, RULES, TZ, at).await.unwrap()
}

/// The data of the events of `kind` kept so far, oldest first.
async fn events(app: &TestApp, kind: &str) -> Vec<Value> {
    let rows: Vec<String> =
        sqlx::query_scalar("select data from events where type = $1 order by id")
            .bind(kind)
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    rows.iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

/// How many messages of `kind` are queued for the destination.
async fn messages(app: &TestApp, kind: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from outbox_messages where event_type = $1 and destination = 'sms'",
    )
    .bind(kind)
    .fetch_one(app.store.pool())
    .await
    .unwrap()
}

async fn clock_from(app: &TestApp, unit: i64) -> DateTime<Utc> {
    let ms: i64 = sqlx::query_scalar("select clock_from from units where id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    DateTime::from_timestamp_millis(ms).unwrap()
}

/// Moves a unit's clock start (an arrangement: time has passed).
async fn set_clock(app: &TestApp, unit: i64, from: DateTime<Utc>) {
    sqlx::query("update units set clock_from = $1 where id = $2")
        .bind(from.timestamp_millis())
        .bind(unit)
        .execute(app.store.pool())
        .await
        .unwrap();
}

/// A unit the sublandlord `landlord` filed, with its poster token.
async fn filed_unit(app: &TestApp, landlord: &str, address: &str) -> (i64, String) {
    let filed = file(app, landlord, &filing("影佳", address, 3, 3)).await;
    (
        filed["unit_id"].as_i64().unwrap(),
        token_of(filed["poster_url"].as_str().unwrap()),
    )
}

fn local_date(at: DateTime<Utc>) -> String {
    at.with_timezone(&TZ).format("%Y-%m-%d").to_string()
}

#[tokio::test]
async fn a_five_day_clock_is_reminded_on_day_three_and_day_four_once_each() {
    let app = app().await;
    app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 1).await;
    let (unit, _) = filed_unit(&app, &landlord, "影佳路 1号 101室").await;
    let day0 = clock_from(&app, unit).await;
    let day = |d: i64, minutes: i64| day0 + Duration::days(d) + Duration::minutes(minutes);

    for d in 0..=2 {
        for minutes in [1, 12 * 60, 23 * 60 + 59] {
            assert_eq!(remind(&app, day(d, minutes)).await, 0, "day {d}");
        }
    }
    // Day 3: two days or less left; the job runs every ten minutes all day.
    assert_eq!(remind(&app, day(3, 1)).await, 1);
    for minutes in [11, 21, 12 * 60, 23 * 60 + 59] {
        assert_eq!(remind(&app, day(3, minutes)).await, 0);
    }
    assert_eq!(remind(&app, day(4, 1)).await, 1);
    assert_eq!(remind(&app, day(4, 11)).await, 0);
    assert_eq!(remind(&app, day(4, 23 * 60 + 59)).await, 0);
    // Overdue: the sweep's door check, no reminder.
    for d in 5..=7 {
        assert_eq!(remind(&app, day(d, 1)).await, 0, "day {d}");
    }

    let sent = events(&app, OVERDUE_SOON).await;
    assert_eq!(sent.len(), 2);
    let landlord_id: i64 = sqlx::query_scalar("select sublandlord_id from units where id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    for (event, days_left) in sent.iter().zip([2, 1]) {
        assert_eq!(event["days_left"], days_left);
        assert_eq!(event["unit_id"], unit);
        assert_eq!(event["reason"], "no_upload");
        assert_eq!(event["address"], "影佳路 1号 101室");
        assert_eq!(event["sublandlord_id"], landlord_id);
        assert_eq!(event["path"], format!("/my/units/{unit}"));
        assert_eq!(event["due_on"], local_date(day0 + Duration::days(5)));
        assert_eq!(event["community"], "影佳");
    }
    assert_eq!(messages(&app, OVERDUE_SOON).await, 2);
}

#[tokio::test]
async fn an_upload_moves_the_deadline_and_later_reminders_follow_the_new_one() {
    let app = app().await;
    app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 1).await;
    let (unit, poster) = filed_unit(&app, &landlord, "影佳路 2号 101室").await;
    let now = Utc::now();
    let first = now - Duration::days(3) - Duration::minutes(1);
    set_clock(&app, unit, first).await;
    assert_eq!(remind(&app, now).await, 1);

    // A tenant registers: the unit is occupied and its clock starts again, for 30 days.
    let res = app
        .register(
            &poster,
            &registration(&[crate::helpers::occupant(ID_A)]),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let restarted = clock_from(&app, unit).await;
    assert!(restarted >= now - Duration::seconds(5));
    // The old deadline has gone with its clock: nothing a day later.
    assert_eq!(
        remind(&app, now + Duration::days(1) + Duration::minutes(1)).await,
        0
    );
    assert_eq!(remind(&app, restarted + Duration::days(27)).await, 0);
    assert_eq!(
        remind(&app, restarted + Duration::days(28) + Duration::minutes(1)).await,
        1
    );
    assert_eq!(
        remind(&app, restarted + Duration::days(29) + Duration::minutes(1)).await,
        1
    );
    assert_eq!(
        remind(&app, restarted + Duration::days(29) + Duration::minutes(2)).await,
        0
    );

    let sent = events(&app, OVERDUE_SOON).await;
    let summary: Vec<(String, i64, String)> = sent
        .iter()
        .map(|e| {
            (
                e["reason"].as_str().unwrap().to_string(),
                e["days_left"].as_i64().unwrap(),
                e["due_on"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let new_due = local_date(restarted + Duration::days(30));
    assert_eq!(
        summary,
        vec![
            ("no_upload".into(), 2, local_date(first + Duration::days(5))),
            ("unconfirmed".into(), 2, new_due.clone()),
            ("unconfirmed".into(), 1, new_due),
        ]
    );
    // The tenant did not ask to be reminded.
    assert!(events(&app, CONFIRMATION_DUE).await.is_empty());
}

#[tokio::test]
async fn a_vacant_unit_and_a_unit_without_a_sublandlord_get_no_reminder() {
    let app = app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 1).await;
    let (vacant, _) = filed_unit(&app, &landlord, "影佳路 3号 101室").await;
    let (filed, _) = filed_unit(&app, &landlord, "影佳路 3号 102室").await;
    let (unowned, _) = app.create_unit(&admin, "影佳", "影佳路 3号 103室").await;
    let res = app
        .post_json(
            &format!("/api/v1/my/units/{vacant}/vacancy"),
            &json!({}),
            Some(&landlord),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let start = Utc::now();
    for unit in [vacant, filed, unowned] {
        set_clock(&app, unit, start).await;
    }

    for (days, queued) in [(3, 1), (4, 1), (28, 0), (29, 0)] {
        let at = start + Duration::days(days) + Duration::minutes(1);
        assert_eq!(remind(&app, at).await, queued, "day {days}");
    }
    let units: Vec<i64> = events(&app, OVERDUE_SOON)
        .await
        .iter()
        .map(|e| e["unit_id"].as_i64().unwrap())
        .collect();
    assert_eq!(units, vec![filed, filed]);
}

fn person(name: &str, number: &str, phone: &str, remind: Option<bool>) -> Value {
    let mut o = json!({"name": name, "id_type": "resident_id", "id_number": number,
                       "phone": phone, "room": "A", "move_in": "2026-11-01"});
    if let Some(remind) = remind {
        o["remind"] = json!(remind);
    }
    o
}

/// The names of the unit's occupants who asked to be reminded.
async fn reminded_names(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("select name from occupants where remind_ok order by name")
        .fetch_all(app.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_tenant_who_asked_and_left_a_phone_is_reminded_once_before_the_confirmation() {
    let app = app().await;
    app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 1).await;
    let (unit, poster) = filed_unit(&app, &landlord, "影佳路 4号 101室").await;
    let third = id_number(77);
    let body = registration(&[
        person("张三", ID_A, "13800138000", Some(true)),
        person("李四", ID_B, "13800138001", Some(false)),
        person("王五", &third, "", Some(true)),
    ]);
    let res = app.register(&poster, &body, None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Kept only with a phone to send it to.
    assert_eq!(reminded_names(&app).await, vec!["张三".to_string()]);
    let (asked, registration_id): (i64, i64) =
        sqlx::query_as("select id, registration_id from occupants where name = '张三'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();

    let from = clock_from(&app, unit).await;
    assert_eq!(remind(&app, from + Duration::days(27)).await, 0);
    // Two days before: the sublandlord's reminder and the tenant's.
    let two_before = from + Duration::days(28) + Duration::hours(1);
    assert_eq!(remind(&app, two_before).await, 2);
    assert_eq!(remind(&app, two_before + Duration::minutes(10)).await, 0);
    // A day before: the sublandlord's second; the tenant has had theirs for this deadline.
    assert_eq!(
        remind(&app, from + Duration::days(29) + Duration::hours(1)).await,
        1
    );

    let sent = events(&app, CONFIRMATION_DUE).await;
    assert_eq!(sent.len(), 1);
    let event = &sent[0];
    assert_eq!(event["occupant_id"], asked);
    assert_eq!(event["registration_id"], registration_id);
    assert_eq!(event["unit_id"], unit);
    assert_eq!(event["due_on"], local_date(from + Duration::days(30)));
    let text = event.to_string();
    assert!(
        !text.contains("1380013") && !text.contains("张三") && !text.contains(ID_A),
        "{text}"
    );
    assert_eq!(messages(&app, CONFIRMATION_DUE).await, 1);
    assert_eq!(messages(&app, OVERDUE_SOON).await, 2);
}

#[tokio::test]
async fn the_box_on_the_tenants_page_stores_the_agreement() {
    let app = app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let html = app
        .get(&format!("/q/{poster}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("到期前短信提醒我确认在住信息"), "{html}");
    assert!(html.contains(r#"name="remind_0""#));

    let post = |name: &'static str, number: &'static str, remind: bool| {
        let mut form = vec![
            ("count", "1"),
            ("name_0", name),
            ("id_type_0", "resident_id"),
            ("id_number_0", number),
            ("phone_0", "13800138000"),
            ("room_0", "A"),
            ("move_in_0", "2026-11-01"),
            ("notice_version", renfang::domain::notice::NOTICE_VERSION),
            ("consent", "1"),
            ("action", "submit"),
        ];
        if remind {
            form.push(("remind_0", "1"));
        }
        app.client
            .post(app.url(&format!("/q/{poster}")))
            .form(&form)
            .send()
    };
    let res = post("张三", ID_A, true).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("登记成功"));
    let res = post("李四", ID_B, false).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(reminded_names(&app).await, vec!["张三".to_string()]);
    assert_eq!(app.count("occupants").await, 2);
}

/// 08:00 local on the day after today.
fn tomorrow_morning() -> DateTime<Utc> {
    let today = Utc::now().with_timezone(&TZ).date_naive();
    let morning = (today + Duration::days(1)).and_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap());
    TZ.from_local_datetime(&morning)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn the_police_digest_counts_each_communitys_checks_and_results_once_a_day() {
    let app = app().await;
    let admin = app.admin_with(&["影佳", "张江"]).await;
    let long_ago = (Utc::now() - Duration::days(40)).timestamp_millis();
    let mut checks = Vec::new();
    for n in 1..=3 {
        let (unit, _) = app
            .create_unit(&admin, "影佳", &format!("影佳路 5号 10{n}室"))
            .await;
        checks.push(app.overdue_check(unit, long_ago).await);
    }
    let at = tomorrow_morning();
    // The oldest open check was opened four days and an hour before the digest.
    sqlx::query("update door_checks set opened_at = $1 where id = $2")
        .bind((at - Duration::days(4) - Duration::hours(1)).timestamp_millis())
        .bind(checks[0])
        .execute(app.store.pool())
        .await
        .unwrap();
    let police = app.login_as("police", &["影佳"]).await;
    for (check, outcome) in [(checks[1], "unreachable"), (checks[2], "vacant")] {
        let res = app
            .post_json(
                &format!("/api/v1/door-checks/{check}/result"),
                &json!({"outcome": outcome, "note": ""}),
                Some(&police),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{outcome}");
    }

    let communities = 2;
    assert_eq!(
        reminders::digest(&app.store, TZ, at).await.unwrap(),
        communities
    );
    assert_eq!(
        reminders::digest(&app.store, TZ, at + Duration::hours(3))
            .await
            .unwrap(),
        0,
        "once a day"
    );
    let sent = events(&app, DIGEST).await;
    let of = |name: &str| {
        sent.iter()
            .find(|e| e["community"] == name)
            .unwrap_or_else(|| panic!("no digest of {name}"))
            .clone()
    };
    let yingjia = of("影佳");
    assert_eq!(yingjia["day"], local_date(at));
    assert_eq!(yingjia["new_checks"], 2);
    assert_eq!(yingjia["open_checks"], 2);
    assert_eq!(yingjia["longest_overdue_days"], 4);
    assert_eq!(yingjia["results_yesterday"], 2);
    assert_eq!(yingjia["path"], "/police");
    let zhangjiang = of("张江");
    assert_eq!(
        (
            &zhangjiang["new_checks"],
            &zhangjiang["open_checks"],
            &zhangjiang["longest_overdue_days"],
            &zhangjiang["results_yesterday"]
        ),
        (&json!(0), &json!(0), &json!(0), &json!(0))
    );
    // The next day is a digest of its own, of a day with nothing new.
    let next = at + Duration::days(1);
    assert_eq!(reminders::digest(&app.store, TZ, next).await.unwrap(), 2);
    let sent = events(&app, DIGEST).await;
    let later = sent
        .iter()
        .find(|e| e["community"] == "影佳" && e["day"] == local_date(next))
        .unwrap();
    assert_eq!(later["new_checks"], 0);
    assert_eq!(later["results_yesterday"], 0);
    assert_eq!(later["longest_overdue_days"], 5);
    assert_eq!(messages(&app, DIGEST).await, 4);
}

#[tokio::test]
async fn two_instances_reminding_at_once_queue_each_reminder_once() {
    let app = app().await;
    let other = app.another_instance().await;
    app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 1).await;
    let start = Utc::now();
    let mut units = Vec::new();
    for n in 1..=12 {
        let (unit, _) = filed_unit(&app, &landlord, &format!("影佳路 6号 {n}01室")).await;
        set_clock(&app, unit, start + Duration::milliseconds(n)).await;
        units.push(unit);
    }
    let at = start + Duration::days(3) + Duration::minutes(1);
    let runs = (0..3).flat_map(|_| {
        [&app, &other].map(|instance| reminders::run_in_batches(&instance.store, RULES, TZ, at, 5))
    });
    let queued: u64 = futures_util::future::join_all(runs)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .sum();
    assert_eq!(queued, 12);
    let mut reminded: Vec<i64> = events(&app, OVERDUE_SOON)
        .await
        .iter()
        .map(|e| e["unit_id"].as_i64().unwrap())
        .collect();
    reminded.sort_unstable();
    assert_eq!(reminded, units);
    assert_eq!(messages(&app, OVERDUE_SOON).await, 12);
    assert_eq!(app.count("reminders_sent").await, 12);
}

#[tokio::test]
async fn on_day_three_the_sublandlord_is_texted_at_their_number_with_a_link_to_the_unit() {
    let gateway = crate::channels::Receiver::start(vec![], r#"{"ok":true}"#);
    let template = crate::channels::sms(
        format!("{}/send", gateway.base),
        &[("Content-Type", "application/json")],
        r#"{"to":"{phone}","text":"{text}"}"#,
    );
    let app = spawn_app_with(move |s| s.sms = vec![template]).await;
    app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 1).await;
    let (unit, _) = filed_unit(&app, &landlord, "影佳路 8号 101室").await;
    // Day 3 of the clock, at 10:00 in the town: outside the quiet hours.
    let day3 = clock_from(&app, unit).await + Duration::days(3);
    let ten = TZ
        .from_local_datetime(
            &day3
                .with_timezone(&TZ)
                .date_naive()
                .and_time(NaiveTime::from_hms_opt(10, 0, 0).unwrap()),
        )
        .unwrap()
        .with_timezone(&Utc);
    set_clock(&app, unit, ten - Duration::days(3)).await;

    assert_eq!(remind(&app, ten).await, 1);
    let ran = app.dispatcher.run_once(&app.store, ten).await.unwrap();
    assert_eq!(ran.sent, 1);
    let got = gateway.requests();
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["to"], crate::sublandlords::phone(1).as_str());
    let text = body["text"].as_str().unwrap();
    assert!(text.starts_with("【人房共管】影佳路 8号 101室"), "{text}");
    assert!(text.contains("2天后"), "{text}");
    assert!(text.ends_with(&format!("/my/units/{unit}")), "{text}");
    // The next run of the job the same day texts nobody again.
    assert_eq!(remind(&app, ten + Duration::minutes(10)).await, 0);
    let ran = app
        .dispatcher
        .run_once(&app.store, ten + Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(ran.sent, 0);
    assert_eq!(gateway.requests().len(), 1);
}

#[tokio::test]
async fn the_purge_forgets_a_reminders_key_a_week_after_its_deadline() {
    let app = app().await;
    app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 1).await;
    let (unit, _) = filed_unit(&app, &landlord, "影佳路 9号 101室").await;
    let day0 = clock_from(&app, unit).await;
    assert_eq!(remind(&app, day0 + Duration::days(3)).await, 1);
    let due = day0 + Duration::days(5);
    let purge = |at| renfang::jobs::purge::run(&app.store, 180, at);
    assert_eq!(
        purge(due + Duration::days(6)).await.unwrap().reminder_keys,
        0
    );
    assert_eq!(app.count("reminders_sent").await, 1);
    assert_eq!(
        purge(due + Duration::days(8)).await.unwrap().reminder_keys,
        1
    );
    assert_eq!(app.count("reminders_sent").await, 0);
}

#[tokio::test]
async fn a_reminder_held_overnight_is_not_sent_once_a_tenant_registered_in_the_morning() {
    let gateway = crate::channels::Receiver::start(vec![], r#"{"ok":true}"#);
    let template = crate::channels::sms(
        format!("{}/send", gateway.base),
        &[("Content-Type", "application/json")],
        r#"{"to":"{phone}","text":"{text}"}"#,
    );
    let app = spawn_app_with(move |s| s.sms = vec![template]).await;
    app.admin_with(&["影佳"]).await;
    let landlord = sublandlord(&app, 1).await;
    let (unit, poster) = filed_unit(&app, &landlord, "影佳路 10号 101室").await;
    // Day 3 begins at 22:30 in the town, inside the quiet hours: queued, held.
    let today = Utc::now().with_timezone(&TZ).date_naive();
    let late = TZ
        .from_local_datetime(&today.and_time(NaiveTime::from_hms_opt(22, 30, 0).unwrap()))
        .unwrap()
        .with_timezone(&Utc);
    set_clock(&app, unit, late - Duration::days(3)).await;
    assert_eq!(remind(&app, late).await, 1);
    assert_eq!(
        app.dispatcher
            .run_once(&app.store, late)
            .await
            .unwrap()
            .held,
        1
    );
    // A tenant registers before the texts go out: the unit's clock is another one now.
    let res = app
        .register(
            &poster,
            &registration(&[crate::helpers::occupant(ID_B)]),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let eight = late + Duration::minutes(9 * 60 + 30);
    let ran = app.dispatcher.run_once(&app.store, eight).await.unwrap();
    assert_eq!((ran.sent, ran.dead), (0, 1));
    assert!(gateway.requests().is_empty(), "no untrue text goes out");
    let error: String = sqlx::query_scalar("select last_error from outbox_messages")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(error, renfang::jobs::channels::sms::NO_LONGER_DUE);
}
