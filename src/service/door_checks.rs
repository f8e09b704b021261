//! The door-check queue and the officer's side of a unit: listing, results, referrals.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Caller, Context, Error, Result, paging, rfc3339};
use crate::domain::door_check::{Reason, Status, days_since};
use crate::domain::person::PersonName;
use crate::domain::role::Role;
use crate::domain::visit::{self, Facts, Limits};
use crate::export::{About, Columns, Table};
use crate::store::door_checks::{self, Order, QueueFilter};
use crate::store::{
    self, audit, clock, communities, filings, registrations, sublandlords, tips, units, visits,
};

/// How the queue is asked for, as typed: every value optional.
#[derive(Debug, Default)]
pub struct QueueQuery<'a> {
    /// Community name; default: all of the caller's.
    pub community: Option<&'a str>,
    /// `open` (default) or `closed`.
    pub status: Option<&'a str>,
    /// A reason's name; blank: all.
    pub reason: Option<&'a str>,
    /// `urgency` (default) or `address`.
    pub sort: Option<&'a str>,
}

/// The caller's filter from a query: `Forbidden` for a role that does not work the
/// queue, a validation error naming a value out of its set, `NotFound` for a community
/// the caller does not see.
pub async fn filter(ctx: &Context, caller: &Caller, q: &QueueQuery<'_>) -> Result<QueueFilter> {
    caller.require(Role::works_queue)?;
    let status = match q.status.unwrap_or("open") {
        "open" => Status::Open,
        "closed" => Status::Closed,
        _ => return Err(Error::invalid("status")),
    };
    let reason = match q.reason.filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => Some(Reason::parse(r).ok_or_else(|| Error::invalid("reason"))?),
    };
    let order = match q.sort.unwrap_or("urgency") {
        "urgency" => Order::Urgency,
        "address" => Order::Address,
        _ => return Err(Error::invalid("sort")),
    };
    let scope = caller.scope_in(ctx, q.community).await?;
    Ok(QueueFilter {
        scope,
        status,
        reason,
        order,
    })
}

/// Most rows one export holds; a larger list must be narrowed by community or reason.
const EXPORT_LIMIT: i64 = 100_000;

/// The queue as a table for a spreadsheet (CSV or XLSX), audited as an export.
pub async fn export(ctx: &Context, caller: &Caller, q: &QueueQuery<'_>) -> Result<Table> {
    let filter = filter(ctx, caller, q).await?;
    let now = store::millis(ctx.now());
    let (items, _) = door_checks::list(&ctx.store, &filter, now, 0, EXPORT_LIMIT).await?;
    tracing::info!(
        user_id = caller.user_id,
        rows = items.len(),
        "door-check export"
    );
    let entry = audit::Entry {
        user_id: Some(caller.user_id),
        action: "export.door_checks".into(),
        subject: q.community.map(|c| format!("community:{c}")),
        detail: Some(
            serde_json::json!({"rows": items.len(), "status": filter.status.as_str()}).to_string(),
        ),
        reason: None,
    };
    audit::append(&ctx.store, entry, now).await?;
    let about = About {
        what: "上门核查".into(),
        slug: "door-checks",
        community: scope_name(ctx, &filter.scope).await?,
        at: ctx.now(),
    };
    let now = store::instant(now);
    let columns = Columns::<door_checks::QueueItem>::new()
        .integer("编号", |i| i.id)
        .text("社区", |i| i.community.clone())
        .text("地址", |i| i.address.clone())
        .text("原因", |i| i.reason.label_zh().into())
        .text("状态", |i| i.status.label_zh().into())
        .text("结果", |i| {
            i.outcome.map(|o| o.label_zh().into()).unwrap_or_default()
        })
        .date_time("发起时间", |i| store::instant(i.opened_at))
        .integer("未上传天数", |i| {
            days_since(store::instant(i.clock_from), now)
        })
        .integer("未遇次数", |i| i.attempts)
        .text("另一登记地址", |i| {
            i.related_address.clone().unwrap_or_default()
        })
        .code("原因代码", |i| i.reason.as_str().into())
        .code("状态代码", |i| i.status.as_str().into())
        .code("结果代码", |i| {
            i.outcome.map(|o| o.as_str().into()).unwrap_or_default()
        });
    Ok(columns.table(about, &items, ctx.settings.tz))
}

/// The one community an export covers, by its stored name: the one asked for, or a
/// caller's only community (which [`Caller::scope`] names as such); `None` for several.
pub(super) async fn scope_name(ctx: &Context, scope: &store::Scope) -> Result<Option<String>> {
    let store::Scope::Community(id) = *scope else {
        return Ok(None);
    };
    Ok(communities::list(&ctx.store)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .map(|c| c.name))
}

