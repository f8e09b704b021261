//! The event feed other systems pull: every committed event once, in commit order, after
//! the cursor; scoped to the reader's communities; only admins and `integration` accounts.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use renfang::domain::event::{EventType, NewEvent};
use renfang::store::{Backend, StoreError, outbox};

use crate::helpers::{TestApp, spawn_app};

/// One answer of the feed: the event ids and the cursor.
async fn poll(app: &TestApp, token: &str, query: &str) -> (Vec<Value>, String) {
    let res = app
        .get(&format!("/api/v1/events{query}"), Some(token))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    let body: Value = res.json().await.unwrap();
    let cursor = body["cursor"].as_str().unwrap().to_string();
    (body["items"].as_array().unwrap().clone(), cursor)
}

fn ids(items: &[Value]) -> Vec<i64> {
    items.iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

fn after(cursor: &str) -> String {
    format!("?after={cursor}")
}

async fn community_id(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar("select id from communities where name = $1")
        .bind(name)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// Writes one event of `kind` in community `community` in a transaction of its own.
async fn write(app: &TestApp, community: i64, kind: EventType, n: i64) -> i64 {
    app.store
        .transact::<i64>(Box::new(move |mut tx| {
            Box::pin(async move {
                let event = NewEvent {
                    kind,
                    community_id: community,
                    data: json!({"n": n}),
                };
                outbox::enqueue_in(&mut tx, &event, 1_765_000_000_123).await
            })
        }))
        .await
        .unwrap()
}

/// Waits until every committed event is below the feed's watermark. On PostgreSQL a
/// transaction still running anywhere on the server (another test's) holds the feed back
/// for a moment; SQLite shows a commit at once.
async fn settled(app: &TestApp) {
    if app.store.backend() != Backend::Postgres {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from events where txid >= pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
        )
        .fetch_one(app.store.pool())
        .await
        .unwrap();
        if waiting == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the feed never caught up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls with the cursor until `want` events arrived after `from` (or 30 seconds passed:
/// a long transaction anywhere on the server holds the feed back), then once more.
async fn read_all(app: &TestApp, token: &str, from: &str, want: usize) -> (Vec<i64>, String) {
    let mut cursor = from.to_string();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < want && Instant::now() < deadline {
        let (items, next) = poll(app, token, &format!("{}&limit=3", after(&cursor))).await;
        if items.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        seen.extend(ids(&items));
        cursor = next;
    }
    let (items, next) = poll(app, token, &after(&cursor)).await;
    seen.extend(ids(&items));
    (seen, next)
}

#[tokio::test]
async fn paging_with_the_cursor_gives_every_event_once_and_in_order() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let yj = community_id(&app, "影佳").await;
    let reader = app.login_as("integration", &["影佳"]).await;
    let mut written = Vec::new();
    for n in 0..23 {
        written.push(write(&app, yj, EventType::VisitRecorded, n).await);
    }
    settled(&app).await;

    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("?after={c}&limit=5"),
            None => "?limit=5".to_string(),
        };
        let (items, next) = poll(&app, &reader, &query).await;
        pages += 1;
        if items.is_empty() {
            assert_eq!(Some(&next), cursor.as_ref(), "nothing new keeps the cursor");
            break;
        }
        assert!(items.len() <= 5);
        seen.extend(ids(&items));
        cursor = Some(next);
    }
    assert_eq!(seen, written);
    assert_eq!(pages, 6);
    // Nothing new: the same cursor again, so a consumer can keep polling with it.
    let (items, again) = poll(&app, &reader, &after(cursor.as_deref().unwrap())).await;
    assert!(items.is_empty());
    assert_eq!(Some(again), cursor);
    // One more event, and only it, after the cursor.
    let late = write(&app, yj, EventType::CaseOpened, 99).await;
    settled(&app).await;
    let (items, _) = poll(&app, &reader, &after(cursor.as_deref().unwrap())).await;
    assert_eq!(ids(&items), vec![late]);
    let e = &items[0];
    assert_eq!(e["type"], "case.opened");
    assert_eq!(e["occurred_at"], "2025-12-06T05:46:40.123Z");
    assert_eq!(e["data"]["n"], 99);
    assert_eq!(e["data"]["community"], "影佳");
    // The default page is 100 events; the admin reads the same feed.
    let (items, _) = poll(&app, &admin, "").await;
    assert_eq!(items.len(), 24);
}

#[tokio::test]
async fn events_of_real_actions_reach_the_feed() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let reader = app.login_as("integration", &["影佳"]).await;
    let (unit, _) = app.create_unit(&admin, "影佳", "影佳路 8号 101室").await;
    let check = app.overdue_check(unit, 0).await;
    let res = app
        .post_json(
            &format!("/api/v1/door-checks/{check}/result"),
            &json!({"outcome": "unreachable", "note": "无人应答"}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    settled(&app).await;
    let (items, _) = poll(&app, &reader, "").await;
    let types: Vec<&str> = items.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["visit.recorded"]);
    assert_eq!(items[0]["data"]["unit_id"], unit);
    assert_eq!(items[0]["data"]["address"], "影佳路 8号 101室");
}

#[tokio::test]
async fn the_types_filter_gives_only_the_listed_types() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let yj = community_id(&app, "影佳").await;
    let reader = app.login_as("integration", &["影佳"]).await;
    let mut cases = Vec::new();
    let mut tips = Vec::new();
    for n in 0..4 {
        write(&app, yj, EventType::VisitRecorded, n).await;
        cases.push(write(&app, yj, EventType::CaseOpened, n).await);
        tips.push(write(&app, yj, EventType::TipReceived, n).await);
    }
    settled(&app).await;
    let (items, cursor) = poll(&app, &reader, "?types=case.opened").await;
    assert_eq!(ids(&items), cases);
    let (items, _) = poll(&app, &reader, "?types=tip.received,case.opened").await;
    let mut both = [cases.clone(), tips.clone()].concat();
    both.sort();
    assert_eq!(ids(&items), both);
    // A filtered cursor goes on from where the filtered reader stood.
    let last_tip = write(&app, yj, EventType::TipReceived, 9).await;
    let last_case = write(&app, yj, EventType::CaseOpened, 9).await;
    settled(&app).await;
    let (items, _) = poll(&app, &reader, &format!("?after={cursor}&types=case.opened")).await;
    assert_eq!(ids(&items), vec![last_case]);
    let (items, _) = poll(&app, &reader, "?types=tip.received&limit=2").await;
    assert_eq!(ids(&items), tips[..2].to_vec());
    assert_ne!(last_tip, last_case);
}

