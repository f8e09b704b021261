//! The rate limits of the public routes, as a middleware: requests per client address on
//! every route that needs no login, submissions per poster and client address, and poster
//! look-ups that match nothing (token guessing) per client address.
//!
//! Routes are told apart on the percent-decoded path, as the router matches them, so an
//! encoded path cannot slip past. Guesses are counted when they miss; a burst of guesses
//! sent at the same moment is bounded by the per-address request limit, which is counted
//! before each request runs, and the address is refused once the misses are in.

use std::borrow::Cow;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};

use crate::domain::token::{QrToken, SelfServiceToken};
use crate::error::AppError;
use crate::http::State;
use crate::limits::{Counter, Exceeded, Take};

/// A public route, as far as limits are concerned.
#[derive(Debug, PartialEq, Eq)]
struct Public<'a> {
    /// The poster token in the path, for poster routes (`Some("")` when malformed, and for
    /// the look-up of a tip by its reference, whose misses count as guesses too).
    token: Option<&'a str>,
    /// Whether the request may name a poster elsewhere (a tip's `token` field), so a
    /// guess is refused once the address has too many.
    names_poster: bool,
    /// Whether the request submits something through the poster.
    submits: bool,
    /// Whether the request is an anonymous tip.
    tip: bool,
    /// Whether refusals are pages (for people) rather than JSON.
    page: bool,
}

/// Marks a request whose poster token (outside the path) matched nothing.
#[derive(Debug, Clone, Copy)]
struct GuessedToken;

/// Records that the poster a request named does not exist: the middleware counts it as a
/// guess of the client's.
pub fn mark_guess(req: &HttpRequest) {
    req.extensions_mut().insert(GuessedToken);
}

/// The path with `%XX` escapes decoded, as the router sees it.
fn decoded(path: &str) -> Cow<'_, str> {
    if !path.contains('%') {
        return Cow::Borrowed(path);
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn classify<'a>(method: &Method, path: &'a str) -> Option<Public<'a>> {
    let post = method == Method::POST;
    let poster = |rest: &'a str, page| {
        let token = rest.split('/').next().unwrap_or_default();
        Some(Public {
            // Anything that is not a token's shape is counted under one key.
            token: Some(if QrToken::parse(token).is_some() {
                token
            } else {
                ""
            }),
            names_poster: false,
            submits: post,
            tip: false,
            page,
        })
    };
    if let Some(rest) = path.strip_prefix("/q/") {
        return poster(rest, true);
    }
    // A tenant's self-service link: counted like a poster, under its receipt number (the
    // part of the link that is no secret), so wrong links count as guesses.
    let link = |rest: &'a str, page| {
        let token = rest.split('/').next().unwrap_or_default();
        Some(Public {
            token: Some(match SelfServiceToken::parse(token) {
                Some(_) => token.split('.').next().unwrap_or_default(),
                None => "",
            }),
            names_poster: false,
            submits: post,
            tip: false,
            page,
        })
    };
    if let Some(rest) = path.strip_prefix("/me/") {
        return link(rest, true);
    }
    if let Some(rest) = path.strip_prefix("/api/v1/me/") {
        return link(rest, false);
    }
    if let Some(rest) = path.strip_prefix("/api/v1/scan/") {
        return poster(rest, false);
    }
    // A tip's reference number: sequential, so its look-up is counted per address, and a
    // reference that names nothing counts as a guess, like a wrong poster or link.
    let reference = |page| {
        Some(Public {
            token: Some(""),
            names_poster: false,
            submits: false,
            tip: false,
            page,
        })
    };
    if path == "/tip/status" {
        return reference(true);
    }
    if path.starts_with("/api/v1/tips/by-reference/") {
        return reference(false);
    }
    let (page, names_poster) = match path {
        "/tip" => (true, post),
        "/api/v1/tips" if post => (false, true),
        "/login" | "/sublandlord/register" => (true, false),
        "/api/v1/login" | "/api/v1/sublandlords" if post => (false, false),
        _ => return None,
    };
    Some(Public {
        token: None,
        names_poster,
        submits: false,
        // A tip names a poster exactly when it is posted.
        tip: names_poster,
        page,
    })
}

/// What a request's client address is counted under (see [`crate::limits::client_key`]):
/// the peer, or behind a trusted proxy the address it forwards.
pub fn client_of(req: &HttpRequest, state: &State) -> String {
    let Some(peer) = req.peer_addr() else {
        return "unknown".to_string();
    };
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>();
    let ip = state
        .settings
        .trusted_proxies
        .client_ip(peer.ip(), forwarded.into_iter());
    crate::limits::client_key(ip)
}

