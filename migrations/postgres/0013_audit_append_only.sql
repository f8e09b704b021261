-- The audit log is append-only: the service never changes or removes a row (the retention
-- purge empties other tables), so the database refuses to. Someone with write access can
-- drop these triggers; the keyed links and the head kept outside the database are what find
-- their changes (`renfang audit verify`).
create function audit_log_refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'audit_log is append-only';
end
$$;
create trigger audit_log_append_only before update or delete on audit_log
    for each row execute function audit_log_refuse_change();
create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_refuse_change();
