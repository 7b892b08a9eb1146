-- 0011_credential_revocation: officer tokens can be revoked (API keys have had revoked_at since
-- 0001), the last use of keys and tokens is kept, and issuing and revoking them is audited.
--
-- A revocation is an UPDATE of officers or api_keys: migration 0007's triggers announce it on
-- hoadon_registry at commit, so every instance drops what it cached and refuses the credential
-- from then on (storage/registry-cache.ts). Nothing is deleted: a revoked key stays, as the
-- submitter of its invoices (invoices.submitted_by) and in the audit log.
alter table officers add column revoked_at timestamptz;

-- The last use of an API key or officer token (id of api_keys or officers; the ids are UUIDs,
-- so one table serves both, without a foreign key). Written off the request path, at most about
-- once a minute per credential and instance (storage/credential-use.ts), so it is precise to
-- about a minute (docs/integration.md, "Listing and revoking API keys and officer tokens"). A
-- table of its own, without 0007's trigger: recording a use is not a registry change and must
-- not empty the caches of every instance. On Citus: on the coordinator, like the audit log.
create table credential_use (
  credential_id uuid primary key,
  last_used_at  timestamptz not null
);

alter table audit_log drop constraint audit_log_action_check;
alter table audit_log add constraint audit_log_action_check
  check (action in ('invoice.read', 'invoice.xml', 'invoice.search', 'report.totals', 'registration.list', 'registration.decision', 'message.read',
                    'api-key.issue', 'api-key.revoke', 'officer.issue', 'officer.revoke'));
