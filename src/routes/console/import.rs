//! The upload page of the bulk unit import: the same import as `renfang import units`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{Chrome, page_or_error, staff};
use crate::domain::import::MAX_BYTES;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::routes::State;
use crate::routes::import::{ImportReport, run};
use crate::routes::multipart;
use crate::routes::pages::{check_csrf, html};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/import", web::get().to(form_page))
        .route("/console/import", web::post().to(upload));
}

#[derive(Template)]
#[template(path = "console_import.html")]
struct ImportPage {
    chrome: Chrome,
    report: Option<ImportReport>,
    error: Option<String>,
}

async fn form_page(state: State, req: HttpRequest) -> HttpResponse {
    let caller = match staff(&req, &state, Role::manages_units).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let page = ImportPage {
        chrome: Chrome::new(&caller, "/console/import"),
        report: None,
        error: None,
    };
    html(StatusCode::OK, page.render())
}

async fn upload(state: State, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    let caller = match staff(&req, &state, Role::manages_units).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
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
        let (status, report, error) = match run(&state, &caller, &file, dry_run).await {
            Ok(report) => (StatusCode::OK, Some(report), None),
            Err(AppError::InvalidFile(message)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, None, Some(message))
            }
            Err(other) => return Err(other),
        };
        let page = ImportPage {
            chrome: Chrome::new(&caller, "/console/import"),
            report,
            error,
        };
        Ok(html(status, page.render()))
    }
    .await;
    page_or_error(&caller, result)
}
