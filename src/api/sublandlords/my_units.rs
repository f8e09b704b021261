//! A sublandlord's own units and what they do to them.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::registration::{RegistrationBody, accept_json};
use crate::error::AppError;
use crate::http::State;
use crate::http::json::ApiJson;
use crate::http::poster::{PosterQuery, PosterUrl, poster_response};
use crate::service::Caller;
use crate::service::my_units::{self, Confirmed, MyUnitOut};
use crate::service::registration::{Destination, ReceiptBody};
use crate::service::sublandlords::me;
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

/// "Occupants unchanged": counts as an upload and restarts the unit's clock.
#[utoipa::path(post, path = "/api/v1/my/units/{id}/confirm", tag = "sublandlords",
    params(("id" = i64, Path, description = "unit id")),
    responses((status = 200, body = Confirmed), (status = 404, body = crate::error::ErrorBody)),
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

/// Declares the unit vacant: its clock stops until people register there again.
#[utoipa::path(post, path = "/api/v1/my/units/{id}/vacancy", tag = "sublandlords",
    params(("id" = i64, Path, description = "unit id")),
    responses((status = 200), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn vacancy(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let me = me(&state, &caller).await?;
    let unit = my_units::unit(&state, &me, id.into_inner()).await?;
    my_units::declare_vacant(&state, &caller, &unit).await?;
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

/// Records that an occupant moved out.
#[utoipa::path(post, path = "/api/v1/my/units/{id}/occupants/{occupant}/move-out",
    tag = "sublandlords",
    params(("id" = i64, Path, description = "unit id"),
        ("occupant" = i64, Path, description = "occupant id")),
    responses((status = 200), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn move_out(
    state: State,
    caller: Caller,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let me = me(&state, &caller).await?;
    let (unit_id, occupant_id) = path.into_inner();
    let unit = my_units::unit(&state, &me, unit_id).await?;
    my_units::move_out(&state, &caller, &unit, occupant_id).await?;
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
