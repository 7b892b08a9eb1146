-- 0008_invoice_legacy: every invoice accepted under a legacy allowance is marked, so that officers
-- can find them (api.md: HOADON_ALLOW_SHA1, HOADON_ALLOW_RSA1024; issue 14, item 6).
--
-- `legacy` lists the allowances the seller's signature needed: 'sha1' (rsa-sha1 or a sha1 digest)
-- and 'rsa1024' (an RSA key under 2048 bits), in that order; empty for every other invoice, and
-- for every invoice issued before this migration (none could be told apart afterwards without
-- re-reading its XML; docs/security.md says how). A constant default adds the column without
-- rewriting the table; the check (which refuses NULL elements too: containment never matches a
-- NULL) and the index read each partition once.
--
-- Legacy invoices are expected to be a few per cent at most and shrinking, so a partial index
-- holds only them: an ordinary issue costs nothing more, and an officer's search for them (by
-- date, newest first, optionally by seller) reads them alone. The search writes the predicate
-- as a literal (storage/pg-store.ts), so that a prepared statement's generic plan can use it.
alter table invoices add column legacy text[] not null default '{}'
  check (legacy <@ array['sha1', 'rsa1024']::text[]);
create index invoices_legacy on invoices (issue_date, code) where legacy <> '{}'::text[];
