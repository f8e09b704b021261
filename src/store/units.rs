//! Units and their poster tokens.

use sqlx::FromRow;

use super::tx::{Tx, transaction};
use super::{Store, StoreResult};
use crate::crypto::{Purpose, Vault};
use crate::domain::door_check::ClockKind;
use crate::domain::token::{PosterEventKind, QrToken};
use crate::domain::unit::{RentalMode, UnitKind, UnitState};

/// What a new unit is made of (already checked by the domain).
#[derive(Debug, Clone)]
pub struct NewUnit {
    /// Who creates it (for the audit log); `None` for the service itself.
    pub created_by: Option<i64>,
    pub community_id: i64,
    pub address: String,
    pub address_key: String,
    pub kind: &'static str,
    pub rental_mode: &'static str,
    pub rooms: i64,
    /// Floor area in square metres, where known.
    pub floor_area_m2: Option<f64>,
}

/// A unit as staff see it.
#[derive(Debug, Clone, FromRow)]
pub struct Unit {
    pub id: i64,
    pub community_id: i64,
    pub community: String,
    pub address: String,
    pub kind: UnitKind,
    pub rental_mode: RentalMode,
    pub rooms: i64,
    pub state: UnitState,
    pub watched_since: i64,
    pub last_upload_at: Option<i64>,
    pub qr_version: i64,
    pub created_at: i64,
    pub sublandlord_id: Option<i64>,
    pub clock_from: i64,
    pub clock_kind: ClockKind,
}

/// What a poster token leads to.
#[derive(Debug, Clone)]
pub enum TokenLookup {
    /// The unit's current poster.
    Current(ScanTarget),
    /// A poster that was replaced by a newer one.
    Replaced,
    /// No such poster.
    Unknown,
}

/// The little a poster may show about its unit.
#[derive(Debug, Clone)]
pub struct ScanTarget {
    pub unit_id: i64,
    pub community: String,
    pub address: String,
    pub rooms: i64,
    pub state: UnitState,
    /// The keyed hash of the poster token it was reached by: a registration through the
    /// poster is stored only while this is still the unit's current poster.
    pub poster: Vec<u8>,
}

/// Creates a unit, puts it under watch and issues its first poster token.
pub async fn create(
    store: &Store,
    vault: &Vault,
    unit: NewUnit,
    now_ms: i64,
) -> StoreResult<(i64, QrToken)> {
    let token = QrToken::generate();
    let token_hash = vault.token_hash(token.as_ref());
    let token_enc = vault.seal(Purpose::QrToken, token.as_ref());
    let id = transaction!(store, |tx| {
        create_in(tx, &unit, token_hash, token_enc, now_ms).await
    })
    .await?;
    Ok((id, token))
}

/// [`create`] inside a transaction of the caller's, with the poster token's hash and sealed
/// value made beforehand: the unit, its first poster, its findings and the audit entry.
pub(crate) async fn create_in(
    tx: &mut Tx<'_>,
    unit: &NewUnit,
    token_hash: Vec<u8>,
    token_enc: Vec<u8>,
    now_ms: i64,
) -> StoreResult<i64> {
    let id = insert_unit(tx, unit, now_ms).await?;
    insert_token(tx, id, 1, token_hash, token_enc, now_ms).await?;
    super::findings::open_if_let_by_the_day(tx, id, now_ms).await?;
    let entry = super::audit::Entry {
        user_id: unit.created_by,
        action: "unit.create".into(),
        subject: Some(format!("unit:{id}")),
        detail: None,
        reason: None,
    };
    super::audit::append_in(tx, &entry, now_ms).await?;
    Ok(id)
}

/// Inserts the unit row and returns its id.
pub(crate) async fn insert_unit(tx: &mut Tx<'_>, unit: &NewUnit, now_ms: i64) -> StoreResult<i64> {
    // An absent area is bound as -1: a NULL `f64` bind has no type on PostgreSQL.
    Ok(sqlx::query_scalar(
        r"insert into units (community_id, address, address_key, kind, rental_mode, rooms,
              floor_area_m2, state, watched_since, clock_from, qr_version, created_at)
          values ($1, $2, $3, $4, $5, $6, case when $7 < 0 then null else $7 end, 'active',
              $8, $8, 1, $8)
          returning id",
    )
    .bind(unit.community_id)
    .bind(unit.address.clone())
    .bind(unit.address_key.clone())
    .bind(unit.kind)
    .bind(unit.rental_mode)
    .bind(unit.rooms)
    .bind(unit.floor_area_m2.unwrap_or(-1.0))
    .bind(now_ms)
    .fetch_one(tx.conn())
    .await?)
}

