//! Revealing an occupant's full document number: a deliberate act by an authorised role,
//! with a reason, recorded in the audit log before the number is shown.

use actix_web::web;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::State;
use super::auth::{Caller, store_error};
use super::json::ApiJson;
use crate::crypto::Purpose;
use crate::domain::FieldError;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::store::{self, audit, registrations};

/// Registers the reveal route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/occupants/{id}/reveal", web::post().to(reveal));
}

/// Roles that may see a full document number: the town office and community police.
pub fn may_reveal(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Police)
}

/// Why the number is needed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    /// The reason, 4 to 200 characters (e.g. the case or check it is for).
    pub reason: String,
}

/// The full document number.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revealed {
    pub id_number: String,
}

/// Shows one occupant's full document number (admin, police in scope); audited with the
/// reason.
#[utoipa::path(post, path = "/api/v1/occupants/{id}/reveal", tag = "staff",
    params(("id" = i64, Path, description = "occupant id")),
    request_body = RevealRequest,
    responses((status = 200, body = Revealed), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reveal(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<RevealRequest>,
) -> Result<web::Json<Revealed>, AppError> {
    let id_number = reveal_for(&state, &caller, *id, &body.value.reason).await?;
    Ok(web::Json(Revealed { id_number }))
}

/// The reveal of the API and the unit page.
pub async fn reveal_for(
    state: &State,
    caller: &Caller,
    occupant_id: i64,
    reason: &str,
) -> Result<String, AppError> {
    caller.require(may_reveal)?;
    let reason = reason.trim();
    let length = reason.chars().count();
    if !(4..=200).contains(&length) || crate::domain::has_control(reason) {
        return Err(AppError::field(FieldError::new(
            "reason",
            "required",
            "请写明查看完整证件号码的理由（4 到 200 字）",
            "State why the full number is needed (4 to 200 characters)",
        )));
    }
    let (community, sealed) = registrations::sealed_document(&state.store, occupant_id)
        .await
        .map_err(store_error)?
        .filter(|(community, _)| caller.sees(*community))
        .ok_or(AppError::NotFound)?;
    let sealed = sealed.ok_or_else(|| AppError::Gone("该住户的个人信息已按保存期限删除".into()))?;
    let entry = audit::Entry {
        user_id: Some(caller.user_id),
        action: "occupant.reveal".into(),
        subject: Some(format!("occupant:{occupant_id}")),
        detail: Some(serde_json::json!({ "community_id": community }).to_string()),
        reason: Some(reason.to_string()),
    };
    // Recorded first: a reveal that could not be recorded does not happen.
    audit::append(&state.store, entry, store::millis(Utc::now()))
        .await
        .map_err(store_error)?;
    state
        .vault
        .open(Purpose::DocumentNumber, &sealed)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("opening a document number: {e:?}")))
}
