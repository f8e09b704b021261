-- The answer to each Idempotency-Key a staff member sent with a form post or an API call,
-- so that a result queued on a phone and sent twice is recorded once. A row without a
-- status is a request still running; keys are purged after seven days.
create table staff_idempotency_keys (
    user_id bigint not null references users (id),
    key text not null,
    route text not null,
    status bigint,
    location text,
    content_type text,
    body bytea,
    created_at bigint not null,
    constraint staff_idempotency_keys_pkey primary key (user_id, key)
);
create index staff_idempotency_keys_age on staff_idempotency_keys (created_at);