/// One line of the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItemOut {
    pub id: i64,
    pub unit_id: i64,
    pub address: String,
    pub community: String,
    pub reason: String,
    pub status: String,
    pub outcome: Option<String>,
    pub created_at: String,
    pub closed_at: Option<String>,
    /// Whole days since the unit's last upload (or since it was put under watch).
    pub days_since_upload: i64,
    /// Unreachable visits so far.
    pub attempts: i64,
    /// For `identity_conflict`: the address where the same document number was registered
    /// since.
    pub other_address: Option<String>,
    /// The username of the officer the check was given to, if any.
    pub assignee: Option<String>,
}

/// Stored lines as of `now_ms`.
pub fn items_out(items: Vec<door_checks::QueueItem>, now_ms: i64) -> Vec<QueueItemOut> {
    let now = store::instant(now_ms);
    items
        .into_iter()
        .map(|i| QueueItemOut {
            id: i.id,
            unit_id: i.unit_id,
            address: i.address,
            community: i.community,
            reason: i.reason.as_str().into(),
            status: i.status.as_str().into(),
            outcome: i.outcome.map(|o| o.as_str().into()),
            created_at: rfc3339(i.opened_at),
            closed_at: i.closed_at.map(rfc3339),
            days_since_upload: days_since(store::instant(i.clock_from), now),
            attempts: i.attempts,
            other_address: i.related_address,
            assignee: i.assignee,
        })
        .collect()
}

/// A page of the queue (`page` from 1, `per_page` 1–200) and the number of lines.
pub async fn list(
    ctx: &Context,
    caller: &Caller,
    q: &QueueQuery<'_>,
    page: Option<i64>,
    per_page: Option<i64>,
) -> Result<(Vec<QueueItemOut>, i64)> {
    let filter = filter(ctx, caller, q).await?;
    let (offset, limit) = paging(page, per_page)?;
    let now = store::millis(ctx.now());
    let (items, total) = door_checks::list(&ctx.store, &filter, now, offset, limit).await?;
    Ok((items_out(items, now), total))
}

/// The officer's view of the open queue: a page of it, the open checks per reason, and the
/// communities whose posters the caller may print.
pub struct Overview {
    pub items: Vec<QueueItemOut>,
    /// Every open reason of each unit on the page: `(unit, reason)`, oldest first.
    pub unit_reasons: Vec<(i64, Reason)>,
    /// Open checks in scope per reason.
    pub counts: Vec<(Reason, i64)>,
    pub poster_communities: Vec<String>,
}

/// The open checks of the caller's communities in `order`, `limit` from `offset`.
pub async fn overview(
    ctx: &Context,
    caller: &Caller,
    sort: &str,
    offset: i64,
    limit: i64,
) -> Result<Overview> {
    let q = QueueQuery {
        sort: Some(sort),
        ..QueueQuery::default()
    };
    let filter = filter(ctx, caller, &q).await?;
    let now = store::millis(ctx.now());
    // The page, its counts and the poster communities are independent reads: asked at
    // once, the page waits for the slowest of them instead of for their sum.
    let communities = async {
        if caller.role.manages_units() {
            communities::list(&ctx.store).await
        } else {
            Ok(Vec::new())
        }
    };
    let (items, counts, communities) = tokio::try_join!(
        door_checks::page(&ctx.store, &filter, now, offset, limit),
        door_checks::open_counts(&ctx.store, filter.scope),
        communities,
    )?;
    let mut units: Vec<i64> = items.iter().map(|i| i.unit_id).collect();
    units.sort_unstable();
    units.dedup();
    let unit_reasons = door_checks::open_reasons_of(&ctx.store, &units)
        .await?
        .into_iter()
        .map(|(unit, _, reason)| (unit, reason))
        .collect();
    Ok(Overview {
        unit_reasons,
        items: items_out(items, now),
        counts,
        poster_communities: communities
            .into_iter()
            .filter(|c| caller.sees(c.id))
            .map(|c| c.name)
            .collect(),
    })
}

/// Open referrals from door checks, for the law-enforcement team (at most 500).
pub async fn referrals(ctx: &Context, caller: &Caller) -> Result<Vec<door_checks::Referral>> {
    caller.require(|r| matches!(r, Role::Admin | Role::Enforcement | Role::Police))?;
    Ok(door_checks::referrals(&ctx.store, caller.scope(), 500).await?)
}

