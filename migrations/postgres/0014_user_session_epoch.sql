-- Every session carries the epoch its account had when it began; raising the epoch (on a
-- password change, or when the account is disabled) ends the account's sessions on every
-- instance at once, wherever they are kept.
alter table users add column session_epoch bigint not null default 0;
