//! The OpenAPI 3 document, generated from the handlers' annotations.

use actix_web::{HttpResponse, web};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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
    modifiers(&BearerAuth),
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
