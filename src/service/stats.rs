//! Per-community statistics: units, occupants, uploads, the door-check queue, the
//! advance-filing rate (事前报备率) against the plan's 95% target and the upload rate
//! (上传率), which has none. Their definitions are in `domain::rates`.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Caller, Context, Error, Result};
use crate::domain::month::Month;
use crate::store::{communities, stats};

use crate::domain::rates::FILING;

/// The plan's target for the advance-filing rate (事前报备率).
pub const FILING_RATE_TARGET: f64 = match FILING.target {
    Some(target) => target,
    None => 1.0,
};

/// Counts of a community or of all in scope.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountsOut {
    pub units: i64,
    pub active: i64,
    pub vacant: i64,
    pub occupants: i64,
    /// Of those, by where they come from: `mainland`, `hmt` (Hong Kong, Macao, Taiwan) and
    /// `foreign` (by document, or by the nationality given with a passport).
    pub occupants_by_group: std::collections::BTreeMap<String, i64>,
    /// Uploads: registrations, "unchanged" confirmations, officers' verifications.
    pub registrations: i64,
    /// Open `no_upload` door checks now.
    pub overdue: i64,
    /// Open door checks of every reason now.
    pub open_checks: i64,
    pub checks_opened: i64,
    /// Checks opened in the window for each reason (`no_upload`, `unconfirmed`,
    /// `garage_dwelling`, `daily_rental`, `identity_conflict`, …); reasons with none are
    /// left out.
    pub checks_opened_by_reason: std::collections::BTreeMap<String, i64>,
    pub checks_closed: i64,
    /// Active units let by a sublandlord.
    pub sublandlord_units: i64,
    /// Of those, filed before their first registration.
    pub filed_in_advance: i64,
    /// 事前报备率, the plan's target figure: `filed_in_advance / sublandlord_units`; none
    /// without sublandlord units.
    pub filing_rate: Option<f64>,
    /// Whether the filing rate reaches the 95% target.
    pub filing_rate_met: Option<bool>,
    /// Active units whose tenants or sublandlord uploaded within the month (or ever).
    pub self_declared: i64,
    /// 上传率: `self_declared / active`; none without active units. It watches uploads and
    /// has no target.
    pub upload_rate: Option<f64>,
    /// The same figure under its earlier name (kept for clients that read it).
    pub declaration_rate: Option<f64>,
    /// Tips received.
    pub tips: i64,
    /// Median hours from a unit becoming overdue to an officer's check result, over the
    /// checks closed in the month.
    pub median_hours_overdue_to_check: Option<f64>,
    /// Uploads per day of the month, first day first (only with `month`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub registrations_per_day: Vec<DayCount>,
}

/// Uploads on one day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayCount {
    /// `YYYY-MM-DD` in `RENFANG_TZ`.
    pub date: String,
    pub count: i64,
}

impl CountsOut {
    /// The counts, with per-day figures dated from `first_day`.
    pub fn new(c: &stats::Counts, first_day: Option<NaiveDate>) -> Self {
        let mut out = CountsOut::from(c);
        if let Some(first) = first_day {
            out.registrations_per_day = c
                .per_day
                .iter()
                .enumerate()
                .map(|(i, &count)| DayCount {
                    date: (first + chrono::Days::new(i as u64)).to_string(),
                    count,
                })
                .collect();
        }
        out
    }
}

impl From<&stats::Counts> for CountsOut {
    fn from(c: &stats::Counts) -> Self {
        let rate = c.filing_rate();
        let declared = c.declaration_rate();
        Self {
            units: c.units,
            active: c.active,
            vacant: c.vacant,
            occupants: c.occupants,
            occupants_by_group: c.occupants_by_group.clone(),
            registrations: c.registrations,
            overdue: c.overdue,
            open_checks: c.open_checks,
            checks_opened: c.checks_opened,
            checks_opened_by_reason: c.checks_opened_by_reason.clone(),
            checks_closed: c.checks_closed,
            sublandlord_units: c.sublandlord_units,
            filed_in_advance: c.filed_in_advance,
            filing_rate: rate,
            filing_rate_met: FILING.met(rate),
            self_declared: c.self_declared,
            upload_rate: declared,
            declaration_rate: declared,
            tips: c.tips,
            median_hours_overdue_to_check: c.median_hours_to_check(),
            registrations_per_day: Vec::new(),
        }
    }
}

/// One community's counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommunityCounts {
    pub community: String,
    #[serde(flatten)]
    pub counts: CountsOut,
}

/// Statistics over the caller's communities.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsOut {
    pub month: Option<String>,
    pub filing_rate_target: f64,
    pub overall: CountsOut,
    pub communities: Vec<CommunityCounts>,
}

/// The statistics a staff caller may see: of one community they see (`community`) or all
/// of them, for one month (`YYYY-MM`) or all time.
pub async fn for_caller(
    ctx: &Context,
    caller: &Caller,
    community: Option<&str>,
    month: Option<&str>,
) -> Result<StatsOut> {
    caller.require(|r| r.is_staff())?;
    let month = month.map(str::trim).filter(|m| !m.is_empty());
    let (window, first_day) = match month {
        Some(m) => {
            let month = Month::parse(m).ok_or_else(|| Error::invalid("month"))?;
            (
                stats::Window::month(month, ctx.settings.tz),
                Some(month.first_day()),
            )
        }
        None => (stats::Window::all_time(), None),
    };
    let wanted = community.map(str::trim).filter(|c| !c.is_empty());
    let mut shown: Vec<communities::Community> = communities::list(&ctx.store)
        .await?
        .into_iter()
        .filter(|c| caller.sees(c.id))
        .collect();
    if let Some(name) = wanted {
        shown.retain(|c| c.name == name);
        if shown.is_empty() {
            return Err(Error::NotFound);
        }
    }
    let counts = stats::by_community(&ctx.store, window).await?;
    let mut overall = stats::Counts::default();
    let mut rows = Vec::with_capacity(shown.len());
    for c in shown {
        let counts = counts.get(&c.id).cloned().unwrap_or_default();
        overall.add(&counts);
        rows.push(CommunityCounts {
            community: c.name,
            counts: CountsOut::new(&counts, first_day),
        });
    }
    Ok(StatsOut {
        month: month.map(str::to_string),
        filing_rate_target: FILING_RATE_TARGET,
        overall: CountsOut::new(&overall, first_day),
        communities: rows,
    })
}
