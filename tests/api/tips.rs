//! Public tips and their triage by staff.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::spawn_app;

fn tip(address: &str) -> Value {
    json!({"address": address, "category": "group_rental",
           "description": "每天晚上很多人进出，像是群租。", "contact": "13812345678"})
}

#[tokio::test]
async fn a_tip_about_a_known_address_lands_with_its_unit_and_a_masked_contact() {
    let app = spawn_app().await;
    let (admin, unit_id, _) = app.unit_fixture().await;

    let res = app
        .post_json("/api/v1/tips", &tip("影佳路１００弄１号２０１"), None)
        .await;

    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let got: Value = app
        .get(&format!("/api/v1/tips/{id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["unit_id"], unit_id);
    assert_eq!(got["community"], "影佳");
    assert_eq!(got["state"], "new");
    assert_eq!(got["contact"], "138****5678");
    let stored: Vec<u8> = sqlx::query_scalar("select contact_enc from tips")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert!(!stored.windows(11).any(|w| w == b"13812345678"));
}

#[tokio::test]
async fn a_tip_by_poster_token_names_that_unit() {
    let app = spawn_app().await;
    let (admin, unit_id, poster) = app.unit_fixture().await;
    let body = json!({"token": poster, "category": "daily_rental", "description": "日租"});

    let res = app.post_json("/api/v1/tips", &body, None).await;

    assert_eq!(res.status(), StatusCode::CREATED);
    let list: Value = app
        .get("/api/v1/tips", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["unit_id"], unit_id);
}

#[tokio::test]
async fn a_bad_tip_names_each_bad_field_and_stores_nothing() {
    let app = spawn_app().await;
    let body = json!({"address": "", "category": "ufo", "description": " ", "contact": "12"});

    let res = app.post_json("/api/v1/tips", &body, None).await;

    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = res.json().await.unwrap();
    let mut fields: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["address", "category", "contact", "description"]);
    assert_eq!(app.count("tips").await, 0);
}

fn form(photo: Vec<u8>, file_name: &str) -> Form {
    Form::new()
        .text("address", "影佳路 100弄 1号 201室")
        .text("category", "group_rental")
        .text("description", "门口贴着床位出租的广告")
        .part("photo", Part::bytes(photo).file_name(file_name.to_string()))
}

#[tokio::test]
async fn a_photo_is_checked_by_content_and_stored_without_its_exif_data() {
    let app = spawn_app().await;
    let (admin, _, _) = app.unit_fixture().await;
    let with_gps = renfang::domain::tip::sample_jpeg_with_gps();

    let res = app
        .client
        .post(app.url("/api/v1/tips"))
        .multipart(form(with_gps, "door.jpg"))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let photo = app
        .get(&format!("/api/v1/tips/{id}/photo.jpg"), Some(&admin))
        .await;
    assert_eq!(photo.status(), StatusCode::OK);
    assert_eq!(photo.headers()["content-type"], "image/jpeg");
    let bytes = photo.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0xff, 0xd8]);
    assert!(!bytes.windows(4).any(|w| w == b"Exif"));
    assert!(!bytes.windows(3).any(|w| w == b"GPS"));

    // A GIF named .jpg is refused by what it is, and nothing is stored.
    let res = app
        .client
        .post(app.url("/api/v1/tips"))
        .multipart(form(
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
            "x.jpg",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["fields"][0]["field"], "photo");
    assert_eq!(app.count("tips").await, 1);
}

