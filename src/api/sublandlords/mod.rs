//! Sublandlords: self-registration, the password change, advance filings, their own units
//! and their actions, and the ledger that ranks them for staff.

pub mod accounts;
pub mod filings;
pub mod ledger;
pub mod my_units;

use actix_web::web;

/// Registers the sublandlord routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/sublandlords", web::post().to(accounts::sign_up))
        .route("/api/v1/sublandlords", web::get().to(ledger::ledger))
        .route(
            "/api/v1/sublandlords.xlsx",
            web::get().to(ledger::ledger_xlsx),
        )
        .route(
            "/api/v1/sublandlords.csv",
            web::get().to(ledger::ledger_csv),
        )
        .route("/api/v1/sublandlords/{id}", web::get().to(ledger::person))
        .route(
            "/api/v1/sublandlords/{id}/reveal",
            web::post().to(ledger::reveal),
        )
        .route(
            "/api/v1/password",
            web::post().to(accounts::change_password),
        )
        .route("/api/v1/filings", web::post().to(filings::create_filing))
        .route("/api/v1/my/units", web::get().to(my_units::my_units))
        .route("/api/v1/my/units/{id}", web::get().to(my_units::my_unit))
        .route(
            "/api/v1/my/units/{id}/confirm",
            web::post().to(my_units::confirm),
        )
        .route(
            "/api/v1/my/units/{id}/vacancy",
            web::post().to(my_units::vacancy),
        )
        .route(
            "/api/v1/my/units/{id}/registrations",
            web::post().to(my_units::register_for_tenant),
        )
        .route(
            "/api/v1/my/units/{id}/occupants/{occupant}/move-out",
            web::post().to(my_units::move_out),
        )
        .route(
            "/api/v1/my/units/{id}/poster.png",
            web::get().to(my_units::poster),
        )
        .route(
            "/api/v1/my/units/{id}/qr/rotate",
            web::post().to(my_units::rotate),
        )
        .route(
            "/api/v1/my/units/{id}/undo",
            web::get().to(my_units::undoable),
        )
        .route(
            "/api/v1/my/units/{id}/undo/{event}",
            web::post().to(my_units::undo_change),
        );
}