/// An open reason of a unit, with the figures behind it.
pub struct ReasonLine {
    pub check: door_checks::DoorCheck,
    /// The figures in words (see [`crate::domain::visit::figures`]).
    pub figures: Vec<String>,
    /// For a `tip`: its reference and category, in words.
    pub tip: Option<(String, &'static str)>,
}

/// What an officer reads about a unit before and after a visit.
pub struct UnitCard {
    pub unit: units::Unit,
    /// Every open reason, oldest first: one visit answers them together.
    pub reasons: Vec<ReasonLine>,
    /// Current occupants, masked.
    pub occupants: Vec<registrations::OccupantView>,
    /// Door checks, newest first.
    pub checks: Vec<door_checks::DoorCheck>,
    /// Visit results, newest first.
    pub events: Vec<door_checks::Event>,
    /// The last 20 uploads.
    pub uploads: Vec<registrations::Upload>,
    /// The unit's sublandlord, masked: name and phone.
    pub sublandlord: Option<(String, String)>,
    /// Clock and state changes, newest first.
    pub history: Vec<clock::EventRow>,
}

/// The card of a unit in the caller's communities.
pub async fn unit_card(ctx: &Context, caller: &Caller, id: i64) -> Result<UnitCard> {
    caller.require(Role::works_queue)?;
    let unit = units::get(&ctx.store, id)
        .await?
        .filter(|u| caller.sees(u.community_id))
        .ok_or(Error::NotFound)?;
    let occupants = registrations::current_occupants(&ctx.store, unit.id).await?;
    let checks = door_checks::for_unit(&ctx.store, unit.id).await?;
    let events = door_checks::events_for_unit(&ctx.store, unit.id).await?;
    let uploads = registrations::history(&ctx.store, unit.id, 20).await?;
    let history = clock::history(&ctx.store, unit.id, super::units::HISTORY_SHOWN).await?;
    let sublandlord = match unit.sublandlord_id {
        Some(id) => sublandlords::get(&ctx.store, id)
            .await?
            .map(|s| (masked_name(&s.name), s.phone_masked)),
        None => None,
    };
    let reasons = reason_lines(ctx, &unit, occupants.len() as i64, &checks).await?;
    Ok(UnitCard {
        reasons,
        unit,
        occupants,
        checks,
        events,
        uploads,
        sublandlord,
        history,
    })
}

/// The open checks of a unit as reasons with their figures, oldest first.
async fn reason_lines(
    ctx: &Context,
    unit: &units::Unit,
    occupants: i64,
    checks: &[door_checks::DoorCheck],
) -> Result<Vec<ReasonLine>> {
    let figures = visits::figures(&ctx.store, unit.id).await?;
    let now = store::instant(store::millis(ctx.now()));
    let facts = Facts {
        occupants,
        rooms: unit.rooms,
        floor_area_m2: figures.as_ref().and_then(|f| f.floor_area_m2),
        planned_occupants: figures.as_ref().and_then(|f| f.planned_occupants),
        family: figures.as_ref().is_some_and(|f| f.family != 0),
        days_since_clock: days_since(store::instant(unit.clock_from), now),
    };
    let limits = Limits {
        overdue_days: ctx.settings.overdue_days,
        confirm_days: ctx.settings.confirm_days,
        density: ctx.settings.density(),
    };
    let mut lines = Vec::new();
    for check in checks.iter().rev().filter(|c| c.status == Status::Open) {
        let tip = match tip_of(check) {
            Some(id) => tips::get(&ctx.store, id)
                .await?
                .map(|t| (t.reference, t.category.label_zh())),
            None => None,
        };
        lines.push(ReasonLine {
            figures: visit::figures(
                check.reason,
                &facts,
                limits,
                check.details.as_deref(),
                check.related_address.as_deref(),
            ),
            tip,
            check: check.clone(),
        });
    }
    Ok(lines)
}

/// The tip a `tip` check was opened from.
fn tip_of(check: &door_checks::DoorCheck) -> Option<i64> {
    if check.reason != Reason::Tip {
        return None;
    }
    let details: serde_json::Value = serde_json::from_str(check.details.as_deref()?).ok()?;
    details["tip_id"].as_i64()
}

/// Sublandlords' filings in the caller's communities, newest first, with the
/// sublandlords' names masked: `limit` from `offset`, and how many there are.
pub async fn filings(
    ctx: &Context,
    caller: &Caller,
    offset: i64,
    limit: i64,
) -> Result<(Vec<filings::FilingRow>, i64)> {
    caller.require(Role::works_queue)?;
    let scope = caller.scope_in(ctx, None).await?;
    let (mut rows, total) = filings::list(
        &ctx.store,
        filings::Filer::Staff(scope),
        None,
        offset,
        limit,
    )
    .await?;
    for row in &mut rows {
        row.sublandlord = masked_name(&row.sublandlord);
    }
    Ok((rows, total))
}

/// A person's name as staff lists show it: masked, or blank if it does not parse.
fn masked_name(name: &str) -> String {
    PersonName::parse(name)
        .map(|n| n.masked())
        .unwrap_or_default()
}