#[tokio::test]
async fn staff_triage_tips_in_their_communities_and_open_a_tip_door_check() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let (unit_id, _) = app.create_unit(&admin, "影佳", "影佳路 1号 101室").await;
    app.create_unit(&admin, "祥东", "祥东路 1号 101室").await;
    let ours = app
        .post_json("/api/v1/tips", &tip("影佳路 1号 101室"), None)
        .await;
    let ours = ours.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let theirs = app
        .post_json("/api/v1/tips", &tip("祥东路 1号 101室"), None)
        .await;
    let theirs = theirs.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let community = app.login_as("community", &["影佳"]).await;

    let list: Value = app
        .get("/api/v1/tips", Some(&community))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    let foreign = app
        .post_json(
            &format!("/api/v1/tips/{theirs}/door-check"),
            &json!({}),
            Some(&community),
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);

    let opened = app
        .post_json(
            &format!("/api/v1/tips/{ours}/door-check"),
            &json!({}),
            Some(&community),
        )
        .await;
    assert_eq!(opened.status(), StatusCode::CREATED);
    let check = opened.json::<Value>().await.unwrap()["door_check_id"]
        .as_i64()
        .unwrap();
    let again = app
        .post_json(
            &format!("/api/v1/tips/{ours}/door-check"),
            &json!({}),
            Some(&community),
        )
        .await;
    assert_eq!(again.json::<Value>().await.unwrap()["door_check_id"], check);
    let (reason, unit): (String, i64) =
        sqlx::query_as("select reason, unit_id from door_checks where id = $1")
            .bind(check)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!((reason.as_str(), unit), ("tip", unit_id));

    let closed = app
        .post_json(
            &format!("/api/v1/tips/{ours}/triage"),
            &json!({"state": "closed", "note": "已核实整改"}),
            Some(&community),
        )
        .await;
    assert_eq!(closed.status(), StatusCode::OK);
    let got: Value = app
        .get(&format!("/api/v1/tips/{ours}"), Some(&community))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (got["state"].as_str(), got["note"].as_str()),
        (Some("closed"), Some("已核实整改"))
    );
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action in ('tip.triage', 'door_check.open')",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(audited, 3);

    let enforcement = app.login_as("enforcement", &["影佳"]).await;
    let res = app.get("/api/v1/tips", Some(&enforcement)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_tip_check_on_a_sublandlords_unit_counts_in_their_ledger_row() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let signup = json!({"name": "钱七", "phone": "13900000031", "id_type": "resident_id",
                        "id_number": crate::helpers::ID_B, "password": "landlord-pass-1"});
    app.post_json("/api/v1/sublandlords", &signup, None).await;
    let login = json!({"username": "13900000031", "password": "landlord-pass-1"});
    let token: Value = app
        .post_json("/api/v1/login", &login, None)
        .await
        .json()
        .await
        .unwrap();
    let filing = json!({"community": "影佳", "address": "影佳路 5号 501室", "rooms": 2,
                        "rental_mode": "shared",
                        "start_date": chrono::Utc::now().date_naive().to_string(),
                        "planned_occupants": 2});
    let res = app
        .post_json("/api/v1/filings", &filing, token["token"].as_str())
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let tip = app
        .post_json("/api/v1/tips", &tip("影佳路 5号 501室"), None)
        .await;
    let tip = tip.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    let res = app
        .post_json(
            &format!("/api/v1/tips/{tip}/door-check"),
            &json!({}),
            Some(&admin),
        )
        .await;

    assert_eq!(res.status(), StatusCode::CREATED);
    let ledger: Value = app
        .get("/api/v1/sublandlords?sort=priority", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ledger["items"][0]["tips"], 1, "{ledger}");
    assert_eq!(ledger["items"][0]["open_checks"], 1, "{ledger}");
}

#[tokio::test]
async fn a_tip_form_with_too_many_parts_is_refused_and_unknown_fields_are_dropped() {
    let app = spawn_app().await;
    app.unit_fixture().await;
    let mut flood = Form::new()
        .text("category", "other")
        .text("description", "x");
    for i in 0..40 {
        flood = flood.text(format!("f{i}"), "y".repeat(100));
    }
    let res = app
        .client
        .post(app.url("/api/v1/tips"))
        .multipart(flood)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let extra = Form::new()
        .text("address", "影佳路 100弄 1号 201室")
        .text("category", "other")
        .text("description", "门口很多快递")
        .text("nickname", "anything");
    let res = app
        .client
        .post(app.url("/api/v1/tips"))
        .multipart(extra)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(app.count("tips").await, 1);
}

/// A PNG of `side` × `side` black RGB pixels: a few hundred kilobytes that declare
/// `side² × 3` bytes of pixels.
fn black_png(side: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let row = vec![0u8; side as usize * 3];
    for _ in 0..side {
        std::io::Write::write_all(&mut stream, &row).unwrap();
    }
    stream.finish().unwrap();
    writer.finish().unwrap();
    out
}

