//! The upload page of the bulk unit import: the same import as `renfang import units`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{Chrome, admit, page_or_error};
use crate::domain::import::MAX_BYTES;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::http::State;
use crate::http::multipart;
use crate::pages::session::{Detour, PageCaller, check_csrf, html};
use crate::service::{self, imports::ImportReport};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/import", web::get().to(form_page))
        .route("/console/import", web::post().to(upload))
        .route("/console/import/template.csv", web::get().to(template));
}

/// The template of an import file, the same as the API's.
async fn template(state: State, PageCaller(caller): PageCaller) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::manages_units)?;
    let result = service::imports::template(&state, &caller)
        .await
        .map(crate::http::download::import_template)
        .map_err(AppError::from);
    Ok(page_or_error(&caller, result))
}

#[derive(Template)]
#[template(path = "console_import.html")]
struct ImportPage {
    chrome: Chrome,
    report: Option<ImportReport>,
    error: Option<String>,
}

async fn form_page(PageCaller(caller): PageCaller) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::manages_units)?;
    let page = ImportPage {
        chrome: Chrome::new(&caller, "/console/import"),
        report: None,
        error: None,
    };
    Ok(html(StatusCode::OK, page.render()))
}

async fn upload(
    state: State,
    req: HttpRequest,
    PageCaller(caller): PageCaller,
    payload: web::Payload,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::manages_units)?;
    let result = async {
        if !multipart::is_multipart(&req) {
            return Err(AppError::UnsupportedMediaType);
        }
        let form = multipart::read(
            &req,
            payload,
            &["csrf", "dry_run"],
            "file",
            MAX_BYTES,
            || AppError::InvalidFile("文件过大（最多 32 MB）".into()),
        )
        .await?;
        check_csrf(&caller, form.fields.get("csrf").map_or("", String::as_str))?;
        let dry_run = form.fields.get("dry_run").is_some_and(|v| v == "1");
        let file = form.file.unwrap_or_default();
        let (status, report, error) =
            match service::imports::units(&state, &caller, &file, dry_run).await {
                Ok(report) => (StatusCode::OK, Some(report), None),
                Err(service::Error::InvalidFile(message)) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, None, Some(message))
                }
                Err(other) => return Err(other.into()),
            };
        let page = ImportPage {
            chrome: Chrome::new(&caller, "/console/import"),
            report,
            error,
        };
        Ok(html(status, page.render()))
    }
    .await;
    Ok(page_or_error(&caller, result))
}