pub(crate) async fn insert_token(
    tx: &mut Tx<'_>,
    unit_id: i64,
    version: i64,
    token_hash: Vec<u8>,
    token_enc: Vec<u8>,
    now_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        r"insert into qr_tokens (token_hash, unit_id, version, token_enc, created_at)
          values ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(unit_id)
    .bind(version)
    .bind(token_enc)
    .bind(now_ms)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces a unit's poster token; the old one answers 410 from now on. Returns the new
/// token, or `None` if there is no such unit.
pub async fn rotate_token(
    store: &Store,
    vault: &Vault,
    unit_id: i64,
    by: Option<i64>,
    now_ms: i64,
) -> StoreResult<Option<QrToken>> {
    let token = QrToken::generate();
    let token_hash = vault.token_hash(token.as_ref());
    let token_enc = vault.seal(Purpose::QrToken, token.as_ref());
    let rotated = transaction!(store, |tx| {
        let version: Option<i64> = sqlx::query_scalar(
            "update units set qr_version = qr_version + 1 where id = $1 returning qr_version",
        )
        .bind(unit_id)
        .fetch_optional(tx.conn())
        .await?;
        let Some(version) = version else {
            return Ok(false);
        };
        // The replaced token keeps only its hash: enough to say "replaced", useless
        // to anyone holding a dump.
        sqlx::query(
            r"update qr_tokens set replaced_at = $1, token_enc = null
                      where unit_id = $2 and replaced_at is null",
        )
        .bind(now_ms)
        .bind(unit_id)
        .execute(tx.conn())
        .await?;
        insert_token(tx, unit_id, version, token_hash, token_enc, now_ms).await?;
        sqlx::query(
            r"insert into poster_events (unit_id, kind, version, user_id, created_at)
                      values ($1, 'rotate', $2, $3, $4)",
        )
        .bind(unit_id)
        .bind(version)
        .bind(by)
        .bind(now_ms)
        .execute(tx.conn())
        .await?;
        let entry = super::audit::Entry {
            user_id: by,
            action: "unit.rotate_poster".into(),
            subject: Some(format!("unit:{unit_id}")),
            detail: Some(format!(r#"{{"version":{version}}}"#)),
            reason: None,
        };
        super::audit::append_in(tx, &entry, now_ms).await?;
        Ok(true)
    })
    .await?;
    Ok(rotated.then_some(token))
}

/// The unit a poster token belongs to, in one query (this is the hottest read: every scan).
pub async fn find_by_token(
    store: &Store,
    vault: &Vault,
    token: &QrToken,
) -> StoreResult<TokenLookup> {
    find_by_poster(store, vault.token_hash(token.as_ref())).await
}

/// The same, by the keyed hash of the token.
pub async fn find_by_poster(store: &Store, hash: Vec<u8>) -> StoreResult<TokenLookup> {
    let row: Option<(Option<i64>, i64, String, String, i64, UnitState)> = sqlx::query_as(
        r"select t.replaced_at, u.id, c.name, u.address, u.rooms, u.state
          from qr_tokens t
          join units u on u.id = t.unit_id
          join communities c on c.id = u.community_id
          where t.token_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(store.pool())
    .await?;
    Ok(match row {
        None => TokenLookup::Unknown,
        Some((Some(_), ..)) => TokenLookup::Replaced,
        Some((None, unit_id, community, address, rooms, state)) => {
            TokenLookup::Current(ScanTarget {
                unit_id,
                community,
                address,
                rooms,
                state,
                poster: hash,
            })
        }
    })
}

/// The current token of a unit, decrypted (for printing its poster).
pub async fn current_token(
    store: &Store,
    vault: &Vault,
    unit_id: i64,
) -> StoreResult<Option<QrToken>> {
    let sealed: Option<Option<Vec<u8>>> = sqlx::query_scalar(
        "select token_enc from qr_tokens where unit_id = $1 and replaced_at is null",
    )
    .bind(unit_id)
    .fetch_optional(store.pool())
    .await?;
    let Some(Some(sealed)) = sealed else {
        return Ok(None);
    };
    let text = vault
        .open(Purpose::QrToken, &sealed)
        .map_err(anyhow::Error::new)?;
    Ok(QrToken::parse(&text))
}

/// A unit with its community name.
pub async fn get(store: &Store, unit_id: i64) -> StoreResult<Option<Unit>> {
    Ok(sqlx::query_as(
        r"select u.id, u.community_id, c.name as community, u.address, u.kind, u.rental_mode,
                 u.rooms, u.state, u.watched_since, u.last_upload_at, u.qr_version, u.created_at,
                 u.sublandlord_id, u.clock_from, u.clock_kind
          from units u join communities c on c.id = u.community_id
          where u.id = $1",
    )
    .bind(unit_id)
    .fetch_optional(store.pool())
    .await?)
}

/// Some units of a community, oldest first (for the demo and the CLI).
pub async fn ids_in_community(
    store: &Store,
    community_id: i64,
    limit: i64,
) -> StoreResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "select id from units where community_id = $1 and state = 'active' order by id limit $2",
    )
    .bind(community_id)
    .bind(limit)
    .fetch_all(store.pool())
    .await?)
}

/// What a batch of posters needs of a unit.
#[derive(Debug, Clone, FromRow)]
pub struct PosterRow {
    pub id: i64,
    pub address: String,
    pub qr_version: i64,
    pub token_enc: Option<Vec<u8>>,
}

/// Active units of a community after unit `after`, by id, with their current token sealed:
/// a batch walks a community a page at a time.
pub async fn poster_page(
    store: &Store,
    community_id: i64,
    after: i64,
    limit: i64,
) -> StoreResult<Vec<PosterRow>> {
    Ok(sqlx::query_as(
        r"select u.id, u.address, u.qr_version, t.token_enc
          from units u join qr_tokens t on t.unit_id = u.id and t.replaced_at is null
          where u.community_id = $1 and u.state = 'active' and u.id > $2
          order by u.id limit $3",
    )
    .bind(community_id)
    .bind(after)
    .bind(limit)
    .fetch_all(store.pool())
    .await?)
}

/// How many active units a community has.
pub async fn count_active(store: &Store, community_id: i64) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "select count(*) from units where community_id = $1 and state = 'active'",
    )
    .bind(community_id)
    .fetch_one(store.pool())
    .await?)
}

