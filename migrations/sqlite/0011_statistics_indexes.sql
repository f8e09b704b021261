-- The month's figures read registrations and door checks by time; without these indexes
-- each statistics page and report would scan every registration and check ever stored.
create index registrations_by_time on registrations (created_at);
create index door_checks_by_opened on door_checks (opened_at);
create index door_checks_by_closed on door_checks (closed_at) where closed_at is not null;
