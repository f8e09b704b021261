//! A unit's poster as an answer: shared by the staff API and the sublandlord's pages.

use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::State;
use crate::error::AppError;
use crate::service::{Caller, posters};
use crate::store::units;

/// The new poster URL after a rotation.
#[derive(Debug, Serialize, ToSchema)]
pub struct PosterUrl {
    pub poster_url: String,
}

/// Which poster: the template (default `a4`) and, for PNG, the resolution.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PosterQuery {
    /// A template of `qr-templates/` by name: `a4` (door poster, the default) or `a6`
    /// (sticker).
    pub template: Option<String>,
    /// PNG only: dots per inch, 72–1200 (default `RENFANG_POSTER_DPI`, 300).
    pub dpi: Option<u32>,
}

/// A unit's current poster (the same token: a reprint) in `format` (`png`, `svg` or `pdf`).
pub async fn poster_response(
    state: &State,
    caller: &Caller,
    unit: &units::Unit,
    format: &str,
    q: &PosterQuery,
) -> Result<HttpResponse, AppError> {
    let poster = posters::print(state, caller, unit, format, q.template.clone(), q.dpi).await?;
    Ok(HttpResponse::Ok()
        .content_type(poster.content_type)
        .insert_header(("Cache-Control", "private, no-store"))
        .body(poster.body))
}
