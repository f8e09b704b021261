use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ID_A, occupant, registration, spawn_app};

#[tokio::test]
async fn only_an_admin_creates_communities_and_names_are_unique() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let res = app
        .post_json(
            "/api/v1/communities",
            &json!({"name": "影佳"}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    for same in ["影佳社区", "影佳居委会", "\u{3000}影佳 "] {
        let res = app
            .post_json("/api/v1/communities", &json!({"name": same}), Some(&admin))
            .await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{same:?}");
    }
    let police = app.login_as("police", &["影佳"]).await;
    let res = app
        .post_json(
            "/api/v1/communities",
            &json!({"name": "祥东"}),
            Some(&police),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post_json("/api/v1/communities", &json!({"name": " "}), Some(&admin))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Names that a spreadsheet would run as a formula, or that would split a file's path.
    for bad in ["=HYPERLINK(\"x\")", "+1", "-社区", "@影", "#注释", "影/佳"] {
        let res = app
            .post_json("/api/v1/communities", &json!({"name": bad}), Some(&admin))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(app.count("communities").await, 1);
}

#[tokio::test]
async fn a_body_may_name_its_community_with_a_suffix() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let unit = |community: &str, address: &str| {
        json!({"community": community, "address": address, "rooms": 1, "kind": "flat",
               "rental_mode": "whole"})
    };

    let res = app
        .post_json(
            "/api/v1/units",
            &unit("影佳居委会", "影佳路 8号"),
            Some(&admin),
        )
        .await;

    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["unit_id"]
        .as_i64()
        .unwrap();
    let card: Value = app
        .get(&format!("/api/v1/units/{id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(card["community"], "影佳", "{card}");
    let res = app
        .post_json("/api/v1/units", &unit("东影佳", "影佳路 9号"), Some(&admin))
        .await;
    assert_ne!(res.status(), StatusCode::CREATED, "not a suffix of 影佳");
}

#[tokio::test]
async fn the_same_flat_written_another_way_is_one_unit() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["虬长路"]).await;
    app.create_unit(&admin, "虬长路", "虬长路 123弄 4号 502室")
        .await;
    let res = app
        .post_json(
            "/api/v1/units",
            &json!({"community": "虬长路", "address": "虬长路１２３弄４號 ５０２室", "rooms": 2,
                    "kind": "flat", "rental_mode": "whole"}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(app.count("units").await, 1);
}

#[tokio::test]
async fn a_bad_unit_names_every_bad_field() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let res = app
        .post_json(
            "/api/v1/units",
            &json!({"community": "火星", "address": "", "rooms": 0,
                    "kind": "castle", "rental_mode": "hourly"}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    let mut fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["address", "community", "kind", "rental_mode", "rooms"]
    );
}

#[tokio::test]
async fn staff_of_another_community_get_404_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let (unit_id, poster) = app.create_unit(&admin, "影佳", "影佳路 1弄 1号").await;
    let outsider = app.login_as("police", &["祥东"]).await;
    let insider = app.login_as("police", &["影佳"]).await;

    for path in [
        format!("/api/v1/units/{unit_id}"),
        format!("/api/v1/units/{unit_id}/poster.png"),
    ] {
        assert_eq!(
            app.get(&path, Some(&outsider)).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get(&path, Some(&insider)).await.status(),
            StatusCode::OK
        );
    }
    let res = app
        .post_json(
            &format!("/api/v1/units/{unit_id}/qr/rotate"),
            &json!({}),
            Some(&outsider),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // The poster still works: the outsider's rotation changed nothing.
    let res = app
        .register(&poster, &registration(&[occupant(ID_A)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Nor can an outsider create units in a community not theirs.
    let res = app
        .post_json(
            "/api/v1/units",
            &json!({"community": "影佳", "address": "影佳路 9弄 9号", "rooms": 1,
                    "kind": "flat", "rental_mode": "whole"}),
            Some(&outsider),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("units").await, 1);
}

#[tokio::test]
async fn enforcement_may_read_but_not_create_units() {
    let app = spawn_app().await;
    app.admin_with(&["影佳"]).await;
    let enforcement = app.login_as("enforcement", &["影佳"]).await;
    let res = app
        .post_json(
            "/api/v1/units",
            &json!({"community": "影佳", "address": "影佳路 2弄 1号", "rooms": 1,
                    "kind": "flat", "rental_mode": "whole"}),
            Some(&enforcement),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
