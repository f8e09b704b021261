-- The sweep and the queue at city scale.

-- One foreign key from a check to its unit that also pins the copied community to the
-- unit's, instead of two: each is a trigger fired per inserted row, and the sweep inserts a
-- city's overdue units at once.
create unique index units_id_community on units (id, community_id);
alter table door_checks
    drop constraint door_checks_unit_id_fkey,
    drop constraint door_checks_community_id_fkey,
    add constraint door_checks_unit_fkey
        foreign key (unit_id, community_id) references units (id, community_id);

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
    community_id bigint not null references communities (id),
    reason text not null,
    open bigint not null,
    primary key (community_id, reason)
);
insert into open_check_counts (community_id, reason, open)
select community_id, reason, count(*) from door_checks where status = 'open' group by 1, 2;

-- Adds the open checks among the rows that arrived and removes those among the rows that
-- left: one upsert per statement (the sweep inserts thousands of rows in one), in key order
-- so that concurrent writers lock the counters in the same order.
create function count_open_checks() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into open_check_counts as c (community_id, reason, open)
        select community_id, reason, count(*) from new_rows where status = 'open'
        group by 1, 2 order by 1, 2
        on conflict (community_id, reason) do update set open = c.open + excluded.open;
    elsif tg_op = 'UPDATE' then
        insert into open_check_counts as c (community_id, reason, open)
        select community_id, reason, sum(delta) from (
            select community_id, reason, -1 as delta from old_rows where status = 'open'
            union all
            select community_id, reason, 1 from new_rows where status = 'open'
        ) moved
        group by 1, 2 having sum(delta) <> 0 order by 1, 2
        on conflict (community_id, reason) do update set open = c.open + excluded.open;
    else
        insert into open_check_counts as c (community_id, reason, open)
        select community_id, reason, -count(*) from old_rows where status = 'open'
        group by 1, 2 order by 1, 2
        on conflict (community_id, reason) do update set open = c.open + excluded.open;
    end if;
    return null;
end
$$;
create trigger door_checks_counted_insert after insert on door_checks
    referencing new table as new_rows
    for each statement execute function count_open_checks();
create trigger door_checks_counted_update after update on door_checks
    referencing old table as old_rows new table as new_rows
    for each statement execute function count_open_checks();
create trigger door_checks_counted_delete after delete on door_checks
    referencing old table as old_rows
    for each statement execute function count_open_checks();
