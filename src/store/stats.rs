//! Per-community counts for the statistics page and the monthly report.

use std::collections::{BTreeMap, HashMap};

use super::{Store, StoreResult};
use crate::domain::country::GROUP_SQL;
use crate::domain::month::Month;
use crate::domain::unit::UnitState;

/// The counts of one community (or, summed, of several).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub units: i64,
    pub active: i64,
    pub vacant: i64,
    pub occupants: i64,
    /// Of those, how many by where they come from: `mainland`, `hmt` (Hong Kong, Macao,
    /// Taiwan) and `foreign`.
    pub occupants_by_group: BTreeMap<String, i64>,
    /// Uploads (registrations, confirmations, verifications) within the window.
    pub registrations: i64,
    /// Open `no_upload` checks now.
    pub overdue: i64,
    /// Open checks of every reason now.
    pub open_checks: i64,
    pub checks_opened: i64,
    /// Of those, how many for each reason (by its wire name).
    pub checks_opened_by_reason: BTreeMap<String, i64>,
    pub checks_closed: i64,
    /// Active units let by a sublandlord.
    pub sublandlord_units: i64,
    /// Of those, units whose filing came before their first registration.
    pub filed_in_advance: i64,
    /// Active units with an upload by their tenants or sublandlord (not by an officer)
    /// within the window: the self-declared ones.
    pub self_declared: i64,
    /// Tips received within the window.
    pub tips: i64,
    /// For each `no_upload` check an officer closed within the window: milliseconds from
    /// the moment the unit became overdue to the result.
    pub overdue_to_check_ms: Vec<i64>,
    /// Uploads per day of the window (index 0 is its first day), when asked for.
    pub per_day: Vec<i64>,
}

impl Counts {
    /// Adds another community's counts.
    pub fn add(&mut self, o: &Counts) {
        self.units += o.units;
        self.active += o.active;
        self.vacant += o.vacant;
        self.occupants += o.occupants;
        for (group, n) in &o.occupants_by_group {
            *self.occupants_by_group.entry(group.clone()).or_default() += n;
        }
        self.registrations += o.registrations;
        self.overdue += o.overdue;
        self.open_checks += o.open_checks;
        self.checks_opened += o.checks_opened;
        for (reason, n) in &o.checks_opened_by_reason {
            *self
                .checks_opened_by_reason
                .entry(reason.clone())
                .or_default() += n;
        }
        self.checks_closed += o.checks_closed;
        self.sublandlord_units += o.sublandlord_units;
        self.filed_in_advance += o.filed_in_advance;
        self.self_declared += o.self_declared;
        self.tips += o.tips;
        self.overdue_to_check_ms
            .extend_from_slice(&o.overdue_to_check_ms);
        if self.per_day.len() < o.per_day.len() {
            self.per_day.resize(o.per_day.len(), 0);
        }
        for (sum, n) in self.per_day.iter_mut().zip(&o.per_day) {
            *sum += n;
        }
    }

    /// 事前报备率 (`domain::rates::FILING`): `filed_in_advance / sublandlord_units`, none
    /// without such units.
    pub fn filing_rate(&self) -> Option<f64> {
        (self.sublandlord_units > 0)
            .then(|| self.filed_in_advance as f64 / self.sublandlord_units as f64)
    }

    /// 上传率 (`domain::rates::UPLOAD`): `self_declared / active`, none without active
    /// units.
    pub fn declaration_rate(&self) -> Option<f64> {
        (self.active > 0).then(|| self.self_declared as f64 / self.active as f64)
    }

    /// The median of `overdue_to_check_ms`, in hours.
    pub fn median_hours_to_check(&self) -> Option<f64> {
        let mut v = self.overdue_to_check_ms.clone();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        let mid = v.len() / 2;
        let ms = if v.len() % 2 == 1 {
            v[mid] as f64
        } else {
            (v[mid - 1] as f64 + v[mid] as f64) / 2.0
        };
        Some(ms / 3_600_000.0)
    }
}

/// The window statistics are counted over.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from_ms: i64,
    pub to_ms: i64,
    /// Days to count uploads per day over (0 for none); `from_ms` is then a local midnight.
    pub days: usize,
    /// The zone whose calendar days the per-day counts follow.
    pub tz: chrono_tz::Tz,
}

impl Window {
    /// All time, without per-day counts.
    pub fn all_time() -> Self {
        Self {
            from_ms: i64::MIN,
            to_ms: i64::MAX,
            days: 0,
            tz: chrono_tz::UTC,
        }
    }

