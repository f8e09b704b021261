-- Who read or changed what, when and why. Append-only: the service never updates or deletes
-- a row, and each row carries the hash of its predecessor, so a changed or removed row breaks
-- the chain (`renfang audit verify`).
create table audit_log (
    id bigint generated always as identity primary key,
    at bigint not null,
    -- null: the service itself (the scheduler, the command line)
    user_id bigint references users (id),
    action text not null,
    subject text,
    detail text,
    reason text,
    prev_hash bytea not null,
    hash bytea not null
);
