-- Reminders before the clock falls due, and the police's morning digest.

-- A tenant who left a phone may ask to be reminded by SMS before their confirmation is due.
alter table occupants add column remind_ok boolean not null default 0;
-- The confirmation reminders read the current occupants of the units about to fall due,
-- by unit, and only those who asked.
create index occupants_reminded on occupants (unit_id, id)
    where moved_out_at is null and remind_ok and phone_enc is not null;

-- Every reminder and digest queued, once: the job inserts its key with `on conflict do
-- nothing` in the transaction of the event and queues the event only when the row is new,
-- so reruns and instances running at once send nothing twice. `subject_id` is the unit,
-- occupant or community; `due_at` the deadline (for a digest: the start of its local day);
-- `stage` the days left of an `overdue_soon` (0 for the others).
create table reminders_sent (
    kind text not null check (kind in ('overdue_soon', 'confirmation_due', 'digest')),
    subject_id integer not null,
    due_at integer not null,
    stage integer not null,
    sent_at integer not null,
    primary key (kind, subject_id, due_at, stage)
);

-- The digest counts yesterday's results and the oldest open check of each community.
create index door_check_events_by_time on door_check_events (created_at);
create index door_checks_open_by_age on door_checks (community_id, opened_at)
    where status = 'open';
