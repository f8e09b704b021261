//! The JSON body of a registration and its `Idempotency-Key`, shared by the poster's route
//! and the sublandlord's: both hand the submission to the service.

use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::registration::OccupantInput;
use crate::error::AppError;
use crate::http::State;
use crate::http::idempotency::key as idempotency_key;
use crate::http::json::ApiJson;
use crate::service::registration::{self, Destination, Retry, Submission};
use crate::store::registrations::Source;

/// One occupant in a registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OccupantBody {
    pub name: String,
    /// `resident_id`, `hmt_residence_permit`, `foreign_permanent_id`, `passport`,
    /// `hk_macau_permit` or `taiwan_permit`.
    pub id_type: String,
    pub id_number: String,
    /// Optional.
    #[serde(default)]
    pub phone: Option<String>,
    /// Optional, e.g. `A` or `主卧`.
    #[serde(default)]
    pub room: Option<String>,
    /// `YYYY-MM-DD`.
    pub move_in: String,
    /// ISO 3166-1 alpha-3 (e.g. `KOR`); required for `passport` and
    /// `foreign_permanent_id`.
    #[serde(default)]
    pub nationality: Option<String>,
    /// Optional: an SMS before the confirmation falls due (only with a `phone`).
    #[serde(default)]
    pub remind: Option<bool>,
}

/// A registration through a poster.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationBody {
    /// The `notice_version` the submitter was shown.
    pub notice_version: String,
    /// 1 to 20 occupants.
    pub occupants: Vec<OccupantBody>,
    /// Optional: the occupants are one family (exempt from the per-room density limit).
    #[serde(default)]
    pub family: Option<bool>,
}

impl From<RegistrationBody> for Submission {
    fn from(body: RegistrationBody) -> Self {
        Submission {
            notice_version: body.notice_version,
            occupants: body
                .occupants
                .into_iter()
                .map(|o| OccupantInput {
                    name: o.name,
                    id_type: o.id_type,
                    id_number: o.id_number,
                    phone: o.phone.unwrap_or_default(),
                    room: o.room.unwrap_or_default(),
                    move_in: o.move_in,
                    nationality: o.nationality.unwrap_or_default(),
                    remind: o.remind.unwrap_or(false),
                })
                .collect(),
            family: body.family.unwrap_or(false),
        }
    }
}

/// Checks a JSON registration for a unit and stores it: `201` with the receipt. The
/// `Idempotency-Key` header makes a retry return the first answer and store nothing twice.
pub async fn accept_json(
    state: &State,
    req: &HttpRequest,
    destination: &Destination,
    body: ApiJson<RegistrationBody>,
    source: Source,
) -> Result<HttpResponse, AppError> {
    let retry = idempotency_key(req)?.map(|key| Retry {
        key,
        fingerprint: crate::crypto::sha256(&body.raw),
    });
    let receipt =
        registration::register(state, destination, body.value.into(), source, retry).await?;
    Ok(HttpResponse::Created().json(receipt))
}
