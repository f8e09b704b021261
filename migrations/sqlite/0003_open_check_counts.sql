-- The sweep and the queue at city scale.

-- The queue reads only open checks: its indexes hold only those.
drop index door_checks_queue;
drop index door_checks_open_queue;
create index door_checks_queue on door_checks (community_id, queue_key, id)
    where status = 'open';
create index door_checks_open_queue on door_checks (queue_key, id) where status = 'open';

-- How many checks are open, per community and reason, kept by the triggers below whatever
-- opens or closes a check. The queue's total and the counts by reason read this instead of
-- counting a city's open checks on every page.
create table open_check_counts (
    community_id integer not null references communities (id),
    reason text not null,
    open integer not null,
    primary key (community_id, reason)
);
insert into open_check_counts (community_id, reason, open)
select community_id, reason, count(*) from door_checks where status = 'open' group by 1, 2;

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
