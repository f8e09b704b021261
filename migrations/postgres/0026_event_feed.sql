-- The pull feed of events and the `integration` role that reads it.
-- `txid` is the id of the transaction that wrote the event. Ids from the identity are taken
-- when a row is inserted, not when its transaction commits, so the feed orders by
-- (txid, id) and only shows transactions older than every one still running (see
-- `store::feed`). Events from before this migration all carry the migration's own id and
-- keep their order by id.
alter table events
    add column txid bigint not null default (pg_current_xact_id()::text::bigint);
create index events_feed on events (txid, id);

alter table users drop constraint users_role_check;
alter table users add constraint users_role_check
    check (role in ('admin', 'police', 'enforcement', 'community', 'property', 'sublandlord',
                    'integration'));
