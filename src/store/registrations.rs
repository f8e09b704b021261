//! Registrations (uploads), occupants and the answers remembered for idempotency keys.

use sqlx::any::AnyArguments;
use sqlx::{Any, AssertSqlSafe, FromRow};

use super::clock::{self, Actor, Refusal};
use super::findings::{open_findings, open_identity_conflicts};
use super::ledger::{Persons, refresh_ledger};
use super::tx::{Tx, transaction};
use super::upload::{lock_unit, mark_upload};
use super::{Store, StoreError, StoreResult};
use crate::crypto::{Purpose, Vault};
use crate::domain::document::IdType;
use crate::domain::registration::{NewRegistration, UploadSource};
use crate::domain::sublandlord::DensityLimits;
use crate::domain::unit::UnitState;

/// Where an upload came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Through a poster, by the people living there (recorded in `registrations` itself).
    Scan,
    /// By a sublandlord's account on a tenant's behalf (also audited).
    Sublandlord {
        user_id: i64,
    },
    /// By an officer at the door, for people found living there (also audited).
    Officer {
        user_id: i64,
    },
    Confirm,
}

impl Source {
    /// The kind of upload, as stored.
    fn kind(self) -> UploadSource {
        match self {
            Source::Scan => UploadSource::Scan,
            Source::Sublandlord { .. } => UploadSource::Sublandlord,
            Source::Officer { .. } => UploadSource::Officer,
            Source::Confirm => UploadSource::Confirm,
        }
    }
}

/// The first answer given to an idempotency key, stored with the registration it made.
#[derive(Debug, Clone, FromRow)]
pub struct RememberedAnswer {
    pub request_hash: Vec<u8>,
    pub status: i64,
    pub body: String,
}

/// An idempotency key to remember with the registration.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub scope: Vec<u8>,
    pub key: String,
    pub request_hash: Vec<u8>,
    pub status: i64,
    pub body: String,
}

/// One occupant row, sealed for storage.
struct SealedOccupant {
    name: String,
    id_type: &'static str,
    id_number_enc: Vec<u8>,
    id_number_index: Vec<u8>,
    id_number_masked: String,
    phone_enc: Option<Vec<u8>>,
    phone_masked: Option<String>,
    room: Option<String>,
    move_in: String,
    nationality: Option<&'static str>,
    remind_ok: bool,
}

