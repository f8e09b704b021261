-- no-transaction
-- The pull feed of events and the `integration` role that reads it.
-- `txid` exists for the same schema as on PostgreSQL; SQLite lets one writer in at a time,
-- so the row id is already commit order and every event keeps 0 here. `events` is rebuilt
-- with `autoincrement`: without it SQLite hands out the largest id again once that row is
-- deleted (the purge removes old events), and a consumer already past that id would never
-- see the new event.
-- SQLite cannot change a column's check, so `users` is rebuilt for the new role. These
-- rebuilds need foreign keys off (other tables point at both tables), which a transaction
-- cannot change, so this migration runs its own.
pragma foreign_keys = off;
begin;
drop table if exists events_rebuilt;
create table events_rebuilt (
    id integer primary key autoincrement,
    type text not null,
    community_id integer references communities (id),
    data text not null,
    created_at integer not null,
    txid integer not null default 0
);
insert into events_rebuilt (id, type, community_id, data, created_at)
select id, type, community_id, data, created_at from events;
drop table events;
alter table events_rebuilt rename to events;
create index events_type on events (type, id);
create index events_feed on events (txid, id);
drop table if exists users_rebuilt;
create table users_rebuilt (
    id integer primary key,
    username text not null,
    password_hash text not null,
    role text not null
        check (role in ('admin', 'police', 'enforcement', 'community', 'property', 'sublandlord',
                        'integration')),
    created_at integer not null,
    disabled_at integer,
    session_epoch integer not null default 0,
    constraint users_username_key unique (username)
);
insert into users_rebuilt (id, username, password_hash, role, created_at, disabled_at,
                           session_epoch)
select id, username, password_hash, role, created_at, disabled_at, session_epoch from users;
drop table users;
alter table users_rebuilt rename to users;
commit;
pragma foreign_keys = on;
