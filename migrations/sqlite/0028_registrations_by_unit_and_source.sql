-- Every upload counts its unit's scan and sublandlord registrations of the past week (the
-- turnover rule). With the source in the index that count reads the index alone, instead of
-- looking up each of the week's registrations in the table.
create index registrations_by_unit_time_source on registrations (unit_id, created_at, source);
drop index registrations_by_unit;
