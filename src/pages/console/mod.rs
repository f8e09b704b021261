//! The staff console: one set of server-rendered pages where each role sees its part.
//!
//! Every page takes the cookie session (`PageCaller`) and opens its section with `admit`,
//! every form carries the session's CSRF token, and every page calls the same service
//! functions as the matching API route, so that roles and scopes are decided in one place.

mod admin;
mod audit;
mod charts;
mod filings;
mod home;
mod import;
mod outbox;
mod reports;
mod stats;
mod tips;
mod units;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::domain::role::Role;
use crate::error::AppError;
use crate::pages::session::{Detour, csrf_token, html};
use crate::service::Caller;

/// Registers the console pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(home::configure)
        .configure(units::configure)
        .configure(import::configure)
        .configure(tips::configure)
        .configure(filings::configure)
        .configure(stats::configure)
        .configure(reports::configure)
        .configure(audit::configure)
        .configure(outbox::configure)
        .configure(admin::configure);
}

/// One link of the console's menu.
pub struct Link {
    pub href: &'static str,
    pub label: &'static str,
    pub on: bool,
}

/// What every console page shows around its content: the menu for the role, the role's
/// name and the CSRF token of the logout form.
pub struct Chrome {
    pub csrf: String,
    pub role_label: &'static str,
    pub links: Vec<Link>,
}

/// Whether a role may use a function.
type Allowed = fn(Role) -> bool;

/// The console's sections: path, label, and who may open them.
const SECTIONS: &[(&str, &str, Allowed)] = &[
    ("/console", "首页", Role::is_staff),
    ("/police", "待核查", Role::works_queue),
    ("/console/units", "房屋", Role::is_staff),
    ("/console/import", "批量导入", Role::manages_units),
    ("/console/tips", "线索", Role::handles_tips),
    ("/console/filings", "报备审核", Role::reviews_filings),
    ("/enforcement", "执法案件", Role::reads_cases),
    ("/ledger", "二房东账册", Role::reads_ledger),
    ("/console/stats", "统计", Role::is_staff),
    ("/console/reports", "月报", Role::is_admin),
    ("/console/audit", "审计日志", Role::is_admin),
    ("/console/outbox", "外发消息", Role::is_admin),
    ("/console/communities", "社区", Role::is_admin),
    ("/console/users", "账号", Role::is_admin),
];

impl Chrome {
    /// The chrome of a page at `here` for this caller.
    pub fn new(caller: &Caller, here: &str) -> Self {
        Self {
            csrf: csrf_token(caller),
            role_label: caller.role.label_zh(),
            links: SECTIONS
                .iter()
                .filter(|(_, _, may)| may(caller.role))
                .map(|&(href, label, _)| Link {
                    href,
                    label,
                    on: href == here,
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "console_message.html")]
struct MessagePage<'a> {
    chrome: Chrome,
    heading: &'a str,
    text: &'a str,
}

/// The caller of a console page (see `PageCaller`) if staff whose role `may` open this
/// section, else the page saying it may not: `let caller = admit(caller, Role::is_admin)?;`.
// A refusal is made at most once per request, so its size costs nothing that matters.
#[allow(clippy::result_large_err)]
pub fn admit(caller: Caller, may: Allowed) -> Result<Caller, Detour> {
    if caller.role.is_staff() && may(caller.role) {
        Ok(caller)
    } else {
        Err(error_page(&caller, &AppError::Forbidden).into())
    }
}

/// An error as a console page: 403 and 404 say so in plain Chinese; 422 shows the reason.
pub fn error_page(caller: &Caller, err: &AppError) -> HttpResponse {
    if let AppError::Internal(e) = err {
        tracing::error!(error = format!("{e:#}"), "console page failed");
    }
    let (heading, text) = match err {
        AppError::Forbidden => ("无权访问", "您的账号没有这一功能的权限。".to_string()),
        AppError::NotFound => ("未找到", "没有这条记录，或它不在您负责的社区。".to_string()),
        AppError::Validation(fields) => (
            "提交的内容有误",
            fields
                .iter()
                .map(|f| f.message_zh)
                .collect::<Vec<_>>()
                .join("；"),
        ),
        other => ("出错了", other.to_string()),
    };
    let status = actix_web::ResponseError::status_code(err);
    let status = if status == StatusCode::UNAUTHORIZED {
        StatusCode::FORBIDDEN
    } else {
        status
    };
    html(
        status,
        MessagePage {
            chrome: Chrome::new(caller, ""),
            heading,
            text: &text,
        }
        .render(),
    )
}

/// Turns a page handler's outcome into a page: errors become console error pages.
pub fn page_or_error(caller: &Caller, result: Result<HttpResponse, AppError>) -> HttpResponse {
    result.unwrap_or_else(|err| error_page(caller, &err))
}

/// A rate as the console shows it, `97.5%`, or `—` where there is none.
fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".into(), |r| format!("{:.1}%", r * 100.0))
}

/// Whether a rate meets the plan's target, in words and as the cell's colour class.
fn target_met(met: Option<bool>) -> (&'static str, &'static str) {
    match met {
        Some(true) => ("达标", "good"),
        Some(false) => ("未达标", "bad"),
        None => ("—", ""),
    }
}
