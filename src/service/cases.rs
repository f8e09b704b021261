//! Enforcement cases (执法案件): the team's list, a case with its evidence, adding evidence,
//! the decision, closing, the export, and the quarter's count against the town's target.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Caller, Context, Error, Result, paging, rfc3339};
use crate::domain::FieldError;
use crate::domain::case::{
    self, CaseStatus, Decision, DecisionInput, Quarter, Violation, quarter_of,
};
use crate::domain::role::Role;
use crate::export::{About, Columns, Table};
use crate::store::cases::{self, Case, CaseFilter, NewEvidence, Refusal};
use crate::store::{self, Constraint, StoreError, audit, registrations, sublandlords, units};

/// How the list is asked for, as typed.
#[derive(Debug, Default)]
pub struct CaseQuery<'a> {
    /// `open`, `decided`, `closed`, or blank for all.
    pub status: Option<&'a str>,
    /// Community name; default: all of the caller's.
    pub community: Option<&'a str>,
}

/// The caller's filter: `Forbidden` for a role that does not read cases, a validation
/// error for a status out of its set, `NotFound` for a community the caller does not see.
async fn filter(ctx: &Context, caller: &Caller, q: &CaseQuery<'_>) -> Result<CaseFilter> {
    caller.require(Role::reads_cases)?;
    let status = match q.status.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(CaseStatus::parse(s).ok_or_else(|| Error::invalid("status"))?),
    };
    Ok(CaseFilter {
        scope: caller.scope_in(ctx, q.community).await?,
        status,
    })
}

/// One case as lists show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseItem {
    pub id: i64,
    pub unit_id: i64,
    pub address: String,
    pub community: String,
    /// `open`, `decided` or `closed`.
    pub status: String,
    pub status_label: String,
    /// Null until decided; `none` when no violation was found.
    pub violation: Option<String>,
    pub violation_label: Option<String>,
    pub penalty_yuan: Option<i64>,
    pub decision_number: Option<String>,
    /// `YYYY-MM-DD`.
    pub decided_on: Option<String>,
    pub opened_at: String,
    pub decided_at: Option<String>,
    pub closed_at: Option<String>,
    pub evidence_count: i64,
    /// When it was opened (milliseconds), for pages that show local time.
    #[serde(skip)]
    pub opened_ms: i64,
    #[serde(skip)]
    pub state: CaseStatus,
}

impl From<Case> for CaseItem {
    fn from(c: Case) -> Self {
        Self {
            id: c.id,
            unit_id: c.unit_id,
            address: c.address,
            community: c.community,
            status: c.status.as_str().into(),
            status_label: c.status.label_zh().into(),
            violation: c.violation.map(|v| v.as_str().into()),
            violation_label: c.violation.map(|v| v.label_zh().into()),
            penalty_yuan: c.penalty_yuan,
            decision_number: c.decision_number,
            decided_on: c.decided_on,
            opened_at: rfc3339(c.opened_at),
            decided_at: c.decided_at.map(rfc3339),
            closed_at: c.closed_at.map(rfc3339),
            evidence_count: c.evidence_count,
            opened_ms: c.opened_at,
            state: c.status,
        }
    }
}

/// A page of cases in the caller's scope, newest first (`page` from 1, `per_page` 1–200),
/// and how many match.
pub async fn list(
    ctx: &Context,
    caller: &Caller,
    q: &CaseQuery<'_>,
    page: Option<i64>,
    per_page: Option<i64>,
) -> Result<(Vec<CaseItem>, i64)> {
    let filter = filter(ctx, caller, q).await?;
    let (offset, limit) = paging(page, per_page)?;
    let (items, total) = cases::list(&ctx.store, &filter, offset, limit).await?;
    Ok((items.into_iter().map(CaseItem::from).collect(), total))
}

/// One piece of evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceItem {
    pub id: i64,
    /// `photo` or `note`.
    pub kind: String,
    pub note: Option<String>,
    /// Where the photo is (a JPEG without metadata), if there is one.
    pub photo_url: Option<String>,
    /// The account that added it.
    pub created_by: Option<String>,
    pub created_at: String,
    #[serde(skip)]
    pub created_ms: i64,
}

/// A case with what the team needs to work it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: CaseItem,
    /// The unit's sublandlord, masked (`张*`), if it has one.
    pub sublandlord: Option<String>,
    /// The sublandlord's phone, masked.
    pub sublandlord_phone: Option<String>,
    /// What the police officer wrote when referring the unit.
    pub officer_note: Option<String>,
    /// The officer's account.
    pub officer: Option<String>,
    pub referred_at: String,
    /// People registered as living in the unit now.
    pub current_occupants: i64,
    pub evidence: Vec<EvidenceItem>,
    /// The photos the police officer took at the visit that referred the flat, by id
    /// (`GET /api/v1/visit-photos/{id}`).
    pub door_photos: Vec<i64>,
    #[serde(skip)]
    pub referred_ms: i64,
}

