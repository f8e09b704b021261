//! The application-wide error: each variant documents its status code and JSON body.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::FieldError;

/// Every failure a route can answer with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the body is not JSON, or not the declared encoding.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no session, or a bad one.
    #[error("请先登录")]
    Unauthorized,
    /// 403: the role may not do this.
    #[error("无权进行此操作")]
    Forbidden,
    /// 404: no such record, or one outside the caller's scope.
    #[error("未找到")]
    NotFound,
    /// 409: the request conflicts with stored data.
    #[error("{0}")]
    Conflict(String),
    /// 409: a poster registration names a document number that is current in the unit
    /// under another name: the occupant's place in the request, and the sentence.
    #[error("{1}")]
    NameMismatch(usize, String),
    /// 410: the record existed and was replaced (a rotated poster).
    #[error("{0}")]
    Gone(String),
    /// 413: the body is larger than the documented limit.
    #[error("请求内容过大")]
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    #[error("请求内容类型应为 application/json")]
    UnsupportedMediaType,
    /// 422: fields failed their checks.
    #[error("提交的内容有误，请检查标出的字段")]
    Validation(Vec<FieldError>),
    /// 422: an uploaded file cannot be read (encoding, columns, size).
    #[error("{0}")]
    InvalidFile(String),
    /// 422: a poster cannot show some characters of the unit's data.
    #[error("{0}")]
    Unprintable(String),
    /// 429: slow down.
    #[error("请求过于频繁，请稍后再试")]
    TooManyRequests,
    /// 429: the tip photos stored for this client address today reached their bound; the
    /// seconds until the next day's allowance.
    #[error("今天从您的网络上传的举报照片已达上限，请明天再试；不带照片的举报仍可提交")]
    PhotoAllowance(u64),
    /// 429: too many wrong passwords for this account; it is locked for a while.
    #[error("密码错误次数过多，账号已暂时锁定，请 {0} 分钟后再试")]
    LoginLocked(u64),
    /// 503: sessions are kept in Redis and this instance has not reached it since it
    /// started; posters and registrations work meanwhile.
    #[error("登录服务暂时不可用：正在连接会话存储（Redis），请稍后再试。扫码登记不受影响。")]
    SessionsUnavailable,
    /// 503: a dependency is down; nothing was changed.
    #[error("服务暂时不可用，请稍后再试")]
    Unavailable,
    /// 500: logged with its chain; the client sees a generic message.
    #[error("服务器内部错误")]
    Internal(#[from] anyhow::Error),
}

impl From<crate::service::Error> for AppError {
    fn from(err: crate::service::Error) -> Self {
        use crate::service::Error as E;
        match err {
            E::Unauthorized => AppError::Unauthorized,
            E::Forbidden => AppError::Forbidden,
            E::NotFound => AppError::NotFound,
            E::Conflict(message) => AppError::Conflict(message),
            E::NameMismatch(i, message) => AppError::NameMismatch(i, message),
            E::Gone(message) => AppError::Gone(message),
            E::Validation(fields) => AppError::Validation(fields),
            E::InvalidFile(message) => AppError::InvalidFile(message),
            E::Unprintable(message) => AppError::Unprintable(message),
            E::PhotoAllowance(seconds) => AppError::PhotoAllowance(seconds),
            E::LoginLocked(minutes) => AppError::LoginLocked(minutes),
            E::SessionsUnavailable => AppError::SessionsUnavailable,
            E::Internal(err) => AppError::Internal(err),
        }
    }
}

impl AppError {
    /// One field error as a 422.
    pub fn field(error: FieldError) -> Self {
        AppError::Validation(vec![error])
    }

    /// The stable machine-readable code of the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::NameMismatch(..) => "name_mismatch",
            AppError::Gone(_) => "gone",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::Validation(_) => "validation",
            AppError::InvalidFile(_) => "invalid_file",
            AppError::Unprintable(_) => "unprintable",
            AppError::TooManyRequests => "too_many_requests",
            AppError::PhotoAllowance(_) => "photo_allowance",
            AppError::LoginLocked(_) => "login_locked",
            AppError::SessionsUnavailable => "sessions_unavailable",
            AppError::Unavailable => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }
}

/// The JSON error body of the contract.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Machine-readable code.
    pub error: &'static str,
    /// Plain Chinese text for people.
    pub message: String,
    /// On 422: each rejected field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldErrorBody>>,
}

/// One rejected field in an [`ErrorBody`].
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldErrorBody {
    /// Path of the field, e.g. `occupants[0].id_number`.
    pub field: String,
    /// Machine-readable reason.
    pub code: &'static str,
    /// Plain Chinese text.
    pub message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) | AppError::NameMismatch(..) => StatusCode::CONFLICT,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Validation(_) | AppError::InvalidFile(_) | AppError::Unprintable(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::TooManyRequests | AppError::PhotoAllowance(_) | AppError::LoginLocked(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Unavailable | AppError::SessionsUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(err) = self {
            tracing::error!(error = format!("{err:#}"), "internal error");
        }
        let fields = match self {
            AppError::Validation(fields) => Some(
                fields
                    .iter()
                    .map(|f| FieldErrorBody {
                        field: f.field.clone(),
                        code: f.code,
                        message: f.message_zh.to_string(),
                    })
                    .collect(),
            ),
            AppError::InvalidFile(message) => Some(vec![FieldErrorBody {
                field: "file".into(),
                code: "invalid_file",
                message: message.clone(),
            }]),
            _ => None,
        };
        let mut response = HttpResponse::build(self.status_code());
        match self {
            AppError::Unauthorized => {
                response.insert_header(("WWW-Authenticate", "Bearer"));
            }
            AppError::PhotoAllowance(seconds) => {
                response.insert_header(("Retry-After", seconds.to_string()));
            }
            _ => {}
        }
        response.json(ErrorBody {
            error: self.code(),
            message: self.to_string(),
            fields,
        })
    }
}
