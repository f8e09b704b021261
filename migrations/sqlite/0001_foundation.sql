-- Communities, staff, units with their poster tokens, registrations and occupants.
-- Instants are integer milliseconds since the Unix epoch (UTC); dates are 'YYYY-MM-DD' text.

create table communities (
    id integer primary key,
    name text not null,
    created_at integer not null,
    constraint communities_name_key unique (name)
);

create table users (
    id integer primary key,
    username text not null,
    password_hash text not null,
    role text not null
        check (role in ('admin', 'police', 'enforcement', 'community', 'property', 'sublandlord')),
    created_at integer not null,
    disabled_at integer,
    constraint users_username_key unique (username)
);

create table user_communities (
    user_id integer not null references users (id) on delete cascade,
    community_id integer not null references communities (id),
    primary key (user_id, community_id)
);

create table units (
    id integer primary key,
    community_id integer not null references communities (id),
    address text not null,
    -- normalised form: the same flat written differently has the same key
    address_key text not null,
    kind text not null check (kind in ('flat', 'villa', 'garage', 'dormitory', 'other')),
    rental_mode text not null check (rental_mode in ('whole', 'shared', 'daily', 'group')),
    rooms integer not null check (rooms between 1 and 50),
    floor_area_m2 real,
    state text not null default 'active' check (state in ('active', 'vacant', 'closed')),
    -- when the N-day clock started (creation, or the end of a vacancy)
    watched_since integer not null,
    last_upload_at integer,
    qr_version integer not null default 1,
    created_at integer not null,
    constraint units_address_key unique (community_id, address_key)
);

-- Every poster token a unit has had. Only a keyed hash is used for look-up; the current
-- token is kept encrypted (for reprints) and a replaced one is kept only as its hash, to
-- answer 410 instead of 404.
create table qr_tokens (
    token_hash blob primary key,
    unit_id integer not null references units (id),
    version integer not null,
    token_enc blob,
    created_at integer not null,
    replaced_at integer
);
create unique index qr_tokens_one_current on qr_tokens (unit_id) where replaced_at is null;

-- Every upload: a registration through a poster or by staff, a confirmation, a verification.
create table registrations (
    id integer primary key,
    unit_id integer not null references units (id),
    receipt text not null,
    source text not null check (source in ('scan', 'sublandlord', 'officer', 'confirm')),
    notice_version text,
    occupant_count integer not null,
    created_at integer not null,
    constraint registrations_receipt_key unique (receipt)
);
create index registrations_by_unit on registrations (unit_id, created_at);

create table occupants (
    id integer primary key,
    unit_id integer not null references units (id),
    registration_id integer not null references registrations (id),
    name text not null,
    id_type text not null,
    id_number_enc blob not null,
    id_number_index blob not null,
    id_number_masked text not null,
    phone_enc blob,
    phone_masked text,
    room text,
    move_in text not null,
    moved_out_at integer,
    created_at integer not null
);
-- one current row per person and unit: a new registration of the same document replaces it
create unique index occupants_one_current on occupants (unit_id, id_number_index)
    where moved_out_at is null;
create index occupants_by_document on occupants (id_number_index);

-- The first answer to each Idempotency-Key, per poster token.
create table idempotency_keys (
    scope blob not null,
    key text not null,
    request_hash blob not null,
    status integer not null,
    body text not null,
    created_at integer not null,
    constraint idempotency_keys_pkey primary key (scope, key)
);
