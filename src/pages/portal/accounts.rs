//! The sign-up page of a sublandlord, and the password page of every role.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::form::{Errors, id_types};
use crate::domain::FieldError;
use crate::error::AppError;
use crate::http::State;
use crate::http::limit::client_of;
use crate::pages::session::{
    PageCaller, check_csrf, csrf_token, home_of, html, see_other, with_session,
};
use crate::service;
use crate::service::accounts::sign_in;
use crate::service::sublandlords::{SignupInput, change_password, register_sublandlord};

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    form: SignupForm,
    errors: Errors,
    message: Option<String>,
    id_types: Vec<(&'static str, &'static str)>,
}

/// The sign-up form.
#[derive(Debug, Default, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    id_type: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    password: String,
}

pub(super) async fn signup_form() -> HttpResponse {
    html(
        StatusCode::OK,
        SignupPage {
            form: SignupForm {
                id_type: "resident_id".into(),
                ..SignupForm::default()
            },
            errors: Errors::default(),
            message: None,
            id_types: id_types(),
        }
        .render(),
    )
}

pub(super) async fn signup_submit(
    state: State,
    req: HttpRequest,
    form: web::Form<SignupForm>,
) -> Result<HttpResponse, AppError> {
    let mut form = form.into_inner();
    let input = SignupInput {
        name: form.name.clone(),
        phone: form.phone.clone(),
        id_type: form.id_type.clone(),
        id_number: form.id_number.clone(),
        password: form.password.clone(),
    };
    let failed = match register_sublandlord(&state, &input).await {
        Ok(_) => {
            let client = client_of(&req, &state);
            return match sign_in(&state, &client, &input.phone, input.password).await {
                Ok((token, _)) => Ok(with_session(&state, &req, token, "/my")),
                // The account is made; the login page says when signing in works again.
                Err(crate::service::Error::SessionsUnavailable) => Ok(see_other("/login?next=/my")),
                Err(e) => Err(e.into()),
            };
        }
        Err(service::Error::Conflict(message)) => (Errors::default(), Some(message)),
        Err(e) => (Errors::of(e)?, None),
    };
    form.password.clear();
    Ok(html(
        StatusCode::UNPROCESSABLE_ENTITY,
        SignupPage {
            form,
            errors: failed.0,
            message: failed.1,
            id_types: id_types(),
        }
        .render(),
    ))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    csrf: String,
    back: &'static str,
    errors: Errors,
    saved: bool,
}

/// The password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    csrf: String,
    old_password: String,
    new_password: String,
}

pub(super) async fn password_form(
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, AppError> {
    Ok(html(
        StatusCode::OK,
        PasswordPage {
            csrf: csrf_token(&caller),
            back: home_of(caller.role),
            errors: Errors::default(),
            saved: false,
        }
        .render(),
    ))
}

pub(super) async fn password_submit(
    state: State,
    PageCaller(caller): PageCaller,
    req: HttpRequest,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&caller, &form.csrf)?;
    let client = client_of(&req, &state);
    let changed = change_password(
        &state,
        &caller,
        &client,
        &form.old_password,
        &form.new_password,
    )
    .await;
    let (status, errors, saved) = match changed {
        Ok(()) => (StatusCode::OK, Errors::default(), true),
        // Too many wrong old passwords: said on the form, as a wrong one is.
        Err(service::Error::LoginLocked(_)) => (
            StatusCode::TOO_MANY_REQUESTS,
            Errors(vec![FieldError::new(
                "old_password",
                "locked",
                "原密码错误次数过多，已暂时锁定，请稍后再试",
                "Too many wrong passwords; locked for a while",
            )]),
            false,
        ),
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, Errors::of(e)?, false),
    };
    Ok(html(
        status,
        PasswordPage {
            csrf: csrf_token(&caller),
            back: home_of(caller.role),
            errors,
            saved,
        }
        .render(),
    ))
}
