-- Tip reference numbers (TIP-20261204-0042): the local date of receipt and a per-day
-- sequence, which the reporter quotes for the reward scheme and to look the tip up. Each
-- day's last number is kept in `tip_days`, taken and raised in the same transaction as the
-- tip (the upsert holds the day's row until the tip commits), and the unique index makes a
-- duplicate impossible whatever happens.
--
-- The categories gain the plan's 私搭乱接 (illegal_wiring) and 改变房屋结构
-- (structural_alteration).
--
-- Existing tips get their numbers from when they were received and their id order, by the
-- date in Asia/Shanghai (the default RENFANG_TZ).
create table tip_days (
    -- YYYYMMDD in RENFANG_TZ
    day text primary key,
    -- the day's last sequence number given out
    last bigint not null
);

alter table tips drop constraint tips_category_check;
alter table tips add constraint tips_category_check
    check (category in ('daily_rental', 'group_rental', 'unregistered', 'illegal_wiring',
                        'structural_alteration', 'other'));

-- TIP-YYYYMMDD-NNNN
alter table tips add column reference text;
update tips set reference = numbered.reference
from (select id,
             'TIP-' || day || '-' ||
             case when seq < 10000 then lpad(seq::text, 4, '0') else seq::text end
                 as reference
      from (select id,
                   to_char(to_timestamp(created_at / 1000.0) at time zone 'Asia/Shanghai',
                           'YYYYMMDD') as day,
                   row_number() over (
                       partition by to_char(to_timestamp(created_at / 1000.0)
                                            at time zone 'Asia/Shanghai', 'YYYYMMDD')
                       order by id) as seq
            from tips) by_day) numbered
where tips.id = numbered.id;
alter table tips alter column reference set not null;
create unique index tips_reference on tips (reference);

insert into tip_days (day, last)
select substr(reference, 5, 8), count(*) from tips group by substr(reference, 5, 8);
