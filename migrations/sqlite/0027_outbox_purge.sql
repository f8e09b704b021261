-- The retention purge deletes old events and reminder keys by age: without these it would
-- read the whole of both tables every night.
create index events_by_time on events (created_at);
create index reminders_sent_by_due on reminders_sent (due_at);