/// Stores a registration, its occupants (replacing the same person's current row in this
/// unit) and the unit's new `last_upload_at`, all in one transaction. With `idempotency`,
/// the answer is remembered in the same transaction, first, so that a racing duplicate
/// fails on the key before it writes anything. With `poster` (the keyed hash of the token
/// it came through), it is stored only if that is still the unit's current poster and the
/// unit still takes registrations, checked by the statement that inserts it; otherwise
/// nothing is stored and the answer is [`StoreError::PosterNotCurrent`].
#[allow(clippy::too_many_arguments)]
pub async fn record(
    store: &Store,
    vault: &Vault,
    unit_id: i64,
    poster: Option<Vec<u8>>,
    registration: &NewRegistration,
    source: Source,
    receipt: String,
    idempotency: Option<Idempotency>,
    limits: DensityLimits,
    now_ms: i64,
) -> StoreResult<()> {
    let occupants: Vec<SealedOccupant> = registration
        .occupants
        .iter()
        .map(|o| {
            let number = o.document.as_ref();
            SealedOccupant {
                name: o.name.as_ref().to_string(),
                id_type: o.document.id_type().as_str(),
                id_number_enc: vault.seal(Purpose::DocumentNumber, number),
                id_number_index: vault.blind_index(Purpose::DocumentNumber, number),
                id_number_masked: o.document.masked(),
                phone_enc: o
                    .phone
                    .as_ref()
                    .map(|p| vault.seal(Purpose::Phone, p.as_ref())),
                phone_masked: o.phone.as_ref().map(|p| p.masked()),
                room: o.room.clone(),
                move_in: o.move_in.format("%Y-%m-%d").to_string(),
                nationality: o.nationality,
                remind_ok: o.remind,
            }
        })
        .collect();
    let notice_version = registration.notice_version.clone();
    let family = registration.family;
    let documents: Vec<Vec<u8>> = occupants
        .iter()
        .map(|o| o.id_number_index.clone())
        .collect();
    transaction!(store, |tx| {
        if let Some(idem) = idempotency {
            remember(tx, idem, now_ms).await?;
        }
        if source == Source::Scan {
            refuse_other_names(tx, unit_id, &occupants).await?;
        }
        let count = occupants.len() as i64;
        let new = NewRows {
            unit_id,
            poster,
            receipt,
            source,
            notice_version,
            occupants,
            now_ms,
        };
        let registration_id = if tx.backend().writes_in_one_statement() {
            insert_rows_at_once(tx, new).await?
        } else {
            insert_rows(tx, new).await?
        };
        let marked = mark_upload(tx, unit_id, Some(registration_id), now_ms, Some(family)).await?;
        open_findings(
            tx,
            unit_id,
            marked.occupancy,
            limits,
            marked.open_mask,
            now_ms,
        )
        .await?;
        if marked.elsewhere {
            for earlier in open_identity_conflicts(tx, unit_id, &documents, now_ms).await? {
                refresh_ledger(tx, Persons::OfUnit(earlier)).await?;
            }
        }
        if let Some(person) = marked.person {
            refresh_ledger(tx, Persons::One(person)).await?;
        }
        let by = match source {
            Source::Sublandlord { user_id } => Some((user_id, "occupants.register")),
            Source::Officer { user_id } => Some((user_id, "occupants.register_at_door")),
            Source::Scan | Source::Confirm => None,
        };
        if let Some((user_id, action)) = by {
            let entry = super::audit::Entry {
                user_id: Some(user_id),
                action: action.into(),
                subject: Some(format!("unit:{unit_id}")),
                detail: Some(
                    serde_json::json!({
                        "registration_id": registration_id,
                        "occupants": count,
                    })
                    .to_string(),
                ),
                reason: None,
            };
            super::audit::append_in(tx, &entry, now_ms).await?;
        }
        Ok(())
    })
    .await
}

/// The rows one registration adds.
struct NewRows {
    unit_id: i64,
    /// The poster it came through, to be checked as current (see [`record`]).
    poster: Option<Vec<u8>>,
    receipt: String,
    source: Source,
    notice_version: String,
    occupants: Vec<SealedOccupant>,
    now_ms: i64,
}

/// The condition on unit `u` (bound as `$1`) that the poster whose hash is bound as `$7` is
/// still its current one and that it still takes registrations. The poster's version is
/// compared with the unit's own counter: a rotation raises that counter in the unit's row
/// first, and a statement that waited for the row's lock reads the row as the rotation
/// left it but `qr_tokens` as it was before the wait.
const POSTER_IS_CURRENT: &str = " and u.state <> 'closed' and exists (select 1 from qr_tokens t
    where t.unit_id = u.id and t.token_hash = $7 and t.replaced_at is null
      and t.version = u.qr_version)";

/// The registration's id, or why the insert that should have returned it did not.
fn inserted(id: Option<i64>, poster: bool) -> StoreResult<i64> {
    match id {
        Some(id) => Ok(id),
        None if poster => Err(StoreError::PosterNotCurrent),
        None => Err(StoreError::Other(anyhow::anyhow!("the unit vanished"))),
    }
}

/// An insert that returns the new registration's id.
type InsertRegistration = sqlx::query::QueryScalar<'static, Any, i64, AnyArguments>;

