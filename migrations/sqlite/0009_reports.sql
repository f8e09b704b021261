-- Monthly reports as written by the scheduler (or on request), kept for download: every
-- instance serves the same file.
create table reports (
    month text primary key,
    created_at integer not null,
    created_by integer references users (id),
    xlsx blob not null
);
