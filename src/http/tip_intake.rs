//! A tip arriving over HTTP, from the API or the public page: the rate limits around the
//! service's checks (a poster token that names nothing counts as a guess; a photo counts
//! against the sender's daily allowance).

use actix_web::HttpRequest;

use super::State;
use crate::error::AppError;
use crate::limits::{Counter, Take};
use crate::service::{self, tips::Filed, tips::TipInput};

/// The text fields of a tip form.
pub const FIELDS: &[&str] = &[
    "address",
    "token",
    "community",
    "category",
    "description",
    "contact",
];

/// Checks and stores a tip (the API's and the public page's one path), answering its id and
/// reference number: a poster token that names nothing counts as a guess, and a photo
/// counts against the sender's daily allowance (an address whose allowance is spent is
/// refused before its photo is decoded, and a photo that would go past it is refused, tip
/// and all, so nothing is half-kept).
pub async fn receive(
    state: &State,
    req: &HttpRequest,
    input: TipInput,
    photo: Option<Vec<u8>>,
) -> Result<Filed, AppError> {
    let client = super::limit::client_of(req, state);
    if photo.as_ref().is_some_and(|p| !p.is_empty()) {
        photo_allowance(state, &client, 0).await?;
    }
    let checked = match service::tips::check(state, input, photo).await {
        Ok(checked) => checked,
        Err(service::Error::Validation(errors)) => {
            if errors
                .iter()
                .any(|e| e.field == "token" && e.code == "unknown")
            {
                super::limit::mark_guess(req);
            }
            return Err(AppError::Validation(errors));
        }
        Err(other) => return Err(other.into()),
    };
    if checked.photo_bytes() > 0 {
        photo_allowance(state, &client, checked.photo_bytes()).await?;
    }
    Ok(service::tips::file(state, checked).await?)
}

/// Counts `bytes` of stored photo against the client's daily allowance (`0`: only checks
/// that some is left).
async fn photo_allowance(state: &State, client: &str, bytes: usize) -> Result<(), AppError> {
    let take = Take {
        counter: Counter::TipPhotoBytes,
        key: client,
        add: u32::try_from(bytes).unwrap_or(u32::MAX),
    };
    state.limiter.check(&[take]).await.map_err(|exceeded| {
        tracing::info!(limit = ?exceeded.counter, "rate limited");
        AppError::PhotoAllowance(exceeded.retry_after.as_secs().max(1))
    })
}
