//! Bulk unit import (底数排摸) over the API and the command line.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

const HEADER: &str = "社区,地址,间数,类型,出租方式,面积\r\n";

fn survey() -> String {
    format!(
        "{HEADER}影佳,影佳路 1弄 2号 301室,3,住宅,合租,80\r\n\
         影佳,影佳路 1弄 2号 302室,2,flat,whole,\r\n\
         影佳,影佳路1弄2号303,abc,住宅,整租,\r\n\
         影佳,影佳路 5号,1,宿舍,群租,\r\n\
         影佳,\"影佳路１弄２号３０１室\",3,住宅,合租,\r\n"
    )
}

async fn import(app: &crate::helpers::TestApp, body: Vec<u8>, query: &str, token: &str) -> Value {
    let res = app
        .post_bytes(
            &format!("/api/v1/units/import{query}"),
            body,
            "text/csv",
            Some(token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn rejected_lines(report: &Value) -> Vec<i64> {
    report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn an_import_creates_each_unit_once_and_reports_every_rejected_line() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;

    let first = import(&app, survey().into_bytes(), "", &admin).await;
    assert_eq!(first["created"], 3, "{first}");
    assert_eq!(first["accepted"], 3);
    assert_eq!(rejected_lines(&first), vec![4, 6]);
    assert!(
        first["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("间数")
    );
    assert!(
        first["rejected"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("第 2 行")
    );

    let again = import(&app, survey().into_bytes(), "", &admin).await;
    assert_eq!(
        (again["created"].as_i64(), again["existing"].as_i64()),
        (Some(0), Some(3))
    );
    assert_eq!(app.count("units").await, 3);
    assert_eq!(app.count("qr_tokens").await, 3);
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'unit.import'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(audited, 3);
    let area: Option<f64> =
        sqlx::query_scalar("select floor_area_m2 from units where address like '%301室'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(area, Some(80.0));
}

#[tokio::test]
async fn a_gbk_file_as_excel_saves_it_imports_like_its_utf8_twin() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let text = survey();
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);

    let report = import(&app, gbk.into_owned(), "", &admin).await;

    assert_eq!(report["created"], 3, "{report}");
    let address: String = sqlx::query_scalar("select address from units order by id limit 1")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(address, "影佳路 1弄 2号 301室");
}

#[tokio::test]
async fn a_dry_run_reports_what_would_happen_and_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    app.create_unit(&admin, "影佳", "影佳路 5号").await;
    let audit_before = app.count("audit_log").await;

    let report = import(&app, survey().into_bytes(), "?dry_run=true", &admin).await;

    assert_eq!(report["dry_run"], true);
    assert_eq!(
        (report["created"].as_i64(), report["existing"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(app.count("units").await, 1);
    assert_eq!(app.count("audit_log").await, audit_before);
}

#[tokio::test]
async fn staff_import_only_into_their_own_communities() {
    let app = spawn_app().await;
    app.admin_with(&["影佳", "祥东"]).await;
    let property = app.login_as("property", &["影佳"]).await;
    let file = format!("{HEADER}影佳,影佳路 9号,1,住宅,整租,\r\n祥东,祥东路 9号,1,住宅,整租,\r\n");

    let report = import(&app, file.clone().into_bytes(), "", &property).await;

    assert_eq!(report["created"], 1);
    assert_eq!(rejected_lines(&report), vec![3]);
    assert!(
        report["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("祥东")
    );

    let enforcement = app.login_as("enforcement", &["影佳"]).await;
    let res = app
        .post_bytes(
            "/api/v1/units/import",
            file.into_bytes(),
            "text/csv",
            Some(&enforcement),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("units").await, 1);
}

#[tokio::test]
async fn a_file_without_the_required_columns_is_refused_naming_them() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;

    let res = app
        .post_bytes(
            "/api/v1/units/import",
            "社区,地址\n影佳,影佳路 1号\n".as_bytes().to_vec(),
            "text/csv",
            Some(&admin),
        )
        .await;

    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_file");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("间数") && message.contains("出租方式"),
        "{message}"
    );
    assert_eq!(app.count("units").await, 0);
}

#[tokio::test]
async fn a_community_written_with_its_suffix_or_spaces_imports_into_that_community() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let file = format!(
        "{HEADER}影佳社区,影佳路 9号 1室,1,住宅,整租,\r\n\
         影佳居委,影佳路 9号 2室,1,住宅,整租,\r\n\
         影佳居委会,影佳路 9号 3室,1,住宅,整租,\r\n\
         影佳居民委员会,影佳路 9号 4室,1,住宅,整租,\r\n\
         \u{3000}影佳村委会 ,影佳路 9号 5室,1,住宅,整租,\r\n\
         祥东社区,影佳路 9号 1室,1,住宅,整租,\r\n\
         影佳居委会,影佳路 9号 1室,1,住宅,整租,\r\n"
    );

    let report = import(&app, file.into_bytes(), "", &admin).await;

    assert_eq!(report["created"], 6, "{report}");
    assert_eq!(rejected_lines(&report), vec![8], "the same flat as line 2");
    let in_yingjia: i64 = sqlx::query_scalar(
        "select count(*) from units u join communities c on c.id = u.community_id \
         where c.name = '影佳'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(in_yingjia, 5);
}

#[tokio::test]
async fn the_template_downloads_with_a_bom_and_imports_as_it_is() {
    let app = spawn_app().await;
    app.admin_with(&["影佳", "祥东"]).await;
    let community = app.login_as("community", &["祥东"]).await;

    let res = app
        .get("/api/v1/import/template.csv", Some(&community))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.contains("filename=\"units-import-template.csv\"")
            && disposition.contains("filename*=UTF-8''%E6%88%BF"),
        "{disposition}"
    );
    let bytes = res.bytes().await.unwrap().to_vec();
    assert_eq!(&bytes[..3], b"\xef\xbb\xbf");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.starts_with(HEADER), "{text}");
    assert!(
        text.contains("\r\n祥东,"),
        "the sample is in the caller's community: {text}"
    );
    assert!(text.contains("# 类型：住宅（flat）"), "{text}");
    let report = import(&app, bytes, "", &community).await;
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(rejected_lines(&report), Vec::<i64>::new());

    let property = app.login_as("enforcement", &["祥东"]).await;
    let res = app
        .get("/api/v1/import/template.csv", Some(&property))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_console_import_page_links_the_same_template() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let cookie = crate::helpers::page_login(&app, "property", &["影佳"]).await;

    let html = crate::helpers::page(&app, &cookie, "/console/import")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"href="/console/import/template.csv""#),
        "{html}"
    );
    let res = crate::helpers::page(&app, &cookie, "/console/import/template.csv").await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = String::from_utf8(res.bytes().await.unwrap().to_vec()).unwrap();
    assert!(text.starts_with("\u{feff}社区,地址,间数"), "{text}");
}
