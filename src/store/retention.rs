//! Retention: personal data of people who moved out long enough ago is deleted.
//!
//! An occupant row is emptied rather than removed (name, document number and its index,
//! phone), so that counts of past months stay what they were. A tip's description, contact,
//! photo and triage note go the same way once the tip has been closed that long, and so do
//! the free-text notes and evidence photos of door-check visits (and the notes of the
//! referrals they opened): any of them may name or describe a person. Each deletion is audited.

use super::tx::transaction;
use super::{Store, StoreResult, audit};

/// Rows per transaction.
const BATCH: i64 = 500;

/// What a purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub occupants: u64,
    pub tips: u64,
    /// Door checks whose visit notes were emptied.
    pub door_checks: u64,
    /// Evidence photos of visits emptied.
    pub visit_photos: u64,
    /// Staff `Idempotency-Key` answers past their week.
    pub idempotency_keys: u64,
    /// Outbox messages, attempts and events past their time.
    pub outbox: super::outbox::OutboxPurged,
    /// Keys of reminders and digests whose deadline passed more than a week ago.
    pub reminder_keys: u64,
}

/// Deletes the personal data of occupants who moved out before `cutoff_ms`, the text,
/// contacts and photos of tips handled before it, and door-check notes written before it.
pub async fn purge(store: &Store, cutoff_ms: i64, now_ms: i64) -> StoreResult<Purged> {
    let mut purged = Purged::default();
    loop {
        let n = occupants_batch(store, cutoff_ms, now_ms).await?;
        purged.occupants += n;
        if n < BATCH as u64 {
            break;
        }
    }
    loop {
        let n = tips_batch(store, cutoff_ms, now_ms).await?;
        purged.tips += n;
        if n < BATCH as u64 {
            break;
        }
    }
    loop {
        let n = notes_batch(store, cutoff_ms, now_ms).await?;
        purged.door_checks += n;
        if n < BATCH as u64 {
            break;
        }
    }
    loop {
        let n = photos_batch(store, cutoff_ms, now_ms).await?;
        purged.visit_photos += n;
        if n < BATCH as u64 {
            break;
        }
    }
    Ok(purged)
}

async fn occupants_batch(store: &Store, cutoff_ms: i64, now_ms: i64) -> StoreResult<u64> {
    transaction!(store, |tx| {
        let due: Vec<(i64, i64)> = sqlx::query_as(
            r"select id, unit_id from occupants
                      where moved_out_at < $1 and purged_at is null
                      order by moved_out_at limit $2",
        )
        .bind(cutoff_ms)
        .bind(BATCH)
        .fetch_all(tx.conn())
        .await?;
        let mut entries = Vec::with_capacity(due.len());
        for &(id, unit_id) in &due {
            // The document index goes too: after this, nothing links the row to
            // a person.
            sqlx::query(
                r"update occupants set name = '', id_number_enc = $1,
                              id_number_index = $1, id_number_masked = '', phone_enc = null,
                              phone_masked = null, purged_at = $2
                          where id = $3",
            )
            .bind(Vec::<u8>::new())
            .bind(now_ms)
            .bind(id)
            .execute(tx.conn())
            .await?;
            entries.push(retention_entry(
                "occupant.purge",
                format!("occupant:{id}"),
                Some(format!(r#"{{"unit_id":{unit_id}}}"#)),
            ));
        }
        audit::append_all_in(tx, &entries, now_ms).await?;
        Ok(due.len() as u64)
    })
    .await
}

async fn tips_batch(store: &Store, cutoff_ms: i64, now_ms: i64) -> StoreResult<u64> {
    transaction!(store, |tx| {
        let due: Vec<i64> = sqlx::query_scalar(
            r"select id from tips
                      where handled_at < $1 and state in ('closed', 'dismissed')
                        and purged_at is null
                      order by handled_at limit $2",
        )
        .bind(cutoff_ms)
        .bind(BATCH)
        .fetch_all(tx.conn())
        .await?;
        let mut entries = Vec::with_capacity(due.len());
        for &id in &due {
            sqlx::query(
                r"update tips set description = '', contact_enc = null,
                              contact_masked = null, photo = null, note = null, purged_at = $1
                          where id = $2",
            )
            .bind(now_ms)
            .bind(id)
            .execute(tx.conn())
            .await?;
            entries.push(retention_entry("tip.purge", format!("tip:{id}"), None));
        }
        audit::append_all_in(tx, &entries, now_ms).await?;
        Ok(due.len() as u64)
    })
    .await
}

/// Empties the notes of visits recorded before the cutoff, of checks closed before it and
/// of closed referrals opened before it; the rows stay, so every count stays. A check that
/// is still open keeps its own note until it closes.
async fn notes_batch(store: &Store, cutoff_ms: i64, now_ms: i64) -> StoreResult<u64> {
    transaction!(store, |tx| {
        let due: Vec<i64> = sqlx::query_scalar(
            r"select door_check_id from door_check_events
                      where note is not null and created_at < $1
                      union
                      select id from door_checks
                      where note is not null and closed_at < $1
                      union
                      select door_check_id from referrals
                      where note is not null and status = 'closed' and created_at < $1
                      order by 1 limit $2",
        )
        .bind(cutoff_ms)
        .bind(BATCH)
        .fetch_all(tx.conn())
        .await?;
        let mut entries = Vec::with_capacity(due.len());
        for &id in &due {
            for sql in [
                r"update door_check_events set note = null
                          where door_check_id = $1 and note is not null and created_at < $2",
                r"update door_checks set note = null
                          where id = $1 and note is not null and closed_at < $2",
                r"update referrals set note = null
                          where door_check_id = $1 and note is not null and status = 'closed'
                            and created_at < $2",
            ] {
                sqlx::query(sql)
                    .bind(id)
                    .bind(cutoff_ms)
                    .execute(tx.conn())
                    .await?;
            }
            entries.push(retention_entry(
                "door_check.purge_notes",
                format!("door_check:{id}"),
                None,
            ));
        }
        audit::append_all_in(tx, &entries, now_ms).await?;
        Ok(due.len() as u64)
    })
    .await
}

/// Empties the evidence photos of visits taken before the cutoff; the rows stay, so a visit
/// still says it had one.
async fn photos_batch(store: &Store, cutoff_ms: i64, now_ms: i64) -> StoreResult<u64> {
    transaction!(store, |tx| {
        let due: Vec<i64> = sqlx::query_scalar(
            r"select id from visit_photos where photo is not null and created_at < $1
              order by created_at limit $2",
        )
        .bind(cutoff_ms)
        .bind(BATCH)
        .fetch_all(tx.conn())
        .await?;
        let mut entries = Vec::with_capacity(due.len());
        for &id in &due {
            sqlx::query("update visit_photos set photo = null, purged_at = $1 where id = $2")
                .bind(now_ms)
                .bind(id)
                .execute(tx.conn())
                .await?;
            entries.push(retention_entry(
                "visit_photo.purge",
                format!("visit_photo:{id}"),
                None,
            ));
        }
        audit::append_all_in(tx, &entries, now_ms).await?;
        Ok(due.len() as u64)
    })
    .await
}

/// The audit row of one deletion by the retention purge (the service acting, no account).
fn retention_entry(action: &str, subject: String, detail: Option<String>) -> audit::Entry {
    audit::Entry {
        user_id: None,
        action: action.into(),
        subject: Some(subject),
        detail,
        reason: Some("retention".into()),
    }
}