/// A case within the caller's scope (for a role that reads cases), or `NotFound`.
async fn visible(ctx: &Context, caller: &Caller, id: i64) -> Result<Case> {
    caller.require(Role::reads_cases)?;
    cases::get(&ctx.store, id)
        .await?
        .filter(|c| caller.sees(c.community_id))
        .ok_or(Error::NotFound)
}

/// A case that the caller may change: `Forbidden` for any role but the enforcement team,
/// `NotFound` outside its communities.
async fn workable(ctx: &Context, caller: &Caller, id: i64) -> Result<Case> {
    caller.require(Role::works_cases)?;
    visible(ctx, caller, id).await
}

/// Refuses a caller who may not work case `id` (before an upload is read, or a question
/// asked).
pub async fn may_work(ctx: &Context, caller: &Caller, id: i64) -> Result<()> {
    workable(ctx, caller, id).await.map(|_| ())
}

/// One case with its referral, the unit's sublandlord (masked) and its evidence.
pub async fn get(ctx: &Context, caller: &Caller, id: i64) -> Result<CaseDetail> {
    let case = visible(ctx, caller, id).await?;
    let referral = cases::referral(&ctx.store, case.referral_id).await?;
    let unit = units::get(&ctx.store, case.unit_id)
        .await?
        .ok_or(Error::NotFound)?;
    let sublandlord = match unit.sublandlord_id {
        Some(s) => sublandlords::get(&ctx.store, s).await?,
        None => None,
    };
    let occupants = registrations::current_occupants(&ctx.store, unit.id).await?;
    let evidence = cases::evidence(&ctx.store, case.id).await?;
    let door_photos = crate::store::visits::photos_of_check(&ctx.store, case.door_check_id).await?;
    let case_id = case.id;
    Ok(CaseDetail {
        sublandlord: sublandlord
            .as_ref()
            .map(|s| super::ledger::masked_name(&s.name)),
        sublandlord_phone: sublandlord.map(|s| s.phone_masked),
        officer_note: referral.as_ref().and_then(|r| r.note.clone()),
        officer: referral.as_ref().and_then(|r| r.officer.clone()),
        referred_at: rfc3339(referral.as_ref().map_or(case.opened_at, |r| r.created_at)),
        referred_ms: referral.as_ref().map_or(case.opened_at, |r| r.created_at),
        current_occupants: occupants.len() as i64,
        door_photos,
        evidence: evidence
            .into_iter()
            .map(|e| EvidenceItem {
                id: e.id,
                kind: e.kind.as_str().into(),
                note: e.note,
                photo_url: (e.has_photo != 0)
                    .then(|| format!("/api/v1/cases/{case_id}/evidence/{}/photo", e.id)),
                created_by: e.created_by,
                created_at: rfc3339(e.created_at),
                created_ms: e.created_at,
            })
            .collect(),
        case: case.into(),
    })
}

/// The photo of one piece of a case's evidence (a JPEG without metadata).
pub async fn photo(ctx: &Context, caller: &Caller, id: i64, evidence_id: i64) -> Result<Vec<u8>> {
    let case = visible(ctx, caller, id).await?;
    cases::evidence_photo(&ctx.store, case.id, evidence_id)
        .await?
        .ok_or(Error::NotFound)
}

/// The words of a refused change.
fn refused(refusal: Refusal) -> Error {
    Error::Conflict(
        match refusal {
            Refusal::Full => "每个案件最多保存 30 项证据",
            Refusal::Status(CaseStatus::Open) => "案件尚未作出处理决定：请先记录处理决定，再结案",
            Refusal::Status(CaseStatus::Decided) => "该案件已记录处理决定",
            Refusal::Status(CaseStatus::Closed) => "该案件已结案",
        }
        .into(),
    )
}

/// The refusal of an action that a case in `status` does not allow, in the words the
/// action itself would use.
pub fn not_allowed_in(status: CaseStatus) -> Error {
    refused(Refusal::Status(status))
}

/// Adds evidence (a photo, a note, or both) to a case that is not closed; the photo is
/// checked by content and re-encoded without its metadata, as a tip's. Returns its id.
pub async fn add_evidence(
    ctx: &Context,
    caller: &Caller,
    id: i64,
    note: Option<String>,
    photo: Option<Vec<u8>>,
) -> Result<i64> {
    let case = workable(ctx, caller, id).await?;
    let note = note.filter(|n| !n.trim().is_empty());
    let photo = photo.filter(|p| !p.is_empty());
    if note.is_none() && photo.is_none() {
        return Err(Error::field(FieldError::new(
            "note",
            "required",
            "请拍摄照片或填写文字记录",
            "Add a photo or a note",
        )));
    }
    let mut errors = Vec::new();
    let note = note.and_then(|n| case::parse_note(&n).map_err(|e| errors.push(e)).ok());
    let photo = match photo {
        None => None,
        Some(bytes) => match super::photos::reencode(Some(bytes)).await {
            Ok(photo) => photo,
            Err(Error::Validation(fields)) => {
                errors.extend(fields);
                None
            }
            Err(other) => return Err(other),
        },
    };
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let new = NewEvidence { photo, note };
    let now = store::millis(ctx.now());
    cases::add_evidence(&ctx.store, case.id, new, caller.user_id, now)
        .await?
        .map_err(refused)
}

