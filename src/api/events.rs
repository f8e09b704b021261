//! The event feed for other departments' systems: `GET /api/v1/events`, polled with a
//! cursor.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::feed::FeedQuery;
use crate::error::AppError;
use crate::http::State;
use crate::http::auth::bearer;
use crate::service::{self, Caller};

/// Registers the feed route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/events", web::get().to(feed));
}

/// The caller of the feed: any signed-in account, `integration` ones included (every
/// other route refuses those); the service decides who may read.
pub struct FeedReader(Caller);

impl FromRequest for FeedReader {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<State>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            let token = token.ok_or(AppError::Unauthorized)?;
            Ok(FeedReader(Caller::for_feed(&state, token).await?))
        })
    }
}

/// Where to start, which types, how many.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The `cursor` of the previous answer; absent: from the first event.
    pub after: Option<String>,
    /// Comma-separated event types (`door_check.opened`, `visit.recorded`, `case.opened`,
    /// `case.decided`, `tip.received`); absent: every type.
    pub types: Option<String>,
    /// Events per answer, 1 to 1000 (default 100).
    pub limit: Option<String>,
}

/// One event.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedItem {
    pub id: i64,
    /// The event type, e.g. `visit.recorded`.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: &'static str,
    /// RFC 3339, UTC, milliseconds.
    pub occurred_at: String,
    /// What happened: ids, codes, the address, the community; never personal documents.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedAnswer {
    /// In commit order; empty when nothing new has committed.
    pub items: Vec<FeedItem>,
    /// The `after` of the next request (the same as this one's when nothing was new).
    pub cursor: String,
}

/// Events of the caller's communities in commit order after a cursor: polled with the
/// cursor each answer gives, a system sees every committed event exactly once (an
/// `integration` account: its communities; an admin: all). Reminders and digests to
/// people are not in the feed.
#[utoipa::path(get, path = "/api/v1/events", tag = "staff", params(EventsQuery),
    responses((status = 200, body = FeedAnswer),
        (status = 400, description = "A malformed cursor, an unknown type or a limit out of range",
            body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, description = "A role other than admin or integration",
            body = crate::error::ErrorBody),
        (status = 503, description = "Sessions cannot be checked now", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn feed(
    state: State,
    FeedReader(caller): FeedReader,
    q: web::Query<EventsQuery>,
) -> Result<HttpResponse, AppError> {
    let query = FeedQuery::parse(q.after.as_deref(), q.types.as_deref(), q.limit.as_deref())
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let page = service::feed::read(&state, &caller, &query).await?;
    let items = page
        .events
        .into_iter()
        .map(|e| FeedItem {
            id: e.id,
            kind: e.kind.as_str(),
            occurred_at: crate::store::instant(e.occurred_at)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            data: e.data,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(FeedAnswer {
            items,
            cursor: page.next.encode(),
        }))
}