impl NewRows {
    /// [`POSTER_IS_CURRENT`] if the registration came through a poster, else nothing.
    fn poster_condition(&self) -> &'static str {
        if self.poster.is_some() {
            POSTER_IS_CURRENT
        } else {
            ""
        }
    }

    /// `sql` with the registration's own values bound as `$1`–`$6` (unit, receipt, source,
    /// notice version, occupant count, time) and its poster, if any, as `$7`.
    fn insert_registration(&mut self, sql: String) -> InsertRegistration {
        let query = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(self.unit_id)
            .bind(std::mem::take(&mut self.receipt))
            .bind(self.source.kind().as_str())
            .bind(std::mem::take(&mut self.notice_version))
            .bind(self.occupants.len() as i64)
            .bind(self.now_ms);
        match self.poster.take() {
            Some(hash) => query.bind(hash),
            None => query,
        }
    }
}

/// Inserts the registration and its occupants statement by statement (SQLite: the single
/// writer runs them back to back, with no round trips to save).
async fn insert_rows(tx: &mut Tx<'_>, mut new: NewRows) -> StoreResult<i64> {
    let current = new.poster_condition();
    let sql = format!(
        r"insert into registrations
              (unit_id, receipt, source, notice_version, occupant_count, created_at)
          select u.id, $2, $3, $4, $5, $6 from units u where u.id = $1{current}
          returning id"
    );
    let poster = new.poster.is_some();
    let query = new.insert_registration(sql);
    let registration_id = inserted(query.fetch_optional(tx.conn()).await?, poster)?;
    for occupant in new.occupants {
        insert_occupant(tx, new.unit_id, registration_id, occupant, new.now_ms).await?;
    }
    Ok(registration_id)
}

/// Occupant values bound per person in [`insert_rows_at_once`].
const PER_OCCUPANT: usize = 11;