/// Records the decision of an open case (`Conflict` once decided or closed); a violation
/// raises the sublandlord's ledger priority in the same transaction.
pub async fn decide(ctx: &Context, caller: &Caller, id: i64, input: DecisionInput) -> Result<()> {
    let case = workable(ctx, caller, id).await?;
    let decision = Decision::parse(input, ctx.today()).map_err(Error::Validation)?;
    if let Decision::Violation { decided_on, .. } = &decision {
        let opened = store::instant(case.opened_at)
            .with_timezone(&ctx.settings.tz)
            .date_naive();
        if *decided_on < opened {
            return Err(Error::field(FieldError::new(
                "decided_on",
                "before_case",
                "决定日期不能早于立案日期",
                "The decision cannot be dated before the case was opened",
            )));
        }
    }
    let now = store::millis(ctx.now());
    match cases::decide(&ctx.store, case.id, decision, caller.user_id, now).await {
        Ok(done) => done.map_err(refused),
        Err(StoreError::Unique(Constraint::DecisionNumber)) => Err(Error::field(FieldError::new(
            "decision_number",
            "taken",
            "该决定书文号已用于另一案件",
            "This decision number is already recorded on another case",
        ))),
        Err(other) => Err(other.into()),
    }
}

/// Closes a decided case; `Conflict` while it is still open or once closed.
pub async fn close(ctx: &Context, caller: &Caller, id: i64) -> Result<()> {
    let case = workable(ctx, caller, id).await?;
    let now = store::millis(ctx.now());
    cases::close(&ctx.store, case.id, caller.user_id, now)
        .await?
        .map_err(refused)
}

/// The quarter's count of cases dealt with, against the target.
#[derive(Debug, Clone, Copy)]
pub struct QuarterCount {
    pub quarter: Quarter,
    /// Cases decided with a violation (not `none`) dated within the quarter.
    pub decided: i64,
    pub target: i64,
}

/// The count of the quarter today falls in, over the caller's communities.
pub async fn this_quarter(ctx: &Context, caller: &Caller) -> Result<QuarterCount> {
    caller.require(Role::reads_cases)?;
    let quarter = quarter_of(ctx.today());
    let per_community = cases::decided_by_community(
        &ctx.store,
        caller.scope(),
        quarter.first_day(),
        quarter.last_day(),
    )
    .await?;
    Ok(QuarterCount {
        quarter,
        decided: per_community.iter().map(|(_, n)| n).sum(),
        target: i64::from(ctx.settings.case_target),
    })
}

/// Most rows one export holds.
const EXPORT_LIMIT: i64 = 100_000;

/// The list as a table for a spreadsheet, audited as an export.
pub async fn export(ctx: &Context, caller: &Caller, q: &CaseQuery<'_>) -> Result<Table> {
    let filter = filter(ctx, caller, q).await?;
    let (items, _) = cases::list(&ctx.store, &filter, 0, EXPORT_LIMIT).await?;
    let now = store::millis(ctx.now());
    let entry = audit::Entry {
        user_id: Some(caller.user_id),
        action: "export.cases".into(),
        subject: q
            .community
            .filter(|c| !c.trim().is_empty())
            .map(|c| format!("community:{c}")),
        detail: Some(serde_json::json!({ "rows": items.len() }).to_string()),
        reason: None,
    };
    audit::append(&ctx.store, entry, now).await?;
    let community = super::door_checks::scope_name(ctx, &filter.scope).await?;
    let about = About {
        what: "执法案件".into(),
        slug: "cases",
        community,
        at: ctx.now(),
    };
    let columns = Columns::<Case>::new()
        .integer("案件编号", |c| c.id)
        .text("社区", |c| c.community.clone())
        .text("地址", |c| c.address.clone())
        .text("状态", |c| c.status.label_zh().into())
        .text("违法类型", |c| {
            c.violation.map(|v| v.label_zh().into()).unwrap_or_default()
        })
        .optional_integer("罚款（元）", |c| c.penalty_yuan)
        .text("决定书文号", |c| {
            c.decision_number.clone().unwrap_or_default()
        })
        .optional_date("决定日期", Case::decided_day)
        .date_time("立案时间", |c| store::instant(c.opened_at))
        .optional_date_time("决定时间", |c| c.decided_at.map(store::instant))
        .optional_date_time("结案时间", |c| c.closed_at.map(store::instant))
        .integer("证据数", |c| c.evidence_count)
        .code("状态代码", |c| c.status.as_str().into())
        .code("违法类型代码", |c| {
            c.violation.map(|v| v.as_str().into()).unwrap_or_default()
        });
    Ok(columns.table(about, &items, ctx.settings.tz))
}

/// Every violation a decision may name, with its label, for forms (without `none`,
/// which has a button of its own).
pub fn violations() -> Vec<(&'static str, &'static str)> {
    Violation::ALL
        .iter()
        .filter(|v| v.counts())
        .map(|v| (v.as_str(), v.label_zh()))
        .collect()
}
