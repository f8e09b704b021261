//! The rate limits of the public routes, as a middleware: requests per client address on
//! every route that needs no login, submissions per poster, and poster look-ups that match
//! nothing (token guessing) per client address.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};

use super::State;
use crate::error::AppError;
use crate::limits::{Counter, Exceeded, Take};

/// A public route, as far as limits are concerned.
#[derive(Debug, PartialEq, Eq)]
struct Public<'a> {
    /// The poster token in the path, for poster routes.
    token: Option<&'a str>,
    /// Whether the request submits something through the poster.
    submits: bool,
    /// Whether refusals are pages (for people) rather than JSON.
    page: bool,
}

fn classify<'a>(method: &Method, path: &'a str) -> Option<Public<'a>> {
    let post = method == Method::POST;
    if let Some(rest) = path.strip_prefix("/q/") {
        return Some(Public {
            token: Some(rest.split('/').next().unwrap_or_default()),
            submits: post,
            page: true,
        });
    }
    if let Some(rest) = path.strip_prefix("/api/v1/scan/") {
        return Some(Public {
            token: Some(rest.split('/').next().unwrap_or_default()),
            submits: post,
            page: false,
        });
    }
    let page = match path {
        "/tip" | "/login" => true,
        "/api/v1/login" | "/api/v1/tips" if post => false,
        _ => return None,
    };
    Some(Public {
        token: None,
        submits: false,
        page,
    })
}

/// Counts public requests and refuses with 429 (and `Retry-After`) past a limit.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<State>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let path = req.path().to_string();
    let Some(public) = classify(req.method(), &path) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let client = match req.peer_addr() {
        Some(peer) => {
            let forwarded = req
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok());
            state
                .settings
                .trusted_proxies
                .client_ip(peer.ip(), forwarded)
                .to_string()
        }
        None => "unknown".to_string(),
    };
    let mut takes = vec![Take {
        counter: Counter::ClientIp,
        key: &client,
        add: 1,
    }];
    if let Some(token) = public.token {
        takes.push(Take {
            counter: Counter::TokenMiss,
            key: &client,
            add: 0,
        });
        if public.submits {
            takes.push(Take {
                counter: Counter::PosterToken,
                key: token,
                add: 1,
            });
        }
    }
    if let Err(exceeded) = state.limiter.check(&takes).await {
        tracing::info!(limit = ?exceeded.counter, "rate limited");
        let response = too_many(exceeded, public.page);
        return Ok(req.into_response(response));
    }
    let res = next.call(req).await?;
    if public.token.is_some() && res.status() == StatusCode::NOT_FOUND {
        let miss = [Take {
            counter: Counter::TokenMiss,
            key: &client,
            add: 1,
        }];
        // Only the count matters here; the refusal comes with the next guess.
        let _ = state.limiter.check(&miss).await;
    }
    Ok(res.map_into_boxed_body())
}

fn too_many(exceeded: Exceeded, page: bool) -> HttpResponse {
    let seconds = exceeded.retry_after.as_secs().max(1);
    let mut response = if page {
        let minutes = seconds.div_ceil(60);
        super::scan_page::message_page(
            StatusCode::TOO_MANY_REQUESTS,
            super::scan_page::Lang::Zh,
            "请求过于频繁",
            &format!("您的操作过于频繁，请约 {minutes} 分钟后再试。已提交成功的登记不受影响。"),
        )
    } else {
        AppError::TooManyRequests.error_response()
    };
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_routes_are_told_apart_from_the_rest() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(
            classify(&get, "/q/abc"),
            Some(Public {
                token: Some("abc"),
                submits: false,
                page: true
            })
        );
        assert_eq!(
            classify(&post, "/api/v1/scan/abc/registrations"),
            Some(Public {
                token: Some("abc"),
                submits: true,
                page: false
            })
        );
        assert!(classify(&post, "/api/v1/tips").is_some());
        assert!(classify(&post, "/api/v1/login").is_some());
        assert!(classify(&get, "/tip").is_some());
        // Staff reading tips, and everything behind a login, is not limited here.
        assert_eq!(classify(&get, "/api/v1/tips"), None);
        assert_eq!(classify(&get, "/api/v1/units"), None);
        assert_eq!(classify(&get, "/healthz"), None);
    }
}