/// Inserts the registration and its occupants in one statement (PostgreSQL: one round trip
/// instead of one per row). It first locks the unit's row (only if the poster is still
/// current, when it came through one: otherwise it inserts and changes nothing, and there
/// is no id to return), so that the next statement,
/// `mark_upload`, starts after every earlier registration in the unit has committed and
/// counts their occupants (a statement that waited on the lock itself, like this one, reads
/// other rows as they were before the wait). Each person's current row is marked
/// superseded before their new one goes in: `added` reads the count of `gone`, so it can
/// produce no row before that update has finished. The same person registered in the unit
/// by a transaction that committed during the wait is not seen here, and the insert then
/// answers `CurrentOccupant` (409), as the statement-by-statement path does.
async fn insert_rows_at_once(tx: &mut Tx<'_>, mut new: NewRows) -> StoreResult<i64> {
    let current = new.poster_condition();
    let first_occupant = if new.poster.is_some() { 8 } else { 7 };
    let values: Vec<String> = (0..new.occupants.len())
        .map(|i| {
            let first = first_occupant + i * PER_OCCUPANT;
            let params: Vec<String> = (first..first + PER_OCCUPANT)
                .map(|n| format!("${n}"))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let sql = format!(
        r"with locked as (select u.id from units u where u.id = $1{current} for update of u),
          reg as (
            insert into registrations
                (unit_id, receipt, source, notice_version, occupant_count, created_at)
            select id, $2, $3, $4, $5, $6 from locked returning id
          ),
          people (name, id_type, id_number_enc, id_number_index, id_number_masked, phone_enc,
                  phone_masked, room, move_in, nationality, remind_ok) as (values {}),
          gone as (
            update occupants set moved_out_at = $6, superseded = 1
            where unit_id = (select id from locked) and moved_out_at is null
              and id_number_index in (select id_number_index from people)
            returning id
          ),
          added as (
            insert into occupants (unit_id, registration_id, name, id_type, id_number_enc,
                id_number_index, id_number_masked, phone_enc, phone_masked, room, move_in,
                nationality, remind_ok, created_at)
            select $1, reg.id, p.name, p.id_type, p.id_number_enc, p.id_number_index,
                   p.id_number_masked, p.phone_enc, p.phone_masked, p.room, p.move_in,
                   p.nationality, p.remind_ok, $6
            from reg cross join (select count(*) from gone) g cross join people p
            returning id
          )
          select id from reg",
        values.join(", ")
    );
    let poster = new.poster.is_some();
    let mut query = new.insert_registration(sql);
    for o in new.occupants {
        query = query
            .bind(o.name)
            .bind(o.id_type)
            .bind(o.id_number_enc)
            .bind(o.id_number_index)
            .bind(o.id_number_masked)
            .bind(o.phone_enc)
            .bind(o.phone_masked)
            .bind(o.room)
            .bind(o.move_in)
            .bind(o.nationality)
            .bind(o.remind_ok);
    }
    inserted(query.fetch_optional(tx.conn()).await?, poster)
}

/// Anyone who sees a poster may register through it, so a poster registration may renew a
/// current occupant but never rename one: a document number current in the unit under
/// another name is refused. (A registration racing this check for the same number still
/// meets `occupants_one_current`.) Names are compared without case, for Latin names typed
/// in capitals once and not the next time.
async fn refuse_other_names(
    tx: &mut Tx<'_>,
    unit_id: i64,
    occupants: &[SealedOccupant],
) -> StoreResult<()> {
    for (i, o) in occupants.iter().enumerate() {
        let current: Option<String> = sqlx::query_scalar(
            r"select name from occupants
              where unit_id = $1 and id_number_index = $2 and moved_out_at is null",
        )
        .bind(unit_id)
        .bind(o.id_number_index.clone())
        .fetch_optional(tx.conn())
        .await?;
        if current.is_some_and(|name| name.to_lowercase() != o.name.to_lowercase()) {
            return Err(StoreError::NameMismatch(i));
        }
    }
    Ok(())
}

async fn remember(tx: &mut Tx<'_>, idem: Idempotency, now_ms: i64) -> StoreResult<()> {
    sqlx::query(
        r"insert into idempotency_keys (scope, key, request_hash, status, body, created_at)
          values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(idem.scope)
    .bind(idem.key)
    .bind(idem.request_hash)
    .bind(idem.status)
    .bind(idem.body)
    .bind(now_ms)
    .execute(tx.conn())
    .await?;
    Ok(())
}

async fn insert_occupant(
    tx: &mut Tx<'_>,
    unit_id: i64,
    registration_id: i64,
    o: SealedOccupant,
    now_ms: i64,
) -> StoreResult<()> {
    // The person's earlier row ends here, marked as superseded rather than moved out.
    sqlx::query(
        r"update occupants set moved_out_at = $1, superseded = 1
          where unit_id = $2 and id_number_index = $3 and moved_out_at is null",
    )
    .bind(now_ms)
    .bind(unit_id)
    .bind(o.id_number_index.clone())
    .execute(tx.conn())
    .await?;
    sqlx::query(
        r"insert into occupants (unit_id, registration_id, name, id_type, id_number_enc,
              id_number_index, id_number_masked, phone_enc, phone_masked, room, move_in,
              nationality, remind_ok, created_at)
          values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(unit_id)
    .bind(registration_id)
    .bind(o.name)
    .bind(o.id_type)
    .bind(o.id_number_enc)
    .bind(o.id_number_index)
    .bind(o.id_number_masked)
    .bind(o.phone_enc)
    .bind(o.phone_masked)
    .bind(o.room)
    .bind(o.move_in)
    .bind(o.nationality)
    .bind(o.remind_ok)
    .bind(now_ms)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The answer remembered for an idempotency key, if any.
pub async fn remembered(
    store: &Store,
    scope: &[u8],
    key: &str,
) -> StoreResult<Option<RememberedAnswer>> {
    Ok(sqlx::query_as(
        "select request_hash, status, body from idempotency_keys where scope = $1 and key = $2",
    )
    .bind(scope.to_vec())
    .bind(key.to_string())
    .fetch_optional(store.pool())
    .await?)
}

/// A current occupant as staff see it (masked).
#[derive(Debug, Clone, FromRow)]
pub struct OccupantView {
    pub id: i64,
    pub name: String,
    pub id_type: IdType,
    pub id_number_masked: String,
    pub phone_masked: Option<String>,
    pub room: Option<String>,
    pub move_in: String,
    pub created_at: i64,
}

/// The people currently living in a unit.
pub async fn current_occupants(store: &Store, unit_id: i64) -> StoreResult<Vec<OccupantView>> {
    Ok(sqlx::query_as(
        r"select id, name, id_type, id_number_masked, phone_masked, room, move_in, created_at
          from occupants where unit_id = $1 and moved_out_at is null
          order by room, id",
    )
    .bind(unit_id)
    .fetch_all(store.pool())
    .await?)
}

/// How many registrations a unit has had (history size; used by tests and the unit page).
pub async fn count_for_unit(store: &Store, unit_id: i64) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("select count(*) from registrations where unit_id = $1")
            .bind(unit_id)
            .fetch_one(store.pool())
            .await?,
    )
}

/// One upload in a unit's history.
#[derive(Debug, Clone, FromRow)]
pub struct Upload {
    pub created_at: i64,
    pub source: UploadSource,
    pub occupant_count: i64,
    pub receipt: String,
}

/// A unit's newest uploads.
pub async fn history(store: &Store, unit_id: i64, limit: i64) -> StoreResult<Vec<Upload>> {
    Ok(sqlx::query_as(
        r"select created_at, source, occupant_count, receipt from registrations
          where unit_id = $1 order by created_at desc, id desc limit $2",
    )
    .bind(unit_id)
    .bind(limit)
    .fetch_all(store.pool())
    .await?)
}

/// Records "occupants unchanged" (by the sublandlord, or a tenant through their link): an
/// upload without new occupants,
/// which restarts the clock. Refused ([`Refusal::NoOccupants`]) where nobody is registered,
/// and on a closed unit.
pub async fn confirm(
    store: &Store,
    unit_id: i64,
    receipt: String,
    by: Actor,
    now_ms: i64,
) -> StoreResult<()> {
    transaction!(store, |tx| {
        // First, so that the count below and the unit update both see every
        // registration in the unit committed before this one.
        lock_unit(tx, unit_id).await?;
        if clock::state(tx, unit_id).await? == Some(UnitState::Closed) {
            return Err(Refusal::Closed.into());
        }
        // "Unchanged" of nobody would restart an empty unit's clock without any data: a
        // vacancy is what says a unit is empty.
        if clock::current_occupants(tx, unit_id).await? == 0 {
            return Err(Refusal::NoOccupants.into());
        }
        sqlx::query(
            r"insert into registrations
                          (unit_id, receipt, source, occupant_count, created_at)
                      select $1, $2, 'confirm', count(*), $3 from occupants
                      where unit_id = $1 and moved_out_at is null",
        )
        .bind(unit_id)
        .bind(receipt.clone())
        .bind(now_ms)
        .execute(tx.conn())
        .await?;
        let marked = mark_upload(tx, unit_id, None, now_ms, None).await?;
        if let Some(person) = marked.person {
            refresh_ledger(tx, Persons::One(person)).await?;
        }
        let entry = super::audit::Entry {
            user_id: by.user_id(),
            action: "occupants.confirm".into(),
            subject: Some(format!("unit:{unit_id}")),
            detail: Some(
                serde_json::json!({
                    "receipt": receipt,
                    "by": if by == Actor::Tenant { "tenant" } else { "account" },
                })
                .to_string(),
            ),
            reason: None,
        };
        super::audit::append_in(tx, &entry, now_ms).await
    })
    .await
}

/// What a reveal needs: the occupant's unit's community and the sealed document number
/// (`None` once purged).
pub async fn sealed_document(
    store: &Store,
    occupant_id: i64,
) -> StoreResult<Option<(i64, Option<Vec<u8>>)>> {
    let row: Option<(i64, Vec<u8>, Option<i64>)> = sqlx::query_as(
        r"select u.community_id, o.id_number_enc, o.purged_at
          from occupants o join units u on u.id = o.unit_id where o.id = $1",
    )
    .bind(occupant_id)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|(community, sealed, purged)| (community, purged.is_none().then_some(sealed))))
}
