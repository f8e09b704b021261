-- The door-check reasons of the plan's special cases and of the occupied units' clock
-- (`unconfirmed`).
alter table door_checks drop constraint door_checks_reason_check;
alter table door_checks add constraint door_checks_reason_check
    check (reason in ('no_upload', 'unconfirmed', 'tip', 'filing_mismatch', 'overcrowding',
                      'garage_dwelling', 'daily_rental', 'identity_conflict', 'manual'));
-- the other unit a check is about (identity_conflict: where the same document is current)
alter table door_checks add column related_unit_id bigint references units (id);
