//! `multipart/form-data` bodies (a form with one file), read with limits.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use actix_web::{HttpRequest, web};
use futures_util::StreamExt;

use crate::error::AppError;

/// Largest text field of a form.
const MAX_FIELD_BYTES: usize = 8 * 1024;
/// Most parts one form may have; a form with more is not one of ours.
const MAX_PARTS: usize = 32;
/// Most parts of a form with a box per item of a list (a visit's form has one per reason
/// and one per occupant of a crowded flat).
pub const MAX_LIST_PARTS: usize = 200;
/// Room for the text fields beside the file.
const TEXT_BYTES: usize = 64 * 1024;

/// A form's text fields and its one file.
#[derive(Debug, Default)]
pub struct Form {
    /// Each text field's last value.
    pub fields: HashMap<String, String>,
    /// Every value of each text field, in order (check boxes sharing a name).
    pub lists: HashMap<String, Vec<String>>,
    pub file: Option<Vec<u8>>,
}

/// Whether the request says it carries a multipart form.
pub fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("multipart/form-data"))
}

/// Reads a form whose file is the field `file_field` and whose text fields are `fields`
/// (others are read and dropped). A file over `file_limit` bytes is `too_big()`, a second
/// file 400; a text field over 8 KiB, more than 32 parts, or text beyond 64 KiB in all is
/// 413; text must be UTF-8.
pub async fn read(
    req: &HttpRequest,
    payload: web::Payload,
    fields: &[&str],
    file_field: &str,
    file_limit: usize,
    too_big: impl Fn() -> AppError,
) -> Result<Form, AppError> {
    read_parts(
        req,
        payload,
        fields,
        (file_field, file_limit, too_big),
        MAX_PARTS,
    )
    .await
}

/// [`read`] for a form of lists, with up to `max_parts` parts.
pub async fn read_parts(
    req: &HttpRequest,
    payload: web::Payload,
    fields: &[&str],
    (file_field, file_limit, too_big): (&str, usize, impl Fn() -> AppError),
    max_parts: usize,
) -> Result<Form, AppError> {
    // The body is shared with the form reader so that what follows the form's last
    // boundary can be read too (below).
    let body = Rc::new(RefCell::new(payload.into_inner()));
    let source = body.clone();
    let stream = futures_util::stream::poll_fn(move |cx| source.borrow_mut().poll_next_unpin(cx));
    let mut parts = actix_multipart::Multipart::new(req.headers(), stream);
    let mut form = Form::default();
    let (mut count, mut text_bytes) = (0, 0);
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|_| AppError::BadRequest("表单格式不正确".into()))?;
        count += 1;
        if count > max_parts {
            return Err(AppError::PayloadTooLarge);
        }
        let name = part.name().unwrap_or("").to_string();
        let is_file = name == file_field;
        let keep = is_file || fields.contains(&name.as_str());
        let limit = if is_file { file_limit } else { MAX_FIELD_BYTES };
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest("表单读取失败".into()))?;
            if !is_file {
                text_bytes += chunk.len();
                if text_bytes > TEXT_BYTES {
                    return Err(AppError::PayloadTooLarge);
                }
            }
            if !keep {
                continue;
            }
            if bytes.len() + chunk.len() > limit {
                return Err(if is_file {
                    too_big()
                } else {
                    AppError::PayloadTooLarge
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_file {
            if form.file.is_some() {
                // One file a form: a second would be read in full only to be dropped.
                return Err(AppError::BadRequest("表单只能附一个文件".into()));
            }
            form.file = Some(bytes);
        } else if keep {
            let text = String::from_utf8(bytes)
                .map_err(|_| AppError::BadRequest("表单内容不是 UTF-8 文本".into()))?;
            form.lists
                .entry(name.clone())
                .or_default()
                .push(text.clone());
            form.fields.insert(name, text);
        }
    }
    drop(parts);
    // The form reader stops at the closing boundary; a client still sending the line end
    // after it when the answer goes out (and the connection is closed) would see its
    // upload fail. A little is read; anything longer is not a form of ours.
    let mut rest = 0;
    while let Some(chunk) =
        futures_util::future::poll_fn(|cx| body.borrow_mut().poll_next_unpin(cx)).await
    {
        rest += chunk
            .map_err(|_| AppError::BadRequest("表单读取失败".into()))?
            .len();
        if rest > MAX_FIELD_BYTES {
            return Err(AppError::PayloadTooLarge);
        }
    }
    Ok(form)
}

/// The ids sent in a form's field, as repeated fields or comma lists; none sent is empty, a
/// value that is not an id is 422 naming the field.
pub fn ids(form: &Form, field: &str) -> Result<Vec<i64>, AppError> {
    let mut ids = Vec::new();
    for value in form.lists.get(field).into_iter().flatten() {
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let id = part.parse::<i64>().map_err(|_| {
                AppError::field(crate::domain::FieldError::new(
                    field,
                    "invalid",
                    "取值不在允许范围内",
                    "Not an allowed value",
                ))
            })?;
            ids.push(id);
        }
    }
    Ok(ids)
}
