//! The JSON body extractor: content type, size limit, and errors that name the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::domain::FieldError;
use crate::error::AppError;

/// Largest JSON body accepted (documented in the README): 64 KiB holds 20 occupants many
/// times over.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body parsed into `T`, with its raw bytes (for idempotency fingerprints).
pub struct ApiJson<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json {
                return Err(AppError::UnsupportedMediaType);
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk =
                    chunk.map_err(|_| AppError::BadRequest("请求体读取失败".to_string()))?;
                if body.len() + chunk.len() > BODY_LIMIT {
                    return Err(AppError::PayloadTooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            let raw = body.freeze();
            let value = parse(&raw)?;
            Ok(ApiJson { value, raw })
        })
    }
}

/// Parses JSON: broken syntax or encoding is 400; wrong shapes, types and unknown fields
/// are 422 naming the field.
pub fn parse<T: DeserializeOwned>(raw: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(raw);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let inner = err.inner();
        if !inner.is_data() {
            return not_json();
        }
        let message = inner.to_string();
        let path = err.path().to_string();
        // The path already ends in an unknown field's name, but not in a missing one's.
        let (field, code, zh) = if message.starts_with("unknown field `") {
            (path, "unknown_field", "不接受此字段")
        } else if let Some(name) = quoted_after(&message, "missing field `") {
            (join(&path, name), "required", "缺少必填字段")
        } else {
            (path, "invalid", "字段类型或取值不正确")
        };
        AppError::field(FieldError::new(field, code, zh, "invalid field"))
    })?;
    de.end().map_err(|_| not_json())?;
    Ok(value)
}

fn not_json() -> AppError {
    AppError::BadRequest("请求体不是有效的 UTF-8 JSON".to_string())
}

fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next()
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() || path == "." {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        items: Vec<Inner>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    fn field_of(err: AppError) -> (String, &'static str) {
        match err {
            AppError::Validation(f) => (f[0].field.clone(), f[0].code),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn an_unknown_nested_field_is_named() {
        let err = parse::<Outer>(br#"{"items":[{"name":"a","x":1}]}"#).unwrap_err();
        assert_eq!(field_of(err), ("items[0].x".to_string(), "unknown_field"));
    }

    #[test]
    fn a_missing_field_is_named() {
        let err = parse::<Outer>(br#"{"items":[{}]}"#).unwrap_err();
        assert_eq!(field_of(err), ("items[0].name".to_string(), "required"));
    }

    #[test]
    fn broken_json_and_trailing_garbage_are_bad_requests() {
        assert!(matches!(
            parse::<Outer>(b"{\"items\":"),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse::<Outer>(br#"{"items":[]} x"#),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse::<Outer>(b"{\"items\":[{\"name\":\"\xff\"}]}"),
            Err(AppError::BadRequest(_))
        ));
    }
}

/// The id of a created record.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: i64,
}
