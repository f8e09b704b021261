//! Statistics for a month, and retention: the purge empties personal data and leaves the
//! figures of past months as they were.

use chrono::{Duration, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ID_A, ID_B, TestApp, occupant, registration, spawn_app};

async fn stats(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app.get(&format!("/api/v1/stats{query}"), Some(token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn this_month() -> String {
    Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m")
        .to_string()
}

#[tokio::test]
async fn a_month_counts_uploads_per_day_the_declaration_rate_tips_and_time_to_check() {
    let app = spawn_app().await;
    let (admin, _, poster) = app.unit_fixture().await;
    let (late, _) = app
        .create_unit(&admin, "影佳", "影佳路 100弄 1号 202室")
        .await;
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.post_json(
        "/api/v1/tips",
        &json!({"address": "影佳路 100弄 1号 202室", "category": "other", "description": "x"}),
        None,
    )
    .await;
    // The second unit's clock started 7 days ago: overdue for 2 days when the sweep runs.
    let week_ago = Utc::now().timestamp_millis() - 7 * 86_400_000;
    let check = app.overdue_check(late, week_ago).await;
    let res = app
        .post_json(
            &format!("/api/v1/door-checks/{check}/result"),
            &json!({"outcome": "vacant", "note": ""}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let got = stats(&app, &admin, &format!("?month={}", this_month())).await;

    let all = &got["overall"];
    assert_eq!(all["tips"], 1);
    assert_eq!(all["self_declared"], 1);
    assert_eq!(all["checks_opened"], 1);
    assert_eq!(all["checks_closed"], 1);
    let hours = all["median_hours_overdue_to_check"].as_f64().unwrap();
    assert!((47.9..48.1).contains(&hours), "{hours}");
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string();
    let days = all["registrations_per_day"].as_array().unwrap();
    assert!(days.len() >= 28);
    let on = |d: &Value| d["date"].as_str() == Some(today.as_str());
    assert_eq!(days.iter().find(|d| on(d)).unwrap()["count"], 1);
    assert_eq!(
        days.iter()
            .map(|d| d["count"].as_i64().unwrap())
            .sum::<i64>(),
        1
    );
    // One vacant now; of the one active unit, one declared itself.
    assert_eq!(all["active"], 1);
    assert_eq!(all["upload_rate"], 1.0);
    assert_eq!(
        all["declaration_rate"], 1.0,
        "the earlier name of the upload rate"
    );
    // The plan's 95% is the advance-filing rate's: the upload rate has no target.
    assert!(all.get("declaration_rate_met").is_none(), "{all}");
    assert_eq!(got["communities"][0]["community"], "影佳");
}

#[tokio::test]
async fn the_purge_empties_old_movers_out_audits_each_and_keeps_past_months_figures() {
    let app = spawn_app().await;
    let (admin, unit, poster) = app.unit_fixture().await;
    let body = registration(&[occupant(ID_A), occupant(ID_B)]);
    assert_eq!(
        app.register(&poster, &body, None).await.status(),
        StatusCode::CREATED
    );
    // Arrange: A lived there from March to April 2026; B moved out ten days ago.
    let at = |y, m, d| {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, m, d, 12, 0, 0)
            .unwrap()
            .timestamp_millis()
    };
    let ten_days_ago = Utc::now().timestamp_millis() - 10 * 86_400_000;
    for (name_index, created, out) in [
        (ID_A, at(2026, 3, 10), at(2026, 4, 20)),
        (ID_B, at(2026, 3, 10), ten_days_ago),
    ] {
        let masked = format!("{}%", &name_index[..3]);
        let last4 = format!("%{}", &name_index[14..]);
        sqlx::query(
            "update occupants set created_at = $1, moved_out_at = $2
             where id_number_masked like $3 and id_number_masked like $4",
        )
        .bind(created)
        .bind(out)
        .bind(masked)
        .bind(last4)
        .execute(app.store.pool())
        .await
        .unwrap();
    }
    let april_before = stats(&app, &admin, "?month=2026-04").await;
    assert_eq!(april_before["overall"]["occupants"], 2);

    let purged = renfang::jobs::purge::run(&app.store, 180, Utc::now())
        .await
        .unwrap();

    assert_eq!((purged.occupants, purged.tips), (1, 0));
    let rows: Vec<(String, Vec<u8>, String, Option<i64>)> = sqlx::query_as(
        "select name, id_number_enc, id_number_masked, purged_at from occupants
         where unit_id = $1 order by purged_at",
    )
    .bind(unit)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    let emptied: Vec<_> = rows.iter().filter(|r| r.3.is_some()).collect();
    assert_eq!(emptied.len(), 1);
    assert_eq!(
        (
            emptied[0].0.as_str(),
            emptied[0].1.len(),
            emptied[0].2.as_str()
        ),
        ("", 0, "")
    );
    assert!(rows.iter().any(|r| r.3.is_none() && !r.0.is_empty()));
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'occupant.purge'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(audited, 1);
    let april_after = stats(&app, &admin, "?month=2026-04").await;
    assert_eq!(april_after["overall"], april_before["overall"]);
    let again = renfang::jobs::purge::run(&app.store, 180, Utc::now() + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(again.occupants, 0);
}

#[tokio::test]
async fn a_person_who_renews_counts_once_in_the_month() {
    let app = spawn_app().await;
    let (admin, _, poster) = app.unit_fixture().await;
    for _ in 0..3 {
        let res = app
            .register(&poster, &registration(&[occupant(ID_A)]), None)
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }

    let got = stats(&app, &admin, &format!("?month={}", this_month())).await;

    assert_eq!(got["overall"]["occupants"], 1, "{got}");
    assert_eq!(got["overall"]["registrations"], 3, "{got}");
}

#[tokio::test]
async fn uploads_per_day_follow_local_days_across_a_daylight_saving_change() {
    let app = crate::helpers::spawn_app_with(|s| s.tz = chrono_tz::America::New_York).await;
    let (admin, _, poster) = app.unit_fixture().await;
    assert_eq!(
        app.register(&poster, &registration(&[occupant(ID_A)]), None)
            .await
            .status(),
        StatusCode::CREATED
    );
    // Summer time ends on 1 November 2026 in New York: the month's last evening, 23:30 on
    // 30 November, is 04:30 UTC on 1 December, 30 days and 30 minutes after the month began.
    let late = chrono_tz::America::New_York
        .with_ymd_and_hms(2026, 11, 30, 23, 30, 0)
        .unwrap()
        .timestamp_millis();
    sqlx::query("update registrations set created_at = $1")
        .bind(late)
        .execute(app.store.pool())
        .await
        .unwrap();

    let got = stats(&app, &admin, "?month=2026-11").await;

    let days = got["overall"]["registrations_per_day"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(days.len(), 30);
    assert_eq!(days[29]["date"], "2026-11-30");
    assert_eq!(days[29]["count"], 1, "{days:?}");
    assert_eq!(got["overall"]["registrations"], 1);
}
