//! The OpenAPI 3 document, generated from the handlers' annotations.

use actix_web::{HttpResponse, web};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::api::{
    audit, auth, cases, door_checks, events, filings, import, me, outbox, reports, reveal, scan,
    stats, sublandlords, tips, units,
};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Adds to every operation the error answers that every route of its kind can give, each
/// with the JSON error body; a route's own annotation names only what is particular to it
/// (a 404 for a record, a 409, a 410), and its wording wins where both name a status.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, description) in common_errors(operation) {
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error_response(description).into());
                }
            }
        }
    }
}

/// The statuses an operation can answer because of what it is, whatever it does: behind a
/// login (the `Caller` extractor), rate-limited (every public route, by `http::limit`),
/// with path parameters (`PathConfig` in `app::routes`), query parameters (`QueryConfig`
/// and paging) or a body (`ApiJson`, `http::multipart`).
fn common_errors(operation: &Operation) -> Vec<(u16, &'static str)> {
    let mut errors = Vec::new();
    let has = |place: ParameterIn| {
        operation
            .parameters
            .iter()
            .flatten()
            .any(|p| p.parameter_in == place)
    };
    if operation.request_body.is_some() {
        errors.extend([
            (400, "the body is not valid UTF-8 JSON, or not a well-formed form"),
            (413, "the body is larger than the route accepts"),
            (415, "the body is not of the declared content type"),
            (
                422,
                "fields failed their checks (unknown, missing, wrong type or value); `fields` names each",
            ),
        ]);
    }
    if has(ParameterIn::Query) {
        errors.extend([
            (400, "a query value of the wrong type"),
            (422, "a query value outside its allowed set or range"),
        ]);
    }
    let names_community = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query && p.name == "community");
    if names_community {
        errors.push((
            404,
            "no community of that name, or one outside the caller's scope",
        ));
    }
    if has(ParameterIn::Path) {
        errors.push((404, "no such record, or one outside the caller's scope"));
    }
    if has(ParameterIn::Header) {
        errors.push((400, "a header value of the wrong shape"));
    }
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        errors.extend([
            (401, "no bearer token, or one that is unknown or ended"),
            (403, "the caller's role or communities may not do this"),
            (
                503,
                "the session store (Redis) has not been reached yet; nothing was changed",
            ),
        ]);
    } else {
        errors.push((
            429,
            "too many requests from this client address; see `Retry-After`",
        ));
    }
    errors
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// Every `/api/v1` route.
#[derive(OpenApi)]
#[openapi(
    info(title = "renfang", description = "人房共管 QR-code rental registration API"),
    paths(
        scan::scan_info,
        scan::register,
        auth::login,
        auth::logout,
        units::create_community,
        units::create_unit,
        import::import_units,
        import::template,
        tips::create_tip,
        tips::list_tips,
        tips::get_tip,
        tips::tip_photo,
        tips::triage,
        tips::open_check,
        tips::tip_status,
        tips::link_unit,
        tips::create_unit,
        reports::list_reports,
        reports::monthly_report,
        reveal::reveal,
        units::get_unit,
        units::rotate_qr,
        units::poster,
        units::community_posters,
        door_checks::list,
        door_checks::list_csv,
        door_checks::list_xlsx,
        door_checks::record,
        door_checks::assign,
        door_checks::mine,
        door_checks::referrals,
        door_checks::sublandlord_phone,
        door_checks::visit_photo,
        cases::list,
        cases::list_xlsx,
        cases::get,
        cases::photo,
        cases::add_evidence,
        cases::decide,
        cases::close,
        sublandlords::accounts::sign_up,
        sublandlords::accounts::change_password,
        sublandlords::filings::create_filing,
        filings::list_filings,
        filings::approve,
        filings::reject,
        sublandlords::my_units::my_units,
        sublandlords::my_units::my_unit,
        sublandlords::my_units::confirm,
        sublandlords::my_units::vacancy,
        sublandlords::my_units::register_for_tenant,
        sublandlords::my_units::move_out,
        sublandlords::my_units::poster,
        sublandlords::my_units::rotate,
        sublandlords::my_units::undoable,
        sublandlords::my_units::undo_change,
        sublandlords::ledger::ledger,
        sublandlords::ledger::person,
        sublandlords::ledger::reveal,
        sublandlords::ledger::ledger_xlsx,
        sublandlords::ledger::ledger_csv,
        stats::get_stats,
        audit::list,
        outbox::overview,
        outbox::retry,
        events::feed,
        me::me,
        me::confirm,
        me::move_out,
        me::correction,
        me::corrections,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::FieldErrorBody)),
    modifiers(&BearerAuth, &CommonErrors),
    tags(
        (name = "public", description = "Poster scans, no account"),
        (name = "accounts", description = "Login, logout, sublandlord sign-up, passwords"),
        (name = "sublandlords", description = "Advance filings and a sublandlord's own units"),
        (name = "staff", description = "Staff routes, scoped to communities"),
    )
)]
pub struct ApiDoc;

/// Registers `/api/openapi.json`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/openapi.json", web::get().to(document));
}

async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
