-- Every poster made (a print or reprint, alone or in a community batch) and every rotation:
-- which unit, which poster version, who, when.
create table poster_events (
    id integer primary key,
    unit_id integer not null references units (id),
    kind text not null check (kind in ('print', 'rotate')),
    version integer not null,
    user_id integer references users (id),
    created_at integer not null
);
create index poster_events_by_unit on poster_events (unit_id, created_at);
