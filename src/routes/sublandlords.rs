//! Sublandlords: self-registration, advance filings, their own units and their actions, the
//! password change, and the ledger that ranks them for staff.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::State;
use super::auth::{Caller, store_error};
use super::door_checks::paging;
use super::json::ApiJson;
use super::registration::{RegistrationBody, accept_json};
use super::units::{Created, PosterQuery, PosterUrl, poster_response, rfc3339};
use crate::domain::FieldError;
use crate::domain::door_check::{days_left, is_overdue};
use crate::domain::registration::new_receipt;
use crate::domain::role::Role;
use crate::domain::sublandlord::{FilingInput, FilingStatus, NewFiling, Signup, check_password};
use crate::domain::unit::UnitState;
use crate::error::AppError;
use crate::service::accounts::{count_wrong_password, refuse_if_locked};
use crate::service::registration::{Destination, ReceiptBody};
use crate::sessions::Session;
use crate::store::Scope;
use crate::store::filings::{self, Filed, Refusal};
use crate::store::registrations::{self, Source};
use crate::store::sublandlords::{self, NewSublandlord, SignupRefusal, Sublandlord};
use crate::store::{self, Constraint, StoreError, communities, units};

/// Registers the sublandlord routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/sublandlords", web::post().to(sign_up))
        .route("/api/v1/sublandlords", web::get().to(ledger))
        .route("/api/v1/password", web::post().to(change_password))
        .route("/api/v1/filings", web::post().to(create_filing))
        .route("/api/v1/my/units", web::get().to(my_units))
        .route("/api/v1/my/units/{id}", web::get().to(my_unit))
        .route("/api/v1/my/units/{id}/confirm", web::post().to(confirm))
        .route("/api/v1/my/units/{id}/vacancy", web::post().to(vacancy))
        .route(
            "/api/v1/my/units/{id}/registrations",
            web::post().to(register_for_tenant),
        )
        .route(
            "/api/v1/my/units/{id}/occupants/{occupant}/move-out",
            web::post().to(move_out),
        )
        .route("/api/v1/my/units/{id}/poster.png", web::get().to(poster))
        .route("/api/v1/my/units/{id}/qr/rotate", web::post().to(rotate));
}

/// Self-registration of a sublandlord.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    pub name: String,
    /// Mainland mobile number; it is the login.
    pub phone: String,
    /// As for occupants: `resident_id`, `passport`, …
    pub id_type: String,
    pub id_number: String,
    /// At least 10 characters.
    pub password: String,
}

