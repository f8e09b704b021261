//! The OpenAPI document against the routes the application registers: every `/api/v1`
//! route and method is documented, and every operation documents its error answers with
//! the JSON error body, so that a client generated from the document knows each status.

use std::collections::BTreeSet;
use std::path::Path;

use renfang::api::openapi::ApiDoc;
use serde_json::Value;
use utoipa::OpenApi;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).expect("the document serialises")
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `/api/v1` routes registered in `src/`: each `"/api/v1…"` path literal with the
/// `web::get()` (or other method) that follows it, as `cfg.route(path, web::get()…)` and
/// `web::resource(path).route(web::post()…)` write them.
fn registered_routes() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut routes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let mut rest = text;
        while let Some(at) = rest.find("\"/api/v1") {
            let before = rest[..at].trim_end();
            let registers = before.ends_with("route(") || before.ends_with("resource(");
            let literal = &rest[at + 1..];
            let end = literal.find('"').unwrap();
            let path = &literal[..end];
            let after = &literal[end..];
            // The registration's method comes before the next path literal.
            let scope = &after[..after.find("\"/api/").unwrap_or(after.len())];
            let method = METHODS
                .iter()
                .filter_map(|m| scope.find(&format!("web::{m}()")).map(|i| (i, *m)))
                .min();
            if let (true, Some((_, method))) = (registers, method) {
                routes.insert((path.to_string(), method.to_string()));
            }
            rest = after;
        }
    }
    routes
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                out.push((path.clone(), method.to_string(), operation));
            }
        }
    }
    out
}

#[test]
fn every_registered_api_route_and_method_is_in_the_document() {
    let doc = document();
    let routes = registered_routes();
    // The scan finds the routes it should: a sample of each way they are registered.
    for route in [
        ("/api/v1/login", "post"),
        ("/api/v1/tips", "get"),
        ("/api/v1/tips", "post"),
        ("/api/v1/units/import", "post"),
        ("/api/v1/my/units/{id}/undo/{event}", "post"),
    ] {
        let route = (route.0.to_string(), route.1.to_string());
        assert!(routes.contains(&route), "the scan missed {route:?}");
    }
    assert!(routes.len() >= 60, "only {} routes found", routes.len());
    let missing: Vec<_> = routes
        .iter()
        .filter(|(path, method)| doc["paths"][path][method].is_null())
        .collect();
    assert!(missing.is_empty(), "not in the document: {missing:?}");
    // And nothing is documented that is not routed.
    let documented: BTreeSet<_> = operations(&doc)
        .into_iter()
        .map(|(path, method, _)| (path, method))
        .collect();
    let unrouted: Vec<_> = documented.difference(&routes).collect();
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
}

/// The statuses of an operation's answers.
fn statuses(operation: &Value) -> BTreeSet<&str> {
    operation["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn every_operation_documents_its_errors_with_the_error_body() {
    let doc = document();
    let error_ref = "#/components/schemas/ErrorBody";
    assert!(doc["components"]["schemas"]["ErrorBody"]["properties"]["error"].is_object());
    for (path, method, operation) in operations(&doc) {
        let name = format!("{} {path}", method.to_uppercase());
        let responses = operation["responses"].as_object().unwrap();
        let errors: Vec<_> = responses
            .iter()
            .filter(|(status, _)| status.starts_with('4') || status.starts_with('5'))
            .collect();
        assert!(
            errors.iter().any(|(status, _)| status.starts_with('4')),
            "{name} documents no 4xx answer"
        );
        for (status, response) in errors {
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"], error_ref,
                "{name} {status} does not answer the error body"
            );
        }
        let statuses = statuses(operation);
        let has = |wanted: &[&str]| wanted.iter().all(|s| statuses.contains(s));
        if operation["security"].is_array() {
            assert!(has(&["401", "403", "503"]), "{name}: {statuses:?}");
        } else {
            assert!(has(&["429"]), "{name} is public but documents no 429");
        }
        if operation["requestBody"].is_object() {
            assert!(has(&["400", "413", "415", "422"]), "{name}: {statuses:?}");
        }
        if path.contains('{') {
            assert!(has(&["404"]), "{name} has path parameters but no 404");
        }
    }
}

#[test]
fn a_route_s_own_description_of_a_status_is_kept() {
    let doc = document();
    let conflict = &doc["paths"]["/api/v1/scan/{token}/registrations"]["post"]["responses"]["409"];
    assert!(
        conflict["description"]
            .as_str()
            .unwrap()
            .contains("name_mismatch"),
        "{conflict}"
    );
}
