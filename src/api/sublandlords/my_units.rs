//! A sublandlord's own units and what they do to them.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::registration::{RegistrationBody, accept_json};
use crate::error::AppError;
use crate::http::State;
use crate::http::json::{self, ApiJson};
use crate::http::poster::{PosterQuery, PosterUrl, poster_response};
use crate::service::Caller;
use crate::service::my_units::{self, Confirmed, MyUnitOut};
use crate::service::registration::{Destination, ReceiptBody};
use crate::service::sublandlords::me;
use crate::service::undo::{self, UndoableOut, UndoneOut};
use crate::store::registrations::Source;

/// The caller's units.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyUnits {
    pub items: Vec<MyUnitOut>,
}

/// The caller's units: last upload, days left, open checks, current occupants (masked).
#[utoipa::path(get, path = "/api/v1/my/units", tag = "sublandlords",
    responses((status = 200, body = MyUnits)),
    security(("bearer" = [])))]
pub async fn my_units(state: State, caller: Caller) -> Result<web::Json<MyUnits>, AppError> {
    let me = me(&state, &caller).await?;
    Ok(web::Json(MyUnits {
        items: my_units::list(&state, &me).await?,
    }))
}

/// One of the caller's units.
#[utoipa::path(get, path = "/api/v1/my/units/{id}", tag = "sublandlords",
    params(("id" = i64, Path, description = "unit id")),
    responses((status = 200, body = MyUnitOut), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn my_unit(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<MyUnitOut>, AppError> {
    let me = me(&state, &caller).await?;
    Ok(web::Json(
        my_units::view(&state, &me, id.into_inner()).await?,
    ))
}

/// "Occupants unchanged": counts as an upload and restarts the unit's clock; 409 where
/// nobody is registered (declare a vacancy instead).
#[utoipa::path(post, path = "/api/v1/my/units/{id}/confirm", tag = "sublandlords",
    params(("id" = i64, Path, description = "unit id")),
    responses((status = 200, body = Confirmed), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn confirm(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<Confirmed>, AppError> {
    let me = me(&state, &caller).await?;
    let unit = my_units::unit(&state, &me, id.into_inner()).await?;
    Ok(web::Json(
        my_units::confirm_unchanged(&state, &caller, &unit).await?,
    ))
}

/// What a vacancy or a move-out may say: the date people left.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveOutBody {
    /// `YYYY-MM-DD`, not after today. With a vacancy: everybody registered moved out then,
    /// recorded in the same step.
    #[serde(default)]
    pub moved_out_on: Option<String>,
}

/// An optional JSON body: none (or an empty one) is the default.
fn optional_body(raw: &web::Bytes) -> Result<MoveOutBody, AppError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        Ok(MoveOutBody::default())
    } else {
        json::parse(raw)
    }
}

/// Declares the unit vacant: its clock pauses for at most `RENFANG_CONFIRM_DAYS`, until
/// people register there again. 409 while people are registered there, unless the body
/// gives the date they all moved out (`moved_out_on`).
#[utoipa::path(post, path = "/api/v1/my/units/{id}/vacancy", tag = "sublandlords",
    params(("id" = i64, Path, description = "unit id")),
    request_body(content = Option<MoveOutBody>, description = "optional"),
    responses((status = 200), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn vacancy(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    raw: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let body = optional_body(&raw)?;
    let me = me(&state, &caller).await?;
    let unit = my_units::unit(&state, &me, id.into_inner()).await?;
    my_units::declare_vacant(&state, &caller, &unit, body.moved_out_on.as_deref()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"state": "vacant"})))
}

