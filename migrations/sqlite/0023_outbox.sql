-- Events that leave the service, written in the transaction of the change that caused them.
-- `events` keeps every event (the pull feed reads it); `outbox_messages` holds one message
-- per event and configured destination that takes it, with its send state, and
-- `outbox_attempts` every delivery attempt. `outbox_destinations` is the routing the
-- configuration gave at start-up, read inside the writing transaction.
create table events (
    id integer primary key,
    type text not null,
    community_id integer references communities (id),
    data text not null,
    created_at integer not null
);
create index events_type on events (type, id);

create table outbox_destinations (
    name text primary key,
    events text not null,
    communities text not null
);

create table outbox_messages (
    id integer primary key,
    event_id integer not null references events (id),
    event_type text not null,
    destination text not null,
    payload text not null,
    idempotency_key text not null,
    state text not null check (state in ('pending', 'sent', 'dead')),
    attempts integer not null default 0,
    next_attempt_at integer not null,
    last_error text,
    created_at integer not null,
    sent_at integer,
    constraint outbox_messages_event_destination_key unique (event_id, destination),
    constraint outbox_messages_idempotency_key_key unique (idempotency_key)
);
create index outbox_messages_due on outbox_messages (state, next_attempt_at);
create index outbox_messages_destination on outbox_messages (destination, state);

create table outbox_attempts (
    id integer primary key,
    message_id integer not null references outbox_messages (id),
    at integer not null,
    status integer,
    error text,
    duration_ms integer not null
);
create index outbox_attempts_message on outbox_attempts (message_id, id);
