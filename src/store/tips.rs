//! Tips: stored as received with their reference number, looked up by it, listed for
//! staff of the tip's community, triaged, tied to a unit when their address matched none,
//! and turned into a `tip` door check.

use chrono::NaiveDate;
use sqlx::{AssertSqlSafe, FromRow};

use super::ledger::{Persons, refresh_ledger};
use super::scope::{Scope, scope_id, scope_sql};
use super::tx::transaction;
use super::units::{self, NewUnit};
use super::{Store, StoreResult, audit};
use crate::crypto::{Purpose, Vault};
use crate::domain::event::{EventType, NewEvent};
use crate::domain::tip::{Category, TipReference, TipState};
use crate::domain::token::QrToken;

/// A tip as received, already checked.
#[derive(Debug, Clone)]
pub struct NewTip {
    pub community_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub address: String,
    pub category: &'static str,
    pub description: String,
    pub contact_enc: Option<Vec<u8>>,
    pub contact_masked: Option<String>,
    /// Re-encoded JPEG.
    pub photo: Option<Vec<u8>>,
}

/// A tip as staff see it (the contact masked, the photo apart).
#[derive(Debug, Clone, FromRow)]
pub struct Tip {
    pub id: i64,
    pub reference: String,
    pub community_id: Option<i64>,
    pub community: Option<String>,
    pub unit_id: Option<i64>,
    pub address: String,
    pub category: Category,
    pub description: String,
    pub contact_masked: Option<String>,
    pub has_photo: i64,
    pub state: TipState,
    pub door_check_id: Option<i64>,
    pub note: Option<String>,
    pub created_at: i64,
    pub handled_at: Option<i64>,
}

const COLUMNS: &str = r"t.id, t.reference, t.community_id, c.name as community, t.unit_id, t.address,
    t.category, t.description, t.contact_masked,
    case when t.photo is null then 0 else 1 end as has_photo, t.state, t.door_check_id,
    t.note, t.created_at, t.handled_at";

/// Stores a tip received on local `day`; its id and reference number. The number is the
/// day's next one, taken from `tip_days` in the same transaction: on PostgreSQL the upsert
/// holds the day's row until the tip commits, so tips sent at once queue for their numbers
/// instead of sharing one; SQLite's single writer does that by itself.
pub async fn create(
    store: &Store,
    tip: NewTip,
    day: NaiveDate,
    now_ms: i64,
) -> StoreResult<(i64, TipReference)> {
    transaction!(store, |tx| {
        let seq: i64 = sqlx::query_scalar(
            r"insert into tip_days (day, last) values ($1, 1)
              on conflict (day) do update set last = tip_days.last + 1
              returning last",
        )
        .bind(TipReference::day_key(day))
        .fetch_one(tx.conn())
        .await?;
        let reference = TipReference::new(day, seq);
        let id = sqlx::query_scalar(
            r"insert into tips (community_id, unit_id, address, category, description,
                          contact_enc, contact_masked, photo, state, created_at, reference)
                      values ($1, $2, $3, $4, $5, $6, $7, $8, 'new', $9, $10) returning id",
        )
        .bind(tip.community_id)
        .bind(tip.unit_id)
        .bind(tip.address)
        .bind(tip.category)
        .bind(tip.description)
        .bind(tip.contact_enc)
        .bind(tip.contact_masked)
        .bind(tip.photo)
        .bind(now_ms)
        .bind(reference.as_ref().to_string())
        .fetch_one(tx.conn())
        .await?;
        // A tip with no community yet is kept for the feed only when it gets one.
        if let Some(community_id) = tip.community_id {
            let address = match tip.unit_id {
                Some(unit) => Some(super::outbox::unit_address_in(tx, unit).await?),
                None => None,
            };
            let event = NewEvent {
                kind: EventType::TipReceived,
                community_id,
                data: serde_json::json!({
                    "tip_id": id,
                    "category": tip.category,
                    "unit_id": tip.unit_id,
                    "address": address,
                }),
            };
            super::outbox::enqueue_in(tx, &event, now_ms).await?;
        }
        Ok((id, reference))
    })
    .await
}

/// What anyone holding a reference may learn of its tip: where it stands and when.
#[derive(Debug, Clone, FromRow)]
pub struct TipStatus {
    pub reference: String,
    pub state: TipState,
    pub created_at: i64,
    /// The last change by staff, or the receipt.
    pub changed_at: i64,
}

