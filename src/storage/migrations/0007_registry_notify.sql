-- Registry changes are announced on the channel hoadon_registry.
--
-- Every instance keeps the registration data that the submission path reads on every request
-- (API keys and officer tokens by hash, a seller with its certificates) in memory
-- (storage/registry-cache.ts), and LISTENs on this channel to drop it when it changes. The
-- announcement comes from the database itself, after any change to these tables and whoever
-- made it (another instance, an operator's psql session, a restore), and is delivered when the
-- changing transaction commits. An instance that is not listening does not cache.
create or replace function hoadon_registry_changed() returns trigger
language plpgsql as $$
begin
  -- The schema first: instances of another schema on the same database (tests, staging) ignore it.
  perform pg_notify('hoadon_registry', tg_table_schema || '.' || tg_table_name);
  return null;
end
$$;

create trigger sellers_registry_changed after insert or update or delete or truncate on sellers
  for each statement execute function hoadon_registry_changed();
create trigger certificates_registry_changed after insert or update or delete or truncate on certificates
  for each statement execute function hoadon_registry_changed();
create trigger api_keys_registry_changed after insert or update or delete or truncate on api_keys
  for each statement execute function hoadon_registry_changed();
create trigger officers_registry_changed after insert or update or delete or truncate on officers
  for each statement execute function hoadon_registry_changed();
