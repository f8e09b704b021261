//! `Idempotency-Key` on staff posts: an officer's phone that sends a queued result again,
//! after a lost answer, gets the first answer back and changes nothing.
//!
//! One middleware serves the police pages' forms and the door-check routes of the API. The
//! key belongs to the signed-in account (read as the route's own extractor reads it): the
//! first request claims it, runs, and its answer is stored; a repeat for the same route gets
//! that answer with `Idempotent-Replay: true`; a repeat while the first still runs is 409
//! `in_progress`; the key sent to another route is 422. Without the header, or without a
//! session (the route itself answers 401 or the login page), nothing changes. A server
//! error, a refused login or form token (401, 403) or a rate limit is not kept: the retry
//! runs again.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, LOCATION};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};

use crate::domain::FieldError;
use crate::error::AppError;
use crate::http::State;
use crate::service::Caller;
use crate::store::idempotency::{self, Answer, Claim};

/// The longest answer body kept for a replay; a longer one is replayed without its body.
pub const MAX_BODY: usize = 16 * 1024;

/// The `Idempotency-Key` header, if sent: 1 to 128 visible ASCII characters, else 400.
pub fn key(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(v) if (1..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(v.to_string()))
        }
        _ => Err(AppError::BadRequest(
            "Idempotency-Key 应为 1 到 128 个可见 ASCII 字符".into(),
        )),
    }
}

/// Whether a post to `path` takes part: the police pages' forms (but not the reveal of a
/// document number, whose answer must never be stored) and a door check's result and
/// assignment in the API.
pub fn covered(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["police", _, .., last] => *last != "reveal",
        ["api", "v1", "door-checks", _, "result" | "assign"] => true,
        _ => false,
    }
}

/// The middleware; see the module's description.
pub async fn replay(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() != actix_web::http::Method::POST || !covered(req.path()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let key = match key(req.request()) {
        Ok(Some(key)) => key,
        Ok(None) => return Ok(next.call(req).await?.map_into_boxed_body()),
        Err(err) => return Ok(req.error_response(err)),
    };
    let caller = match (
        req.app_data::<State>().cloned(),
        crate::http::auth::session_token(req.request()),
    ) {
        (Some(state), Some(token)) => Caller::from_token(&state, token)
            .await
            .ok()
            .map(|caller| (state, caller.user_id)),
        _ => None,
    };
    let Some((state, user_id)) = caller else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let route = format!("POST {}", req.path());
    let now = crate::store::millis(state.now());
    let claim = idempotency::claim(&state.store, user_id, &key, &route, now)
        .await
        .map_err(store_error)?;
    match claim {
        Claim::Claimed => {
            let answered = next.call(req).await;
            let res = match answered {
                Ok(res) if settled(res.status()) => res,
                other => {
                    // Not an answer to the request itself (the server failed, the session
                    // or its form token was refused, too many requests): the key is given
                    // up, so the phone's retry, after a new login if need be, runs.
                    idempotency::release(&state.store, user_id, &key)
                        .await
                        .map_err(store_error)?;
                    return other.map(ServiceResponse::map_into_boxed_body);
                }
            };
            let (req, res) = res.into_parts();
            let (head, body) = res.into_parts();
            let bytes = actix_web::body::to_bytes(body).await.map_err(|e| {
                let e: Box<dyn std::error::Error> = e.into();
                actix_web::error::ErrorInternalServerError(e.to_string())
            })?;
            let header = |name| {
                head.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let answer = Answer {
                status: i64::from(head.status().as_u16()),
                location: header(LOCATION),
                content_type: header(CONTENT_TYPE),
                body: (bytes.len() <= MAX_BODY).then(|| bytes.to_vec()),
            };
            idempotency::finish(&state.store, user_id, &key, answer)
                .await
                .map_err(store_error)?;
            Ok(ServiceResponse::new(
                req,
                head.set_body(bytes).map_into_boxed_body(),
            ))
        }
        Claim::Answered(answer) => Ok(req.into_response(replayed(answer))),
        Claim::Running => Ok(
            req.into_response(HttpResponse::Conflict().json(serde_json::json!({
                "error": "in_progress",
                "message": "同一请求正在处理，请稍后再试",
            }))),
        ),
        Claim::OtherRoute => Ok(req.error_response(AppError::field(FieldError::new(
            "Idempotency-Key",
            "reused",
            "这个 Idempotency-Key 已用于另一个请求",
            "this Idempotency-Key was used for another request",
        )))),
    }
}

/// Whether an answer settles the request for good and is kept for its key.
fn settled(status: StatusCode) -> bool {
    !(status.is_server_error()
        || matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
        ))
}

/// The first answer again, marked as a replay.
fn replayed(answer: Answer) -> HttpResponse {
    let status = u16::try_from(answer.status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    res.insert_header(("Idempotent-Replay", "true"));
    if let Some(location) = answer.location {
        res.insert_header((LOCATION, location));
    }
    if let Some(content_type) = answer.content_type {
        res.insert_header((CONTENT_TYPE, content_type));
    }
    res.body(answer.body.unwrap_or_default())
}

fn store_error(err: crate::store::StoreError) -> actix_web::Error {
    AppError::from(crate::service::Error::from(err)).into()
}

#[cfg(test)]
mod tests {
    use super::covered;

    #[test]
    fn the_police_forms_and_the_door_check_posts_are_covered_but_not_a_reveal() {
        assert!(covered("/police/checks/7/result"));
        assert!(covered("/police/units/7/result"));
        assert!(covered("/police/checks/7/take"));
        assert!(covered("/api/v1/door-checks/7/result"));
        assert!(covered("/api/v1/door-checks/7/assign"));
        assert!(!covered("/police/occupants/7/reveal"));
        assert!(!covered("/api/v1/scan/abc/registrations"));
        assert!(!covered("/logout"));
        assert!(!covered("/police"));
    }
}
