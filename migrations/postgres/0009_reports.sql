-- Monthly reports as written by the scheduler (or on request), kept for download: every
-- instance serves the same file.
create table reports (
    month text primary key,
    created_at bigint not null,
    created_by bigint references users (id),
    xlsx bytea not null
);
