//! Roles and scopes: every route with every role, on objects inside and outside the role's
//! communities. A foreign object answers 404, a forbidden function 403, and neither changes
//! anything; an allowed call is never refused.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ID_A, ID_B, TestApp, occupant, registration};

const ROLES: [&str; 7] = [
    "admin",
    "police",
    "enforcement",
    "community",
    "property",
    "sublandlord",
    "integration",
];
const STAFF: &[&str] = &["admin", "police", "enforcement", "community", "property"];
const UNITS: &[&str] = &["admin", "police", "community", "property"];
const QUEUE: &[&str] = &["admin", "police", "community"];
const LEDGER: &[&str] = &["admin", "police", "enforcement"];
const REVEAL: &[&str] = &["admin", "police"];
/// Enforcement cases: read by the team, the police and the town office; worked by the team.
const CASES_READ: &[&str] = &["admin", "police", "enforcement"];
const CASES_WORK: &[&str] = &["enforcement"];
const ADMIN: &[&str] = &["admin"];
/// The event feed: the town office (every community) and other systems (their own). An
/// `integration` account is in no other list: every other route and page refuses it.
const FEED: &[&str] = &["admin", "integration"];
const SUBLANDLORD: &[&str] = &["sublandlord"];
/// Filings: staff who review them see their communities', a sublandlord their own.
const FILINGS: &[&str] = &["admin", "police", "community", "sublandlord"];

/// The records of one community that routes act on.
struct Objects {
    community: &'static str,
    unit: i64,
    check: i64,
    tip: i64,
    /// Tips of the community whose address matches no unit: tied to the unit through the
    /// API, made into a unit through the API, and the same through the console's forms.
    loose: [i64; 4],
    /// The reference number of `tip`.
    reference: String,
    occupant: i64,
    /// A sublandlord's pending filing of `unit`.
    filing: i64,
    /// A staff account of the community.
    user: i64,
    /// The self-service token of the unit's registration (the end of its link).
    me: String,
    /// An evidence photo of a visit to the unit.
    photo: i64,
    /// A sublandlord (the ledger's person id) who lets a unit of the community.
    person: i64,
    /// An enforcement case, worked through the API, and its photo evidence.
    case: i64,
    evidence: i64,
    /// Another case, worked through the pages' forms.
    page_case: i64,
}

impl Objects {
    fn fill(&self, path: &str) -> String {
        path.replace("{community}", self.community)
            .replace("{unit}", &self.unit.to_string())
            .replace("{check}", &self.check.to_string())
            .replace("{tip}", &self.tip.to_string())
            .replace("{loose_link}", &self.loose[0].to_string())
            .replace("{loose_unit}", &self.loose[1].to_string())
            .replace("{loose_page_link}", &self.loose[2].to_string())
            .replace("{loose_page_unit}", &self.loose[3].to_string())
            .replace("{occupant}", &self.occupant.to_string())
            .replace("{filing}", &self.filing.to_string())
            .replace("{user}", &self.user.to_string())
            .replace("{photo}", &self.photo.to_string())
            .replace("{person}", &self.person.to_string())
            .replace("{case}", &self.case.to_string())
            .replace("{evidence}", &self.evidence.to_string())
            .replace("{page_case}", &self.page_case.to_string())
    }

