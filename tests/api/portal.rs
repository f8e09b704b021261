//! The sublandlord's pages and the ledger page, through HTTP with a cookie session.

use reqwest::StatusCode;

use crate::helpers::{ID_A, TestApp, csrf_of, page, page_login, page_post, spawn_app};

/// Signs up through the page; returns the session cookie it sets.
pub async fn page_sign_up(app: &TestApp, phone: &str, id_number: &str) -> String {
    let res = app
        .client
        .post(app.url("/sublandlord/register"))
        .form(&[
            ("name", "王二房"),
            ("phone", phone),
            ("id_type", "resident_id"),
            ("id_number", id_number),
            ("password", "landlord-pass-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/my");
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    cookie.split(';').next().unwrap().to_string()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn the_sign_up_page_keeps_what_was_typed_and_names_each_mistake() {
    let app = spawn_app().await;
    let res = app.get("/sublandlord/register", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("二房东注册"));
    let res = app
        .client
        .post(app.url("/sublandlord/register"))
        .form(&[
            ("name", "王二房"),
            ("phone", "123"),
            ("id_type", "resident_id"),
            ("id_number", "110105194912310021"),
            ("password", "secret-but-short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("请按提示修改"), "{html}");
    assert!(html.contains(r#"value="王二房""#), "the name is kept");
    assert!(
        !html.contains("secret-but-short"),
        "the password is not echoed"
    );
    assert_eq!(html.matches(r#"<p class="err">"#).count(), 2, "{html}");

    // Signed up: straight to the units page; a second sign-up with the phone says so.
    let cookie = page_sign_up(&app, "13900000001", ID_A).await;
    let res = page(&app, &cookie, "/my").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("还没有房屋"));
    let res = app
        .client
        .post(app.url("/sublandlord/register"))
        .form(&[
            ("name", "王二房"),
            ("phone", "13900000001"),
            ("id_type", "resident_id"),
            ("id_number", ID_A),
            ("password", "landlord-pass-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("该手机号已注册"));
    // The login form takes the phone and lands on the units page.
    let res = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", "139 0000 0001"),
            ("password", "landlord-pass-1"),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/my");
}

#[tokio::test]
async fn a_sublandlord_files_prints_and_keeps_a_unit_current_on_the_pages() {
    let app = spawn_app().await;
    app.admin_with(&["影佳", "祥东"]).await;
    let cookie = page_sign_up(&app, "13900000001", ID_A).await;
    let html = page(&app, &cookie, "/my/filings/new")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("祥东"), "communities to choose from");
    let csrf = csrf_of(&html);

    // A mistake is shown beside its field; the typed address stays.
    let res = page_post(
        &app,
        &cookie,
        "/my/filings",
        &[
            ("csrf", &csrf),
            ("community", "影佳"),
            ("address", "影佳路 5弄 2号 301室"),
            ("rooms", "two"),
            ("rental_mode", "shared"),
            ("floor_area_m2", ""),
            ("start_date", "2026-12-01"),
            ("planned_occupants", "2"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("房间数应在 1 到 50 之间"), "{html}");
    assert!(html.contains("影佳路 5弄 2号 301室"));
    // Without the CSRF token nothing is filed.
    let res = page_post(&app, &cookie, "/my/filings", &[("csrf", "x")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = page_post(
        &app,
        &cookie,
        "/my/filings",
        &[
            ("csrf", &csrf),
            ("community", "影佳"),
            ("address", "影佳路 5弄 2号 301室"),
            ("rooms", "2"),
            ("rental_mode", "shared"),
            ("floor_area_m2", "40"),
            ("start_date", &chrono::Utc::now().date_naive().to_string()),
            ("planned_occupants", "2"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let unit_page = location(&res);
    assert!(unit_page.ends_with("?done=filed"), "{unit_page}");
    let html = page(&app, &cookie, &unit_page).await.text().await.unwrap();
    assert!(html.contains("报备成功"));
    assert!(html.contains("影佳路 5弄 2号 301室"));
    assert!(html.contains("还剩 5 天"));
    let unit: String = unit_page
        .trim_start_matches("/my/units/")
        .split('?')
        .next()
        .unwrap()
        .to_string();

    // The poster downloads with the cookie.
    let res = page(&app, &cookie, &format!("/my/units/{unit}/poster.png")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");

    // Registering a tenant, one person per form.
    let register = format!("/my/units/{unit}/register");
    let html = page(&app, &cookie, &register).await.text().await.unwrap();
    let res = page_post(
        &app,
        &cookie,
        &register,
        &[
            ("csrf", &csrf_of(&html)),
            ("name", "李四"),
            ("id_type", "resident_id"),
            ("id_number", "110105194912310021"),
            ("phone", ""),
            ("room", "A"),
            ("move_in", "2026-11-01"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"<p class="err">"#) && html.contains("李四"));
    let res = page_post(
        &app,
        &cookie,
        &register,
        &[
            ("csrf", &csrf),
            ("name", "李四"),
            ("id_type", "resident_id"),
            ("id_number", ID_A),
            ("phone", ""),
            ("room", "A"),
            ("move_in", "2026-11-01"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page(&app, &cookie, &location(&res))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("登记成功") && html.contains("李*"), "{html}");
    let occupant: i64 = sqlx::query_scalar("select id from occupants where moved_out_at is null")
        .fetch_one(app.store.pool())
        .await
        .unwrap();

    // Every button of the unit page.
    let action = format!("/my/units/{unit}/action");
    let occupant = occupant.to_string();
    for (form, done) in [
        (vec![("action", "confirm")], "done=confirm"),
        (
            vec![("action", "move_out"), ("occupant", occupant.as_str())],
            "done=moved",
        ),
        (vec![("action", "rotate")], "done=rotate"),
        (vec![("action", "vacancy")], "done=vacancy"),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        let res = page_post(&app, &cookie, &action, &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{done}");
        assert!(location(&res).ends_with(done));
    }
    let html = page(&app, &cookie, &format!("/my/units/{unit}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("空置中"));
    assert!(html.contains("现住人员（0）"));
    assert_eq!(
        app.count("registrations").await,
        2,
        "one registration, one confirmation"
    );
    let versions: i64 = sqlx::query_scalar("select qr_version from units")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(versions, 2);

    // Another sublandlord finds nothing there.
    let other = page_sign_up(&app, "13900000002", "440524198001010013").await;
    let res = page(&app, &other, &format!("/my/units/{unit}")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = page(&app, &other, &format!("/my/units/{unit}/poster.png")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let other_csrf = csrf_of(&page(&app, &other, "/my").await.text().await.unwrap());
    let res = page_post(
        &app,
        &other,
        &action,
        &[("csrf", &other_csrf), ("action", "confirm")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("registrations").await, 2);
}

#[tokio::test]
async fn the_password_page_and_the_ledger_page_work_for_their_roles() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let landlord = page_sign_up(&app, "13900000001", ID_A).await;
    let html = page(&app, &landlord, "/password")
        .await
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let res = page_post(
        &app,
        &landlord,
        "/password",
        &[
            ("csrf", &csrf),
            ("old_password", "wrong-one-here"),
            ("new_password", "another-pass-2"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("原密码不正确"));
    let res = page_post(
        &app,
        &landlord,
        "/password",
        &[
            ("csrf", &csrf),
            ("old_password", "landlord-pass-1"),
            ("new_password", "another-pass-2"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("密码已修改"));
    // A sublandlord has no ledger; the law-enforcement team has it as its home page.
    let res = page(&app, &landlord, "/ledger").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = page(&app, &landlord, "/police").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let enforcement = page_login(&app, "enforcement", &["影佳"]).await;
    let html = page(&app, &enforcement, "/ledger")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("二房东底数账册"));
    assert!(html.contains("重点分"));
    // The staff member cannot open a sublandlord's pages.
    let res = page(&app, &enforcement, "/my").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn community_police_see_the_filings_of_their_communities_on_a_page() {
    let app = spawn_app().await;
    app.admin_with(&["影佳", "祥东"]).await;
    let landlord = page_sign_up(&app, "13900000001", ID_A).await;
    let csrf = csrf_of(&page(&app, &landlord, "/my").await.text().await.unwrap());
    for (community, address) in [("影佳", "影佳路 8弄 1号"), ("祥东", "祥东路 8弄 1号")]
    {
        let res = page_post(
            &app,
            &landlord,
            "/my/filings",
            &[
                ("csrf", &csrf),
                ("community", community),
                ("address", address),
                ("rooms", "1"),
                ("rental_mode", "whole"),
                ("floor_area_m2", ""),
                ("start_date", &chrono::Utc::now().date_naive().to_string()),
                ("planned_occupants", "1"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let police = page_login(&app, "police", &["祥东"]).await;
    let html = page(&app, &police, "/police").await.text().await.unwrap();
    assert!(html.contains(r#"href="/police/filings""#));
    assert!(html.contains(r#"href="/police/posters/祥东.pdf""#));
    assert!(!html.contains(r#"href="/police/posters/影佳.pdf""#));
    let res = page(&app, &police, "/police/posters/祥东.pdf").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF"));
    let html = page(&app, &police, "/police/filings")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("祥东路 8弄 1号"), "{html}");
    assert!(
        !html.contains("影佳路 8弄 1号"),
        "another community's filing"
    );
    assert!(html.contains("王**"), "the sublandlord, masked");
    let res = page(&app, &landlord, "/police/filings").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
