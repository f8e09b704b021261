-- The door-check reasons of the plan's special cases and of the occupied units' clock
-- (`unconfirmed`).
alter table door_checks drop constraint door_checks_reason_check;
alter table door_checks add constraint door_checks_reason_check
    check (reason in ('no_upload', 'unconfirmed', 'tip', 'filing_mismatch', 'overcrowding',
                      'garage_dwelling', 'daily_rental', 'identity_conflict', 'manual'));
