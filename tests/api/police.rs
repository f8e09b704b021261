//! The police pages, through HTTP with a cookie session.

use chrono::{Duration, Utc};
use reqwest::StatusCode;

use crate::helpers::{csrf_of, page, page_login, spawn_app};
use renfang::jobs::sweep;

#[tokio::test]
async fn pages_without_a_session_redirect_to_the_login_page() {
    let app = spawn_app().await;
    let res = app.get("/police", None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?next=%2Fpolice");
    let res = app.get("/login", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("工作人员登录"));
}

#[tokio::test]
async fn a_wrong_password_on_the_form_says_so_in_chinese() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", "nobody"),
            ("password", "wrong-password"),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("用户名或密码错误"));
}

#[tokio::test]
async fn an_officer_sees_the_queue_opens_a_unit_and_records_a_result() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let (unit, _) = app
        .create_unit(&admin, "影佳", "影佳路 7弄 3号 502室")
        .await;
    let (foreign, _) = app.create_unit(&admin, "祥东", "祥东路 1弄 1号").await;
    sweep::run(
        &app.store,
        crate::helpers::RULES,
        Utc::now() + Duration::days(6),
    )
    .await
    .unwrap();
    let cookie = page_login(&app, "police", &["影佳"]).await;

    let list = page(&app, &cookie, "/police").await.text().await.unwrap();
    assert!(list.contains("影佳路 7弄 3号 502室"));
    assert!(!list.contains("祥东路"), "a foreign unit is listed");
    assert!(list.contains("逾期未上传 1"), "counts by reason");
    let by_address = page(&app, &cookie, "/police?sort=address").await;
    assert_eq!(by_address.status(), StatusCode::OK);

    let res = page(&app, &cookie, &format!("/police/units/{unit}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("已核实") && html.contains("未遇到人"));
    let csrf = csrf_of(&html);
    let check = {
        let start = html.find("/police/checks/").unwrap() + 15;
        html[start..].split('/').next().unwrap().to_string()
    };
    // Without the CSRF token nothing happens.
    let res = app
        .client
        .post(app.url(&format!("/police/checks/{check}/result")))
        .header("Cookie", &cookie)
        .form(&[("csrf", "x"), ("outcome", "verified")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The second tap: one button.
    let res = app
        .client
        .post(app.url(&format!("/police/checks/{check}/result")))
        .header("Cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("outcome", "verified")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page(&app, &cookie, &format!("/police/units/{unit}?saved=1"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("已记录核查结果"));
    assert!(html.contains("民警核实"), "the verification is an upload");
    assert_eq!(
        page(&app, &cookie, &format!("/police/units/{foreign}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let csv = page(&app, &cookie, "/police/export.csv").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(&csv.bytes().await.unwrap()[..3], b"\xef\xbb\xbf");
    let xlsx = page(&app, &cookie, "/police/export.xlsx").await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert_eq!(&xlsx.bytes().await.unwrap()[..2], b"PK");
    let other = page(&app, &cookie, "/police/export.pdf").await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn logout_needs_the_csrf_token_and_ends_the_cookie_session() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let cookie = page_login(&app, "police", &["影佳"]).await;
    let html = page(&app, &cookie, "/police").await.text().await.unwrap();
    let csrf = csrf_of(&html);
    let res = app
        .client
        .post(app.url("/logout"))
        .header("Cookie", &cookie)
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .client
        .post(app.url("/logout"))
        .header("Cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page(&app, &cookie, "/police").await.status(),
        StatusCode::SEE_OTHER
    );
}
