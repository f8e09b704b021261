//! What a business action can answer besides success; the HTTP layer maps each variant to
//! a status code in one place (`crate::error`).

use crate::domain::FieldError;
use crate::store::clock::Refusal;
use crate::store::{Constraint, StoreError};

/// The outcome of a business action that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No session, or a bad one.
    #[error("请先登录")]
    Unauthorized,
    /// The role may not do this.
    #[error("无权进行此操作")]
    Forbidden,
    /// No such record, or one outside the caller's scope.
    #[error("未找到")]
    NotFound,
    /// The request conflicts with stored data.
    #[error("{0}")]
    Conflict(String),
    /// A poster registration names a document number that is current in the unit under
    /// another name: the occupant's place in the request, and the sentence.
    #[error("{1}")]
    NameMismatch(usize, String),
    /// The record existed and was replaced (a rotated poster).
    #[error("{0}")]
    Gone(String),
    /// Fields failed their checks.
    #[error("提交的内容有误，请检查标出的字段")]
    Validation(Vec<FieldError>),
    /// An uploaded file cannot be read (encoding, columns, size).
    #[error("{0}")]
    InvalidFile(String),
    /// A poster cannot show some characters of the unit's data.
    #[error("{0}")]
    Unprintable(String),
    /// The tip photos stored for this client address today reached their bound; the
    /// seconds until the next day's allowance.
    #[error("今天从您的网络上传的举报照片已达上限，请明天再试；不带照片的举报仍可提交")]
    PhotoAllowance(u64),
    /// Too many wrong passwords for this account; locked for this many minutes.
    #[error("密码错误次数过多，账号已暂时锁定，请 {0} 分钟后再试")]
    LoginLocked(u64),
    /// Sessions are kept in Redis and this instance has not reached it since it started.
    #[error("登录服务暂时不可用：正在连接会话存储（Redis），请稍后再试。扫码登记不受影响。")]
    SessionsUnavailable,
    /// Logged with its chain; people see a generic message.
    #[error("服务器内部错误")]
    Internal(#[from] anyhow::Error),
}

/// The result of a business action.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// One field error.
    pub fn field(error: FieldError) -> Self {
        Error::Validation(vec![error])
    }

    /// A value outside its allowed set (a query value, a choice).
    pub fn invalid(field: &str) -> Self {
        Error::field(FieldError::new(
            field,
            "invalid",
            "取值不在允许范围内",
            "Not an allowed value",
        ))
    }
}

impl From<StoreError> for Error {
    /// Named constraints are the caller's business and are said in words, never as the
    /// Rust name of the constraint; anything else is internal.
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unique(c) => Error::Conflict(
                match c {
                    Constraint::CommunityName => "同名社区已存在",
                    Constraint::Username => "该用户名已被使用",
                    Constraint::UnitAddress => "该社区已有此地址的房屋",
                    Constraint::IdempotencyKey => "此请求已提交过",
                    Constraint::ReceiptNumber => "回执编号冲突，请重新提交",
                    Constraint::CurrentOccupant => "该居住人已在本户登记",
                    Constraint::DecisionNumber => "该决定书文号已用于另一案件",
                    Constraint::Other => "与已有记录冲突",
                }
                .into(),
            ),
            StoreError::PosterNotCurrent => {
                Error::Gone("此二维码已失效，请扫描门上最新的二维码".into())
            }
            StoreError::NameMismatch(i) => Error::NameMismatch(
                i,
                format!(
                    "第 {} 位居住人的证件号码已在本户以另一姓名登记，未作更改；如需更正，请联系二房东或社区",
                    i + 1
                ),
            ),
            StoreError::Refused(refusal) => Error::Conflict(match refusal {
                Refusal::NoOccupants => "该房屋目前没有登记的居住人员，无法确认“居住人员无变化”；如房屋无人居住，请申报空置".into(),
                Refusal::Occupied(n) => format!(
                    "该房屋还有 {n} 名登记在住的人员，不能申报空置；请先登记他们搬离（可与空置一并提交，并填写搬离日期）"
                ),
                Refusal::Closed => "该房屋已注销".into(),
                Refusal::NothingToUndo => "没有可撤销的操作：只能撤销本账号 24 小时内的搬离或空置申报，且每项只能撤销一次".into(),
                Refusal::ChangedSince => "该房屋此后已有新的变化（如再次申报空置、空置到期或已注销），无法撤销".into(),
            }),
            StoreError::Other(e) => Error::Internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_is_said_in_words_never_in_the_names_of_the_code() {
        for c in [
            Constraint::CommunityName,
            Constraint::Username,
            Constraint::UnitAddress,
            Constraint::IdempotencyKey,
            Constraint::ReceiptNumber,
            Constraint::CurrentOccupant,
            Constraint::Other,
        ] {
            let message = Error::from(StoreError::Unique(c)).to_string();
            assert!(
                !message.is_empty() && !message.chars().any(|ch| ch.is_ascii_alphabetic()),
                "{c:?}: {message:?}"
            );
        }
    }
}
