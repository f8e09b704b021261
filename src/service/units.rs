//! Communities, units and their posters, as staff manage them.

use super::{Caller, Context, Error, Result};
use crate::domain::FieldError;
use crate::domain::role::Role;
use crate::domain::unit::{Address, RentalMode, UnitKind, UnitState, parse_rooms};
use crate::store::{
    self, Constraint, StoreError, clock, communities, door_checks, registrations, units,
};

/// Creates a community (admins); its id.
pub async fn create_community(ctx: &Context, caller: &Caller, name: &str) -> Result<i64> {
    caller.require(|r| r == Role::Admin)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 || crate::domain::has_control(name) {
        return Err(Error::field(FieldError::new(
            "name",
            "format",
            "社区名称应为 1 到 40 个字",
            "Name must be 1 to 40 characters",
        )));
    }
    // A name goes into spreadsheets (the import template, exports' titles) and file names:
    // one a spreadsheet would read as a formula, or the template as a note line, or a path
    // would split, is no community's name.
    if name.starts_with(['=', '+', '-', '@', '#']) || name.contains(['/', '\\']) {
        return Err(Error::field(FieldError::new(
            "name",
            "format",
            "社区名称不能以 = + - @ # 开头，也不能含有 / 或 \\",
            "Name may not start with = + - @ # or contain / or \\",
        )));
    }
    // `影佳社区` beside `影佳` would make every suffixed name ambiguous (imports and bodies
    // match on the name without its suffix); the same name exactly is the constraint's.
    if let Some(same) = communities::find_by_name(&ctx.store, name).await?
        && same.name != name
    {
        return Err(Error::Conflict(format!(
            "与已有社区“{}”是同一社区",
            same.name
        )));
    }
    match communities::create(&ctx.store, name, store::millis(ctx.now())).await {
        Ok(id) => Ok(id),
        Err(StoreError::Unique(Constraint::CommunityName)) => {
            Err(Error::Conflict("该社区已存在".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// A unit as staff describe it, not yet checked.
pub struct NewUnit {
    /// Community name.
    pub community: String,
    /// One line: road, lane 弄, number 号, room 室.
    pub address: String,
    pub rooms: i64,
    pub kind: String,
    pub rental_mode: String,
}

/// A created unit and the URL its poster carries.
pub struct CreatedUnit {
    pub unit_id: i64,
    pub poster_url: String,
}

/// Creates a unit in one of the caller's communities and issues its poster; every field
/// that fails its check is named at once.
pub async fn create_unit(ctx: &Context, caller: &Caller, new: NewUnit) -> Result<CreatedUnit> {
    let row = check_new_unit(ctx, caller, new).await?;
    match units::create(&ctx.store, &ctx.vault, row, store::millis(ctx.now())).await {
        Ok((unit_id, token)) => Ok(CreatedUnit {
            unit_id,
            poster_url: ctx.poster_url(&token),
        }),
        Err(StoreError::Unique(Constraint::UnitAddress)) => {
            Err(Error::Conflict("该社区已有相同地址的房屋".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// A new unit checked for a caller who manages units, in one of their communities: the row
/// to store, or every field that fails its check.
pub async fn check_new_unit(
    ctx: &Context,
    caller: &Caller,
    new: NewUnit,
) -> Result<units::NewUnit> {
    caller.require(Role::manages_units)?;
    let mut errors = Vec::new();
    let address = Address::parse(&new.address)
        .map_err(|e| errors.push(e))
        .ok();
    let rooms = parse_rooms(new.rooms).map_err(|e| errors.push(e)).ok();
    let kind = UnitKind::parse(&new.kind);
    if kind.is_none() {
        errors.push(enum_error("kind"));
    }
    let mode = RentalMode::parse(&new.rental_mode);
    if mode.is_none() {
        errors.push(enum_error("rental_mode"));
    }
    let community = communities::find_by_name(&ctx.store, new.community.trim())
        .await?
        .filter(|c| caller.sees(c.id));
    if community.is_none() {
        errors.push(FieldError::new(
            "community",
            "unknown",
            "没有这个社区，或您无权管理它",
            "No such community in your scope",
        ));
    }
    let (Some(address), Some(rooms), Some(kind), Some(mode), Some(community)) =
        (address, rooms, kind, mode, community)
    else {
        return Err(Error::Validation(errors));
    };
    Ok(units::NewUnit {
        floor_area_m2: None,
        created_by: Some(caller.user_id),
        community_id: community.id,
        address: address.display().to_string(),
        address_key: address.key().to_string(),
        kind: kind.as_str(),
        rental_mode: mode.as_str(),
        rooms,
    })
}

/// The names of the communities the caller may create units in, for a form's choice.
pub async fn community_choices(ctx: &Context, caller: &Caller) -> Result<Vec<String>> {
    caller.require(Role::manages_units)?;
    Ok(communities::list(&ctx.store)
        .await?
        .into_iter()
        .filter(|c| caller.sees(c.id))
        .map(|c| c.name)
        .collect())
}

fn enum_error(field: &str) -> FieldError {
    FieldError::new(
        field,
        "invalid",
        "取值不在允许范围内",
        "Not an allowed value",
    )
}

/// A unit a staff caller may see: `Forbidden` for a role that reads no units, `NotFound`
/// for a unit outside the caller's communities (never `Forbidden`: that would confirm it
/// exists).
pub async fn visible(ctx: &Context, caller: &Caller, id: i64) -> Result<units::Unit> {
    caller.require(Role::is_staff)?;
    units::get(&ctx.store, id)
        .await?
        .filter(|u| caller.sees(u.community_id))
        .ok_or(Error::NotFound)
}

/// A unit with what staff read about it.
pub struct UnitDetail {
    pub unit: units::Unit,
    /// Uploads ever made for the unit.
    pub registrations: i64,
    /// Current occupants, masked.
    pub occupants: Vec<registrations::OccupantView>,
    /// Door checks, newest first.
    pub door_checks: Vec<door_checks::DoorCheck>,
    /// Posters printed and rotations, newest first.
    pub poster_events: Vec<units::PosterEvent>,
    /// Clock and state changes, newest first.
    pub history: Vec<clock::EventRow>,
    /// When the unit becomes overdue (or its vacancy lapses); none once closed.
    pub due_at: Option<i64>,
}

/// How many of a unit's clock and state changes its page and answer show.
pub const HISTORY_SHOWN: i64 = 50;

/// The unit, its current occupants (masked), its door checks and its poster history.
pub async fn detail(ctx: &Context, caller: &Caller, id: i64) -> Result<UnitDetail> {
    let unit = visible(ctx, caller, id).await?;
    let occupants = registrations::current_occupants(&ctx.store, unit.id).await?;
    let registrations = registrations::count_for_unit(&ctx.store, unit.id).await?;
    let door_checks = door_checks::for_unit(&ctx.store, unit.id).await?;
    let poster_events = units::poster_events(&ctx.store, unit.id).await?;
    let history = clock::history(&ctx.store, unit.id, HISTORY_SHOWN).await?;
    let due_at = ctx
        .settings
        .clock()
        .due(unit.state, unit.clock_kind, store::instant(unit.clock_from))
        .map(store::millis);
    Ok(UnitDetail {
        unit,
        registrations,
        occupants,
        door_checks,
        poster_events,
        history,
        due_at,
    })
}

/// Issues a new poster token for a unit; the old poster is refused from now on. The URL
/// the new poster carries.
pub async fn rotate_poster(ctx: &Context, caller: &Caller, id: i64) -> Result<String> {
    caller.require(Role::manages_units)?;
    let unit = visible(ctx, caller, id).await?;
    let token = units::rotate_token(
        &ctx.store,
        &ctx.vault,
        unit.id,
        Some(caller.user_id),
        store::millis(ctx.now()),
    )
    .await?
    .ok_or(Error::NotFound)?;
    ctx.scan_cache.evict_unit(unit.id);
    tracing::info!(
        unit_id = unit.id,
        by = caller.user_id,
        "poster token rotated"
    );
    Ok(ctx.poster_url(&token))
}

/// A page of the units of the caller's communities whose address contains `text`, in
/// `state` if given, and how many there are.
pub async fn search(
    ctx: &Context,
    caller: &Caller,
    text: &str,
    state: Option<UnitState>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<units::Found>, i64)> {
    caller.require(Role::is_staff)?;
    let search = units::UnitSearch {
        scope: caller.scope(),
        text: text.to_string(),
        state: state.map(UnitState::as_str),
    };
    Ok(units::search(&ctx.store, &search, offset, limit).await?)
}
