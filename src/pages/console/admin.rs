//! The town office's pages: communities and staff accounts.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, admit, page_or_error};
use crate::domain::role::Role;
use crate::domain::sublandlord::MIN_PASSWORD_CHARS;
use crate::error::AppError;
use crate::http::State;
use crate::pages::session::{CsrfForm, Detour, PageCaller, check_csrf, html, see_other};
use crate::service::accounts::{self, Account, NewStaff};
use crate::service::{self, Caller};
use crate::store::users;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/communities", web::get().to(communities_page))
        .route("/console/communities", web::post().to(add_community))
        .route("/console/users", web::get().to(users_page))
        .route("/console/users", web::post().to(add_user))
        .route(
            "/console/users/{id}/disable",
            web::get().to(confirm_disable),
        )
        .route("/console/users/{id}/disable", web::post().to(disable_user))
        .route("/console/users/{id}/enable", web::post().to(enable_user));
}

#[derive(Template)]
#[template(path = "console_communities.html")]
struct CommunitiesPage {
    chrome: Chrome,
    names: Vec<String>,
    error: Option<String>,
}

async fn communities_page(
    state: State,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_admin)?;
    let result = render_communities(&state, &caller, StatusCode::OK, None).await;
    Ok(page_or_error(&caller, result))
}

async fn render_communities(
    state: &State,
    caller: &Caller,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let names = service::filings::community_names(state).await?;
    let page = CommunitiesPage {
        chrome: Chrome::new(caller, "/console/communities"),
        names,
        error,
    };
    Ok(html(status, page.render()))
}

/// The new-community form.
#[derive(Debug, Deserialize)]
pub struct CommunityForm {
    csrf: String,
    name: String,
}

async fn add_community(
    state: State,
    form: web::Form<CommunityForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_admin)?;
    let result = async {
        check_csrf(&caller, &form.csrf)?;
        let name = form.name.trim();
        let (status, error) = match service::units::create_community(&state, &caller, name).await {
            Ok(_) => return Ok(see_other("/console/communities")),
            Err(service::Error::Validation(fields)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                fields.first().map_or("", |f| f.message_zh).to_string(),
            ),
            Err(service::Error::Conflict(_)) => {
                (StatusCode::CONFLICT, format!("社区“{name}”已存在"))
            }
            Err(e) => return Err(e.into()),
        };
        render_communities(&state, &caller, status, Some(error)).await
    }
    .await;
    Ok(page_or_error(&caller, result))
}

struct UserRow {
    user: users::Listed,
    role: &'static str,
}

#[derive(Template)]
#[template(path = "console_users.html")]
struct UsersPage {
    chrome: Chrome,
    rows: Vec<UserRow>,
    roles: Vec<(&'static str, &'static str)>,
    community_names: Vec<String>,
    error: Option<String>,
    min_password: usize,
    /// The caller's own account, which has no disable button.
    self_id: i64,
}

async fn users_page(state: State, PageCaller(caller): PageCaller) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_admin)?;
    let result = render_users(&state, &caller, StatusCode::OK, None).await;
    Ok(page_or_error(&caller, result))
}

async fn render_users(
    state: &State,
    caller: &Caller,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let rows = accounts::staff_list(&state.store, caller)
        .await?
        .into_iter()
        .map(|user| UserRow {
            role: user.role.label_zh(),
            user,
        })
        .collect();
    let community_names = service::filings::community_names(state).await?;
    let roles = [
        Role::Admin,
        Role::Police,
        Role::Enforcement,
        Role::Community,
        Role::Property,
        Role::Integration,
    ]
    .iter()
    .map(|r| (r.as_str(), r.label_zh()))
    .collect();
    let page = UsersPage {
        chrome: Chrome::new(caller, "/console/users"),
        rows,
        roles,
        community_names,
        error,
        min_password: MIN_PASSWORD_CHARS,
        self_id: caller.user_id,
    };
    Ok(html(status, page.render()))
}

async fn add_user(
    state: State,
    form: web::Form<Vec<(String, String)>>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_admin)?;
    let result = async {
        let value = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map_or("", |(_, v)| v.as_str())
        };
        check_csrf(&caller, value("csrf"))?;
        let chosen: Vec<String> = form
            .iter()
            .filter(|(k, _)| k == "community")
            .map(|(_, v)| v.clone())
            .collect();
        let username = value("username");
        let new = NewStaff {
            username,
            role: value("role"),
            communities: &chosen,
            password: value("password"),
        };
        let error = match accounts::add_staff(&state.store, Some(&caller), new).await {
            Ok(_) => return Ok(see_other("/console/users")),
            Err(service::Error::Validation(fields)) => fields
                .first()
                .map_or("提交的内容有误", |f| f.message_zh)
                .to_string(),
            Err(service::Error::Conflict(_)) => {
                format!("用户名“{}”已被使用", username.trim())
            }
            Err(e) => return Err(e.into()),
        };
        render_users(
            &state,
            &caller,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(error),
        )
        .await
    }
    .await;
    Ok(page_or_error(&caller, result))
}

#[derive(Template)]
#[template(path = "console_user_disable.html")]
struct DisablePage {
    chrome: Chrome,
    id: i64,
    username: String,
    role: &'static str,
}

/// Asks before disabling: the form on this page does it (pages run no script to ask).
async fn confirm_disable(
    state: State,
    id: web::Path<i64>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_admin)?;
    let result = async {
        let user = accounts::staff_account(&state.store, &caller, *id).await?;
        let page = DisablePage {
            chrome: Chrome::new(&caller, "/console/users"),
            id: user.id,
            role: user.role.label_zh(),
            username: user.username,
        };
        Ok(html(StatusCode::OK, page.render()))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

async fn disable_user(
    state: State,
    id: web::Path<i64>,
    form: web::Form<CsrfForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    set_disabled(state, caller, *id, &form.csrf, true).await
}

async fn enable_user(
    state: State,
    id: web::Path<i64>,
    form: web::Form<CsrfForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    set_disabled(state, caller, *id, &form.csrf, false).await
}

/// Disables or enables a staff account as the command line does, recorded as the admin's.
async fn set_disabled(
    state: State,
    caller: Caller,
    id: i64,
    csrf: &str,
    disable: bool,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_admin)?;
    let result = async {
        check_csrf(&caller, csrf)?;
        let account = Account::Staff(id);
        match accounts::set_disabled(&state.store, Some(&caller), account, disable).await {
            Ok(_) => Ok(see_other("/console/users")),
            Err(service::Error::Conflict(message)) => {
                render_users(&state, &caller, StatusCode::CONFLICT, Some(message)).await
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    Ok(page_or_error(&caller, result))
}
