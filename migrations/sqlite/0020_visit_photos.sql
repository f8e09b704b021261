-- A photo an officer took at the door as evidence, kept with the visit it documents until
-- the retention purge empties it (the row stays, so the visit still says it had one).
-- One visit may close several checks of the same flat; each of their events points at the
-- one photo.
create table visit_photos (
    id integer primary key,
    unit_id integer not null references units (id),
    user_id integer references users (id),
    -- re-encoded JPEG, no EXIF; null once purged
    photo blob,
    created_at integer not null,
    purged_at integer
);
create index visit_photos_unpurged on visit_photos (created_at) where photo is not null;
alter table door_check_events add column photo_id integer references visit_photos (id);
