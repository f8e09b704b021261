-- Public tips (线索举报) about an address or a poster, and their triage by staff.
create table tips (
    id integer primary key,
    -- known when the address or poster matched a unit, or the tipster named the community
    community_id integer references communities (id),
    unit_id integer references units (id),
    address text not null,
    category text not null
        check (category in ('daily_rental', 'group_rental', 'unregistered', 'other')),
    description text not null,
    -- the tipster's contact, if given: encrypted, and masked for display
    contact_enc blob,
    contact_masked text,
    -- re-encoded JPEG without metadata
    photo blob,
    state text not null default 'new' check (state in ('new', 'checking', 'closed', 'dismissed')),
    door_check_id integer references door_checks (id),
    note text,
    created_at integer not null,
    handled_at integer,
    handled_by integer references users (id),
    purged_at integer
);
create index tips_by_community on tips (community_id, state, created_at);
create index tips_by_created on tips (created_at);