    /// A calendar month in `tz`, with per-day counts.
    pub fn month(month: Month, tz: chrono_tz::Tz) -> Self {
        let (from_ms, to_ms) = month.bounds_ms(tz);
        Self {
            from_ms,
            to_ms,
            days: month.days(),
            tz,
        }
    }

    fn is_all_time(&self) -> bool {
        self.from_ms == i64::MIN
    }
}

/// Counts per community id, with uploads, checks and tips counted within the window, and
/// occupants as those who lived there at some time within it (now, for all time). Emptied
/// (purged) occupant rows still count, so past months keep their figures.
pub async fn by_community(store: &Store, window: Window) -> StoreResult<HashMap<i64, Counts>> {
    let Window { from_ms, to_ms, .. } = window;
    let mut out: HashMap<i64, Counts> = HashMap::new();
    let units: Vec<(i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
        r"select community_id, count(*),
                 coalesce(sum(case when state = 'active' then 1 else 0 end), 0),
                 coalesce(sum(case when state = 'vacant' then 1 else 0 end), 0),
                 coalesce(sum(case when state = 'active' and sublandlord_id is not null
                                   then 1 else 0 end), 0),
                 coalesce(sum(case when state = 'active' and sublandlord_id is not null
                                   and filed_at is not null
                                   and (first_upload_at is null or filed_at <= first_upload_at)
                                   then 1 else 0 end), 0)
          from units where created_at < $1 group by community_id",
    )
    // Units made after the window do not count in it; states are today's here, and set
    // back to the window's end below.
    .bind(to_ms)
    .fetch_all(store.pool())
    .await?;
    for (c, n, active, vacant, let_units, advance) in units {
        let e = out.entry(c).or_default();
        e.units = n;
        e.active = active;
        e.vacant = vacant;
        e.sublandlord_units = let_units;
        e.filed_in_advance = advance;
    }
    // A past window counts each unit in the state it was in at the window's end: the units
    // whose state changed since then (few, next to all of them) are counted back, from
    // their history. Units created active have no event for it, so none means active.
    let changed: Vec<(i64, UnitState, i64, i64, UnitState)> = sqlx::query_as(
        r"select u.community_id, u.state,
                 cast(case when u.sublandlord_id is not null then 1 else 0 end as bigint),
                 cast(case when u.sublandlord_id is not null and u.filed_at is not null
                                and (u.first_upload_at is null or u.filed_at <= u.first_upload_at)
                           then 1 else 0 end as bigint),
                 coalesce((select e.state from unit_events e
                           where e.unit_id = u.id and e.state is not null and e.created_at < $1
                           order by e.created_at desc, e.id desc limit 1), 'active')
          from units u
          where u.created_at < $1
            and u.id in (select e.unit_id from unit_events e
                         where e.state is not null and e.created_at >= $1)",
    )
    .bind(to_ms)
    .fetch_all(store.pool())
    .await?;
    for (c, now, let_unit, advance, then) in changed {
        let e = out.entry(c).or_default();
        for (state, sign) in [(now, -1), (then, 1)] {
            let active = i64::from(state == UnitState::Active);
            e.active += sign * active;
            e.vacant += sign * i64::from(state == UnitState::Vacant);
            e.sublandlord_units += sign * active * let_unit;
            e.filed_in_advance += sign * active * advance;
        }
    }
    let pairs = |sql: &'static str| async move {
        sqlx::query_as::<_, (i64, i64)>(sql)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(store.pool())
            .await
    };
    // Occupants by where they come from (see `country::GROUP_SQL`).
    let occupants_sql = if window.is_all_time() {
        format!(
            r"select u.community_id, {GROUP_SQL}, count(*)
              from occupants o join units u on u.id = o.unit_id
              where o.moved_out_at is null and $1 = $1 and $2 = $2
              group by u.community_id, {GROUP_SQL}"
        )
    } else {
        // A row superseded within the window has its successor counted instead.
        format!(
            r"select u.community_id, {GROUP_SQL}, count(*)
              from occupants o join units u on u.id = o.unit_id
              where o.created_at < $2 and (o.moved_out_at is null or o.moved_out_at >= $1)
                and not (o.superseded = 1 and o.moved_out_at < $2)
              group by u.community_id, {GROUP_SQL}"
        )
    };
    let by_group: Vec<(i64, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(occupants_sql))
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(store.pool())
        .await?;
    for (c, group, n) in by_group {
        let e = out.entry(c).or_default();
        e.occupants += n;
        *e.occupants_by_group.entry(group).or_default() += n;
    }
    for (c, n) in pairs(
        r"select u.community_id, count(distinct r.unit_id)
          from registrations r join units u on u.id = r.unit_id
          where r.created_at >= $1 and r.created_at < $2 and r.source <> 'officer'
            and u.state = 'active' and u.created_at < $2
          group by u.community_id",
    )
    .await?
    {
        out.entry(c).or_default().self_declared = n;
    }
    for (c, n) in pairs(
        r"select community_id, count(*) from tips
          where created_at >= $1 and created_at < $2 and community_id is not null
          group by community_id",
    )
    .await?
    {
        out.entry(c).or_default().tips = n;
    }
    for (c, n) in pairs(
        r"select u.community_id, count(*) from registrations r join units u on u.id = r.unit_id
          where r.created_at >= $1 and r.created_at < $2 group by u.community_id",
    )
    .await?
    {
        out.entry(c).or_default().registrations = n;
    }
    // Open checks now: those of the clock's two rules (overdue) and of every reason, in one
    // read of the per-community counts.
    let open: Vec<(i64, i64, i64)> = sqlx::query_as(
        r"select community_id,
                 cast(sum(case when reason in ('no_upload', 'unconfirmed') then open else 0 end)
                      as bigint),
                 cast(sum(open) as bigint)
          from open_check_counts group by community_id",
    )
    .fetch_all(store.pool())
    .await?;
    for (c, overdue, all) in open {
        let e = out.entry(c).or_default();
        e.overdue = overdue;
        e.open_checks = all;
    }
    for (c, n) in pairs(
        r"select community_id, count(*) from door_checks
          where opened_at >= $1 and opened_at < $2 group by community_id",
    )
    .await?
    {
        out.entry(c).or_default().checks_opened = n;
    }
    let by_reason: Vec<(i64, String, i64)> = sqlx::query_as(
        r"select community_id, reason, count(*) from door_checks
          where opened_at >= $1 and opened_at < $2 group by community_id, reason",
    )
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(store.pool())
    .await?;
    for (c, reason, n) in by_reason {
        out.entry(c)
            .or_default()
            .checks_opened_by_reason
            .insert(reason, n);
    }
    for (c, n) in pairs(
        r"select community_id, count(*) from door_checks
          where closed_at >= $1 and closed_at < $2 group by community_id",
    )
    .await?
    {
        out.entry(c).or_default().checks_closed = n;
    }
    // Overdue from when the unit became due (the queue key of a swept check); only
    // results officers recorded.
    let waits: Vec<(i64, i64)> = sqlx::query_as(
        r"select community_id, closed_at - queue_key from door_checks
          where reason in ('no_upload', 'unconfirmed') and closed_by is not null
            and closed_at >= $1 and closed_at < $2",
    )
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(store.pool())
    .await?;
    for (c, ms) in waits {
        out.entry(c)
            .or_default()
            .overdue_to_check_ms
            .push(ms.max(0));
    }
    if window.days > 0 {
        // Counted by hour from the window's start, then placed on local days: a day is not
        // always 24 hours where clocks change for the summer.
        let per_hour: Vec<(i64, i64, i64)> = sqlx::query_as(
            r"select u.community_id, (r.created_at - $1) / 3600000, count(*)
              from registrations r join units u on u.id = r.unit_id
              where r.created_at >= $2 and r.created_at < $3
              group by u.community_id, (r.created_at - $1) / 3600000",
        )
        .bind(from_ms)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(store.pool())
        .await?;
        let first_day = super::instant(from_ms)
            .with_timezone(&window.tz)
            .date_naive();
        for (c, hour, n) in per_hour {
            let local = super::instant(from_ms + hour * 3_600_000).with_timezone(&window.tz);
            let day = local
                .date_naive()
                .signed_duration_since(first_day)
                .num_days();
            let e = out.entry(c).or_default();
            e.per_day.resize(window.days, 0);
            if let Some(slot) = usize::try_from(day).ok().and_then(|d| e.per_day.get_mut(d)) {
                *slot += n;
            }
        }
        for e in out.values_mut() {
            e.per_day.resize(window.days, 0);
        }
    }
    Ok(out)
}
