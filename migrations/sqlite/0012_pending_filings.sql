-- A filing of a flat whose unit the filer did not create no longer links that unit at once:
-- it waits for staff ('pending') and links the unit only when approved. Earlier filings all
-- took effect when made ('filed').
alter table filings add column status text not null default 'filed'
    check (status in ('filed', 'pending', 'approved', 'rejected'));
alter table filings add column decided_by integer references users (id);
alter table filings add column decided_at integer;
alter table filings add column decision_reason text;
create index filings_pending on filings (community_id, created_at) where status = 'pending';