/// Records that posters were printed: one unit's (`Some(unit)`), or every active unit's of a
/// community, at their current versions.
pub async fn record_prints(
    store: &Store,
    unit: Option<i64>,
    community_id: Option<i64>,
    by: Option<i64>,
    now_ms: i64,
) -> StoreResult<u64> {
    transaction!(store, |tx| {
        let done = sqlx::query(
            r"insert into poster_events (unit_id, kind, version, user_id, created_at)
                      select id, 'print', qr_version, $1, $2 from units
                      where (id = $3 or $3 = 0) and (community_id = $4 or $4 = 0)
                        and ($3 <> 0 or state = 'active')",
        )
        .bind(by)
        .bind(now_ms)
        .bind(unit.unwrap_or(0))
        .bind(community_id.unwrap_or(0))
        .execute(tx.conn())
        .await?;
        Ok(done.rows_affected())
    })
    .await
}

/// One poster event of a unit.
#[derive(Debug, Clone, FromRow)]
pub struct PosterEvent {
    pub kind: PosterEventKind,
    pub version: i64,
    pub user_id: Option<i64>,
    pub created_at: i64,
}

/// A unit's poster events, newest first.
pub async fn poster_events(store: &Store, unit_id: i64) -> StoreResult<Vec<PosterEvent>> {
    Ok(sqlx::query_as(
        r"select kind, version, user_id, created_at from poster_events
          where unit_id = $1 order by created_at desc, id desc",
    )
    .bind(unit_id)
    .fetch_all(store.pool())
    .await?)
}

/// The unit at an address key: in the given community, or the only one in any community.
/// Returns its id and community.
pub async fn find_by_address_key(
    store: &Store,
    address_key: &str,
    community_id: Option<i64>,
) -> StoreResult<Option<(i64, i64)>> {
    let found: Vec<(i64, i64)> = sqlx::query_as(
        r"select id, community_id from units
          where address_key = $1 and ($2 < 0 or community_id = $2)
          order by id limit 2",
    )
    .bind(address_key.to_string())
    .bind(community_id.unwrap_or(-1))
    .fetch_all(store.pool())
    .await?;
    // Two communities with the same address: the tip cannot say which one it means.
    Ok(match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}

/// What the console's unit search looks for.
#[derive(Debug, Clone)]
pub struct UnitSearch {
    pub scope: super::scope::Scope,
    /// Part of the address, as typed.
    pub text: String,
    pub state: Option<&'static str>,
}

/// A unit in the search's results.
#[derive(Debug, Clone, FromRow)]
pub struct Found {
    pub id: i64,
    pub community: String,
    pub address: String,
    pub rooms: i64,
    pub rental_mode: RentalMode,
    pub state: UnitState,
    pub last_upload_at: Option<i64>,
}

/// One page of units in scope whose address contains the text (compared both as written
/// and in the normalised form), by address.
pub async fn search(
    store: &Store,
    q: &UnitSearch,
    offset: i64,
    limit: i64,
) -> StoreResult<(Vec<Found>, i64)> {
    use super::scope::{scope_id, scope_sql};
    let escape = |s: &str| {
        let escaped = s
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    };
    let written = escape(q.text.trim());
    let folded = escape(&crate::domain::fold_width(&q.text).to_uppercase());
    let state_clause = if q.state.is_some() {
        "u.state = $4"
    } else {
        "$4 = $4"
    };
    let filter = format!(
        r"where (u.address like $2 escape '\' or u.address_key like $3 escape '\')
            and {state_clause}{}",
        scope_sql(q.scope, "u")
    );
    let state = q.state.unwrap_or("").to_string();
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from units u {filter}"
    )))
    .bind(scope_id(q.scope))
    .bind(written.clone())
    .bind(folded.clone())
    .bind(state.clone())
    .fetch_one(store.pool())
    .await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        r"select u.id, c.name as community, u.address, u.rooms, u.rental_mode, u.state,
                 u.last_upload_at
          from units u join communities c on c.id = u.community_id
          {filter} order by u.address_key, u.id limit $5 offset $6"
    )))
    .bind(scope_id(q.scope))
    .bind(written)
    .bind(folded)
    .bind(state)
    .bind(limit)
    .bind(offset)
    .fetch_all(store.pool())
    .await?;
    Ok((rows, total))
}