#[tokio::test]
async fn an_integration_account_sees_only_the_events_of_its_communities() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let yj = community_id(&app, "影佳").await;
    let xd = community_id(&app, "祥东").await;
    let ours = app.login_as("integration", &["影佳"]).await;
    let theirs = app.login_as("integration", &["祥东"]).await;
    let mut in_yj = Vec::new();
    let mut in_xd = Vec::new();
    for n in 0..5 {
        in_yj.push(write(&app, yj, EventType::DoorCheckOpened, n).await);
        in_xd.push(write(&app, xd, EventType::DoorCheckOpened, n).await);
    }
    settled(&app).await;
    let (items, _) = poll(&app, &ours, "").await;
    assert_eq!(ids(&items), in_yj);
    assert!(items.iter().all(|e| e["data"]["community"] == "影佳"));
    let (items, _) = poll(&app, &theirs, "").await;
    assert_eq!(ids(&items), in_xd);
    // A cursor taken from another account's answer shows no more than the account's own.
    let (_, admin_cursor) = poll(&app, &admin, "?limit=1").await;
    let (items, _) = poll(&app, &ours, &after(&admin_cursor)).await;
    assert!(items.iter().all(|e| e["data"]["community"] == "影佳"));
    let (items, _) = poll(&app, &admin, "").await;
    assert_eq!(items.len(), 10);
}

#[tokio::test]
async fn a_malformed_cursor_an_unknown_type_or_a_bad_limit_is_a_400_that_says_which() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let reader = app.login_as("integration", &["影佳"]).await;
    let (_, good) = poll(&app, &reader, "").await;
    for (query, names) in [
        ("?after=42".to_string(), "after"),
        ("?after=not-a-cursor!".to_string(), "after"),
        (format!("?after={good}x"), "after"),
        ("?types=visit.recorded,case.eaten".to_string(), "case.eaten"),
        ("?types=reminder.sms_sent".to_string(), "reminder.sms_sent"),
        (
            "?types=digest.police_chat".to_string(),
            "digest.police_chat",
        ),
        ("?limit=0".to_string(), "limit"),
        ("?limit=1001".to_string(), "limit"),
        ("?limit=many".to_string(), "limit"),
    ] {
        let res = app
            .get(&format!("/api/v1/events{query}"), Some(&reader))
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "bad_request", "{query}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(names), "{query}: {message}");
    }
    let (_, cursor) = poll(&app, &reader, "?limit=1000").await;
    assert_eq!(cursor, good);
}

