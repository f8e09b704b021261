//! What every page module shares to answer: an HTML body, and a plain page with one
//! message (a refused poster, a rate limit, a page that does not exist).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// The `lang` attribute of the page's `<html>`.
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// An HTML answer.
pub fn html(status: StatusCode, page: askama::Result<String>) -> HttpResponse {
    match page {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(body),
        Err(err) => {
            tracing::error!(error = %err, "page rendering failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("服务器内部错误")
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    html_lang: &'static str,
    title: &'a str,
    text: &'a str,
}

/// A plain page with a title and one paragraph, e.g. for a replaced poster.
pub fn message_page(status: StatusCode, lang: Lang, title: &str, text: &str) -> HttpResponse {
    html(
        status,
        MessagePage {
            html_lang: lang.html_lang(),
            title,
            text,
        }
        .render(),
    )
}
