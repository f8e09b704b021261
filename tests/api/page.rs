use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ID_A, spawn_app};

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn valid_form(id_number: &str) -> Vec<(String, String)> {
    form(&[
        ("notice_version", renfang::domain::notice::NOTICE_VERSION),
        ("submission", "0123456789abcdef0123456789abcdef"),
        ("count", "1"),
        ("name_0", "王小明"),
        ("id_type_0", "resident_id"),
        ("id_number_0", id_number),
        ("phone_0", "13800138000"),
        ("room_0", "B"),
        ("move_in_0", "2026-10-01"),
        ("consent", "1"),
        ("action", "submit"),
    ])
}

#[tokio::test]
async fn the_page_is_light_chinese_and_self_contained() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let res = app.get(&format!("/q/{poster}"), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"<html lang="zh-CN">"#));
    assert!(html.contains("影佳路 100弄 1号 201室"));
    for heading in ["收集什么", "为什么收集", "谁能看到", "保存多久", "找谁询问"]
    {
        assert!(html.contains(heading), "notice lacks {heading}");
    }
    assert!(html.len() < 50 * 1024, "page weighs {} bytes", html.len());
    assert!(
        !html.contains("<script"),
        "the page must work without JavaScript"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external resources"
    );
}

#[tokio::test]
async fn the_page_switches_to_english() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let html = app
        .get(&format!("/q/{poster}?lang=en"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains("Privacy notice"));
    assert!(html.contains("Passport"));
}

#[tokio::test]
async fn a_wrong_number_is_shown_beside_its_field_keeping_what_was_typed() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let res = app
        .client
        .post(app.url(&format!("/q/{poster}")))
        .form(&valid_form("110105194912310021"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("王小明"), "the typed name is kept");
    assert!(
        html.contains("110105194912310021"),
        "the typed number is kept"
    );
    let field = html.find(r#"id="id_number_0""#).unwrap();
    let error = html.find(r#"class="err""#).unwrap();
    assert!(error > field, "the error follows its field");
    assert!(
        html[error..].contains("校验"),
        "the error says what is wrong"
    );
    assert_eq!(app.count("registrations").await, 0);
}

#[tokio::test]
async fn submitting_the_form_shows_a_receipt_and_a_double_submit_stores_once() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let mut receipts = Vec::new();
    for _ in 0..2 {
        let res = app
            .client
            .post(app.url(&format!("/q/{poster}")))
            .form(&valid_form(ID_A))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains("登记成功"));
        let start = html.find(r#"id="receipt">"#).unwrap() + 13;
        receipts.push(html[start..start + 17].to_string());
    }
    assert_eq!(receipts[0], receipts[1]);
    assert!(receipts[0].starts_with("RF"));
    assert_eq!(app.count("registrations").await, 1);
}

#[tokio::test]
async fn the_add_button_adds_a_block_without_storing() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let mut pairs = valid_form(ID_A);
    pairs.retain(|(k, _)| k != "action");
    pairs.push(("action".into(), "add".into()));
    let html = app
        .client
        .post(app.url(&format!("/q/{poster}")))
        .form(&pairs)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"name="name_1""#));
    assert!(html.contains(r#"name="count" value="2""#));
    // The new person's room is theirs to type, not the one above copied.
    assert!(html.contains(r#"name="room_0" value="B""#), "{html}");
    let room = &html[html.find(r#"name="room_1""#).unwrap()..];
    assert!(room.starts_with(r#"name="room_1" value="""#), "{room:.80}");
    assert_eq!(app.count("registrations").await, 0);
}

#[tokio::test]
async fn without_consent_nothing_is_stored() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let mut pairs = valid_form(ID_A);
    pairs.retain(|(k, _)| k != "consent");
    let res = app
        .client
        .post(app.url(&format!("/q/{poster}")))
        .form(&pairs)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    // The reason stands beside the box, which is where the page scrolls to.
    let message = html.find("请勾选同意").expect("the reason is given");
    let tick = html.find(r#"name="consent""#).unwrap();
    let submit = html.find(r#"value="submit""#).unwrap();
    assert!(tick < message && message < submit, "{html}");
    assert_eq!(html.matches(r#"id="problem""#).count(), 1);
    assert!(
        html[..message]
            .rfind(r#"id="problem""#)
            .is_some_and(|p| p > tick)
    );
    assert_eq!(app.count("registrations").await, 0);
}

#[tokio::test]
async fn unknown_and_replaced_posters_get_pages_that_say_so() {
    let app = spawn_app().await;
    let (admin, unit_id, poster) = app.unit_fixture().await;
    let res = app.get("/q/AAAAAAAAAAAAAAAAAAAAAAAA", None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("二维码无效"));
    app.post_json(
        &format!("/api/v1/units/{unit_id}/qr/rotate"),
        &json!({}),
        Some(&admin),
    )
    .await;
    let res = app.get(&format!("/q/{poster}"), None).await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert!(res.text().await.unwrap().contains("已被新的二维码替换"));
}

#[tokio::test]
async fn a_form_sent_to_a_poster_replaced_on_another_instance_stores_nothing() {
    let app = spawn_app().await;
    let other = app.another_instance().await;
    let (_, unit_id, poster) = app.unit_fixture().await;
    // This instance shows the page and remembers the poster; the other one replaces it.
    assert_eq!(
        app.get(&format!("/q/{poster}"), None).await.status(),
        StatusCode::OK
    );
    let admin = other.login_as("admin", &[]).await;
    let res = other
        .post_json(
            &format!("/api/v1/units/{unit_id}/qr/rotate"),
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .client
        .post(app.url(&format!("/q/{poster}")))
        .form(&valid_form(ID_A))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::GONE);
    assert!(res.text().await.unwrap().contains("已被新的二维码替换"));
    for table in ["registrations", "occupants", "idempotency_keys"] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
}

#[tokio::test]
async fn html_in_a_name_is_refused_and_never_echoed_raw() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let mut pairs = valid_form(ID_A);
    for (k, v) in pairs.iter_mut() {
        if k == "name_0" {
            *v = "<script>alert(1)</script>".into();
        }
    }
    let res = app
        .client
        .post(app.url(&format!("/q/{poster}")))
        .form(&pairs)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("alert(1)"), "the typed name is kept, escaped");
}