#[tokio::test]
async fn only_admins_and_integration_accounts_read_the_feed_and_integration_nothing_else() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let reader = app.login_as("integration", &["影佳"]).await;
    assert_eq!(
        app.get("/api/v1/events", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    for role in ["police", "enforcement", "community", "property"] {
        let token = app.login_as(role, &["影佳"]).await;
        let res = app.get("/api/v1/events", Some(&token)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{role}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "forbidden");
    }
    let sublandlord = crate::sublandlords::sublandlord(&app, 31).await;
    assert_eq!(
        app.get("/api/v1/events", Some(&sublandlord)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/events", Some(&admin)).await.status(),
        StatusCode::OK
    );
    // The integration account reads the feed and is refused everywhere else.
    assert_eq!(
        app.get("/api/v1/events", Some(&reader)).await.status(),
        StatusCode::OK
    );
    for path in ["/api/v1/stats", "/api/v1/door-checks", "/api/v1/outbox"] {
        let res = app.get(path, Some(&reader)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let cookie = format!("{}={reader}", renfang::http::auth::SESSION_COOKIE);
    for path in ["/console", "/police", "/console/stats"] {
        let res = crate::helpers::page(&app, &cookie, path).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(res.text().await.unwrap().contains("外部系统账号"));
    }
    // It has no console: the login form refuses it and starts no session.
    let n = app.users_made() - 5;
    let res = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", format!("integration{n}")),
            ("password", "correct-horse-9".into()),
            ("next", String::new()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().get("set-cookie").is_none());
    assert!(res.text().await.unwrap().contains("外部系统账号"));
}

#[tokio::test]
async fn the_feed_waits_for_a_long_transaction_instead_of_passing_it() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let yj = community_id(&app, "影佳").await;
    let reader = app.login_as("integration", &["影佳"]).await;
    let (_, start) = poll(&app, &reader, "").await;

    // A transaction takes its event id, then stays open until told to commit.
    let (took_tx, took) = tokio::sync::oneshot::channel::<i64>();
    let (release_tx, release) = tokio::sync::oneshot::channel::<()>();
    let store = app.store.clone();
    let long = tokio::spawn(async move {
        store
            .transact::<i64>(Box::new(move |mut tx| {
                Box::pin(async move {
                    let event = NewEvent {
                        kind: EventType::CaseDecided,
                        community_id: yj,
                        data: json!({"long": true}),
                    };
                    let id = outbox::enqueue_in(&mut tx, &event, 1).await?;
                    let _ = took_tx.send(id);
                    let _ = release.await;
                    Ok(id)
                })
            }))
            .await
            .unwrap()
    });
    let early = took.await.unwrap();
    // A short one meanwhile: on PostgreSQL it commits at once with a larger id; on SQLite
    // it waits for the writer.
    let store = app.store.clone();
    let short = tokio::spawn(async move {
        store
            .transact::<i64>(Box::new(move |mut tx| {
                Box::pin(async move {
                    let event = NewEvent {
                        kind: EventType::TipReceived,
                        community_id: yj,
                        data: json!({"short": true}),
                    };
                    outbox::enqueue_in(&mut tx, &event, 2).await
                })
            }))
            .await
            .unwrap()
    });
    if app.store.backend() == Backend::Postgres {
        // Committed while the long one is open.
        let count: i64 = sqlx::query_scalar("select count(*) from events")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut count = count;
        while count < 1 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            count = sqlx::query_scalar("select count(*) from events")
                .fetch_one(app.store.pool())
                .await
                .unwrap();
        }
        assert_eq!(count, 1, "the short transaction committed");
    }
    for _ in 0..5 {
        let (items, cursor) = poll(&app, &reader, &after(&start)).await;
        assert!(
            items.is_empty(),
            "the feed passed the open transaction: {items:?}"
        );
        assert_eq!(cursor, start);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    release_tx.send(()).unwrap();
    assert_eq!(long.await.unwrap(), early);
    let late = short.await.unwrap();
    let (seen, _) = read_all(&app, &reader, &start, 2).await;
    assert_eq!(seen, vec![early, late]);
}

/// What the writers of the concurrency test did, by each event's tag (SQLite gives the id
/// of a rolled-back row to the next one, so ids cannot tell them apart).
#[derive(Default)]
struct Written {
    committed: BTreeSet<String>,
    rolled_back: BTreeSet<String>,
}

/// One transaction: an event tagged `tag`, a pause of `hold_ms` before the end, then a
/// commit or (when `roll_back`) a rollback.
async fn hold_and_end(
    app: &TestApp,
    community: i64,
    tag: String,
    hold_ms: u64,
    roll_back: bool,
) -> Written {
    let data = json!({"tag": tag});
    let result = app
        .store
        .transact::<i64>(Box::new(move |mut tx| {
            Box::pin(async move {
                let event = NewEvent {
                    kind: EventType::DoorCheckOpened,
                    community_id: community,
                    data,
                };
                let id = outbox::enqueue_in(&mut tx, &event, 1).await?;
                tokio::time::sleep(Duration::from_millis(hold_ms)).await;
                if roll_back {
                    return Err(StoreError::Other(anyhow::anyhow!("the change failed")));
                }
                Ok(id)
            })
        }))
        .await;
    let mut written = Written::default();
    match result {
        Ok(_) => written.committed.insert(tag),
        Err(_) => written.rolled_back.insert(tag),
    };
    written
}

#[tokio::test]
async fn a_reader_polling_beside_concurrent_writers_sees_every_committed_event_once() {
    let app = Arc::new(spawn_app().await);
    app.admin_with(&["影佳"]).await;
    let yj = community_id(&app, "影佳").await;
    let reader = app.login_as("integration", &["影佳"]).await;
    let (_, start) = poll(&app, &reader, "").await;
    let postgres = app.store.backend() == Backend::Postgres;

    // On PostgreSQL, one transaction takes its event id first and commits last, long
    // after the others (with larger ids) have committed. (SQLite's one writer would make
    // everyone wait for it, which proves nothing.)
    let (took_tx, took) = tokio::sync::oneshot::channel::<()>();
    let late = postgres.then(|| {
        let app = app.clone();
        tokio::spawn(async move {
            let signal = Arc::new(Mutex::new(Some(took_tx)));
            app.store
                .transact::<i64>(Box::new(move |mut tx| {
                    Box::pin(async move {
                        let event = NewEvent {
                            kind: EventType::CaseOpened,
                            community_id: yj,
                            data: json!({"tag": "late"}),
                        };
                        let id = outbox::enqueue_in(&mut tx, &event, 1).await?;
                        if let Some(signal) = signal.lock().unwrap().take() {
                            let _ = signal.send(());
                        }
                        tokio::time::sleep(Duration::from_millis(1500)).await;
                        Ok(id)
                    })
                }))
                .await
                .unwrap()
        })
    });
    if postgres {
        took.await.unwrap();
    }
    let writers: Vec<_> = (0..6u64)
        .map(|w| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut all = Written::default();
                for i in 0..6u64 {
                    // Varying lengths; every fifth transaction rolls back.
                    let hold = (w * 7 + i * 13) % 40;
                    let tag = format!("w{w}-{i}");
                    let done = hold_and_end(&app, yj, tag, hold, (w + i) % 5 == 0).await;
                    all.committed.extend(done.committed);
                    all.rolled_back.extend(done.rolled_back);
                }
                all
            })
        })
        .collect();

    // The reader polls all along with the cursor it was given, until it reads the event
    // written after every writer ended: everything committed comes before it.
    let reading = {
        let app = app.clone();
        let reader = reader.clone();
        let start = start.clone();
        tokio::spawn(async move {
            let mut cursor = start;
            let mut seen: Vec<(i64, String)> = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let query = format!("{}&limit=4", after(&cursor));
                let (items, next) = poll(&app, &reader, &query).await;
                for e in &items {
                    let tag = e["data"]["tag"].as_str().unwrap().to_string();
                    seen.push((e["id"].as_i64().unwrap(), tag));
                }
                cursor = next;
                if seen.iter().any(|(_, tag)| tag == "done") || Instant::now() > deadline {
                    break (seen, cursor);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let mut written = Written::default();
    for w in writers {
        let done = w.await.unwrap();
        written.committed.extend(done.committed);
        written.rolled_back.extend(done.rolled_back);
    }
    if let Some(late) = late {
        late.await.unwrap();
        written.committed.insert("late".into());
    }
    app.store
        .transact::<i64>(Box::new(move |mut tx| {
            Box::pin(async move {
                let event = NewEvent {
                    kind: EventType::TipReceived,
                    community_id: yj,
                    data: json!({"tag": "done"}),
                };
                outbox::enqueue_in(&mut tx, &event, 1).await
            })
        }))
        .await
        .unwrap();
    written.committed.insert("done".into());
    let (seen, cursor) = reading.await.unwrap();
    let (rest, _) = poll(&app, &reader, &after(&cursor)).await;
    assert!(rest.is_empty(), "events after the last one: {rest:?}");

    let ids: BTreeSet<i64> = seen.iter().map(|(id, _)| *id).collect();
    let tags: BTreeSet<String> = seen.iter().map(|(_, tag)| tag.clone()).collect();
    assert_eq!(ids.len(), seen.len(), "an event came twice: {seen:?}");
    assert_eq!(tags.len(), seen.len(), "an event came twice: {seen:?}");
    assert!(!written.rolled_back.is_empty());
    assert!(
        tags.is_disjoint(&written.rolled_back),
        "a rolled-back event was served: {seen:?}"
    );
    assert_eq!(tags, written.committed, "served {seen:?}");
}

#[tokio::test]
async fn an_admin_makes_an_integration_account_in_the_console_and_it_reads_the_feed() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let cookie = crate::helpers::page_login(&app, "admin", &[]).await;
    let html = crate::helpers::page(&app, &cookie, "/console/users")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"<option value="integration">外部系统</option>"#));
    let csrf = crate::helpers::csrf_of(&html);
    let res = crate::helpers::page_post(
        &app,
        &cookie,
        "/console/users",
        &[
            ("csrf", csrf.as_str()),
            ("username", "gongan-feed"),
            ("role", "integration"),
            ("password", "a-long-password-1"),
            ("community", "影佳"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = crate::helpers::page(&app, &cookie, "/console/users")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("<td>gongan-feed</td><td>外部系统</td><td>影佳</td>"));

    let res = app
        .post_json(
            "/api/v1/login",
            &json!({"username": "gongan-feed", "password": "a-long-password-1"}),
            None,
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["role"], "integration");
    let token = body["token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/v1/events", Some(token)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_feed_with_its_parameters_and_statuses() {
    let app = spawn_app().await;
    let doc: Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let op = &doc["paths"]["/api/v1/events"]["get"];
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, vec!["after", "types", "limit"]);
    let answer = &op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(answer, "#/components/schemas/FeedAnswer");
    let schema = &doc["components"]["schemas"]["FeedAnswer"]["properties"];
    assert!(schema["items"].is_object() && schema["cursor"].is_object());
    let item = &doc["components"]["schemas"]["FeedItem"]["properties"];
    for field in ["id", "type", "occurred_at", "data"] {
        assert!(item[field].is_object(), "{field}");
    }
    for status in ["400", "401", "403", "503"] {
        let body = &op["responses"][status]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(body, "#/components/schemas/ErrorBody", "{status}");
    }
    assert!(op["security"].is_array());
}

#[tokio::test]
async fn an_event_after_the_newest_one_was_purged_still_comes_after_the_cursor() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let yj = community_id(&app, "影佳").await;
    let reader = app.login_as("integration", &["影佳"]).await;
    write(&app, yj, EventType::TipReceived, 1).await;
    let newest = write(&app, yj, EventType::TipReceived, 2).await;
    settled(&app).await;
    let (items, cursor) = poll(&app, &reader, "").await;
    assert_eq!(items.len(), 2);
    // The retention purge removes old events, the newest among them on a quiet day.
    sqlx::query("delete from events where id = $1")
        .bind(newest)
        .execute(app.store.pool())
        .await
        .unwrap();
    let next = write(&app, yj, EventType::TipReceived, 3).await;
    assert!(next > newest, "an id was given out twice");
    settled(&app).await;
    let (items, _) = poll(&app, &reader, &after(&cursor)).await;
    assert_eq!(ids(&items), vec![next]);
}