/// Creates a sublandlord account; the phone number is the login.
#[utoipa::path(post, path = "/api/v1/sublandlords", tag = "accounts",
    request_body = SignupRequest,
    responses((status = 201, body = Created), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn sign_up(state: State, body: ApiJson<SignupRequest>) -> Result<HttpResponse, AppError> {
    let r = body.value;
    let id = register_sublandlord(&state, &r).await?;
    Ok(HttpResponse::Created().json(Created { id }))
}

/// Checks and stores a self-registration (the API and the page share it).
pub async fn register_sublandlord(state: &State, r: &SignupRequest) -> Result<i64, AppError> {
    let signup = Signup::parse(
        &r.name,
        &r.phone,
        &r.id_type,
        &r.id_number,
        &r.password,
        state.today(),
    )
    .map_err(AppError::Validation)?;
    let password = r.password.clone();
    let password_hash = web::block(move || crate::crypto::hash_password(&password))
        .await
        .map_err(|e| anyhow::anyhow!("password hash task: {e}"))??;
    let new = NewSublandlord::seal(&state.vault, &signup, password_hash);
    match sublandlords::create(&state.store, new, store::millis(Utc::now())).await {
        Ok(Ok(id)) => {
            tracing::info!(sublandlord_id = id, "sublandlord registered");
            Ok(id)
        }
        Ok(Err(SignupRefusal::NameMismatch)) => {
            tracing::warn!("sign-up refused: document number held under another name");
            Err(AppError::Conflict(
                "该证件号码已由他人以不同姓名登记，请核对姓名和证件号码；如有疑问请联系社区".into(),
            ))
        }
        Err(StoreError::Unique(Constraint::Username)) => {
            Err(AppError::Conflict("该手机号已注册，请直接登录".into()))
        }
        Err(e) => Err(store_error(e)),
    }
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub old_password: String,
    /// At least 10 characters.
    pub new_password: String,
}

/// Changes the caller's password (any role); the old one must be given.
#[utoipa::path(post, path = "/api/v1/password", tag = "accounts",
    request_body = PasswordRequest,
    responses((status = 204), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_password(
    state: State,
    req: HttpRequest,
    caller: Caller,
    body: ApiJson<PasswordRequest>,
) -> Result<HttpResponse, AppError> {
    let client = super::limit::client_of(&req, &state);
    set_password(&state, &caller, &client, &body.value).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Checks the old password and stores the new one (the API and the page share it). A wrong
/// old password counts toward the account's login lock, as a wrong login does: a stolen
/// session must not become a way to guess the password. Every other session of the
/// account ends; the caller's carries on.
pub async fn set_password(
    state: &State,
    caller: &Caller,
    client: &str,
    r: &PasswordRequest,
) -> Result<(), AppError> {
    check_password("new_password", &r.new_password).map_err(AppError::field)?;
    let user = crate::store::users::get(&state.store, caller.user_id)
        .await
        .map_err(store_error)?
        .ok_or(AppError::Unauthorized)?;
    refuse_if_locked(state, &user.username, client).await?;
    let (old, new) = (r.old_password.clone(), r.new_password.clone());
    let stored = user.password_hash.clone();
    let hash = web::block(move || {
        if crate::crypto::verify_password(&stored, &old) {
            crate::crypto::hash_password(&new).map(Some)
        } else {
            Ok(None)
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("password task: {e}"))??;
    let Some(hash) = hash else {
        let wrong = crate::service::Error::field(FieldError::new(
            "old_password",
            "wrong",
            "原密码不正确",
            "The current password is wrong",
        ));
        return Err(count_wrong_password(state, &user.username, client, wrong)
            .await
            .into());
    };
    state.sessions.clear_failures(&user.username, client).await;
    let epoch = sublandlords::set_password(&state.store, caller.user_id, hash)
        .await
        .map_err(store_error)?;
    let session = Session {
        user_id: caller.user_id,
        role: caller.role,
        epoch,
    };
    state
        .sessions
        .replace(caller.session_token(), session)
        .await;
    tracing::info!(user_id = caller.user_id, "password changed");
    Ok(())
}

/// The sublandlord behind the caller, or 403 for any other role.
pub async fn me(state: &State, caller: &Caller) -> Result<Sublandlord, AppError> {
    caller.require(|r| r == Role::Sublandlord)?;
    sublandlords::by_user(&state.store, caller.user_id)
        .await
        .map_err(store_error)?
        .ok_or(AppError::Forbidden)
}

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
}

/// A filing in effect: the new unit or the filer's own, and its poster.
#[derive(Debug, Serialize, ToSchema)]
pub struct FilingCreated {
    pub filing_id: i64,
    pub unit_id: i64,
    pub poster_url: String,
}

/// A filing that waits for staff: the flat's unit exists and is not the filer's.
#[derive(Debug, Serialize, ToSchema)]
pub struct FilingPending {
    pub filing_id: i64,
    /// Always `pending`.
    pub status: &'static str,
}

/// What a filing did.
#[derive(Debug)]
pub enum FilingOutcome {
    Created(FilingCreated),
    Pending(FilingPending),
}

/// Files a unit before letting it: a new flat gets its unit and poster (201); a flat whose
/// unit the filer did not create waits for staff approval (202) and changes nothing yet.
#[utoipa::path(post, path = "/api/v1/filings", tag = "sublandlords",
    request_body = FilingRequest,
    responses((status = 201, body = FilingCreated), (status = 202, body = FilingPending),
        (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_filing(
    state: State,
    caller: Caller,
    body: ApiJson<FilingRequest>,
) -> Result<HttpResponse, AppError> {
    let me = me(&state, &caller).await?;
    Ok(match file(&state, &me, &body.value).await? {
        FilingOutcome::Created(created) => HttpResponse::Created().json(created),
        FilingOutcome::Pending(pending) => HttpResponse::Accepted().json(pending),
    })
}

/// Checks and stores a filing (the API and the page share it).
pub async fn file(
    state: &State,
    me: &Sublandlord,
    r: &FilingRequest,
) -> Result<FilingOutcome, AppError> {
    let input = FilingInput {
        address: r.address.clone(),
        kind: r.kind.clone(),
        rooms: r.rooms,
        rental_mode: r.rental_mode.clone(),
        floor_area_m2: r.floor_area_m2,
        start_date: r.start_date.clone(),
        planned_occupants: r.planned_occupants,
    };
    let parsed = NewFiling::parse(&input, state.today());
    let community = communities::find_by_name(&state.store, r.community.trim())
        .await
        .map_err(store_error)?;
    let filing = match (parsed, community) {
        (Ok(filing), Some(community)) => (filing, community.id),
        (parsed, community) => {
            let mut errors = parsed.err().unwrap_or_default();
            if community.is_none() {
                errors.insert(
                    0,
                    FieldError::new("community", "unknown", "没有这个社区", "No such community"),
                );
            }
            return Err(AppError::Validation(errors));
        }
    };
    let (filing, community_id) = filing;
    // Two first filings of one new flat at once: the loser files against the winner's unit.
    let mut attempt = 0;
    let filed = loop {
        attempt += 1;
        match filings::file(
            &state.store,
            &state.vault,
            me.id,
            community_id,
            filing.clone(),
            state.settings.density(),
            store::millis(Utc::now()),
        )
        .await
        {
            Err(StoreError::Unique(Constraint::UnitAddress)) if attempt < 3 => continue,
            other => break other.map_err(store_error)?,
        }
    };
    let filed = filed.map_err(|Refusal::OtherSublandlord| other_sublandlord())?;
    let (filing_id, unit_id, new_token) = match filed {
        Filed::Pending { filing_id } => {
            tracing::info!(filing_id, sublandlord_id = me.id, "filing awaits approval");
            return Ok(FilingOutcome::Pending(FilingPending {
                filing_id,
                status: FilingStatus::Pending.as_str(),
            }));
        }
        Filed::Linked {
            filing_id,
            unit_id,
            new_token,
        } => (filing_id, unit_id, new_token),
    };
    // Only a new unit's token or the filer's own unit's: `Linked` means nothing else.
    let token = match new_token {
        Some(token) => token,
        None => units::current_token(&state.store, &state.vault, unit_id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| anyhow::anyhow!("filed unit has no poster"))?,
    };
    tracing::info!(filing_id, unit_id, sublandlord_id = me.id, "filing stored");
    Ok(FilingOutcome::Created(FilingCreated {
        filing_id,
        unit_id,
        poster_url: state.poster_url(&token),
    }))
}

/// The answer to a filing of a flat another sublandlord lets.
pub fn other_sublandlord() -> AppError {
    AppError::Conflict("该房屋已由其他二房东报备，如有变更请联系社区".into())
}

/// A staff caller's scope, narrowed to one community they see (404 otherwise).
pub async fn staff_scope(
    state: &State,
    caller: &Caller,
    community: Option<&str>,
) -> Result<Scope, AppError> {
    Ok(caller.scope_in(state, community).await?)
}

/// An occupant as their sublandlord sees them: masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyOccupant {
    pub id: i64,
    pub name: String,
    pub id_type: String,
    pub id_number: String,
    pub room: Option<String>,
    pub move_in: String,
}

/// One of the caller's units.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyUnitOut {
    pub unit_id: i64,
    pub community: String,
    pub address: String,
    pub rooms: i64,
    pub rental_mode: String,
    pub state: String,
    pub last_upload_at: Option<String>,
    /// Active and with no upload for the N days of the rule.
    pub overdue: bool,
    /// Days before the unit becomes overdue, a started day counting whole (5 right after an
    /// upload under the 5-day rule, 0 once overdue); none while vacant.
    pub days_left: Option<i64>,
    pub planned_occupants: Option<i64>,
    pub open_checks: i64,
    pub occupants: Vec<MyOccupant>,
}

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
        items: my_unit_list(&state, &me).await?,
    }))
}

