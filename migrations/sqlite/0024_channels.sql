-- Destinations of the outbox are reached by one of several channel kinds (webhook, WeCom
-- or DingTalk group robot, SMS gateway); the console shows which. No check constraint: a
-- new kind is a change of code, not of schema. Rows written before are webhooks.
alter table outbox_destinations add column kind text not null default 'webhook';
