-- A person registered again in the same unit gets a new row and the old one ends at that
-- instant. Marking such rows lets a month count each person once, however often they
-- renewed; rows ended by a real move-out stay unmarked.
alter table occupants add column superseded integer not null default 0;
update occupants set superseded = 1
where moved_out_at is not null and moved_out_by is null
  and exists (select 1 from occupants later
              where later.unit_id = occupants.unit_id
                and later.id_number_index = occupants.id_number_index
                and later.created_at = occupants.moved_out_at
                and later.id <> occupants.id);
