-- An accidental move-out or vacancy can be undone, by the account that made it, within a
-- day. The event keeps the clock it replaced, so undoing it puts the clock back as it was,
-- and is marked once undone, so it is undone at most once.
alter table unit_events add column clock_kind_before text
    check (clock_kind_before in ('no_upload', 'unconfirmed'));
alter table unit_events add column clock_from_before integer;
alter table unit_events add column undone_at integer;
