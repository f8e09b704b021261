//! Tips: the public report page, and the staff list, detail, triage and door-check button.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, admit, page_or_error};
use crate::domain::role::Role;
use crate::domain::tip::{Category, MAX_PHOTO_BYTES, PhotoError, TipState};
use crate::error::AppError;
use crate::http::State;
use crate::http::download;
use crate::http::multipart;
use crate::http::render::{Lang, message_page};
use crate::http::tip_intake::{FIELDS, receive};
use crate::pages::session::{CsrfForm, Detour, PageCaller, check_csrf, html, see_other};
use crate::service::tips::TipInput;
use crate::service::tips::{list, open_check as open_check_for, set_state, visible};
use crate::store::tips::Tip;

/// The public tip page (no login).
pub fn public_tip_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/tip", web::get().to(public_form))
        .route("/tip", web::post().to(public_submit));
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(public_tip_routes)
        .route("/console/tips", web::get().to(list_page))
        .route("/console/tips/{id}", web::get().to(detail_page))
        .route("/console/tips/{id}/photo.jpg", web::get().to(photo))
        .route("/console/tips/{id}/triage", web::post().to(triage))
        .route("/console/tips/{id}/door-check", web::post().to(open_check));
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
        Ok(_) => message_page(
            StatusCode::CREATED,
            Lang::Zh,
            "举报已收到",
            "谢谢您的线索。社区和民警会尽快核实处理；您留下的电话只用于核实情况。",
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

/// A tip with labels for display.
struct Row {
    tip: Tip,
    category: &'static str,
    state: &'static str,
    received: String,
}

fn row(tip: Tip, tz: chrono_tz::Tz) -> Row {
    Row {
        category: tip.category.label_zh(),
        state: tip.state.label_zh(),
        received: crate::display::local_time(tz, tip.created_at),
        tip,
    }
}

#[derive(Template)]
#[template(path = "console_tips.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    total: i64,
    state: String,
    states: Vec<(&'static str, &'static str)>,
    page: i64,
    pages: i64,
}

/// Query of the list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
    page: Option<i64>,
}

const PAGE_SIZE: i64 = 50;

async fn list_page(
    state: State,
    q: web::Query<ListQuery>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let wanted = TipState::parse(q.state.trim()).map(TipState::as_str);
    let page = crate::http::query::page_number(q.page);
    let result = async {
        let (tips, total) =
            list(&state, &caller, wanted, (page - 1) * PAGE_SIZE, PAGE_SIZE).await?;
        let tz = state.settings.tz;
        let page = ListPage {
            chrome: Chrome::new(&caller, "/console/tips"),
            rows: tips.into_iter().map(|t| row(t, tz)).collect(),
            total,
            state: wanted.unwrap_or("").to_string(),
            states: TipState::ALL
                .iter()
                .map(|s| (s.as_str(), s.label_zh()))
                .collect(),
            page,
            pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
        };
        Ok(html(StatusCode::OK, page.render()))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

#[derive(Template)]
#[template(path = "console_tip.html")]
struct DetailPage {
    chrome: Chrome,
    r: Row,
    states: Vec<(&'static str, &'static str)>,
}

async fn detail_page(
    state: State,
    id: web::Path<i64>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let result = async {
        let tip = visible(&state, &caller, *id).await?;
        let page = DetailPage {
            chrome: Chrome::new(&caller, "/console/tips"),
            r: row(tip, state.settings.tz),
            states: [TipState::New, TipState::Closed, TipState::Dismissed]
                .iter()
                .map(|s| (s.as_str(), s.label_zh()))
                .collect(),
        };
        Ok(html(StatusCode::OK, page.render()))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

async fn photo(
    state: State,
    id: web::Path<i64>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let result = crate::service::tips::photo(&state, &caller, *id)
        .await
        .map(|photo| download::private("image/jpeg", photo))
        .map_err(AppError::from);
    Ok(page_or_error(&caller, result))
}

/// The triage form.
#[derive(Debug, Deserialize)]
pub struct TriageForm {
    csrf: String,
    state: String,
    #[serde(default)]
    note: String,
}

async fn triage(
    state: State,
    id: web::Path<i64>,
    form: web::Form<TriageForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let result = async {
        check_csrf(&caller, &form.csrf)?;
        set_state(&state, &caller, *id, &form.state, Some(&form.note)).await?;
        Ok(see_other(&format!("/console/tips/{}", *id)))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

async fn open_check(
    state: State,
    id: web::Path<i64>,
    form: web::Form<CsrfForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::handles_tips)?;
    let result = async {
        check_csrf(&caller, &form.csrf)?;
        open_check_for(&state, &caller, *id).await?;
        Ok(see_other(&format!("/console/tips/{}", *id)))
    }
    .await;
    Ok(page_or_error(&caller, result))
}
