//! Photos people upload (a tip's, an officer's at the door, the enforcement team's
//! evidence): checked by content and re-encoded without their metadata, a few at a time.

use super::{Error, Result};
use crate::domain::tip;

/// Photos decoded at once: a large photo takes a few hundred megabytes while it is decoded.
static PHOTO_DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Re-encodes an uploaded photo without its metadata (see [`tip::reencode_photo`]), off the
/// async workers and two at a time; an empty upload is no photo.
pub async fn reencode(photo: Option<Vec<u8>>) -> Result<Option<Vec<u8>>> {
    let Some(bytes) = photo.filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let _turn = PHOTO_DECODES
        .acquire()
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("photo decoding: {e}")))?;
    let checked = tokio::task::spawn_blocking(move || tip::reencode_photo(&bytes))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("photo task: {e}")))?;
    checked
        .map(Some)
        .map_err(|e| Error::Validation(vec![e.field()]))
}
