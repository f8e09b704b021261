-- Sublandlords (二房东): their accounts, advance filings (事前报备) and the units they let.

create table sublandlords (
    id bigint generated always as identity primary key,
    user_id bigint not null references users (id),
    -- accounts of one person (the same phone or document number, by blind index) share the
    -- id of the first of them; the ledger groups by it
    person_id bigint not null,
    name text not null,
    phone_enc bytea not null,
    phone_index bytea not null,
    phone_masked text not null,
    id_type text not null,
    id_number_enc bytea not null,
    id_number_index bytea not null,
    id_number_masked text not null,
    created_at bigint not null,
    constraint sublandlords_user_key unique (user_id)
);
create index sublandlords_by_phone on sublandlords (phone_index);
create index sublandlords_by_document on sublandlords (id_number_index);
create index sublandlords_by_person on sublandlords (person_id);

-- The sublandlord who lets the unit; the first filing's instant and the first upload's (the
-- self-declaration rate compares them); the newest filing's planned occupants; whether the
-- newest registration declared one family (exempt from the per-room limit).
alter table units add column sublandlord_id bigint references sublandlords (id);
alter table units add column filed_at bigint;
alter table units add column first_upload_at bigint;
alter table units add column planned_occupants bigint;
alter table units add column family bigint not null default 0;
update units set first_upload_at =
    (select min(r.created_at) from registrations r where r.unit_id = units.id);
create index units_by_sublandlord on units (sublandlord_id) where sublandlord_id is not null;

create table filings (
    id bigint generated always as identity primary key,
    sublandlord_id bigint not null references sublandlords (id),
    unit_id bigint not null references units (id),
    community_id bigint not null references communities (id),
    rooms bigint not null check (rooms between 1 and 50),
    rental_mode text not null check (rental_mode in ('whole', 'shared', 'daily', 'group')),
    floor_area_m2 double precision,
    start_date text not null,
    planned_occupants bigint not null,
    created_at bigint not null
);
create index filings_by_sublandlord on filings (sublandlord_id, created_at);
create index filings_by_community on filings (community_id, created_at);
create index filings_by_unit on filings (unit_id, created_at);

-- a sublandlord's move-out of an occupant is kept like any other change
alter table occupants add column moved_out_by bigint references users (id);

-- The ledger as last computed, per person and community (community 0: all of them), kept in
-- step by every write that changes a person's units, occupants or checks, so that a page of
-- the ranking is an index read instead of an aggregate over the town.
create table ledger_rows (
    person_id bigint not null,
    community_id bigint not null,
    units bigint not null,
    rooms bigint not null,
    occupants bigint not null,
    open_checks bigint not null,
    past_checks bigint not null,
    violations bigint not null,
    tips bigint not null,
    overcrowded_units bigint not null,
    filed_in_advance bigint not null,
    filed_late bigint not null,
    priority bigint not null,
    primary key (person_id, community_id)
);
create index ledger_rows_rank on ledger_rows (community_id, priority desc, person_id);
