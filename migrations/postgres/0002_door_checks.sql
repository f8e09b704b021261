-- The 5-day rule and the door-check queue.

-- When the N-day clock last (re)started: the newest upload, or when the unit was put under
-- watch or came back from a vacancy, whichever is later. Kept on every write so that the
-- sweep and the queue are index range scans.
alter table units add column clock_from bigint not null default 0;
update units set clock_from = case
    when last_upload_at is not null and last_upload_at > watched_since then last_upload_at
    else watched_since end;
create index units_clock on units (state, clock_from, id);

create table door_checks (
    id bigint generated always as identity primary key,
    unit_id bigint not null references units (id),
    -- copied from the unit so that scoped lists need no join to filter
    community_id bigint not null references communities (id),
    reason text not null
        check (reason in ('no_upload', 'tip', 'filing_mismatch', 'overcrowding', 'manual')),
    status text not null default 'open' check (status in ('open', 'closed')),
    outcome text check (outcome in
        ('verified', 'vacant', 'violation', 'resolved_by_upload', 'cancelled')),
    -- what triggered the check (JSON), e.g. the numbers behind an overcrowding check
    details text,
    opened_at bigint not null,
    -- queue order: the unit's clock at opening (oldest first)
    queue_key bigint not null,
    -- an unreachable attempt moves the check down the queue until this instant
    deferred_until bigint not null default 0,
    attempts bigint not null default 0,
    closed_at bigint,
    closed_by bigint references users (id),
    note text
);
-- at most one open check per unit and reason, whoever or whatever opens it
create unique index door_checks_one_open on door_checks (unit_id, reason) where status = 'open';
create index door_checks_queue on door_checks (status, community_id, queue_key);
create index door_checks_open_queue on door_checks (status, queue_key);
create index door_checks_by_unit on door_checks (unit_id, opened_at);

-- Every visit result: who, when, what.
create table door_check_events (
    id bigint generated always as identity primary key,
    door_check_id bigint not null references door_checks (id),
    user_id bigint references users (id),
    outcome text not null,
    note text,
    -- ids of the occupants met in person (JSON array), on 'verified'
    met_occupants text,
    created_at bigint not null
);
create index door_check_events_by_check on door_check_events (door_check_id, created_at);

-- A violation found at the door, for the law-enforcement team.
create table referrals (
    id bigint generated always as identity primary key,
    door_check_id bigint not null references door_checks (id),
    unit_id bigint not null references units (id),
    community_id bigint not null references communities (id),
    note text,
    created_by bigint references users (id),
    created_at bigint not null,
    status text not null default 'open' check (status in ('open', 'closed')),
    constraint referrals_one_per_check unique (door_check_id)
);
create index referrals_by_community on referrals (status, community_id, created_at);
