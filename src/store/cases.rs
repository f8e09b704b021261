//! Enforcement cases: one per referral, their evidence, decisions and closing.

use chrono::NaiveDate;
use sqlx::{AssertSqlSafe, FromRow};

use super::audit::{Entry, append_in};
use super::ledger::{Persons, refresh_ledger};
use super::scope::{Scope, scope_id, scope_sql};
use super::tx::{Tx, transaction};
use super::{Store, StoreResult, outbox};
use crate::domain::case::{CaseStatus, Decision, EvidenceKind, MAX_EVIDENCE, Violation};
use crate::domain::event::{EventType, NewEvent};

/// Opens the case of the referral that door check `door_check_id` has just made, inside
/// the transaction that made it. A referral has one case whatever happens: a second call
/// opens nothing.
pub(crate) async fn open_in(tx: &mut Tx<'_>, door_check_id: i64, now_ms: i64) -> StoreResult<()> {
    let opened: Option<(i64, i64, i64, i64)> = sqlx::query_as(
        r"insert into cases (referral_id, door_check_id, unit_id, community_id, status, opened_at)
          select id, door_check_id, unit_id, community_id, 'open', $2
          from referrals where door_check_id = $1
          on conflict (referral_id) do nothing
          returning id, referral_id, unit_id, community_id",
    )
    .bind(door_check_id)
    .bind(now_ms)
    .fetch_optional(tx.conn())
    .await?;
    if let Some((case_id, referral_id, unit_id, community_id)) = opened {
        let address = outbox::unit_address_in(tx, unit_id).await?;
        let event = NewEvent {
            kind: EventType::CaseOpened,
            community_id,
            data: serde_json::json!({
                "case_id": case_id,
                "referral_id": referral_id,
                "door_check_id": door_check_id,
                "unit_id": unit_id,
                "address": address,
            }),
        };
        outbox::enqueue_in(tx, &event, now_ms).await?;
    }
    Ok(())
}

/// One case with what lists and pages show of it.
#[derive(Debug, Clone, FromRow)]
pub struct Case {
    pub id: i64,
    pub referral_id: i64,
    pub door_check_id: i64,
    pub unit_id: i64,
    pub community_id: i64,
    pub address: String,
    pub community: String,
    pub status: CaseStatus,
    pub violation: Option<Violation>,
    pub penalty_yuan: Option<i64>,
    pub decision_number: Option<String>,
    /// `YYYY-MM-DD`.
    pub decided_on: Option<String>,
    pub opened_at: i64,
    pub decided_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub evidence_count: i64,
}

impl Case {
    /// The decision's date as a day.
    pub fn decided_day(&self) -> Option<NaiveDate> {
        self.decided_on.as_deref().and_then(|d| d.parse().ok())
    }
}

const CASE_COLUMNS: &str = r"select k.id, k.referral_id, k.door_check_id, k.unit_id,
        k.community_id, u.address, c.name as community, k.status, k.violation, k.penalty_yuan,
        k.decision_number, k.decided_on, k.opened_at, k.decided_at, k.closed_at,
        k.evidence_count
    from cases k
    join units u on u.id = k.unit_id
    join communities c on c.id = k.community_id";

/// Which cases a list shows.
#[derive(Debug, Clone, Copy)]
pub struct CaseFilter {
    pub scope: Scope,
    /// `None`: every status.
    pub status: Option<CaseStatus>,
}

/// The `where` clause of a filter, `$1` = scope id, `$2` = status (or unused).
fn where_clause(filter: &CaseFilter) -> String {
    let mut sql = String::from(" where 1 = 1");
    sql.push_str(&scope_sql(filter.scope, "k"));
    sql.push_str(if filter.status.is_some() {
        " and k.status = $2"
    } else {
        " and $2 = $2"
    });
    sql
}

/// One page of cases, newest first, and how many match.
pub async fn list(
    store: &Store,
    filter: &CaseFilter,
    offset: i64,
    limit: i64,
) -> StoreResult<(Vec<Case>, i64)> {
    let clause = where_clause(filter);
    let status = filter.status.map_or("", CaseStatus::as_str);
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "select count(*) from cases k{clause}"
    )))
    .bind(scope_id(filter.scope))
    .bind(status)
    .fetch_one(store.pool())
    .await?;
    let items = sqlx::query_as(AssertSqlSafe(format!(
        "{CASE_COLUMNS}{clause} order by k.opened_at desc, k.id desc limit $3 offset $4"
    )))
    .bind(scope_id(filter.scope))
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(store.pool())
    .await?;
    Ok((items, total))
}

