//! The sublandlord's pages (mobile-first, Chinese): sign-up, their units with every action,
//! advance filings, registering tenants, the password; and the ledger page for staff.

pub mod accounts;
mod confirm;
pub mod filings;
pub mod form;
pub mod ledger;
pub mod units;

use actix_web::web;

pub use ledger::percent;

/// Registers the sublandlord pages and the ledger page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/sublandlord/register",
        web::get().to(accounts::signup_form),
    )
    .route(
        "/sublandlord/register",
        web::post().to(accounts::signup_submit),
    )
    .route("/my", web::get().to(units::units_page))
    .route("/my/filings/new", web::get().to(filings::filing_form))
    .route("/my/filings", web::post().to(filings::filing_submit))
    .route("/my/units/{id}", web::get().to(units::unit_page))
    .route("/my/units/{id}/action", web::post().to(units::unit_action))
    .route("/my/units/{id}/ask", web::get().to(confirm::ask))
    .route(
        "/my/units/{id}/register",
        web::get().to(units::register_form),
    )
    .route(
        "/my/units/{id}/register",
        web::post().to(units::register_submit),
    )
    .route("/my/units/{id}/poster.png", web::get().to(units::poster))
    .route("/password", web::get().to(accounts::password_form))
    .route("/password", web::post().to(accounts::password_submit))
    .route("/ledger", web::get().to(ledger::ledger))
    .route("/ledger.{format}", web::get().to(ledger::export))
    .route("/ledger/{person_id}", web::get().to(ledger::person))
    .route("/ledger/{person_id}/reveal", web::post().to(ledger::reveal));
}
