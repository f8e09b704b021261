//! What every staff page shares: the cookie session, CSRF tokens, login and logout.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::http::State;
// Kept for the page modules that still import it from here.
use crate::domain::role::Role;
use crate::error::AppError;
pub use crate::http::render::html;
use crate::http::render::{Lang, message_page};
use crate::service::Caller;
use crate::service::accounts::sign_in;

pub use crate::http::auth::SESSION_COOKIE;

/// Registers the login pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login_form))
        .route("/login", web::post().to(login_submit))
        .route("/logout", web::post().to(logout));
}

/// A 303 to `to` (after a form post).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, to.to_string()))
        .finish()
}

/// The signed-in user of a page request. Without a valid session the page answers with a
/// redirect to the login page (and back here after it) instead.
pub struct PageCaller(pub Caller);

impl FromRequest for PageCaller {
    type Error = Detour;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Detour>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<State>()
                .cloned()
                .ok_or_else(|| Detour::from(AppError::Internal(anyhow::anyhow!("no state"))))?;
            page_caller(&req, &state)
                .await
                .map(PageCaller)
                .map_err(Detour::from)
        })
    }
}

/// A page to answer instead of the one asked for (the login page, a refusal), so that a
/// page handler can use `?`. It is answered once.
pub struct Detour {
    status: StatusCode,
    page: RefCell<Option<HttpResponse>>,
}

impl From<HttpResponse> for Detour {
    fn from(page: HttpResponse) -> Self {
        Detour {
            status: page.status(),
            page: RefCell::new(Some(page)),
        }
    }
}

impl From<AppError> for Detour {
    fn from(err: AppError) -> Self {
        actix_web::ResponseError::error_response(&err).into()
    }
}

impl std::fmt::Debug for Detour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Detour({})", self.status)
    }
}

impl std::fmt::Display for Detour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "page answered with {}", self.status)
    }
}

impl actix_web::ResponseError for Detour {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        self.page
            .borrow_mut()
            .take()
            .unwrap_or_else(|| HttpResponse::build(self.status).finish())
    }
}

/// The signed-in user of a page request, or the answer to send instead: a redirect to the
/// login page.
pub async fn page_caller(req: &HttpRequest, state: &State) -> Result<Caller, HttpResponse> {
    let to_login = || see_other(&format!("/login?next={}", next_param(req)));
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Err(to_login());
    };
    match Caller::from_token(state, cookie.value().to_string()).await {
        Ok(caller) => Ok(caller),
        Err(crate::service::Error::Unauthorized) => Err(to_login()),
        Err(err @ crate::service::Error::SessionsUnavailable) => Err(message_page(
            StatusCode::SERVICE_UNAVAILABLE,
            Lang::Zh,
            "暂时无法登录",
            &err.to_string(),
        )),
        // An account of another system: it reads the event feed over the API and has no
        // page.
        Err(crate::service::Error::Forbidden) => Err(message_page(
            StatusCode::FORBIDDEN,
            Lang::Zh,
            "无权访问",
            NO_CONSOLE,
        )),
        Err(err) => Err(actix_web::ResponseError::error_response(&AppError::from(
            err,
        ))),
    }
}

/// What an account of another system is told when it tries the web pages.
const NO_CONSOLE: &str = "外部系统账号没有网页控制台，只能通过接口读取事件（GET /api/v1/events）。";

fn next_param(req: &HttpRequest) -> String {
    let path = req.path();
    // Only local paths: a login link must never send anyone to another site.
    if path.starts_with('/') && !path.starts_with("//") {
        url::form_urlencoded::byte_serialize(path.as_bytes()).collect()
    } else {
        "/".into()
    }
}