/// One case.
pub async fn get(store: &Store, id: i64) -> StoreResult<Option<Case>> {
    Ok(
        sqlx::query_as(AssertSqlSafe(format!("{CASE_COLUMNS} where k.id = $1")))
            .bind(id)
            .fetch_optional(store.pool())
            .await?,
    )
}

/// What the police officer recorded when referring the unit.
#[derive(Debug, Clone, FromRow)]
pub struct Referral {
    pub note: Option<String>,
    pub created_at: i64,
    /// The officer's account name.
    pub officer: Option<String>,
}

/// The referral behind a case.
pub async fn referral(store: &Store, referral_id: i64) -> StoreResult<Option<Referral>> {
    Ok(sqlx::query_as(
        r"select r.note, r.created_at, u.username as officer
          from referrals r left join users u on u.id = r.created_by
          where r.id = $1",
    )
    .bind(referral_id)
    .fetch_optional(store.pool())
    .await?)
}

/// One piece of evidence, without its photo's bytes.
#[derive(Debug, Clone, FromRow)]
pub struct Evidence {
    pub id: i64,
    pub kind: EvidenceKind,
    pub note: Option<String>,
    pub has_photo: i64,
    pub created_by: Option<String>,
    pub created_at: i64,
}

/// A case's evidence, oldest first.
pub async fn evidence(store: &Store, case_id: i64) -> StoreResult<Vec<Evidence>> {
    Ok(sqlx::query_as(
        r"select e.id, e.kind, e.note,
                 cast(case when e.photo is null then 0 else 1 end as bigint) as has_photo,
                 u.username as created_by, e.created_at
          from case_evidence e left join users u on u.id = e.created_by
          where e.case_id = $1 order by e.created_at, e.id",
    )
    .bind(case_id)
    .fetch_all(store.pool())
    .await?)
}

/// The photo of one piece of a case's evidence.
pub async fn evidence_photo(
    store: &Store,
    case_id: i64,
    evidence_id: i64,
) -> StoreResult<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar::<_, Option<Vec<u8>>>(
        "select photo from case_evidence where id = $1 and case_id = $2",
    )
    .bind(evidence_id)
    .bind(case_id)
    .fetch_optional(store.pool())
    .await?
    .flatten())
}

/// Why a change to a case was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The case is in a status the change does not apply to (its status now).
    Status(CaseStatus),
    /// The case holds as much evidence as it may.
    Full,
}

/// New evidence, checked.
#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub photo: Option<Vec<u8>>,
    pub note: Option<String>,
}

/// The status of a case, read inside a transaction.
async fn status_in(tx: &mut Tx<'_>, case_id: i64) -> StoreResult<CaseStatus> {
    Ok(sqlx::query_scalar("select status from cases where id = $1")
        .bind(case_id)
        .fetch_one(tx.conn())
        .await?)
}

/// Adds evidence to a case that is not closed and holds fewer than 30 items; audited.
/// Returns the evidence id.
pub async fn add_evidence(
    store: &Store,
    case_id: i64,
    new: NewEvidence,
    user_id: i64,
    now_ms: i64,
) -> StoreResult<Result<i64, Refusal>> {
    transaction!(store, |tx| {
        // Counted on the case row itself, so two uploads at once cannot pass the bound.
        let counted = sqlx::query(
            r"update cases set evidence_count = evidence_count + 1
              where id = $1 and status <> 'closed' and evidence_count < $2",
        )
        .bind(case_id)
        .bind(MAX_EVIDENCE)
        .execute(tx.conn())
        .await?;
        if counted.rows_affected() != 1 {
            let status = status_in(tx, case_id).await?;
            return Ok(Err(if status == CaseStatus::Closed {
                Refusal::Status(status)
            } else {
                Refusal::Full
            }));
        }
        let kind = if new.photo.is_some() {
            EvidenceKind::Photo
        } else {
            EvidenceKind::Note
        };
        let id: i64 = sqlx::query_scalar(
            r"insert into case_evidence (case_id, kind, photo, note, created_by, created_at)
              values ($1, $2, $3, $4, $5, $6) returning id",
        )
        .bind(case_id)
        .bind(kind.as_str())
        .bind(new.photo)
        .bind(new.note)
        .bind(user_id)
        .bind(now_ms)
        .fetch_one(tx.conn())
        .await?;
        let entry = Entry {
            user_id: Some(user_id),
            action: "case.evidence".into(),
            subject: Some(format!("case:{case_id}")),
            detail: Some(serde_json::json!({"evidence_id": id, "kind": kind.as_str()}).to_string()),
            reason: None,
        };
        append_in(tx, &entry, now_ms).await?;
        Ok(Ok(id))
    })
    .await
}