/// Counts public requests and refuses with 429 (and `Retry-After`) past a limit.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<State>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let path = decoded(req.path()).into_owned();
    let Some(public) = classify(req.method(), &path) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let client = client_of(req.request(), &state);
    let mut takes = vec![Take {
        counter: Counter::ClientIp,
        key: &client,
        add: 1,
    }];
    if public.token.is_some() || public.names_poster {
        // Refused once the address has used up its guesses; counted below, on a miss.
        takes.push(Take {
            counter: Counter::TokenMiss,
            key: &client,
            add: 0,
        });
    }
    let poster_key = public.token.map(|t| format!("{t} {client}"));
    if let (Some(key), true) = (&poster_key, public.submits) {
        takes.push(Take {
            counter: Counter::PosterToken,
            key,
            add: 1,
        });
    }
    if public.tip {
        // Counted before the tip is read, so a burst sent at once cannot pass the limit.
        takes.push(Take {
            counter: Counter::Tip,
            key: &client,
            add: 1,
        });
    }
    if let Err(exceeded) = state.limiter.check(&takes).await {
        tracing::info!(limit = ?exceeded.counter, "rate limited");
        let response = too_many(exceeded, public.page);
        return Ok(req.into_response(response));
    }
    let res = next.call(req).await?;
    let missed = (public.token.is_some() && res.status() == StatusCode::NOT_FOUND)
        || (public.names_poster && res.request().extensions().get::<GuessedToken>().is_some());
    if missed {
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
        let text = match exceeded.counter {
            Counter::Tip => format!(
                "一小时内从您的网络提交的举报已达上限，请约 {minutes} 分钟后再试。已提交的举报不受影响。"
            ),
            _ => format!("您的操作过于频繁，请约 {minutes} 分钟后再试。已提交成功的登记不受影响。"),
        };
        crate::http::render::message_page(
            StatusCode::TOO_MANY_REQUESTS,
            crate::http::render::Lang::Zh,
            "请求过于频繁",
            &text,
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
        let token = QrToken::generate();
        let token = token.as_ref();
        assert_eq!(
            classify(&get, &format!("/q/{token}")),
            Some(Public {
                token: Some(token),
                names_poster: false,
                submits: false,
                tip: false,
                page: true
            })
        );
        assert_eq!(
            classify(&post, &format!("/api/v1/scan/{token}/registrations")),
            Some(Public {
                token: Some(token),
                names_poster: false,
                submits: true,
                tip: false,
                page: false
            })
        );
        // Malformed tokens all count under one key.
        assert_eq!(classify(&get, "/q/abc").unwrap().token, Some(""));
        assert!(classify(&post, "/api/v1/tips").unwrap().names_poster);
        assert!(classify(&post, "/api/v1/tips").unwrap().tip);
        assert!(classify(&post, "/tip").unwrap().tip);
        assert!(!classify(&get, "/tip").unwrap().tip);
        assert!(classify(&post, "/api/v1/sublandlords").is_some());
        assert!(classify(&get, "/sublandlord/register").is_some());
        assert!(classify(&post, "/api/v1/tips").is_some());
        assert!(classify(&post, "/api/v1/login").is_some());
        assert!(classify(&get, "/tip").is_some());
        // A self-service link counts under its receipt number, never its secret tag.
        let link = "RF261205-ABCDEFGH.AAAAAAAAAAAAAAAAAAAAAA";
        let path = format!("/api/v1/me/{link}/confirm");
        let me = classify(&post, &path).unwrap();
        assert_eq!((me.token, me.submits), (Some("RF261205-ABCDEFGH"), true));
        assert_eq!(classify(&get, "/me/RF1.short").unwrap().token, Some(""));
        assert!(classify(&get, &format!("/me/{link}")).unwrap().page);
        // A tip's status by its reference is public, and a miss is a guess.
        let status = classify(&get, "/tip/status").unwrap();
        assert_eq!(
            (status.token, status.page, status.tip),
            (Some(""), true, false)
        );
        let api = classify(&get, "/api/v1/tips/by-reference/TIP-20261204-0042").unwrap();
        assert_eq!((api.token, api.page, api.submits), (Some(""), false, false));
        // Staff reading tips, and everything behind a login, is not limited here.
        assert_eq!(classify(&get, "/api/v1/tips"), None);
        assert_eq!(classify(&get, "/api/v1/tips/7"), None);
        assert_eq!(classify(&get, "/api/v1/units"), None);
        assert_eq!(classify(&get, "/healthz"), None);
    }

    #[test]
    fn paths_are_classified_as_the_router_decodes_them() {
        assert_eq!(decoded("/%71/abc"), "/q/abc");
        assert_eq!(decoded("/logi%6E"), "/login");
        assert_eq!(decoded("/api/v1/%73can/x"), "/api/v1/scan/x");
        // Broken escapes stay as they are.
        assert_eq!(decoded("/q/%zz%4"), "/q/%zz%4");
        assert!(classify(&Method::POST, &decoded("/api/v1/%74ips")).is_some());
    }
}