/// The CSRF token of a session: derived from the session token, which another site cannot
/// read, so it cannot forge a form post either.
pub fn csrf_token(caller: &Caller) -> String {
    let digest = crate::crypto::sha256(format!("csrf:{}", caller.session_token()).as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// 403 unless the posted form carries the session's CSRF token.
pub fn check_csrf(caller: &Caller, posted: &str) -> Result<(), AppError> {
    if posted == csrf_token(caller) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The first page of each role after login.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Police => "/police",
        Role::Admin | Role::Community | Role::Property => "/console",
        Role::Enforcement => "/enforcement",
        Role::Sublandlord => "/my",
        // It has no page; the login form refuses it before this is asked.
        Role::Integration => "/login",
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    next: &'a str,
    error: Option<&'a str>,
    username: &'a str,
}

/// `?next=` of the login page.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Where to go after login: only a path of this site. Browsers read a backslash as `/` and
/// drop tabs and newlines, so `/\host` or `/<tab>/host` would leave the site; anything but a
/// plain absolute path goes to the role's home page instead.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n[1..].starts_with('/')
                && !n.contains('\\')
                && !n.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            n
        }
        _ => "",
    }
}

async fn login_form(state: State, q: web::Query<NextQuery>) -> HttpResponse {
    // Said before anyone types a password that cannot be checked now.
    let unavailable = (!state.sessions.ready().await).then(|| AppError::SessionsUnavailable);
    let status = match unavailable {
        Some(_) => StatusCode::SERVICE_UNAVAILABLE,
        None => StatusCode::OK,
    };
    let error = unavailable.map(|e| e.to_string());
    html(
        status,
        LoginPage {
            next: safe_next(q.next.as_deref()),
            error: error.as_deref(),
            username: "",
        }
        .render(),
    )
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login_submit(
    state: State,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let LoginForm {
        username,
        password,
        next,
    } = form.into_inner();
    let client = crate::http::limit::client_of(&req, &state);
    match sign_in(&state, &client, &username, password).await {
        Ok((token, role)) if role.feed_only() => {
            state.sessions.revoke(&token).await;
            Ok(html(
                StatusCode::FORBIDDEN,
                LoginPage {
                    next: safe_next(Some(&next)),
                    error: Some(NO_CONSOLE),
                    username: &username,
                }
                .render(),
            ))
        }
        Ok((token, role)) => {
            let next = safe_next(Some(&next));
            let to = if next.is_empty() { home_of(role) } else { next };
            Ok(with_session(&state, &req, token, to))
        }
        Err(crate::service::Error::Unauthorized) => Ok(html(
            StatusCode::UNAUTHORIZED,
            LoginPage {
                next: safe_next(Some(&next)),
                error: Some("用户名或密码错误"),
                username: &username,
            }
            .render(),
        )),
        Err(err @ crate::service::Error::SessionsUnavailable) => Ok(html(
            StatusCode::SERVICE_UNAVAILABLE,
            LoginPage {
                next: safe_next(Some(&next)),
                error: Some(&err.to_string()),
                username: &username,
            }
            .render(),
        )),
        Err(err @ crate::service::Error::LoginLocked(_)) => Ok(html(
            StatusCode::TOO_MANY_REQUESTS,
            LoginPage {
                next: safe_next(Some(&next)),
                error: Some(&err.to_string()),
                username: &username,
            }
            .render(),
        )),
        Err(err) => Err(err.into()),
    }
}

/// A 303 to `to` that also sets the session cookie.
pub fn with_session(state: &State, req: &HttpRequest, token: String, to: &str) -> HttpResponse {
    let secure =
        state.public_url.starts_with("https://") || req.connection_info().scheme() == "https";
    let cookie = Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::seconds(
            crate::sessions::SESSION_TTL.as_secs() as i64,
        ))
        .finish();
    HttpResponse::SeeOther()
        .insert_header((LOCATION, to.to_string()))
        .cookie(cookie)
        .finish()
}

/// The logout form.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

async fn logout(
    state: State,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let token = match page_caller(&req, &state).await {
        Ok(caller) => {
            check_csrf(&caller, &form.csrf)?;
            caller.session_token().to_string()
        }
        // A session that cannot be confirmed (expired, or Redis away) is ended all the
        // same, so it cannot come back; there is nothing a forged form could take.
        Err(_) => match req.cookie(SESSION_COOKIE) {
            Some(cookie) => cookie.value().to_string(),
            None => return Ok(see_other("/login")),
        },
    };
    state.sessions.revoke(&token).await;
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/login"))
        .cookie(gone)
        .finish())
}