#[tokio::test]
async fn a_small_png_that_declares_a_huge_picture_is_refused_before_it_is_decoded() {
    // Made first: compressing 300 MB of pixels takes seconds on a busy machine, longer
    // than the server keeps an idle connection open.
    let bomb = black_png(10_000);
    assert!(bomb.len() < 512 * 1024, "{} bytes", bomb.len());
    let app = spawn_app().await;
    app.unit_fixture().await;

    let res = app
        .client
        .post(app.url("/api/v1/tips"))
        .multipart(form(bomb, "door.png"))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["fields"][0]["field"], "photo", "{err}");
    assert_eq!(err["fields"][0]["code"], "too_many_pixels", "{err}");
    assert!(
        err["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("像素过多")
    );
    assert_eq!(app.count("tips").await, 0);
}

/// Today's date as a reference writes it, in the default `RENFANG_TZ` (Asia/Shanghai).
fn today_key() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y%m%d")
        .to_string()
}

async fn send_tip(app: &crate::helpers::TestApp, body: &Value) -> (i64, String) {
    let res = app.post_json("/api/v1/tips", body, None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let answer: Value = res.json().await.unwrap();
    (
        answer["id"].as_i64().unwrap(),
        answer["reference"].as_str().unwrap().to_string(),
    )
}

/// A tip sent through the API: its reference and the receipt (reference and check) its
/// sender keeps.
async fn send_tip_for_receipt(app: &crate::helpers::TestApp, body: &Value) -> (String, String) {
    let res = app.post_json("/api/v1/tips", body, None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let answer: Value = res.json().await.unwrap();
    (
        answer["reference"].as_str().unwrap().to_string(),
        answer["receipt"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn each_tip_gets_the_next_reference_of_its_local_day() {
    let app = spawn_app().await;
    let (admin, _, _) = app.unit_fixture().await;

    let (first, first_ref) = send_tip(&app, &tip("影佳路 100弄 1号 201室")).await;
    let (_, second_ref) = send_tip(&app, &tip("无名路 9号")).await;

    let day = today_key();
    assert_eq!(first_ref, format!("TIP-{day}-0001"));
    assert_eq!(second_ref, format!("TIP-{day}-0002"));
    let got: Value = app
        .get(&format!("/api/v1/tips/{first}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["reference"], first_ref.as_str());
}

#[tokio::test]
async fn twenty_tips_sent_at_once_get_twenty_distinct_sequential_references() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.rate_tips_per_hour = 0;
        s.rate_ip_per_minute = 0;
    })
    .await;
    let bodies: Vec<Value> = (0..20)
        .map(|i| {
            json!({"address": format!("并发路 {i}号"), "category": "other",
                   "description": "同时提交"})
        })
        .collect();

    let answers = futures_util::future::join_all(bodies.iter().map(|b| send_tip(&app, b))).await;

    let mut references: Vec<String> = answers.into_iter().map(|(_, r)| r).collect();
    references.sort();
    let day = today_key();
    let expected: Vec<String> = (1..=20).map(|n| format!("TIP-{day}-{n:04}")).collect();
    assert_eq!(references, expected);
    let stored: i64 = sqlx::query_scalar("select count(distinct reference) from tips")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(stored, 20);
}

#[tokio::test]
async fn anyone_with_a_reference_sees_only_the_state_and_two_dates() {
    let app = spawn_app().await;
    let (admin, _, _) = app.unit_fixture().await;
    let (reference, receipt) = send_tip_for_receipt(&app, &tip("影佳路 100弄 1号 201室")).await;
    let id: i64 = sqlx::query_scalar("select id from tips where reference = $1")
        .bind(&reference)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    // The receipt is the reference and a check of six characters nobody can guess from it.
    let check = receipt.strip_prefix(&format!("{reference}-")).unwrap();
    assert_eq!(check.len(), 6);
    assert!(
        check
            .bytes()
            .all(|b| b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ".contains(&b))
    );

    // The sequential reference alone, or with another check, opens nothing.
    for guess in [reference.clone(), format!("{reference}-222222")] {
        let res = app
            .get(&format!("/api/v1/tips/by-reference/{guess}"), None)
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{guess}");
    }
    let (plain, reference) = (reference, receipt.clone());

    let res = app
        .get(&format!("/api/v1/tips/by-reference/{reference}"), None)
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(keys, ["received_at", "reference", "state", "updated_at"]);
    assert_eq!(body["state"], "new");
    assert_eq!(body["received_at"], body["updated_at"]);
    let page = app
        .get(
            &format!("/tip/status?reference={}", reference.to_lowercase()),
            None,
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("已收到，等待处理"), "{html}");
    assert!(html.contains(&plain), "{html}");
    for secret in ["影佳路", "群租", "138", "5678"] {
        assert!(!html.contains(secret), "{secret} shown: {html}");
    }
    let received = chrono::DateTime::parse_from_rfc3339(body["received_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert!(html.contains(&received), "{received}: {html}");

    let closed = app
        .post_json(
            &format!("/api/v1/tips/{id}/triage"),
            &json!({"state": "closed", "note": "已整改"}),
            Some(&admin),
        )
        .await;
    assert_eq!(closed.status(), StatusCode::OK);
    let after: Value = app
        .get(&format!("/api/v1/tips/by-reference/{reference}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["state"], "closed");
    let html = app
        .get(&format!("/tip/status?reference={reference}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("已核查办结") && !html.contains("已整改"),
        "{html}"
    );
}

#[tokio::test]
async fn an_unknown_or_malformed_reference_is_404_and_counts_as_a_guess() {
    let app = crate::helpers::spawn_app_with(|s| s.rate_guesses_per_hour = 3).await;
    let day = today_key();

    let unknown = app
        .get(&format!("/api/v1/tips/by-reference/TIP-{day}-0001"), None)
        .await;
    let malformed = app.get("/api/v1/tips/by-reference/TIP-1-1", None).await;
    let page = app.get("/tip/status?reference=nothing", None).await;

    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.json::<Value>().await.unwrap()["error"], "not_found");
    assert_eq!(malformed.status(), StatusCode::NOT_FOUND);
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().await.unwrap().contains("没有找到编号"));
    let next = app
        .get(&format!("/api/v1/tips/by-reference/TIP-{day}-0002"), None)
        .await;
    assert_eq!(next.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_tip_page_answers_with_the_reference_and_what_it_is_for() {
    let app = spawn_app().await;
    let form = Form::new()
        .text("address", "影佳路 200号 101室")
        .text("category", "illegal_wiring")
        .text("description", "楼道里私拉电线给电瓶车充电");

    let res = app
        .client
        .post(app.url("/tip"))
        .multipart(form)
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::CREATED);
    let html = res.text().await.unwrap();
    let reference = format!("TIP-{}-0001-", today_key());
    assert!(
        html.contains(&reference),
        "the receipt with its check: {html}"
    );
    assert!(
        html.contains("群防群治奖励办法") && html.contains("查询码"),
        "{html}"
    );
    assert!(html.contains(&format!("/tip/status?reference={reference}")));
    let form_page = app.get("/tip", None).await.text().await.unwrap();
    assert!(form_page.contains("私搭乱接") && form_page.contains("改变房屋结构"));
    assert!(form_page.contains(r#"action="/tip/status""#));
}

#[tokio::test]
async fn the_plans_new_categories_are_taken_with_english_codes() {
    let app = spawn_app().await;
    let (admin, _, _) = app.unit_fixture().await;
    for category in ["illegal_wiring", "structural_alteration"] {
        let body = json!({"address": "影佳路 100弄 1号 201室", "category": category,
                          "description": "拆了承重墙"});
        let (id, _) = send_tip(&app, &body).await;
        let got: Value = app
            .get(&format!("/api/v1/tips/{id}"), Some(&admin))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(got["category"], category);
    }
}

#[tokio::test]
async fn staff_find_a_tip_by_its_reference() {
    let app = spawn_app().await;
    let (admin, _, _) = app.unit_fixture().await;
    send_tip(&app, &tip("影佳路 100弄 1号 201室")).await;
    let (_, second) = send_tip(&app, &tip("影佳路 100弄 1号 201室")).await;

    let found: Value = app
        .get("/api/v1/tips?reference=0002", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let whole: Value = app
        .get(
            &format!("/api/v1/tips?reference={}", second.to_lowercase()),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let bad = app.get("/api/v1/tips?reference=%25", Some(&admin)).await;

    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["reference"], second.as_str());
    assert_eq!(whole["total"], 1);
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let cookie = crate::helpers::page_login(&app, "police", &["影佳"]).await;
    let html = crate::helpers::page(&app, &cookie, "/console/tips?reference=0002")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&second) && !html.contains("-0001<"), "{html}");
}

/// Two communities with a unit each, and a tip in 影佳 whose address matches no unit.
async fn unmatched_fixture(app: &crate::helpers::TestApp) -> (String, i64, i64, i64) {
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let (ours, _) = app.create_unit(&admin, "影佳", "影佳路 1号 101室").await;
    let (theirs, _) = app.create_unit(&admin, "祥东", "祥东路 1号 101室").await;
    let body = json!({"address": "影佳路 8号 302室", "community": "影佳", "category": "group_rental",
                      "description": "隔成了六间"});
    let (tip, _) = send_tip(app, &body).await;
    (admin, ours, theirs, tip)
}

#[tokio::test]
async fn an_unmatched_tip_is_linked_to_a_unit_in_scope_and_then_checked() {
    let app = spawn_app().await;
    let (_, ours, theirs, tip) = unmatched_fixture(&app).await;
    let staff = app.login_as("community", &["影佳"]).await;
    let link = |unit: i64| json!({ "unit_id": unit });

    let foreign = app
        .post_json(
            &format!("/api/v1/tips/{tip}/link"),
            &link(theirs),
            Some(&staff),
        )
        .await;
    let no_unit = app
        .post_json(
            &format!("/api/v1/tips/{tip}/door-check"),
            &json!({}),
            Some(&staff),
        )
        .await;
    let linked = app
        .post_json(
            &format!("/api/v1/tips/{tip}/link"),
            &link(ours),
            Some(&staff),
        )
        .await;
    let again = app
        .post_json(
            &format!("/api/v1/tips/{tip}/link"),
            &link(ours),
            Some(&staff),
        )
        .await;
    let check = app
        .post_json(
            &format!("/api/v1/tips/{tip}/door-check"),
            &json!({}),
            Some(&staff),
        )
        .await;

    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    assert_eq!(no_unit.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(linked.status(), StatusCode::OK);
    assert_eq!(linked.json::<Value>().await.unwrap()["unit_id"], ours);
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(check.status(), StatusCode::CREATED);
    let got: Value = app
        .get(&format!("/api/v1/tips/{tip}"), Some(&staff))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (got["unit_id"].as_i64(), got["state"].as_str()),
        (Some(ours), Some("checking"))
    );
    let audited: Vec<String> = sqlx::query_scalar(
        "select detail from audit_log where action = 'tip.link_unit' and subject = $1",
    )
    .bind(format!("tip:{tip}"))
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(audited.len(), 1);
    assert!(
        audited[0].contains(&format!("\"unit_id\":{ours}")),
        "{audited:?}"
    );
}

#[tokio::test]
async fn a_unit_created_from_an_unmatched_tip_takes_its_address_and_community() {
    let app = spawn_app().await;
    let (_, _, _, tip) = unmatched_fixture(&app).await;
    let staff = app.login_as("police", &["影佳"]).await;
    let units_before = app.count("units").await;
    let unit = json!({"rooms": 3, "kind": "flat", "rental_mode": "group"});

    let elsewhere = app
        .post_json(
            &format!("/api/v1/tips/{tip}/unit"),
            &json!({"community": "祥东", "rooms": 3, "kind": "flat", "rental_mode": "group"}),
            Some(&staff),
        )
        .await;
    let bad = app
        .post_json(
            &format!("/api/v1/tips/{tip}/unit"),
            &json!({"rooms": 0, "kind": "castle", "rental_mode": "group"}),
            Some(&staff),
        )
        .await;
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("units").await, units_before);

    let created = app
        .post_json(&format!("/api/v1/tips/{tip}/unit"), &unit, Some(&staff))
        .await;
    let again = app
        .post_json(&format!("/api/v1/tips/{tip}/unit"), &unit, Some(&staff))
        .await;

    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let unit_id = created["unit_id"].as_i64().unwrap();
    assert!(created["poster_url"].as_str().unwrap().contains("/q/"));
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(app.count("units").await, units_before + 1);
    let got: Value = app
        .get(&format!("/api/v1/units/{unit_id}"), Some(&staff))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["address"], "影佳路 8号 302室", "{got}");
    let check = app
        .post_json(
            &format!("/api/v1/tips/{tip}/door-check"),
            &json!({}),
            Some(&staff),
        )
        .await;
    assert_eq!(check.status(), StatusCode::CREATED);
    let actions: Vec<String> =
        sqlx::query_scalar("select action from audit_log where action in ('unit.create', 'tip.link_unit') order by id desc limit 2")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(actions, ["tip.link_unit", "unit.create"]);
}

#[tokio::test]
async fn the_console_ties_an_unmatched_tip_to_a_found_unit_or_a_new_one() {
    let app = spawn_app().await;
    let (admin, ours, _, tip) = unmatched_fixture(&app).await;
    let body = json!({"address": "影佳路 9号 101室", "community": "影佳", "category": "other",
                      "description": "无人登记"});
    let (second, _) = send_tip(&app, &body).await;
    let cookie = crate::helpers::page_login(&app, "community", &["影佳"]).await;
    let html = crate::helpers::page(&app, &cookie, &format!("/console/tips/{tip}?q=影佳路 1号"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("关联此房屋") && html.contains("影佳路 1号 101室"),
        "{html}"
    );
    assert!(
        html.contains("新建房屋并关联") && !html.contains("祥东路"),
        "{html}"
    );
    let csrf = crate::helpers::csrf_of(&html);
    let ours = ours.to_string();

    let forged = crate::helpers::page_post(
        &app,
        &cookie,
        &format!("/console/tips/{tip}/link"),
        &[("csrf", "0".repeat(32).as_str()), ("unit_id", &ours)],
    )
    .await;
    let linked = crate::helpers::page_post(
        &app,
        &cookie,
        &format!("/console/tips/{tip}/link"),
        &[("csrf", &csrf), ("unit_id", &ours)],
    )
    .await;
    let created = crate::helpers::page_post(
        &app,
        &cookie,
        &format!("/console/tips/{second}/unit"),
        &[
            ("csrf", &csrf),
            ("community", "影佳"),
            ("address", "影佳路 9号 101室"),
            ("kind", "flat"),
            ("rooms", "2"),
            ("rental_mode", "shared"),
        ],
    )
    .await;

    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(linked.status(), StatusCode::SEE_OTHER);
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    for id in [tip, second] {
        let got: Value = app
            .get(&format!("/api/v1/tips/{id}"), Some(&admin))
            .await
            .json()
            .await
            .unwrap();
        assert!(got["unit_id"].is_i64(), "{got}");
    }
    let page = crate::helpers::page(&app, &cookie, &format!("/console/tips/{second}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("派发上门核查") && !page.contains("新建房屋并关联"),
        "{page}"
    );
}

/// A database as the release before reference numbers left it: its tips get numbers by
/// their day in Asia/Shanghai and their id order, and new tips go on from there.
#[tokio::test]
async fn tips_made_before_reference_numbers_get_them_by_day_and_id() {
    let (_db, url) = crate::helpers::fresh_database().await;
    let store = renfang::store::Store::connect(&url, 3).await.unwrap();
    store.migrate_up_to(16).await.unwrap();
    // 2026-12-03 23:30 and 2026-12-04 00:30 in Shanghai (15:30 and 16:30 UTC), then
    // another on the 4th.
    let late = 1_796_311_800_000_i64;
    let rows = [(1, late), (2, late + 3_600_000), (3, late + 7_200_000)];
    for (id, at) in rows {
        let sql = if store.backend() == renfang::store::Backend::Postgres {
            "insert into tips (id, address, category, description, state, created_at)
             overriding system value values ($1, 'a', 'other', 'd', 'new', $2)"
        } else {
            "insert into tips (id, address, category, description, state, created_at)
             values ($1, 'a', 'other', 'd', 'new', $2)"
        };
        sqlx::query(sql)
            .bind(id as i64)
            .bind(at)
            .execute(store.pool())
            .await
            .unwrap();
    }
    store.migrate().await.unwrap();

    let references: Vec<String> = sqlx::query_scalar("select reference from tips order by id")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(
        references,
        [
            "TIP-20261203-0001",
            "TIP-20261204-0001",
            "TIP-20261204-0002"
        ]
    );
    let last: i64 = sqlx::query_scalar("select last from tip_days where day = '20261204'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(last, 2);
}