/// The caller's units with their occupants (the API and the pages share it).
pub async fn my_unit_list(state: &State, me: &Sublandlord) -> Result<Vec<MyUnitOut>, AppError> {
    let rows = filings::my_units(&state.store, me.id)
        .await
        .map_err(store_error)?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(unit_out(state, row).await?);
    }
    Ok(items)
}

async fn unit_out(state: &State, u: filings::MyUnit) -> Result<MyUnitOut, AppError> {
    let occupants = registrations::current_occupants(&state.store, u.id)
        .await
        .map_err(store_error)?;
    let now = Utc::now();
    let days = i64::from(state.settings.overdue_days);
    let clock = store::instant(u.clock_from);
    let active = u.state == UnitState::Active;
    let overdue = active && is_overdue(clock, now, state.settings.overdue_days);
    Ok(MyUnitOut {
        unit_id: u.id,
        community: u.community,
        address: u.address,
        rooms: u.rooms,
        rental_mode: u.rental_mode.as_str().into(),
        state: u.state.as_str().into(),
        last_upload_at: u.last_upload_at.map(rfc3339),
        overdue,
        days_left: active.then(|| days_left(clock, now, days)),
        planned_occupants: u.planned_occupants,
        open_checks: u.open_checks,
        occupants: occupants
            .into_iter()
            .map(|o| MyOccupant {
                id: o.id,
                name: masked_name(&o.name),
                id_type: o.id_type.as_str().into(),
                id_number: o.id_number_masked,
                room: o.room,
                move_in: o.move_in,
            })
            .collect(),
    })
}