/// Registers occupants on a tenant's behalf; an upload like any other.
#[utoipa::path(post, path = "/api/v1/my/units/{id}/registrations", tag = "sublandlords",
    params(("id" = i64, Path, description = "unit id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1–128 visible ASCII characters")),
    request_body = RegistrationBody,
    responses((status = 201, body = ReceiptBody), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn register_for_tenant(
    state: State,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ApiJson<RegistrationBody>,
) -> Result<HttpResponse, AppError> {
    let me = me(&state, &caller).await?;
    let unit = my_units::unit(&state, &me, id.into_inner()).await?;
    my_units::ensure_open(&unit)?;
    accept_json(
        &state,
        &req,
        &Destination::unit(unit.id),
        body,
        Source::Sublandlord {
            user_id: caller.user_id,
        },
    )
    .await
}

/// Records that an occupant moved out (on `moved_out_on`, if given). A unit left with
/// nobody registered is due a visit `RENFANG_OVERDUE_DAYS` later unless let again or
/// declared vacant.
#[utoipa::path(post, path = "/api/v1/my/units/{id}/occupants/{occupant}/move-out",
    tag = "sublandlords",
    params(("id" = i64, Path, description = "unit id"),
        ("occupant" = i64, Path, description = "occupant id")),
    request_body(content = Option<MoveOutBody>, description = "optional"),
    responses((status = 200), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn move_out(
    state: State,
    caller: Caller,
    path: web::Path<(i64, i64)>,
    raw: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let body = optional_body(&raw)?;
    let me = me(&state, &caller).await?;
    let (unit_id, occupant_id) = path.into_inner();
    let unit = my_units::unit(&state, &me, unit_id).await?;
    my_units::move_out(
        &state,
        &caller,
        &unit,
        occupant_id,
        body.moved_out_on.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"moved_out": occupant_id})))
}

/// The unit's poster again, with the same token (a reprint).
#[utoipa::path(get, path = "/api/v1/my/units/{id}/poster.png", tag = "sublandlords",
    params(("id" = i64, Path, description = "unit id")),
    responses((status = 200, content_type = "image/png", body = Vec<u8>),
        (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn poster(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    q: web::Query<PosterQuery>,
) -> Result<HttpResponse, AppError> {
    let me = me(&state, &caller).await?;
    let unit = my_units::unit(&state, &me, id.into_inner()).await?;
    poster_response(&state, &caller, &unit, "png", &q).await
}

/// A new poster token; the old poster answers 410 from now on.
#[utoipa::path(post, path = "/api/v1/my/units/{id}/qr/rotate", tag = "sublandlords",
    params(("id" = i64, Path, description = "unit id")),
    responses((status = 200, body = PosterUrl), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn rotate(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<PosterUrl>, AppError> {
    let me = me(&state, &caller).await?;
    let unit = my_units::unit(&state, &me, id.into_inner()).await?;
    let poster_url = my_units::rotate_poster(&state, &caller, &unit).await?;
    Ok(web::Json(PosterUrl { poster_url }))
}

/// The caller's undoable changes to a unit: their move-outs and vacancies of the last
/// 24 hours not undone yet, newest first.
#[utoipa::path(get, path = "/api/v1/my/units/{id}/undo", tag = "sublandlords",
    params(("id" = i64, Path, description = "unit id")),
    responses((status = 200, body = Vec<UndoableOut>),
        (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn undoable(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<UndoableOut>>, AppError> {
    let me = me(&state, &caller).await?;
    let unit = my_units::unit(&state, &me, id.into_inner()).await?;
    Ok(web::Json(undo::undoable(&state, &caller, &unit).await?))
}

/// Undoes one of the caller's move-outs or vacancies of the last 24 hours (with whatever
/// was done in the same step): the people are registered again, a vacancy is withdrawn and
/// the clock is as before. 409 when it is not the caller's, is older, was undone already,
/// or the unit changed since.
#[utoipa::path(post, path = "/api/v1/my/units/{id}/undo/{event}", tag = "sublandlords",
    params(("id" = i64, Path, description = "unit id"),
        ("event" = i64, Path, description = "`event_id` from the undo list")),
    responses((status = 200, body = UndoneOut), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn undo_change(
    state: State,
    caller: Caller,
    path: web::Path<(i64, i64)>,
) -> Result<web::Json<UndoneOut>, AppError> {
    let me = me(&state, &caller).await?;
    let (unit_id, event_id) = path.into_inner();
    let unit = my_units::unit(&state, &me, unit_id).await?;
    Ok(web::Json(
        undo::undo(&state, &caller, &unit, event_id).await?,
    ))
}
