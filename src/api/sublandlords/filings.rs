//! Filing a unit before letting it (事前报备).

use actix_web::HttpResponse;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::sublandlord::FilingInput;
use crate::error::AppError;
use crate::http::State;
use crate::http::json::ApiJson;
use crate::service::Caller;
use crate::service::filings::{self, FilingCreated, FilingOutcome, FilingPending};
use crate::service::sublandlords::me;

/// An advance filing (事前报备).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilingRequest {
    /// Community name.
    pub community: String,
    /// One line: road, lane 弄, number 号, room 室.
    pub address: String,
    /// Rooms to let (1–50).
    pub rooms: i64,
    /// `whole`, `shared`, `daily` or `group`.
    pub rental_mode: String,
    /// `YYYY-MM-DD`, within a year of today.
    pub start_date: String,
    /// People the sublandlord plans to house (1–200).
    pub planned_occupants: i64,
    /// Optional floor area in m² (for the density rule).
    #[serde(default)]
    pub floor_area_m2: Option<f64>,
    /// Optional: `flat` (default), `villa`, `garage`, `dormitory` or `other`.
    #[serde(default)]
    pub kind: Option<String>,
    /// The planned occupants are one family: exempt from the 2-per-room limit (not from
    /// the floor area per person).
    #[serde(default)]
    pub family: bool,
}

/// Files a unit before letting it: a new flat gets its unit and poster (201); a flat whose
/// unit the filer did not create waits for staff approval (202) and changes nothing yet.
/// Planned occupants beyond the density rules (2 per room unless one family; 5 m² each) are
/// refused with 422 naming the rule (a `group` rental is accepted only within them); a
/// `daily` one opens a `daily_rental` check.
#[utoipa::path(post, path = "/api/v1/filings", tag = "sublandlords",
    request_body = FilingRequest,
    responses((status = 201, body = FilingCreated),
        (status = 202, body = FilingPending),
        (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_filing(
    state: State,
    caller: Caller,
    body: ApiJson<FilingRequest>,
) -> Result<HttpResponse, AppError> {
    let me = me(&state, &caller).await?;
    let r = body.value;
    let input = FilingInput {
        address: r.address,
        kind: r.kind,
        rooms: r.rooms,
        rental_mode: r.rental_mode,
        floor_area_m2: r.floor_area_m2,
        start_date: r.start_date,
        planned_occupants: r.planned_occupants,
        family: r.family,
    };
    Ok(
        match filings::file(&state, &me, &r.community, &input).await? {
            FilingOutcome::Created(created) => HttpResponse::Created().json(created),
            FilingOutcome::Pending(pending) => HttpResponse::Accepted().json(pending),
        },
    )
}
