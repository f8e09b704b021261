-- The clock made to fit real tenancies. A unit with no current occupants is due a visit N
-- days (RENFANG_OVERDUE_DAYS) after its clock started; one with occupants is due one
-- RENFANG_CONFIRM_DAYS after its last upload or confirmation; a vacancy pauses the clock for
-- at most RENFANG_CONFIRM_DAYS from its declaration. Which of the first two applies is kept
-- on the unit, in the same transaction as every change of its occupants, so that the sweep
-- is a range scan per rule.
alter table units add column clock_kind text not null default 'no_upload'
    check (clock_kind in ('no_upload', 'unconfirmed'));

-- A vacancy declared while people were listed was a dodge: the people listed count, and the
-- unit is let.
update units set state = 'active'
where state = 'vacant'
  and exists (select 1 from occupants o where o.unit_id = units.id and o.moved_out_at is null);
update units set clock_kind = 'unconfirmed'
where exists (select 1 from occupants o where o.unit_id = units.id and o.moved_out_at is null);
-- An empty unit's clock restarts when its last occupant moved out.
update units set clock_from = coalesce(
    (select max(o.moved_out_at) from occupants o
     where o.unit_id = units.id and o.moved_out_at > units.clock_from),
    clock_from)
where clock_kind = 'no_upload';
-- A standing vacancy runs from now: when it was declared was not kept.
update units set clock_from = cast(extract(epoch from clock_timestamp()) * 1000 as bigint) where state = 'vacant';

drop index units_clock;
create index units_clock on units (state, clock_kind, clock_from, id);

-- The date a tenant or sublandlord gave for a move-out (moved_out_at is when it was told).
alter table occupants add column moved_out_on text;
-- ISO 3166-1 alpha-3, given with a foreign document (required for passports and foreign
-- permanent residence cards from now on).
alter table occupants add column nationality text;
-- A tenant's self-service link reads the people of one registration.
create index occupants_by_registration on occupants (registration_id);

-- Every clock and state change of a unit: what, who (role), when. Uploads and
-- confirmations are in registrations already and are not copied here.
create table unit_events (
    id bigint generated always as identity primary key,
    unit_id bigint not null references units (id),
    event text not null,
    -- the unit's state after the event, when the event set it
    state text check (state in ('active', 'vacant', 'closed')),
    user_id bigint references users (id),
    -- the role that acted ('tenant' for a tenant's self-service); none for the service itself
    role text,
    detail text,
    created_at bigint not null
);
create index unit_events_by_unit on unit_events (unit_id, id);
-- A past month's statistics undo the state changes made since its end.
create index unit_events_states_by_time on unit_events (created_at) where state is not null;
-- A vacancy lapses once, whichever sweep sees it first.
create unique index unit_events_one_lapse on unit_events (unit_id, created_at)
    where event = 'vacancy_lapsed';
-- A unit is created active; its history holds its later states. Those of today's units that
-- are not active are recorded as of now: when they changed was not kept.
insert into unit_events (unit_id, event, state, created_at)
select id, state, state, cast(extract(epoch from clock_timestamp()) * 1000 as bigint) from units where state <> 'active';

-- Checks the sweep opened are queued by when the unit became due, like every other check;
-- those opened before were queued by the clock's start, under the default 5 days.
update door_checks set queue_key = queue_key + 432000000 where reason = 'no_upload';

-- A tenant's self-service link is their receipt number with a keyed tag: nothing of it is
-- stored. What they see of who looked at their data reads the audit log by subject.
create index audit_log_by_subject on audit_log (subject, at);

-- Corrections tenants ask for through their link: a note to the unit's community.
create table corrections (
    id bigint generated always as identity primary key,
    unit_id bigint not null references units (id),
    community_id bigint not null references communities (id),
    registration_id bigint not null references registrations (id),
    note text not null,
    created_at bigint not null,
    handled_at bigint,
    handled_by bigint references users (id)
);
create index corrections_open on corrections (community_id, created_at) where handled_at is null;
create index corrections_by_registration on corrections (registration_id);
