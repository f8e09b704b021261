//! An officer's day: the open checks given to them in walking order, printable on A4, and
//! taking a check from the queue for oneself.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::error::AppError;
use crate::http::State;
use crate::pages::offline::keepable;
use crate::pages::police::reason_label;
use crate::pages::session::{PageCaller, check_csrf, csrf_token, html, see_other};
use crate::service;
use crate::service::assignment::AssignBody;
use crate::service::door_checks::QueueItemOut;

/// Registers the officer's own list and the form that takes a check.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/police/mine", web::get().to(mine_page))
        .route("/police/checks/{id}/take", web::post().to(take));
}

/// One stop of the walk.
struct Stop {
    item: QueueItemOut,
    reason_label: &'static str,
}

#[derive(Template)]
#[template(path = "police_mine.html")]
struct MinePage {
    csrf: String,
    stops: Vec<Stop>,
    /// Today, local, for the printed sheet.
    today: String,
}

async fn mine_page(state: State, PageCaller(caller): PageCaller) -> Result<HttpResponse, AppError> {
    let items = service::assignment::mine(&state, &caller).await?;
    let stops = items
        .into_iter()
        .map(|item| Stop {
            reason_label: reason_label(&item.reason),
            item,
        })
        .collect();
    let page = MinePage {
        csrf: csrf_token(&caller),
        stops,
        today: state.today().format("%Y-%m-%d").to_string(),
    };
    Ok(keepable(html(StatusCode::OK, page.render()), &caller))
}

/// The form's token.
#[derive(Debug, Deserialize)]
pub struct TakeForm {
    csrf: String,
}

/// Gives the check to the officer who pressed 领取, then shows their list.
async fn take(
    state: State,
    PageCaller(caller): PageCaller,
    id: web::Path<i64>,
    form: web::Form<TakeForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&caller, &form.csrf)?;
    let body = AssignBody {
        user_id: Some(caller.user_id),
        ..AssignBody::default()
    };
    service::assignment::assign(&state, &caller, id.into_inner(), &body).await?;
    Ok(see_other("/police/mine"))
}
