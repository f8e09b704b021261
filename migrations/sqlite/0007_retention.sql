-- Retention: an occupant's personal data is deleted a configured time after move-out. The
-- row itself stays, emptied, so that the counts of past months do not change.
alter table occupants add column purged_at integer;
create index occupants_to_purge on occupants (moved_out_at) where purged_at is null;
