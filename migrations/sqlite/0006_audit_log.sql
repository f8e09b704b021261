-- Who read or changed what, when and why. Append-only: the service never updates or deletes
-- a row, and each row carries the hash of its predecessor, so a changed or removed row breaks
-- the chain (`renfang audit verify`).
create table audit_log (
    id integer primary key,
    at integer not null,
    -- null: the service itself (the scheduler, the command line)
    user_id integer references users (id),
    action text not null,
    subject text,
    detail text,
    reason text,
    prev_hash blob not null,
    hash blob not null
);
