//! The outbox page (admins): messages to other systems per destination and state, the
//! newest failing or given-up ones, and "retry now" per message or destination.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, admit, page_or_error};
use crate::domain::event::{ChannelKind, EventType};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::http::State;
use crate::pages::session::{Detour, PageCaller, check_csrf, html, see_other};
use crate::service;
use crate::store::outbox::Counts;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/outbox", web::get().to(outbox_page))
        .route("/console/outbox/retry", web::post().to(retry));
}

#[derive(Template)]
#[template(path = "console_outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    destinations: Vec<Counts>,
    failing: Vec<Row>,
}

/// A failing or dead message as the page shows it.
struct Row {
    id: i64,
    destination: String,
    kind: String,
    state: &'static str,
    created: String,
    attempts: i64,
    error: String,
    next: String,
}

async fn outbox_page(state: State, PageCaller(caller): PageCaller) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_admin)?;
    let result = async {
        let overview = service::outbox::overview(&state, &caller).await?;
        let tz = state.settings.tz;
        let page = OutboxPage {
            chrome: Chrome::new(&caller, "/console/outbox"),
            destinations: overview
                .destinations
                .into_iter()
                .map(|mut d| {
                    // The kind's Chinese name (none for a destination no longer configured).
                    d.kind = ChannelKind::parse(&d.kind)
                        .map(|k| k.label_zh().to_string())
                        .unwrap_or_default();
                    d
                })
                .collect(),
            failing: overview
                .failing
                .into_iter()
                .map(|m| {
                    let dead = m.state == "dead";
                    Row {
                        id: m.id,
                        destination: m.destination,
                        kind: EventType::parse(&m.event_type)
                            .map(|k| k.label_zh().to_string())
                            .unwrap_or(m.event_type),
                        state: if dead { "已放弃" } else { "重试中" },
                        created: crate::display::local_time(tz, m.created_at),
                        attempts: m.attempts,
                        error: m.last_error.unwrap_or_default(),
                        next: if dead {
                            "—".into()
                        } else {
                            crate::display::local_time(tz, m.next_attempt_at)
                        },
                    }
                })
                .collect(),
        };
        Ok::<_, AppError>(html(StatusCode::OK, page.render()))
    }
    .await;
    Ok(page_or_error(&caller, result))
}

/// The retry form: one message, or every failing message of a destination.
#[derive(Debug, Deserialize)]
struct RetryForm {
    csrf: String,
    message: Option<i64>,
    destination: Option<String>,
}

async fn retry(
    state: State,
    form: web::Form<RetryForm>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_admin)?;
    let result = async {
        check_csrf(&caller, &form.csrf)?;
        match (form.message, form.destination.as_deref()) {
            (Some(id), _) => {
                service::outbox::retry_message(&state, &caller, id).await?;
            }
            (None, Some(name)) if !name.is_empty() => {
                service::outbox::retry_destination(&state, &caller, name).await?;
            }
            _ => return Err(AppError::NotFound),
        }
        Ok(see_other("/console/outbox"))
    }
    .await;
    Ok(page_or_error(&caller, result))
}