/// The caller's unit `id`, or 404 when it is not theirs (never 403: that would confirm it
/// exists).
pub async fn my_unit_row(
    state: &State,
    me: &Sublandlord,
    id: i64,
) -> Result<units::Unit, AppError> {
    units::get(&state.store, id)
        .await
        .map_err(store_error)?
        .filter(|u| u.sublandlord_id == Some(me.id))
        .ok_or(AppError::NotFound)
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
    Ok(web::Json(my_unit_view(&state, &me, id.into_inner()).await?))
}

/// One of the caller's units as the API and the pages show it, or 404.
pub async fn my_unit_view(
    state: &State,
    me: &Sublandlord,
    unit_id: i64,
) -> Result<MyUnitOut, AppError> {
    let row = filings::my_unit(&state.store, me.id, unit_id)
        .await
        .map_err(store_error)?
        .ok_or(AppError::NotFound)?;
    unit_out(state, row).await
}

/// The receipt of an upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct Confirmed {
    pub receipt: String,
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
    let unit = my_unit_row(&state, &me, id.into_inner()).await?;
    Ok(web::Json(confirm_unit(&state, &caller, &unit).await?))
}

/// Records "occupants unchanged" for a unit already checked to be the caller's.
pub async fn confirm_unit(
    state: &State,
    caller: &Caller,
    unit: &units::Unit,
) -> Result<Confirmed, AppError> {
    if unit.state == UnitState::Closed {
        return Err(AppError::Conflict("该房屋已注销，无法确认".into()));
    }
    let receipt = new_receipt(state.today());
    registrations::confirm(
        &state.store,
        unit.id,
        receipt.clone(),
        caller.user_id,
        store::millis(Utc::now()),
    )
    .await
    .map_err(store_error)?;
    Ok(Confirmed { receipt })
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
    let unit = my_unit_row(&state, &me, id.into_inner()).await?;
    declare_vacant(&state, &caller, &unit).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"state": "vacant"})))
}

/// Declares a unit already checked to be the caller's vacant.
pub async fn declare_vacant(
    state: &State,
    caller: &Caller,
    unit: &units::Unit,
) -> Result<(), AppError> {
    match unit.state {
        UnitState::Vacant => Ok(()),
        UnitState::Active => {
            filings::declare_vacancy(
                &state.store,
                unit.id,
                caller.user_id,
                store::millis(Utc::now()),
            )
            .await
            .map_err(store_error)?;
            Ok(())
        }
        _ => Err(AppError::Conflict("该房屋已注销".into())),
    }
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
    let unit = my_unit_row(&state, &me, id.into_inner()).await?;
    if unit.state == UnitState::Closed {
        return Err(AppError::Conflict("该房屋已注销，无法登记".into()));
    }
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
    let unit = my_unit_row(&state, &me, unit_id).await?;
    record_move_out(&state, &caller, &unit, occupant_id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"moved_out": occupant_id})))
}

