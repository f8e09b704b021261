-- Public tips (线索举报) about an address or a poster, and their triage by staff.
create table tips (
    id bigint generated always as identity primary key,
    -- known when the address or poster matched a unit, or the tipster named the community
    community_id bigint references communities (id),
    unit_id bigint references units (id),
    address text not null,
    category text not null
        check (category in ('daily_rental', 'group_rental', 'unregistered', 'other')),
    description text not null,
    -- the tipster's contact, if given: encrypted, and masked for display
    contact_enc bytea,
    contact_masked text,
    -- re-encoded JPEG without metadata
    photo bytea,
    state text not null default 'new' check (state in ('new', 'checking', 'closed', 'dismissed')),
    door_check_id bigint references door_checks (id),
    note text,
    created_at bigint not null,
    handled_at bigint,
    handled_by bigint references users (id),
    purged_at bigint
);
create index tips_by_community on tips (community_id, state, created_at);
create index tips_by_created on tips (created_at);