    /// A body with `"{unit}"` standing for the community's unit id.
    fn fill_body(&self, body: &Value) -> Value {
        let text = body
            .to_string()
            .replace(r#""{unit}""#, &self.unit.to_string());
        serde_json::from_str(&text).unwrap()
    }
}

async fn objects(app: &TestApp, admin: &str, community: &'static str, n: u8, id: &str) -> Objects {
    let (unit, poster) = app
        .create_unit(admin, community, &format!("{community}路 {n}号 101室"))
        .await;
    let res = app
        .register(&poster, &registration(&[occupant(id)]), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let answer: Value = res.json().await.unwrap();
    let me = answer["self_service_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let check = app.overdue_check(unit, 0).await;
    let occupant: i64 = sqlx::query_scalar("select id from occupants where unit_id = $1")
        .bind(unit)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let tip = app
        .post_json(
            "/api/v1/tips",
            &json!({"address": format!("{community}路 {n}号 101室"), "category": "other",
                    "description": "矩阵"}),
            None,
        )
        .await;
    let tip: Value = tip.json().await.unwrap();
    // What the sender holds: the reference with its check.
    let reference = tip["receipt"].as_str().unwrap().to_string();
    let tip = tip["id"].as_i64().unwrap();
    let mut loose = [0; 4];
    for (i, slot) in loose.iter_mut().enumerate() {
        let res = app
            .post_json(
                "/api/v1/tips",
                &json!({"address": format!("{community}路 {n}号 90{i}室"), "community": community,
                        "category": "other", "description": "无房屋"}),
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        *slot = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    }
    let filing = pending_filing(app, community, n).await;
    // The unit is let by the filing's sublandlord (whose phone an officer may reveal).
    sqlx::query(
        "update units set sublandlord_id = (select max(id) from sublandlords) where id = $1",
    )
    .bind(unit)
    .execute(app.store.pool())
    .await
    .unwrap();
    let photo = visit_photo(app, admin, check).await;
    let names = [community.to_string()];
    let user = renfang::cli::user::add_staff(
        &app.store,
        &format!("matrix-{n}"),
        "property",
        &names,
        "correct-horse-9",
    )
    .await
    .unwrap();
    let (_, case) =
        crate::cases::referred(app, admin, community, &format!("{community}路 {n}号 301室")).await;
    let (_, page_case) =
        crate::cases::referred(app, admin, community, &format!("{community}路 {n}号 302室")).await;
    let team = app.login_as("enforcement", &[community]).await;
    let evidence_form = reqwest::multipart::Form::new().part(
        "photo",
        reqwest::multipart::Part::bytes(renfang::domain::tip::sample_jpeg_with_gps())
            .file_name("p.jpg"),
    );
    let res = app
        .client
        .post(app.url(&format!("/api/v1/cases/{case}/evidence")))
        .bearer_auth(&team)
        .multipart(evidence_form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let evidence = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let person = ledger_person(app, community, n).await;
    Objects {
        person,
        case,
        evidence,
        page_case,
        community,
        unit,
        check,
        tip,
        loose,
        reference,
        occupant,
        filing,
        user,
        me,
        photo,
    }
}

/// An unanswered visit with an evidence photo (the check stays open): the photo's id.
async fn visit_photo(app: &TestApp, admin: &str, check: i64) -> i64 {
    let jpeg = reqwest::multipart::Part::bytes(renfang::domain::tip::sample_jpeg_with_gps())
        .file_name("door.jpg")
        .mime_str("image/jpeg")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("outcome", "unreachable")
        .part("photo", jpeg);
    let res = app
        .client
        .post(app.url(&format!("/api/v1/door-checks/{check}/result")))
        .bearer_auth(admin)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    sqlx::query_scalar("select max(id) from visit_photos")
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// A filing of the community's unit by a sublandlord of its own: it waits for staff.
async fn pending_filing(app: &TestApp, community: &str, n: u8) -> i64 {
    let phone = format!("1390000{:04}", 100 + u32::from(n));
    let id_number =
        renfang::domain::document::with_check_char(&format!("31011719800303{n:03}")).unwrap();
    let signup = json!({"name": "孙矩阵", "phone": phone, "id_type": "resident_id",
                        "id_number": id_number, "password": "landlord-pass-1"});
    let res = app.post_json("/api/v1/sublandlords", &signup, None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let login = json!({"username": phone, "password": "landlord-pass-1"});
    let body: Value = app
        .post_json("/api/v1/login", &login, None)
        .await
        .json()
        .await
        .unwrap();
    let filing = json!({"community": community, "address": format!("{community}路 {n}号 101室"),
                        "rooms": 1, "rental_mode": "whole",
                        "start_date": chrono::Utc::now().date_naive().to_string(),
                        "planned_occupants": 1});
    let res = app
        .post_json("/api/v1/filings", &filing, body["token"].as_str())
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    res.json::<Value>().await.unwrap()["filing_id"]
        .as_i64()
        .unwrap()
}

/// A sublandlord who files a new unit in the community: their person id in the ledger.
async fn ledger_person(app: &TestApp, community: &str, n: u8) -> i64 {
    let token = crate::sublandlords::sublandlord(app, 200 + u32::from(n)).await;
    let filed = crate::sublandlords::file(
        app,
        &token,
        &crate::sublandlords::filing(community, &format!("{community}路 {n}号 801室"), 1, 1),
    )
    .await;
    sqlx::query_scalar(
        "select s.person_id from units u join sublandlords s on s.id = u.sublandlord_id where u.id = $1",
    )
    .bind(filed["unit_id"].as_i64().unwrap())
    .fetch_one(app.store.pool())
    .await
    .unwrap()
}

/// Everything a denied request must leave as it was.
/// A console form (or a file under the console): its path, who may use it, and what it sends.
type ConsoleForm = (
    &'static str,
    &'static [&'static str],
    Vec<(&'static str, &'static str)>,
);

async fn fingerprint(app: &TestApp) -> String {
    let q = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(app.store.pool())
            .await
            .unwrap()
    };
    format!(
        "{} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}",
        q("select count(*) from units").await,
        q("select cast(coalesce(sum(qr_version), 0) as bigint) from units").await,
        q("select count(*) from qr_tokens").await,
        q("select count(*) from door_checks where status = 'open'").await,
        q("select cast(coalesce(sum(attempts), 0) as bigint) from door_checks").await,
        q("select count(*) from tips where state = 'new'").await,
        q("select count(*) from tips where unit_id is not null").await,
        q("select count(*) from occupants where moved_out_at is null").await,
        q("select count(*) from users").await,
        q("select count(*) from users where disabled_at is null").await,
        q("select count(*) from communities").await,
        q("select count(*) from audit_log").await,
        q("select count(*) from filings").await,
        q("select count(*) from filings where status = 'pending'").await,
        q("select count(*) from units where sublandlord_id is not null").await,
        q("select count(*) from cases where status = 'open'").await,
        q("select count(*) from cases where status = 'closed'").await,
        q("select count(*) from case_evidence").await,
    )
}

/// One route: method, path (with placeholders for a community's objects), body, and who
/// may call it.
struct Route {
    method: Method,
    path: &'static str,
    body: Value,
    allowed: &'static [&'static str],
}

fn route(
    method: Method,
    path: &'static str,
    body: Value,
    allowed: &'static [&'static str],
) -> Route {
    Route {
        method,
        path,
        body,
        allowed,
    }
}

fn routes() -> Vec<Route> {
    let get = |path, allowed| route(Method::GET, path, Value::Null, allowed);
    let post = |path, body, allowed| route(Method::POST, path, body, allowed);
    vec![
        get("/api/v1/units/{unit}", STAFF),
        get("/api/v1/units/{unit}/poster.svg", UNITS),
        get("/api/v1/units/{unit}/poster.pdf", UNITS),
        get("/api/v1/units/{unit}/poster.png", UNITS),
        post("/api/v1/units/{unit}/qr/rotate", json!({}), UNITS),
        get("/api/v1/communities/{community}/posters.pdf", UNITS),
        post(
            "/api/v1/door-checks/{check}/assign",
            json!({"user_id": null}),
            QUEUE,
        ),
        post(
            "/api/v1/door-checks/{check}/result",
            json!({"outcome": "unreachable", "note": ""}),
            QUEUE,
        ),
        get("/api/v1/tips/{tip}", UNITS),
        post("/api/v1/tips/{tip}/triage", json!({"state": "new"}), UNITS),
        post("/api/v1/tips/{tip}/door-check", json!({}), UNITS),
        post(
            "/api/v1/tips/{loose_link}/link",
            json!({"unit_id": "{unit}"}),
            UNITS,
        ),
        post(
            "/api/v1/tips/{loose_unit}/unit",
            json!({"rooms": 1, "kind": "flat", "rental_mode": "whole"}),
            UNITS,
        ),
        post(
            "/api/v1/units/{unit}/sublandlord-phone",
            json!({"reason": "联系二房东开门"}),
            QUEUE,
        ),
        get("/api/v1/visit-photos/{photo}", QUEUE),
        post(
            "/api/v1/occupants/{occupant}/reveal",
            json!({"reason": "核对身份"}),
            REVEAL,
        ),
        get("/api/v1/stats?community={community}", STAFF),
        get("/api/v1/door-checks?community={community}", QUEUE),
        post(
            "/api/v1/filings/{filing}/reject",
            json!({"reason": "矩阵"}),
            QUEUE,
        ),
        post("/api/v1/filings/{filing}/approve", json!({}), QUEUE),
        get("/api/v1/sublandlords/{person}", LEDGER),
        post(
            "/api/v1/sublandlords/{person}/reveal",
            json!({"reason": "核对身份"}),
            LEDGER,
        ),
        get("/api/v1/cases/{case}", CASES_READ),
        get("/api/v1/cases/{case}/evidence/{evidence}/photo", CASES_READ),
        get("/api/v1/cases?community={community}", CASES_READ),
        post(
            "/api/v1/cases/{case}/evidence",
            json!({"note": "矩阵"}),
            CASES_WORK,
        ),
        post(
            "/api/v1/cases/{case}/decision",
            json!({"violation": "none"}),
            CASES_WORK,
        ),
        post("/api/v1/cases/{case}/close", json!({}), CASES_WORK),
    ]
}

/// Routes without an object: only the function is checked.
fn functions() -> Vec<Route> {
    let get = |path, allowed| route(Method::GET, path, Value::Null, allowed);
    let post = |path, body, allowed| route(Method::POST, path, body, allowed);
    vec![
        post("/api/v1/communities", json!({"name": "矩阵社区"}), ADMIN),
        get("/api/v1/door-checks", QUEUE),
        get("/api/v1/door-checks.csv", QUEUE),
        get("/api/v1/door-checks.xlsx", QUEUE),
        get("/api/v1/referrals", LEDGER),
        get("/api/v1/door-checks/mine", QUEUE),
        get("/api/v1/cases", CASES_READ),
        get("/api/v1/cases.xlsx", CASES_READ),
        get("/api/v1/sublandlords?sort=priority", LEDGER),
        get("/api/v1/sublandlords.xlsx", LEDGER),
        get("/api/v1/sublandlords.csv", LEDGER),
        get("/api/v1/stats", STAFF),
        get("/api/v1/tips", UNITS),
        get("/api/v1/audit", ADMIN),
        get("/api/v1/outbox", ADMIN),
        get("/api/v1/events", FEED),
        get("/api/v1/reports", ADMIN),
        get("/api/v1/reports/monthly/2026-11.xlsx", ADMIN),
        get("/api/v1/my/units", SUBLANDLORD),
        get("/api/v1/filings?status=pending", FILINGS),
        get("/api/v1/corrections", UNITS),
        get("/api/v1/import/template.csv", UNITS),
        post(
            "/api/v1/units",
            json!({"community": "影佳", "address": "影佳路 77号", "rooms": 1, "kind": "flat",
                   "rental_mode": "whole"}),
            UNITS,
        ),
    ]
}

/// Console pages (cookie sessions): who may open each.
const PAGES: &[(&str, &[&str])] = &[
    ("/console", STAFF),
    ("/console/units", STAFF),
    ("/console/import", UNITS),
    ("/console/import/template.csv", UNITS),
    ("/console/tips", UNITS),
    ("/console/filings", QUEUE),
    ("/console/stats", STAFF),
    ("/console/reports", ADMIN),
    ("/console/audit", ADMIN),
    ("/console/outbox", ADMIN),
    ("/console/communities", ADMIN),
    ("/console/users", ADMIN),
    ("/police", QUEUE),
    ("/police/mine", QUEUE),
    ("/ledger", LEDGER),
    ("/ledger.xlsx", LEDGER),
    ("/ledger.csv", LEDGER),
    ("/enforcement", CASES_READ),
    ("/enforcement/export.xlsx", CASES_READ),
];

/// The CSRF token the pages give a cookie session (derived from its token).
fn csrf_of_cookie(cookie: &str) -> String {
    let token = cookie.split_once('=').unwrap().1;
    let digest = renfang::crypto::sha256(format!("csrf:{token}").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Routes anyone may read, with a session of any role or none.
const PUBLIC: &[&str] = &[
    "/assets/base.css",
    "/assets/console.css",
    "/favicon.ico",
    "/assets/police_offline.css",
    "/assets/icon-192.png",
    "/assets/icon-512.png",
    "/police/manifest.webmanifest",
    "/police/sw.js",
    "/police/offline.js",
];

async fn call(app: &TestApp, token: &str, r: &Route, path: &str, body: &Value) -> StatusCode {
    let mut req = app
        .client
        .request(r.method.clone(), app.url(path))
        .bearer_auth(token);
    if r.method == Method::POST {
        req = req.json(body);
    }
    req.send().await.unwrap().status()
}

async fn sublandlord_token(app: &TestApp) -> (String, String) {
    let signup = json!({"name": "赵六", "phone": "13900000077", "id_type": "resident_id",
                        "id_number": "11010519491231002X", "password": "landlord-pass-1"});
    let res = app.post_json("/api/v1/sublandlords", &signup, None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let login = json!({"username": "13900000077", "password": "landlord-pass-1"});
    let body: Value = app
        .post_json("/api/v1/login", &login, None)
        .await
        .json()
        .await
        .unwrap();
    let form = app
        .client
        .post(app.url("/login"))
        .form(&[("username", "13900000077"), ("password", "landlord-pass-1")])
        .send()
        .await
        .unwrap();
    let cookie = form.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    (body["token"].as_str().unwrap().to_string(), cookie)
}

#[tokio::test]
async fn every_route_answers_every_role_by_function_and_scope_and_denials_change_nothing() {
    // Ten tips per community: more than one address may send in an hour by default.
    let app = crate::helpers::spawn_app_with(|s| s.rate_tips_per_hour = 0).await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let ours = objects(&app, &admin, "影佳", 1, ID_A).await;
    let theirs = objects(&app, &admin, "祥东", 2, ID_B).await;
    let mut tokens = Vec::new();
    let mut cookies = Vec::new();
    for role in ROLES {
        if role == "sublandlord" {
            let (token, cookie) = sublandlord_token(&app).await;
            tokens.push((role, token));
            cookies.push((role, cookie));
        } else if role == "integration" {
            // The login form refuses it (it has no console); its API session in a cookie
            // is what a page could be offered.
            let token = app.login_as(role, &["影佳"]).await;
            let cookie = format!("{}={token}", renfang::http::auth::SESSION_COOKIE);
            tokens.push((role, token));
            cookies.push((role, cookie));
        } else {
            let scope: &[&str] = if role == "admin" { &[] } else { &["影佳"] };
            tokens.push((role, app.login_as(role, scope).await));
            cookies.push((role, crate::helpers::page_login(&app, role, scope).await));
        }
    }
    let mut failures = Vec::new();

    for r in routes() {
        for (role, token) in &tokens {
            let allowed = r.allowed.contains(role);
            for (objects, inside) in [(&theirs, false), (&ours, true)] {
                let path = objects.fill(r.path);
                let body = objects.fill_body(&r.body);
                let before = fingerprint(&app).await;
                let status = call(&app, token, &r, &path, &body).await;
                let seen = allowed && (inside || *role == "admin");
                let expected_denial = if !allowed {
                    Some(StatusCode::FORBIDDEN)
                } else if !seen {
                    Some(StatusCode::NOT_FOUND)
                } else {
                    None
                };
                match expected_denial {
                    Some(want) => {
                        if status != want {
                            failures
                                .push(format!("{role} {} {path}: {status}, want {want}", r.method));
                        }
                        if fingerprint(&app).await != before {
                            failures.push(format!(
                                "{role} {} {path}: a denied call changed data",
                                r.method
                            ));
                        }
                    }
                    None if [
                        StatusCode::UNAUTHORIZED,
                        StatusCode::FORBIDDEN,
                        StatusCode::NOT_FOUND,
                    ]
                    .contains(&status) =>
                    {
                        failures.push(format!("{role} {} {path}: refused with {status}", r.method));
                    }
                    None => {}
                }
            }
        }
    }
    for r in functions() {
        for (role, token) in &tokens {
            let before = fingerprint(&app).await;
            let status = call(&app, token, &r, r.path, &r.body).await;
            if r.allowed.contains(role) {
                if [
                    StatusCode::UNAUTHORIZED,
                    StatusCode::FORBIDDEN,
                    StatusCode::NOT_FOUND,
                ]
                .contains(&status)
                {
                    failures.push(format!(
                        "{role} {} {}: refused with {status}",
                        r.method, r.path
                    ));
                }
            } else {
                if status != StatusCode::FORBIDDEN {
                    failures.push(format!(
                        "{role} {} {}: {status}, want 403",
                        r.method, r.path
                    ));
                }
                if fingerprint(&app).await != before {
                    failures.push(format!(
                        "{role} {} {}: a denied call changed data",
                        r.method, r.path
                    ));
                }
            }
        }
    }
    for (path, allowed) in PAGES {
        for (role, cookie) in &cookies {
            let status = crate::helpers::page(&app, cookie, path).await.status();
            let want_ok = allowed.contains(role);
            if want_ok != (status == StatusCode::OK)
                || (!want_ok && status != StatusCode::FORBIDDEN)
            {
                failures.push(format!("{role} page {path}: {status}"));
            }
        }
    }
    for path in PUBLIC {
        let anonymous = app.get(path, None).await.status();
        if anonymous != StatusCode::OK {
            failures.push(format!("anonymous {path}: {anonymous}"));
        }
        for (role, cookie) in &cookies {
            let status = crate::helpers::page(&app, cookie, path).await.status();
            if status != StatusCode::OK {
                failures.push(format!("{role} {path}: {status}"));
            }
        }
    }
    // Pages of one object: the same rule of 404 outside and 403 for the function.
    for (path, allowed) in [
        ("/console/tips/{tip}", UNITS),
        ("/console/tips/{loose_page_link}", UNITS),
        ("/police/units/{unit}", QUEUE),
        ("/police/units/{unit}/register", QUEUE),
        ("/police/photos/{photo}", QUEUE),
        ("/ledger/{person}", LEDGER),
        ("/enforcement/cases/{case}", CASES_READ),
        (
            "/enforcement/cases/{case}/evidence/{evidence}/photo",
            CASES_READ,
        ),
        // Staff accounts are the town's: only admins, who see them all.
        ("/console/users/{user}/disable", ADMIN),
    ] {
        for (role, cookie) in &cookies {
            for (objects, inside) in [(&theirs, false), (&ours, true)] {
                let filled = objects.fill(path);
                let status = crate::helpers::page(&app, cookie, &filled).await.status();
                let want = if !allowed.contains(role) {
                    StatusCode::FORBIDDEN
                } else if inside || *role == "admin" {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                };
                if status != want {
                    failures.push(format!("{role} page {filled}: {status}, want {want}"));
                }
            }
        }
    }
    // Forms of one object, posted with the role's own valid CSRF token: only admins act.
    for (path, allowed) in [
        ("/console/users/{user}/enable", ADMIN),
        ("/console/users/{user}/disable", ADMIN),
    ] {
        for (role, cookie) in &cookies {
            let csrf = csrf_of_cookie(cookie);
            let filled = ours.fill(path);
            let before = fingerprint(&app).await;
            let status = crate::helpers::page_post(&app, cookie, &filled, &[("csrf", &csrf)])
                .await
                .status();
            if allowed.contains(role) {
                if status != StatusCode::SEE_OTHER {
                    failures.push(format!("{role} form {filled}: {status}, want 303"));
                }
            } else {
                if status != StatusCode::FORBIDDEN {
                    failures.push(format!("{role} form {filled}: {status}, want 403"));
                }
                if fingerprint(&app).await != before {
                    failures.push(format!("{role} form {filled}: a denied call changed data"));
                }
            }
        }
    }
    // The console's other forms and the tip photo, each with what a form sends and the
    // role's own valid CSRF token: a role without the function gets 403 and changes
    // nothing; a role with it is not refused (a later role may find the work done).
    let community = ours.community;
    let unit: &'static str = Box::leak(ours.unit.to_string().into_boxed_str());
    let forms: [ConsoleForm; 18] = [
        ("/police/checks/{check}/take", QUEUE, vec![]),
        (
            "/police/units/{unit}/result",
            QUEUE,
            vec![("check", "0"), ("outcome", "unreachable")],
        ),
        (
            "/police/units/{unit}/register",
            QUEUE,
            vec![
                ("name", "矩阵"),
                ("id_type", "resident_id"),
                ("id_number", "110101199003070011"),
                ("move_in", "2026-11-01"),
            ],
        ),
        (
            "/police/units/{unit}/sublandlord-phone",
            QUEUE,
            vec![("reason", "联系二房东开门")],
        ),
        ("/console/communities", ADMIN, vec![("name", "矩阵新社区")]),
        (
            "/console/outbox/retry",
            ADMIN,
            vec![("destination", "matrix")],
        ),
        (
            "/console/users",
            ADMIN,
            vec![
                ("username", "matrix-new"),
                ("role", "police"),
                ("password", "a-long-password-1"),
                ("community", community),
            ],
        ),
        (
            "/console/tips/{tip}/triage",
            UNITS,
            vec![("state", "new"), ("note", "")],
        ),
        ("/console/tips/{tip}/door-check", UNITS, vec![]),
        (
            "/console/tips/{loose_page_link}/link",
            UNITS,
            vec![("unit_id", unit)],
        ),
        (
            "/console/tips/{loose_page_unit}/unit",
            UNITS,
            vec![
                ("community", community),
                ("address", "影佳路 1号 909室"),
                ("kind", "flat"),
                ("rooms", "1"),
                ("rental_mode", "whole"),
            ],
        ),
        ("/console/filings/{filing}/approve", QUEUE, vec![]),
        (
            "/console/filings/{filing}/reject",
            QUEUE,
            vec![("reason", "与实际不符"), ("confirm", "1")],
        ),
        ("/console/tips/{tip}/photo.jpg", UNITS, vec![]),
        (
            "/ledger/{person}/reveal",
            LEDGER,
            vec![("reason", "核对身份")],
        ),
        (
            "/enforcement/cases/{page_case}/evidence",
            CASES_WORK,
            vec![("note", "矩阵")],
        ),
        (
            "/enforcement/cases/{page_case}/decision",
            CASES_WORK,
            vec![("violation", "none"), ("confirm", "1")],
        ),
        (
            "/enforcement/cases/{page_case}/close",
            CASES_WORK,
            vec![("confirm", "1")],
        ),
    ];
    for (path, allowed, fields) in forms {
        for (role, cookie) in &cookies {
            let csrf = csrf_of_cookie(cookie);
            let filled = ours.fill(path);
            let mut form = fields.clone();
            form.push(("csrf", &csrf));
            let before = fingerprint(&app).await;
            let status = if path.ends_with(".jpg") {
                crate::helpers::page(&app, cookie, &filled).await.status()
            } else {
                crate::helpers::page_post(&app, cookie, &filled, &form)
                    .await
                    .status()
            };
            if allowed.contains(role) {
                if status == StatusCode::FORBIDDEN || status.is_server_error() {
                    failures.push(format!("{role} {filled}: refused with {status}"));
                }
            } else {
                if status != StatusCode::FORBIDDEN {
                    failures.push(format!("{role} {filled}: {status}, want 403"));
                }
                if fingerprint(&app).await != before {
                    failures.push(format!("{role} {filled}: a denied call changed data"));
                }
            }
        }
    }
    // A tip's state by its reference is public: the same answer for every role and for
    // nobody, on the API and the page.
    let holders = tokens.iter().map(|(role, t)| (*role, Some(t.as_str())));
    for (role, token) in holders.chain([("anonymous", None)]) {
        let path = format!("/api/v1/tips/by-reference/{}", ours.reference);
        let status = app.get(&path, token).await.status();
        if status != StatusCode::OK {
            failures.push(format!("{role} GET {path}: {status}"));
        }
    }
    let status_page = format!("/tip/status?reference={}", theirs.reference);
    for (role, cookie) in &cookies {
        let status = crate::helpers::page(&app, cookie, &status_page)
            .await
            .status();
        if status != StatusCode::OK {
            failures.push(format!("{role} page {status_page}: {status}"));
        }
    }
    // A tenant's self-service link is its own credential: it opens that one registration
    // for anybody who holds it, and no account opens another one; a wrong link is 404 for
    // everybody and changes nothing.
    let mut wrong = ours.me.clone();
    wrong.pop();
    wrong.push(if ours.me.ends_with('A') { 'B' } else { 'A' });
    let holders = tokens.iter().map(|(role, t)| (*role, Some(t.as_str())));
    for (role, token) in holders.chain([("anonymous", None)]) {
        let status = app
            .get(&format!("/api/v1/me/{}", ours.me), token)
            .await
            .status();
        if status != StatusCode::OK {
            failures.push(format!("{role} GET own link: {status}"));
        }
        for (method, path) in [
            (Method::GET, format!("/api/v1/me/{wrong}")),
            (Method::POST, format!("/api/v1/me/{wrong}/confirm")),
            (
                Method::POST,
                format!("/api/v1/me/{}/confirm", theirs.me.replace('.', ".X")),
            ),
        ] {
            let before = fingerprint(&app).await;
            let mut req = app
                .client
                .request(method.clone(), app.url(&path))
                .json(&json!({}));
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            let status = req.send().await.unwrap().status();
            if status != StatusCode::NOT_FOUND {
                failures.push(format!("{role} {method} {path}: {status}, want 404"));
            }
            if fingerprint(&app).await != before {
                failures.push(format!("{role} {method} {path}: changed data"));
            }
        }
    }
    own_unit_routes(&app, &tokens, &cookies, &mut failures).await;
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A sublandlord's own-unit routes and pages (undo, the confirmations): staff get 403, and
/// another sublandlord 404 as for a unit that does not exist; neither changes anything; the
/// owner is not refused.
async fn own_unit_routes(
    app: &TestApp,
    tokens: &[(&str, String)],
    cookies: &[(&str, String)],
    failures: &mut Vec<String>,
) {
    // Sublandlords of their own: the matrix's one has been through password changes.
    let owner_cookie = crate::portal::page_sign_up(
        app,
        &crate::sublandlords::phone(92),
        &crate::sublandlords::id_number(92),
    )
    .await;
    let res =
        crate::sublandlords::login(app, &crate::sublandlords::phone(92), "landlord-pass-1").await;
    let owner = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let filed = crate::sublandlords::file(
        app,
        &owner,
        &crate::sublandlords::filing("影佳", "影佳路 500号 101室", 1, 1),
    )
    .await;
    let unit = filed["unit_id"].as_i64().unwrap();
    let other = crate::sublandlords::sublandlord(app, 90).await;
    let other_cookie = crate::portal::page_sign_up(
        app,
        &crate::sublandlords::phone(91),
        &crate::sublandlords::id_number(91),
    )
    .await;
    let api = [
        (Method::GET, format!("/api/v1/my/units/{unit}/undo")),
        (Method::POST, format!("/api/v1/my/units/{unit}/undo/1")),
    ];
    let callers = tokens
        .iter()
        .filter(|(r, _)| *r != "sublandlord")
        .map(|(r, t)| (r.to_string(), t.clone()))
        .chain([
            ("sublandlord".to_string(), owner),
            ("other sublandlord".to_string(), other),
        ]);
    for (role, token) in callers {
        for (method, path) in &api {
            let before = fingerprint(app).await;
            let status = call(
                app,
                &token,
                &route(method.clone(), "", json!({}), &[]),
                path,
                &json!({}),
            )
            .await;
            let want = match role.as_str() {
                "sublandlord" => None,
                "other sublandlord" => Some(StatusCode::NOT_FOUND),
                _ => Some(StatusCode::FORBIDDEN),
            };
            match want {
                Some(want) if status != want => {
                    failures.push(format!("{role} {method} {path}: {status}, want {want}"))
                }
                None if [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&status) => {
                    failures.push(format!("{role} {method} {path}: refused with {status}"))
                }
                _ => {}
            }
            if want.is_some() && fingerprint(app).await != before {
                failures.push(format!(
                    "{role} {method} {path}: a denied call changed data"
                ));
            }
        }
    }
    let page = format!("/my/units/{unit}/ask?action=rotate");
    let visitors = cookies
        .iter()
        .filter(|(r, _)| *r != "sublandlord")
        .map(|(r, c)| (r.to_string(), c.clone()))
        .chain([
            ("sublandlord".to_string(), owner_cookie),
            ("other sublandlord".to_string(), other_cookie),
        ]);
    for (role, cookie) in visitors {
        let status = crate::helpers::page(app, &cookie, &page).await.status();
        let want = match role.as_str() {
            "sublandlord" => StatusCode::OK,
            "other sublandlord" => StatusCode::NOT_FOUND,
            _ => StatusCode::FORBIDDEN,
        };
        if status != want {
            failures.push(format!("{role} page {page}: {status}, want {want}"));
        }
    }
}
