//! The public tip pages (no login): the report form, its receipt with the tip's reference
//! number, and the look-up of where a tip stands by that number.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::tip::{Category, MAX_PHOTO_BYTES, PhotoError};
use crate::error::AppError;
use crate::http::State;
use crate::http::multipart;
use crate::http::render::{Lang, html, message_page};
use crate::http::tip_intake::{FIELDS, receive};
use crate::service;
use crate::service::tips::TipInput;

/// Registers the public tip pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/tip", web::get().to(public_form))
        .route("/tip", web::post().to(public_submit))
        .route("/tip/status", web::get().to(status_page));
}

#[derive(Template)]
#[template(path = "tip.html")]
struct PublicPage {
    categories: Vec<(&'static str, &'static str)>,
    token: String,
    address: String,
    category: String,
    description: String,
    contact: String,
    errors: Vec<String>,
}

/// `?t=` carries the poster token when the page is opened from a scan page.
#[derive(Debug, Deserialize)]
pub struct PublicQuery {
    t: Option<String>,
}

fn categories() -> Vec<(&'static str, &'static str)> {
    Category::ALL
        .iter()
        .map(|c| (c.as_str(), c.label_zh()))
        .collect()
}

async fn public_form(q: web::Query<PublicQuery>) -> HttpResponse {
    let page = PublicPage {
        categories: categories(),
        token: q.t.clone().unwrap_or_default().chars().take(64).collect(),
        address: String::new(),
        category: String::new(),
        description: String::new(),
        contact: String::new(),
        errors: Vec::new(),
    };
    html(StatusCode::OK, page.render())
}

async fn public_submit(state: State, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    if !multipart::is_multipart(&req) {
        return message_page(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Lang::Zh,
            "提交失败",
            "请从举报页面提交。",
        );
    }
    let form = match multipart::read(&req, payload, FIELDS, "photo", MAX_PHOTO_BYTES, || {
        AppError::field(PhotoError::TooLarge.field())
    })
    .await
    {
        Ok(form) => form,
        Err(AppError::Validation(fields)) => {
            let errors = fields.iter().map(|f| f.message_zh.to_string()).collect();
            return again(TipInput::default(), errors);
        }
        Err(_) => {
            return message_page(
                StatusCode::BAD_REQUEST,
                Lang::Zh,
                "提交失败",
                "表单无法读取，请重试。",
            );
        }
    };
    let mut fields = form.fields;
    let mut take = |name: &str| fields.remove(name);
    let body = TipInput {
        address: take("address"),
        token: take("token").filter(|t| !t.trim().is_empty()),
        community: None,
        category: take("category").unwrap_or_default(),
        description: take("description").unwrap_or_default(),
        contact: take("contact"),
    };
    let echo = body.clone();
    match receive(&state, &req, body, form.file).await {
        Ok(filed) => html(
            StatusCode::CREATED,
            DonePage {
                reference: filed.receipt,
            }
            .render(),
        ),
        Err(AppError::Validation(fields)) => again(
            echo,
            fields.iter().map(|f| f.message_zh.to_string()).collect(),
        ),
        Err(err @ AppError::PhotoAllowance(seconds)) => {
            let mut page = message_page(
                StatusCode::TOO_MANY_REQUESTS,
                Lang::Zh,
                "照片已达上限",
                &err.to_string(),
            );
            if let Ok(wait) = seconds.to_string().parse() {
                page.headers_mut()
                    .insert(actix_web::http::header::RETRY_AFTER, wait);
            }
            page
        }
        Err(err) => {
            if let AppError::Internal(e) = &err {
                tracing::error!(error = format!("{e:#}"), "storing a tip failed");
            }
            message_page(
                actix_web::ResponseError::status_code(&err),
                Lang::Zh,
                "提交失败",
                "服务暂时不可用，请稍后再试。",
            )
        }
    }
}

/// The form again, with what was typed and what is wrong.
fn again(body: TipInput, errors: Vec<String>) -> HttpResponse {
    let page = PublicPage {
        categories: categories(),
        token: body.token.unwrap_or_default(),
        address: body.address.unwrap_or_default(),
        category: body.category,
        description: body.description,
        contact: body.contact.unwrap_or_default(),
        errors,
    };
    html(StatusCode::UNPROCESSABLE_ENTITY, page.render())
}

/// The receipt of a tip: its reference number, and what it is good for.
#[derive(Template)]
#[template(path = "tip_done.html")]
struct DonePage {
    reference: String,
}

/// Where a tip stands, as its sender may see it.
struct Standing {
    reference: String,
    state: &'static str,
    received: String,
    changed: String,
}

#[derive(Template)]
#[template(path = "tip_status.html")]
struct StatusPage {
    reference: String,
    found: Option<Standing>,
    not_found: bool,
}

/// `?reference=` names the tip to look up; without it the page is the form alone.
#[derive(Debug, Deserialize)]
pub struct StatusQuery {
    #[serde(default)]
    reference: String,
}

/// The state of the tip with this reference and two dates, nothing else: references are
/// sequential, so anyone may try one. An unknown or malformed one is 404 with the form.
async fn status_page(state: State, q: web::Query<StatusQuery>) -> HttpResponse {
    let typed: String = q.reference.trim().chars().take(40).collect();
    if typed.is_empty() {
        let page = StatusPage {
            reference: typed,
            found: None,
            not_found: false,
        };
        return html(StatusCode::OK, page.render());
    }
    let tz = state.settings.tz;
    match service::tips::status(&state, &typed).await {
        Ok(found) => {
            let page = StatusPage {
                reference: found.reference.clone(),
                found: Some(Standing {
                    state: found.state.public_label_zh(),
                    received: crate::display::local_time(tz, found.created_at),
                    changed: crate::display::local_time(tz, found.changed_at),
                    reference: found.reference,
                }),
                not_found: false,
            };
            html(StatusCode::OK, page.render())
        }
        Err(service::Error::NotFound) => {
            let page = StatusPage {
                reference: typed,
                found: None,
                not_found: true,
            };
            html(StatusCode::NOT_FOUND, page.render())
        }
        Err(err) => {
            let err = AppError::from(err);
            if let AppError::Internal(e) = &err {
                tracing::error!(error = format!("{e:#}"), "looking up a tip failed");
            }
            message_page(
                actix_web::ResponseError::status_code(&err),
                Lang::Zh,
                "查询失败",
                "服务暂时不可用，请稍后再试。",
            )
        }
    }
}