/// Records a move-out from a unit already checked to be the caller's; 404 unless the
/// occupant currently lives there.
pub async fn record_move_out(
    state: &State,
    caller: &Caller,
    unit: &units::Unit,
    occupant_id: i64,
) -> Result<(), AppError> {
    let moved = filings::move_out(
        &state.store,
        unit.id,
        occupant_id,
        caller.user_id,
        store::millis(Utc::now()),
    )
    .await
    .map_err(store_error)?;
    if moved {
        tracing::info!(unit_id = unit.id, occupant_id, "occupant moved out");
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
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
    let unit = my_unit_row(&state, &me, id.into_inner()).await?;
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
    let unit = my_unit_row(&state, &me, id.into_inner()).await?;
    Ok(web::Json(rotate_poster(&state, &caller, &unit).await?))
}

/// Rotates the poster of a unit already checked to be the caller's.
pub async fn rotate_poster(
    state: &State,
    caller: &Caller,
    unit: &units::Unit,
) -> Result<PosterUrl, AppError> {
    let token = units::rotate_token(
        &state.store,
        &state.vault,
        unit.id,
        Some(caller.user_id),
        store::millis(Utc::now()),
    )
    .await
    .map_err(store_error)?
    .ok_or(AppError::NotFound)?;
    state.scan_cache.evict_unit(unit.id);
    tracing::info!(unit_id = unit.id, "poster token rotated by its sublandlord");
    Ok(PosterUrl {
        poster_url: state.poster_url(&token),
    })
}

/// Ledger query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// Only `priority` (the default).
    pub sort: Option<String>,
    /// Narrow to one community.
    pub community: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// One person in the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerItem {
    /// Accounts sharing a phone or document number are one person.
    pub person_id: i64,
    pub accounts: i64,
    pub name: String,
    pub phone: String,
    pub id_number: String,
    pub units: i64,
    pub rooms: i64,
    pub occupants: i64,
    pub open_checks: i64,
    pub past_checks: i64,
    pub violations: i64,
    pub tips: i64,
    pub overcrowded_units: i64,
    /// Units filed before their first registration.
    pub filed_in_advance: i64,
    /// Share of units filed in advance (none without units).
    pub filing_rate: Option<f64>,
    pub priority: i64,
}

/// A page of the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerPage {
    pub items: Vec<LedgerItem>,
    pub total: i64,
}

/// The sublandlord ledger, highest priority first (enforcement, police, admin).
#[utoipa::path(get, path = "/api/v1/sublandlords", tag = "staff", params(LedgerQuery),
    responses((status = 200, body = LedgerPage), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn ledger(
    state: State,
    caller: Caller,
    q: web::Query<LedgerQuery>,
) -> Result<web::Json<LedgerPage>, AppError> {
    Ok(web::Json(ledger_page(&state, &caller, &q).await?))
}

/// The ledger page a staff caller may see (the API and the page share it).
pub async fn ledger_page(
    state: &State,
    caller: &Caller,
    q: &LedgerQuery,
) -> Result<LedgerPage, AppError> {
    caller.require(reads_ledger)?;
    if !matches!(q.sort.as_deref(), None | Some("") | Some("priority")) {
        return Err(super::door_checks::invalid("sort"));
    }
    let (offset, limit) = paging(q.page, q.per_page)?;
    let scope = match staff_scope(state, caller, q.community.as_deref()).await? {
        // One community: its rows are ranked by an index, no sum over communities.
        Scope::UserCommunities(_) if caller.community_ids.len() == 1 => {
            Scope::Community(caller.community_ids[0])
        }
        scope => scope,
    };
    let (rows, total) = sublandlords::ledger(&state.store, scope, offset, limit)
        .await
        .map_err(store_error)?;
    Ok(LedgerPage {
        items: rows
            .into_iter()
            .map(|r| LedgerItem {
                person_id: r.person_id,
                accounts: r.accounts,
                name: masked_name(&r.name),
                phone: r.phone_masked,
                id_number: r.id_number_masked,
                units: r.units,
                rooms: r.rooms,
                occupants: r.occupants,
                open_checks: r.open_checks,
                past_checks: r.past_checks,
                violations: r.violations,
                tips: r.tips,
                overcrowded_units: r.overcrowded_units,
                filed_in_advance: r.filed_in_advance,
                filing_rate: (r.units > 0).then(|| r.filed_in_advance as f64 / r.units as f64),
                priority: r.priority,
            })
            .collect(),
        total,
    })
}

/// A stored name as shown to others: its first character, then stars.
pub fn masked_name(name: &str) -> String {
    crate::domain::person::PersonName::parse(name)
        .map(|n| n.masked())
        .unwrap_or_default()
}

/// Roles that read the sublandlord ledger.
pub fn reads_ledger(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Police | Role::Enforcement)
}