/// Records the decision of an open case and recomputes its sublandlord's ledger rows;
/// audited.
pub async fn decide(
    store: &Store,
    case_id: i64,
    decision: Decision,
    user_id: i64,
    now_ms: i64,
) -> StoreResult<Result<(), Refusal>> {
    transaction!(store, |tx| {
        let (penalty, number, day) = match &decision {
            Decision::Violation {
                penalty_yuan,
                decision_number,
                decided_on,
                ..
            } => (
                Some(*penalty_yuan),
                Some(decision_number.clone()),
                Some(decided_on.format("%Y-%m-%d").to_string()),
            ),
            Decision::NoViolation => (None, None, None),
        };
        let violation = decision.violation();
        let unit: Option<(i64, i64)> = sqlx::query_as(
            r"update cases set status = 'decided', violation = $1, penalty_yuan = $2,
                  decision_number = $3, decided_on = $4, decided_at = $5, decided_by = $6
              where id = $7 and status = 'open'
              returning unit_id, community_id",
        )
        .bind(violation.as_str())
        .bind(penalty)
        .bind(number.clone())
        .bind(day.clone())
        .bind(now_ms)
        .bind(user_id)
        .bind(case_id)
        .fetch_optional(tx.conn())
        .await?;
        let Some((unit, community_id)) = unit else {
            return Ok(Err(Refusal::Status(status_in(tx, case_id).await?)));
        };
        refresh_ledger(tx, Persons::OfUnit(unit)).await?;
        let address = outbox::unit_address_in(tx, unit).await?;
        let event = NewEvent {
            kind: EventType::CaseDecided,
            community_id,
            data: serde_json::json!({
                "case_id": case_id,
                "unit_id": unit,
                "address": address,
                "violation": violation.as_str(),
                "penalty_yuan": penalty,
                "decision_number": number,
                "decided_on": day,
            }),
        };
        outbox::enqueue_in(tx, &event, now_ms).await?;
        let entry = Entry {
            user_id: Some(user_id),
            action: "case.decision".into(),
            subject: Some(format!("case:{case_id}")),
            detail: Some(
                serde_json::json!({
                    "violation": violation.as_str(),
                    "penalty_yuan": penalty,
                    "decision_number": number,
                    "decided_on": day,
                })
                .to_string(),
            ),
            reason: None,
        };
        append_in(tx, &entry, now_ms).await?;
        Ok(Ok(()))
    })
    .await
}

/// Closes a decided case; audited.
pub async fn close(
    store: &Store,
    case_id: i64,
    user_id: i64,
    now_ms: i64,
) -> StoreResult<Result<(), Refusal>> {
    transaction!(store, |tx| {
        let closed = sqlx::query(
            r"update cases set status = 'closed', closed_at = $1, closed_by = $2
              where id = $3 and status = 'decided'",
        )
        .bind(now_ms)
        .bind(user_id)
        .bind(case_id)
        .execute(tx.conn())
        .await?;
        if closed.rows_affected() != 1 {
            return Ok(Err(Refusal::Status(status_in(tx, case_id).await?)));
        }
        // The referral is dealt with: off the open list, and its note under retention.
        sqlx::query(
            r"update referrals set status = 'closed'
              where id = (select referral_id from cases where id = $1)",
        )
        .bind(case_id)
        .execute(tx.conn())
        .await?;
        let entry = Entry {
            user_id: Some(user_id),
            action: "case.close".into(),
            subject: Some(format!("case:{case_id}")),
            detail: None,
            reason: None,
        };
        append_in(tx, &entry, now_ms).await?;
        Ok(Ok(()))
    })
    .await
}

/// Cases within a scope decided with a violation (not `none`) dated `from` to `to`
/// (inclusive), per community id.
pub async fn decided_by_community(
    store: &Store,
    scope: Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<Vec<(i64, i64)>> {
    // Dates are stored as `YYYY-MM-DD`, whose text order is their calendar order.
    let sql = format!(
        r"select k.community_id, count(*) from cases k
          where k.decided_on >= $2 and k.decided_on <= $3
            and k.violation is not null and k.violation <> 'none'{}
          group by k.community_id",
        scope_sql(scope, "k")
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(scope_id(scope))
        .bind(from.format("%Y-%m-%d").to_string())
        .bind(to.format("%Y-%m-%d").to_string())
        .fetch_all(store.pool())
        .await?)
}
