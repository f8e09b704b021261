-- no-transaction
-- The door-check reasons of the plan's special cases and of the occupied units' clock
-- (`unconfirmed`). SQLite cannot change a column's check, so the table is rebuilt; that needs
-- foreign keys off (the visits and referrals point at it), which a transaction cannot change,
-- so this migration runs its own. Run twice, it rebuilds the same table again.
pragma foreign_keys = off;
begin;
drop table if exists door_checks_rebuilt;
create table door_checks_rebuilt (
    id integer primary key,
    unit_id integer not null references units (id),
    -- copied from the unit so that scoped lists need no join to filter
    community_id integer not null references communities (id),
    reason text not null
        check (reason in ('no_upload', 'unconfirmed', 'tip', 'filing_mismatch', 'overcrowding',
                          'garage_dwelling', 'daily_rental', 'identity_conflict', 'manual')),
    status text not null default 'open' check (status in ('open', 'closed')),
    outcome text check (outcome in
        ('verified', 'vacant', 'violation', 'resolved_by_upload', 'cancelled')),
    -- what triggered the check (JSON), e.g. the numbers behind an overcrowding check
    details text,
    opened_at integer not null,
    -- queue order: when the unit became due for a visit (oldest first)
    queue_key integer not null,
    -- an unreachable attempt moves the check down the queue until this instant
    deferred_until integer not null default 0,
    attempts integer not null default 0,
    closed_at integer,
    closed_by integer references users (id),
    note text,
    -- the other unit a check is about (identity_conflict: where the same document is current)
    related_unit_id integer references units (id)
);
insert into door_checks_rebuilt
    (id, unit_id, community_id, reason, status, outcome, details, opened_at, queue_key,
     deferred_until, attempts, closed_at, closed_by, note)
select id, unit_id, community_id, reason, status, outcome, details, opened_at, queue_key,
       deferred_until, attempts, closed_at, closed_by, note
from door_checks;
drop table door_checks;
alter table door_checks_rebuilt rename to door_checks;
create unique index door_checks_one_open on door_checks (unit_id, reason) where status = 'open';
create index door_checks_queue on door_checks (community_id, queue_key, id)
    where status = 'open';
create index door_checks_open_queue on door_checks (queue_key, id) where status = 'open';
create index door_checks_by_unit on door_checks (unit_id, opened_at);
create index door_checks_by_opened on door_checks (opened_at);
create index door_checks_by_closed on door_checks (closed_at) where closed_at is not null;
create trigger door_checks_counted_insert after insert on door_checks
when new.status = 'open'
begin
    insert or ignore into open_check_counts (community_id, reason, open)
    values (new.community_id, new.reason, 0);
    update open_check_counts set open = open + 1
    where community_id = new.community_id and reason = new.reason;
end;
create trigger door_checks_counted_close after update of status on door_checks
when old.status = 'open' and new.status <> 'open'
begin
    update open_check_counts set open = open - 1
    where community_id = old.community_id and reason = old.reason;
end;
create trigger door_checks_counted_reopen after update of status on door_checks
when old.status <> 'open' and new.status = 'open'
begin
    insert or ignore into open_check_counts (community_id, reason, open)
    values (new.community_id, new.reason, 0);
    update open_check_counts set open = open + 1
    where community_id = new.community_id and reason = new.reason;
end;
create trigger door_checks_counted_delete after delete on door_checks
when old.status = 'open'
begin
    update open_check_counts set open = open - 1
    where community_id = old.community_id and reason = old.reason;
end;
commit;
pragma foreign_keys = on;
