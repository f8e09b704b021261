-- A check given to an officer for a day's walk: whom, and since when. Giving it again
-- overwrites both; a closed check keeps who had it.
alter table door_checks add column assigned_to integer references users (id);
alter table door_checks add column assigned_at integer;
-- "My checks": the open checks of one officer.
create index door_checks_assigned on door_checks (assigned_to) where status = 'open';
