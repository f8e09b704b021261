//! Hostile input on the public routes, one kind per test: each gets a clear 4xx (or is
//! stored and shown as plain text), and nothing is half-stored.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ID_A, TestApp, occupant, page, page_login, registration, spawn_app};

/// Posts raw bytes to a poster's registration route.
async fn raw(app: &TestApp, poster: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/scan/{poster}/registrations")))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Nothing of a refused registration is anywhere.
async fn nothing_stored(app: &TestApp) {
    for table in ["registrations", "occupants"] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
}

/// Posts a public tip about the unit of `poster`; returns its id.
async fn tip_about(app: &TestApp, poster: &str, category: &str, description: &str) -> i64 {
    let res = app
        .post_json(
            "/api/v1/tips",
            &json!({"token": poster, "category": category, "description": description}),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// A tip's description as staff read it through the API.
async fn description_of(app: &TestApp, staff: &str, id: i64) -> Value {
    let tip: Value = app
        .get(&format!("/api/v1/tips/{id}"), Some(staff))
        .await
        .json()
        .await
        .unwrap();
    tip["description"].clone()
}

#[tokio::test]
async fn a_body_over_the_documented_64_kib_is_413_and_stores_nothing() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    assert_eq!(renfang::http::json::BODY_LIMIT, 64 * 1024);
    // A valid registration padded with spaces past the limit: refused before parsing.
    let mut body = serde_json::to_vec(&registration(&[occupant(ID_A)])).unwrap();
    body.resize(renfang::http::json::BODY_LIMIT + 1, b' ');
    let res = raw(&app, &poster, "application/json", body).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"], "payload_too_large");
    nothing_stored(&app).await;
}

#[tokio::test]
async fn a_wrong_content_type_is_415_and_stores_nothing() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let body = serde_json::to_vec(&registration(&[occupant(ID_A)])).unwrap();
    for content_type in [
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
    ] {
        let res = raw(&app, &poster, content_type, body.clone()).await;
        assert_eq!(
            res.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
        let err: Value = res.json().await.unwrap();
        assert!(
            err["message"]
                .as_str()
                .unwrap()
                .contains("application/json"),
            "{err}"
        );
    }
    nothing_stored(&app).await;
}

#[tokio::test]
async fn invalid_utf8_is_400_and_stores_nothing() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let valid = serde_json::to_string(&registration(&[occupant(ID_A)])).unwrap();
    // The name's bytes with one cut in half: invalid UTF-8 inside a string.
    let mut body = valid.into_bytes();
    let at = body.windows(3).position(|w| w == "张".as_bytes()).unwrap();
    body.remove(at + 1);
    let res = raw(&app, &poster, "application/json", body).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"], "bad_request");
    // The same on the page's form: %FF is not UTF-8.
    let res = app
        .client
        .post(app.url(&format!("/q/{poster}")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("count=1&name_0=%FF%FE&action=submit")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    nothing_stored(&app).await;
}

#[tokio::test]
async fn thousands_of_occupants_in_one_registration_are_refused_whole() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let max = renfang::domain::registration::MAX_OCCUPANTS;
    // Past the per-registration maximum, within the body limit: 422 naming the list.
    let many: Vec<Value> = (0..=max).map(|_| occupant(ID_A)).collect();
    let res = app.register(&poster, &registration(&many), None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["fields"][0]["field"], "occupants");
    assert_eq!(err["fields"][0]["code"], "too_many");
    // Thousands: over the body limit before they are even read.
    let thousands: Vec<Value> = (0..5000).map(|_| occupant(ID_A)).collect();
    let res = app.register(&poster, &registration(&thousands), None).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The page form cannot be made to draw thousands of blocks either.
    let res = app
        .client
        .post(app.url(&format!("/q/{poster}")))
        .form(&[("count", "5000"), ("action", "add")])
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    assert!(
        html.matches("name=\"name_").count() <= max,
        "the form is capped"
    );
    nothing_stored(&app).await;
}

#[tokio::test]
async fn sql_injection_in_a_name_is_refused_and_in_free_text_stored_verbatim() {
    let app = spawn_app().await;
    let (admin, _, poster) = app.unit_fixture().await;
    let attack = "张三'); DROP TABLE occupants; --";
    let mut person = occupant(ID_A);
    person["name"] = json!(attack);
    let res = app.register(&poster, &registration(&[person]), None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["fields"][0]["field"], "occupants[0].name");
    nothing_stored(&app).await;

    // A tip's description may hold anything; it is bound, never spliced into SQL.
    let description = "1' OR '1'='1'; DELETE FROM units; --";
    let id = tip_about(&app, &poster, "other", description).await;
    assert_eq!(description_of(&app, &admin, id).await, description);
    assert_eq!(app.count("units").await, 1, "the units are all there");
}

#[tokio::test]
async fn html_in_free_text_is_shown_as_text_on_the_staff_pages() {
    let app = spawn_app().await;
    let (_, _, poster) = app.unit_fixture().await;
    let description = "<script>alert('x')</script><img src=x onerror=alert(1)> 群租";
    let id = tip_about(&app, &poster, "group_rental", description).await;
    let cookie = page_login(&app, "community", &["影佳"]).await;
    let html = page(&app, &cookie, &format!("/console/tips/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("&#60;script&#62;alert(&#39;x&#39;)"),
        "{html}"
    );
    assert!(
        !html.contains("<script>alert") && !html.contains("<img src=x"),
        "{html}"
    );

    // In a name, markup is refused outright.
    let mut person = occupant(ID_A);
    person["name"] = json!("<b>张三</b>");
    let res = app.register(&poster, &registration(&[person]), None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    nothing_stored(&app).await;
}

#[tokio::test]
async fn emoji_in_a_name_is_a_clear_422_and_in_free_text_is_kept() {
    let app = spawn_app().await;
    let (admin, _, poster) = app.unit_fixture().await;
    let mut person = occupant(ID_A);
    person["name"] = json!("张三😀");
    let res = app.register(&poster, &registration(&[person]), None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["fields"][0]["field"], "occupants[0].name");
    assert_eq!(err["fields"][0]["code"], "characters");
    assert!(
        err["fields"][0]["message"].as_str().unwrap().contains('名'),
        "a Chinese message: {err}"
    );
    nothing_stored(&app).await;

    let description = "楼上每天换人🏠🧳，疑似日租";
    let id = tip_about(&app, &poster, "daily_rental", description).await;
    assert_eq!(description_of(&app, &admin, id).await, description);
}

#[tokio::test]
async fn huge_page_numbers_bad_ids_and_bad_query_values_get_their_4xx_as_json() {
    let app = spawn_app().await;
    let (admin, _, _) = app.unit_fixture().await;
    // Past i64::MAX / per_page: this once overflowed and dropped the connection.
    let huge = "184467440737095518";
    for path in [
        format!("/api/v1/tips?page={huge}"),
        format!("/api/v1/door-checks?page={huge}"),
    ] {
        let res = app.get(&path, Some(&admin)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["fields"][0]["field"], "page", "{path}");
    }
    let cookie = page_login(&app, "community", &["影佳"]).await;
    for path in ["/console/units", "/console/tips", "/console/audit"] {
        let res = page(&app, &cookie, &format!("{path}?page={huge}")).await;
        assert!(
            res.status().is_success() || res.status().is_client_error(),
            "{path}"
        );
    }
    // A path id that is not a number, and a query value of the wrong type.
    let res = app.get("/api/v1/units/not-a-number", Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "not_found");
    let res = app.get("/api/v1/tips?page=many", Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "bad_request");
}
