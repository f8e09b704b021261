//! Per-community counts for the statistics page and the monthly report.

use std::collections::HashMap;

use super::{Store, StoreResult};

/// The counts of one community (or, summed, of several).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub units: i64,
    pub active: i64,
    pub vacant: i64,
    pub occupants: i64,
    /// Uploads (registrations, confirmations, verifications) within the window.
    pub registrations: i64,
    /// Open `no_upload` checks now.
    pub overdue: i64,
    pub checks_opened: i64,
    pub checks_closed: i64,
    /// Active units let by a sublandlord.
    pub sublandlord_units: i64,
    /// Of those, units whose filing came before their first registration.
    pub filed_in_advance: i64,
}

impl Counts {
    /// Adds another community's counts.
    pub fn add(&mut self, o: &Counts) {
        self.units += o.units;
        self.active += o.active;
        self.vacant += o.vacant;
        self.occupants += o.occupants;
        self.registrations += o.registrations;
        self.overdue += o.overdue;
        self.checks_opened += o.checks_opened;
        self.checks_closed += o.checks_closed;
        self.sublandlord_units += o.sublandlord_units;
        self.filed_in_advance += o.filed_in_advance;
    }
}

/// Counts per community id, with uploads and checks counted within `[from_ms, to_ms)`.
pub async fn by_community(
    store: &Store,
    from_ms: i64,
    to_ms: i64,
) -> StoreResult<HashMap<i64, Counts>> {
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
          from units group by community_id",
    )
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
    let pairs = |sql: &'static str| async move {
        sqlx::query_as::<_, (i64, i64)>(sql)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(store.pool())
            .await
    };
    for (c, n) in pairs(
        r"select u.community_id, count(*) from occupants o join units u on u.id = o.unit_id
          where o.moved_out_at is null and $1 = $1 and $2 = $2 group by u.community_id",
    )
    .await?
    {
        out.entry(c).or_default().occupants = n;
    }
    for (c, n) in pairs(
        r"select u.community_id, count(*) from registrations r join units u on u.id = r.unit_id
          where r.created_at >= $1 and r.created_at < $2 group by u.community_id",
    )
    .await?
    {
        out.entry(c).or_default().registrations = n;
    }
    for (c, n) in pairs(
        r"select community_id, cast(sum(open) as bigint) from open_check_counts
          where reason = 'no_upload' and $1 = $1 and $2 = $2 group by community_id",
    )
    .await?
    {
        out.entry(c).or_default().overdue = n;
    }
    for (c, n) in pairs(
        r"select community_id, count(*) from door_checks
          where opened_at >= $1 and opened_at < $2 group by community_id",
    )
    .await?
    {
        out.entry(c).or_default().checks_opened = n;
    }
    for (c, n) in pairs(
        r"select community_id, count(*) from door_checks
          where closed_at >= $1 and closed_at < $2 group by community_id",
    )
    .await?
    {
        out.entry(c).or_default().checks_closed = n;
    }
    Ok(out)
}
