//! The staff console through HTTP: each role's menu, the upload page, the statistics page,
//! tips from the public page to a door check, accounts and reports.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::helpers::{TestApp, csrf_of, page, page_login, page_post, spawn_app};

async fn body(res: reqwest::Response) -> String {
    res.text().await.unwrap()
}

async fn upload(
    app: &TestApp,
    cookie: &str,
    csrf: &str,
    csv: &str,
    dry_run: bool,
) -> reqwest::Response {
    let mut form = Form::new().text("csrf", csrf.to_string()).part(
        "file",
        Part::bytes(csv.as_bytes().to_vec()).file_name("units.csv"),
    );
    if dry_run {
        form = form.text("dry_run", "1");
    }
    app.client
        .post(app.url("/console/import"))
        .header("Cookie", cookie)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn each_role_lands_on_its_home_and_sees_only_its_sections() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let cases = [
        (
            "admin",
            "/console",
            vec!["批量导入", "月报", "审计日志", "账号"],
            vec![],
        ),
        (
            "community",
            "/console",
            vec!["批量导入", "线索", "统计"],
            vec!["月报", "审计日志", "账号"],
        ),
        (
            "property",
            "/console",
            vec!["批量导入", "线索"],
            vec!["待核查", "审计日志"],
        ),
        ("police", "/police", vec![], vec![]),
        ("enforcement", "/enforcement", vec![], vec![]),
    ];
    for (role, home, shown, hidden) in cases {
        app.login_as(role, &["影佳"]).await;
        let n = app.users_made() - 1;
        let res = app
            .client
            .post(app.url("/login"))
            .form(&[
                ("username", format!("{role}{n}")),
                ("password", "correct-horse-9".into()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["location"], home, "{role}");
        let cookie = res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let html = body(page(&app, &cookie, "/console").await).await;
        for label in shown {
            assert!(
                html.contains(&format!(">{label}</a>")),
                "{role} should see {label}"
            );
        }
        for label in hidden {
            assert!(
                !html.contains(&format!(">{label}</a>")),
                "{role} should not see {label}"
            );
        }
    }
}

#[tokio::test]
async fn the_upload_page_imports_a_file_and_lists_rejected_lines() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let cookie = page_login(&app, "community", &["影佳"]).await;
    let csrf = csrf_of(&body(page(&app, &cookie, "/console/import").await).await);
    let csv = "社区,地址,间数,类型,出租方式\n影佳,影佳路 1号 101室,2,住宅,整租\n影佳,影佳路 1号 102室,99,住宅,整租\n";

    let dry = upload(&app, &cookie, &csrf, csv, true).await;
    assert_eq!(dry.status(), StatusCode::OK);
    assert!(body(dry).await.contains("试导入结果"));
    assert_eq!(app.count("units").await, 0);

    let res = upload(&app, &cookie, &csrf, csv, false).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body(res).await;
    assert!(html.contains("新建 1 套"), "{html}");
    assert!(html.contains("<td class=\"n\">3</td>"), "{html}");
    assert_eq!(app.count("units").await, 1);

    let forged = upload(
        &app,
        &cookie,
        "not-the-token",
        csv.replace("101", "103").as_str(),
        false,
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("units").await, 1);

    let broken = upload(&app, &cookie, &csrf, "地址\n影佳路\n", false).await;
    assert_eq!(broken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(broken).await.contains("缺少列"));
}

#[tokio::test]
async fn the_statistics_page_draws_its_charts_as_inline_svg_without_scripts() {
    let app = spawn_app().await;
    let (admin, _, _) = app.unit_fixture().await;
    drop(admin);
    let cookie = page_login(&app, "admin", &[]).await;

    let res = page(&app, &cookie, "/console/stats?month=2026-11").await;

    assert_eq!(res.status(), StatusCode::OK);
    let html = body(res).await;
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 2);
    assert!(html.contains("2026-11 每日上传次数") && html.contains("目标 95%"));
    assert!(!html.contains("<script") && !html.contains("src=\"http"));
    assert!(html.contains(r#"<th scope="row">影佳</th>"#));
    // The 95% line is drawn on the advance-filing rate, and both rates say what they count.
    assert!(
        html.contains("<title>事前报备率</title>") || html.contains(">事前报备率</text>"),
        "{html}"
    );
    assert!(html.contains(renfang::domain::rates::FILING.definition));
    assert!(html.contains(renfang::domain::rates::UPLOAD.definition));
    assert!(
        !html.contains("自主申报率"),
        "the old name of the upload rate is gone"
    );
}

#[tokio::test]
async fn a_public_tip_reaches_the_console_and_its_button_opens_a_door_check() {
    let app = spawn_app().await;
    let (_, unit_id, _) = app.unit_fixture().await;
    let form = Form::new()
        .text("address", "影佳路 100弄 1号 201室")
        .text("category", "daily_rental")
        .text("description", "每天不同的人拖着行李箱进出");
    let res = app
        .client
        .post(app.url("/tip"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(body(res).await.contains("举报已收到"));
    let bad = Form::new()
        .text("address", "影佳路 1号")
        .text("category", "x")
        .text("description", "");
    let res = app
        .client
        .post(app.url("/tip"))
        .multipart(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(res).await.contains("请选择举报类型"));
    assert_eq!(app.count("tips").await, 1);

    let cookie = page_login(&app, "community", &["影佳"]).await;
    let list = body(page(&app, &cookie, "/console/tips").await).await;
    assert!(list.contains("影佳路 100弄 1号 201室") && list.contains("待处理"));
    let id: i64 = sqlx::query_scalar("select id from tips")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let detail = body(page(&app, &cookie, &format!("/console/tips/{id}")).await).await;
    assert!(detail.contains("派发上门核查"));
    let csrf = csrf_of(&detail);
    let res = page_post(
        &app,
        &cookie,
        &format!("/console/tips/{id}/door-check"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let opened: i64 = sqlx::query_scalar(
        "select count(*) from door_checks where unit_id = $1 and reason = 'tip'",
    )
    .bind(unit_id)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(opened, 1);
}

#[tokio::test]
async fn an_admin_makes_accounts_and_downloads_the_report_from_the_console() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let cookie = page_login(&app, "admin", &[]).await;
    let csrf = csrf_of(&body(page(&app, &cookie, "/console/users").await).await);

    let short = page_post(
        &app,
        &cookie,
        "/console/users",
        &[
            ("csrf", &csrf),
            ("username", "li"),
            ("role", "police"),
            ("password", "short"),
            ("community", "影佳"),
        ],
    )
    .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(short).await.contains("密码至少"));
    let made = page_post(
        &app,
        &cookie,
        "/console/users",
        &[
            ("csrf", &csrf),
            ("username", "li"),
            ("role", "police"),
            ("password", "a-long-password"),
            ("community", "影佳"),
        ],
    )
    .await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let html = body(page(&app, &cookie, "/console/users").await).await;
    assert!(
        html.contains("<td>li</td><td>社区民警</td><td>影佳</td>"),
        "{html}"
    );
    let by: Option<i64> = sqlx::query_scalar(
        "select user_id from audit_log where action = 'user.create' order by id desc limit 1",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert!(by.is_some());

    let res = page(&app, &cookie, "/console/reports/2026-11.xlsx").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(&res.bytes().await.unwrap()[..2], b"PK");
    let police = page_login(&app, "police", &["影佳"]).await;
    let res = page(&app, &police, "/console/reports/2026-11.xlsx").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(body(res).await.contains("无权访问"));
}

#[tokio::test]
async fn behind_https_the_session_cookie_is_secure_and_forms_still_need_their_token() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.public_url = Some("https://renfang.example.gov.cn".into());
    })
    .await;
    app.admin_with(&["影佳"]).await;
    app.login_as("property", &["影佳"]).await;
    let n = app.users_made() - 1;

    let res = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", format!("property{n}")),
            ("password", "correct-horse-9".into()),
        ])
        .send()
        .await
        .unwrap();

    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let session = cookie.split(';').next().unwrap();
    let home = body(page(&app, session, "/console").await).await;
    assert!(
        home.contains("/police/posters/影佳.pdf"),
        "property staff print posters"
    );
    let res = page_post(
        &app,
        session,
        "/console/communities",
        &[("csrf", "x"), ("name", "新")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("communities").await, 1);
}

#[tokio::test]
async fn the_home_page_names_each_community_with_its_open_checks_and_this_months_figures() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    app.create_unit(&admin, "影佳", "影佳路 1号 101室").await;
    app.create_unit(&admin, "影佳", "影佳路 1号 102室").await;
    renfang::jobs::sweep::run(
        &app.store,
        crate::helpers::RULES,
        chrono::Utc::now() + chrono::Duration::days(6),
    )
    .await
    .unwrap();
    let cookie = page_login(&app, "police", &["影佳", "祥东"]).await;

    let html = body(page(&app, &cookie, "/console").await).await;

    assert!(html.contains("负责社区：影佳、祥东"), "{html}");
    assert!(!html.contains("社区 2") && !html.contains(">社区</th>"));
    let yingjia = &html[html.find("<h2>影佳</h2>").unwrap()..];
    let yingjia = &yingjia[..yingjia.find("</section>").unwrap()];
    assert!(
        yingjia.contains("待核查 <strong>2</strong> 处"),
        "{yingjia}"
    );
    assert!(yingjia.contains("逾期未上传 2"), "{yingjia}");
    assert!(
        yingjia.contains(r#"href="/police""#),
        "officers go to the queue"
    );
    let xiangdong = &html[html.find("<h2>祥东</h2>").unwrap()..];
    assert!(xiangdong.contains("待核查 <strong>0</strong> 处"));
    assert!(html.contains("<h2>合计</h2>"));
}
