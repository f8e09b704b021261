-- Sublandlords (二房东): their accounts, advance filings (事前报备) and the units they let.

create table sublandlords (
    id integer primary key,
    user_id integer not null references users (id),
    -- accounts of one person (the same phone or document number, by blind index) share the
    -- id of the first of them; the ledger groups by it
    person_id integer not null,
    name text not null,
    phone_enc blob not null,
    phone_index blob not null,
    phone_masked text not null,
    id_type text not null,
    id_number_enc blob not null,
    id_number_index blob not null,
    id_number_masked text not null,
    created_at integer not null,
    constraint sublandlords_user_key unique (user_id)
);
create index sublandlords_by_phone on sublandlords (phone_index);
create index sublandlords_by_document on sublandlords (id_number_index);
create index sublandlords_by_person on sublandlords (person_id);

-- The sublandlord who lets the unit; the first filing's instant and the first upload's (the
-- self-declaration rate compares them); the newest filing's planned occupants; whether the
-- newest registration declared one family (exempt from the per-room limit).
alter table units add column sublandlord_id integer references sublandlords (id);
alter table units add column filed_at integer;
alter table units add column first_upload_at integer;
alter table units add column planned_occupants integer;
alter table units add column family integer not null default 0;
update units set first_upload_at =
    (select min(r.created_at) from registrations r where r.unit_id = units.id);
create index units_by_sublandlord on units (sublandlord_id) where sublandlord_id is not null;

create table filings (
    id integer primary key,
    sublandlord_id integer not null references sublandlords (id),
    unit_id integer not null references units (id),
    community_id integer not null references communities (id),
    rooms integer not null check (rooms between 1 and 50),
    rental_mode text not null check (rental_mode in ('whole', 'shared', 'daily', 'group')),
    floor_area_m2 real,
    start_date text not null,
    planned_occupants integer not null,
    created_at integer not null
);
create index filings_by_sublandlord on filings (sublandlord_id, created_at);
create index filings_by_community on filings (community_id, created_at);
create index filings_by_unit on filings (unit_id, created_at);

-- a sublandlord's move-out of an occupant is kept like any other change
alter table occupants add column moved_out_by integer references users (id);

-- The ledger as last computed, per person and community (community 0: all of them), kept in
-- step by every write that changes a person's units, occupants or checks, so that a page of
-- the ranking is an index read instead of an aggregate over the town.
create table ledger_rows (
    person_id integer not null,
    community_id integer not null,
    units integer not null,
    rooms integer not null,
    occupants integer not null,
    open_checks integer not null,
    past_checks integer not null,
    violations integer not null,
    tips integer not null,
    overcrowded_units integer not null,
    filed_in_advance integer not null,
    filed_late integer not null,
    priority integer not null,
    primary key (person_id, community_id)
);
create index ledger_rows_rank on ledger_rows (community_id, priority desc, person_id);
