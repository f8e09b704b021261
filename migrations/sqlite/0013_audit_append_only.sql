-- The audit log is append-only: the service never changes or removes a row (the retention
-- purge empties other tables), so the database refuses to. Someone with write access can
-- drop these triggers; the keyed links and the head kept outside the database are what find
-- their changes (`renfang audit verify`).
create trigger audit_log_no_update before update on audit_log
begin
    select raise(abort, 'audit_log is append-only');
end;
create trigger audit_log_no_delete before delete on audit_log
begin
    select raise(abort, 'audit_log is append-only');
end;
