-- Tip reference numbers (TIP-20261204-0042): the local date of receipt and a per-day
-- sequence, which the reporter quotes for the reward scheme and to look the tip up. Each
-- day's last number is kept in `tip_days`, taken and raised in the same transaction as the
-- tip, and the unique index makes a duplicate impossible whatever happens.
--
-- The categories gain the plan's 私搭乱接 (illegal_wiring) and 改变房屋结构
-- (structural_alteration). SQLite cannot change a column's check, so the table is rebuilt;
-- no table refers to tips, so this needs no pause of the foreign keys.
--
-- Existing tips get their numbers from when they were received and their id order, by the
-- date in Asia/Shanghai (the default RENFANG_TZ, UTC+8 without summer time since 1991).
create table tip_days (
    -- YYYYMMDD in RENFANG_TZ
    day text primary key,
    -- the day's last sequence number given out
    last integer not null
);

create table tips_rebuilt (
    id integer primary key,
    -- known when the address or poster matched a unit, or the tipster named the community
    community_id integer references communities (id),
    unit_id integer references units (id),
    address text not null,
    category text not null
        check (category in ('daily_rental', 'group_rental', 'unregistered', 'illegal_wiring',
                            'structural_alteration', 'other')),
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
    purged_at integer,
    -- TIP-YYYYMMDD-NNNN
    reference text not null
);
insert into tips_rebuilt
    (id, community_id, unit_id, address, category, description, contact_enc, contact_masked,
     photo, state, door_check_id, note, created_at, handled_at, handled_by, purged_at,
     reference)
select id, community_id, unit_id, address, category, description, contact_enc,
       contact_masked, photo, state, door_check_id, note, created_at, handled_at, handled_by,
       purged_at, 'TIP-' || day || '-' || printf('%04d', seq)
from (select t.*,
             strftime('%Y%m%d', t.created_at / 1000 + 28800, 'unixepoch') as day,
             row_number() over (
                 partition by strftime('%Y%m%d', t.created_at / 1000 + 28800, 'unixepoch')
                 order by t.id) as seq
      from tips t);
drop table tips;
alter table tips_rebuilt rename to tips;
create index tips_by_community on tips (community_id, state, created_at);
create index tips_by_created on tips (created_at);
create unique index tips_reference on tips (reference);

insert into tip_days (day, last)
select substr(reference, 5, 8), count(*) from tips group by substr(reference, 5, 8);