/// The state of the tip with this reference.
pub async fn status(store: &Store, reference: &TipReference) -> StoreResult<Option<TipStatus>> {
    Ok(sqlx::query_as(
        r"select reference, state, created_at, coalesce(handled_at, created_at) as changed_at
          from tips where reference = $1",
    )
    .bind(reference.as_ref().to_string())
    .fetch_optional(store.pool())
    .await?)
}

/// Which tips a list shows.
#[derive(Debug, Clone, Default)]
pub struct TipFilter {
    /// One state only.
    pub state: Option<&'static str>,
    /// References containing this text (already folded to what a reference may hold).
    pub reference: Option<String>,
}

/// One page of the tips in scope, newest first, optionally in one state; tips whose
/// community is unknown are shown to admins (scope `All`) only.
pub async fn list(
    store: &Store,
    scope: Scope,
    filter: &TipFilter,
    offset: i64,
    limit: i64,
) -> StoreResult<(Vec<Tip>, i64)> {
    let state_clause = if filter.state.is_some() {
        " and t.state = $2"
    } else {
        " and $2 = $2"
    };
    // The fragment holds only letters, digits and `-`: nothing `like` reads as a pattern.
    let reference_clause = if filter.reference.is_some() {
        " and t.reference like $3"
    } else {
        " and $3 = $3"
    };
    let filter_sql = format!(
        "where 1 = 1{}{state_clause}{reference_clause}",
        scope_sql(scope, "t")
    );
    let state = filter.state.unwrap_or("").to_string();
    let reference = filter
        .reference
        .as_ref()
        .map_or_else(String::new, |r| format!("%{r}%"));
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "select count(*) from tips t {filter_sql}"
    )))
    .bind(scope_id(scope))
    .bind(state.clone())
    .bind(reference.clone())
    .fetch_one(store.pool())
    .await?;
    let rows = sqlx::query_as(AssertSqlSafe(format!(
        r"select {COLUMNS} from tips t left join communities c on c.id = t.community_id
          {filter_sql} order by t.id desc limit $4 offset $5"
    )))
    .bind(scope_id(scope))
    .bind(state)
    .bind(reference)
    .bind(limit)
    .bind(offset)
    .fetch_all(store.pool())
    .await?;
    Ok((rows, total))
}

/// One tip.
pub async fn get(store: &Store, id: i64) -> StoreResult<Option<Tip>> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        r"select {COLUMNS} from tips t left join communities c on c.id = t.community_id
          where t.id = $1"
    )))
    .bind(id)
    .fetch_optional(store.pool())
    .await?)
}

/// A tip's photo, if it has one.
pub async fn photo(store: &Store, id: i64) -> StoreResult<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar::<_, Option<Vec<u8>>>("select photo from tips where id = $1")
            .bind(id)
            .fetch_optional(store.pool())
            .await?
            .flatten(),
    )
}

