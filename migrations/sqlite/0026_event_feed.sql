-- no-transaction
-- The pull feed of events and the `integration` role that reads it.
-- `txid` exists for the same schema as on PostgreSQL; SQLite lets one writer in at a time,
-- so the row id is already commit order and every event keeps 0 here.
-- SQLite cannot change a column's check, so `users` is rebuilt for the new role; that needs
-- foreign keys off (many tables point at users), which a transaction cannot change, so this
-- migration runs its own.
pragma foreign_keys = off;
begin;
alter table events add column txid integer not null default 0;
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