/// Moves a tip to `state` with a note, by `user_id`; audited.
pub async fn set_state(
    store: &Store,
    id: i64,
    state: &'static str,
    note: Option<String>,
    user_id: i64,
    now_ms: i64,
) -> StoreResult<()> {
    transaction!(store, |tx| {
        sqlx::query(
            r"update tips set state = $1, note = coalesce($2, note), handled_at = $3,
                          handled_by = $4
                      where id = $5",
        )
        .bind(state)
        .bind(note)
        .bind(now_ms)
        .bind(user_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
        let entry = audit::Entry {
            user_id: Some(user_id),
            action: "tip.triage".into(),
            subject: Some(format!("tip:{id}")),
            detail: Some(serde_json::json!({ "state": state }).to_string()),
            // The note stays with the tip, where the retention purge can empty it;
            // the audit log keeps its rows for ever.
            reason: None,
        };
        audit::append_in(tx, &entry, now_ms).await
    })
    .await
}

/// Opens a `tip` door check for the tip's unit (or finds the open one) and marks the tip
/// as being checked. Returns the check's id.
pub async fn open_check(
    store: &Store,
    tip_id: i64,
    unit_id: i64,
    user_id: i64,
    now_ms: i64,
) -> StoreResult<i64> {
    transaction!(store, |tx| {
        let details = serde_json::json!({ "tip_id": tip_id }).to_string();
        let opened: Option<(i64, i64)> = sqlx::query_as(
            r"insert into door_checks
                          (unit_id, community_id, reason, status, details, opened_at, queue_key)
                      select id, community_id, 'tip', 'open', $1, $2, $2 from units
                      where id = $3
                      on conflict do nothing returning id, community_id",
        )
        .bind(details)
        .bind(now_ms)
        .bind(unit_id)
        .fetch_optional(tx.conn())
        .await?;
        if let Some((id, community_id)) = opened {
            super::outbox::door_check_opened_in(tx, id, unit_id, community_id, "tip", now_ms)
                .await?;
        }
        let check_id = match opened {
            Some((id, _)) => id,
            None => {
                sqlx::query_scalar(
                    r"select id from door_checks
                              where unit_id = $1 and reason = 'tip' and status = 'open'",
                )
                .bind(unit_id)
                .fetch_one(tx.conn())
                .await?
            }
        };
        // A second press changes nothing and records nothing.
        let moved = sqlx::query(
            r"update tips set state = 'checking', door_check_id = $1, handled_at = $2,
                          handled_by = $3
                      where id = $4 and (door_check_id is null or door_check_id <> $1
                                         or state <> 'checking')",
        )
        .bind(check_id)
        .bind(now_ms)
        .bind(user_id)
        .bind(tip_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if opened.is_some() {
            // A tip check counts in the unit's sublandlord's ledger row.
            refresh_ledger(tx, Persons::OfUnit(unit_id)).await?;
        }
        let mut entries = Vec::new();
        if moved > 0 {
            entries.push(audit::Entry {
                user_id: Some(user_id),
                action: "tip.triage".into(),
                subject: Some(format!("tip:{tip_id}")),
                detail: Some(r#"{"state":"checking"}"#.into()),
                reason: None,
            });
        }
        if opened.is_some() {
            entries.push(audit::Entry {
                user_id: Some(user_id),
                action: "door_check.open".into(),
                subject: Some(format!("door_check:{check_id}")),
                detail: Some(
                    serde_json::json!({ "unit_id": unit_id, "reason": "tip" }).to_string(),
                ),
                reason: Some(format!("tip:{tip_id}")),
            });
        }
        audit::append_all_in(tx, &entries, now_ms).await?;
        Ok(check_id)
    })
    .await
}

/// The audit entry of a tip tied to a unit.
fn linked(tip_id: i64, unit_id: i64, user_id: i64, created: bool) -> audit::Entry {
    audit::Entry {
        user_id: Some(user_id),
        action: "tip.link_unit".into(),
        subject: Some(format!("tip:{tip_id}")),
        detail: Some(serde_json::json!({ "unit_id": unit_id, "created": created }).to_string()),
        reason: None,
    }
}

/// Ties a tip that names no unit to `unit_id` (moving it to the unit's community), by
/// `user_id`; audited. `false`, changing nothing, when the tip has a unit already.
pub async fn link_unit(
    store: &Store,
    tip_id: i64,
    unit_id: i64,
    community_id: i64,
    user_id: i64,
    now_ms: i64,
) -> StoreResult<bool> {
    transaction!(store, |tx| {
        let moved = sqlx::query(
            r"update tips set unit_id = $1, community_id = $2
              where id = $3 and unit_id is null",
        )
        .bind(unit_id)
        .bind(community_id)
        .bind(tip_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if moved == 0 {
            return Ok(false);
        }
        audit::append_in(tx, &linked(tip_id, unit_id, user_id, false), now_ms).await?;
        Ok(true)
    })
    .await
}

/// Creates a unit for a tip that names none and ties the tip to it, in one transaction
/// (both audited): the unit's id and poster token, or `None`, creating nothing, when the
/// tip has a unit already.
pub async fn create_unit_for(
    store: &Store,
    vault: &Vault,
    tip_id: i64,
    unit: NewUnit,
    user_id: i64,
    now_ms: i64,
) -> StoreResult<Option<(i64, QrToken)>> {
    let token = QrToken::generate();
    let token_hash = vault.token_hash(token.as_ref());
    let token_enc = vault.seal(Purpose::QrToken, token.as_ref());
    let created = transaction!(store, |tx| {
        // Held until the end on PostgreSQL, so two presses cannot both create a unit.
        let sql = format!(
            "select unit_id from tips where id = $1{}",
            tx.backend().row_lock()
        );
        let current: Option<Option<i64>> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(tip_id)
            .fetch_optional(tx.conn())
            .await?;
        if !matches!(current, Some(None)) {
            return Ok(None);
        }
        let unit_id = units::create_in(tx, &unit, token_hash, token_enc, now_ms).await?;
        sqlx::query("update tips set unit_id = $1, community_id = $2 where id = $3")
            .bind(unit_id)
            .bind(unit.community_id)
            .bind(tip_id)
            .execute(tx.conn())
            .await?;
        audit::append_in(tx, &linked(tip_id, unit_id, user_id, true), now_ms).await?;
        Ok(Some(unit_id))
    })
    .await?;
    Ok(created.map(|id| (id, token)))
}
