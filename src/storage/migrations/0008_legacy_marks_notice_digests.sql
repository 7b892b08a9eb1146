-- 0008_legacy_marks_notice_digests: two identities of what a seller signed.
--
-- Every invoice accepted under a legacy allowance is marked, so that officers can find them
-- (api.md: HOADON_ALLOW_SHA1, HOADON_ALLOW_RSA1024; issue 14, item 6).
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

-- A signed T-VAN message is one document, whatever envelope carries it (issue 14, item 9): a 300
-- (error notice 04/SS-HĐĐT) whose seller signature was trusted keeps the SHA-256 (base64) of its
-- signed DLTBao under C14N 1.0, as an invoice keeps its DLHDon's (`invoices.digest`). The same
-- notice sent again under a new MTDiep is a replay: it gets the first answer and nothing is
-- recorded (domain/messages.ts). Unique per seller and type, so that two copies sent at once
-- cannot both be judged: the second waits for the first and finds its answer. Null for every
-- other message, and for a notice refused before its signature was trusted (it is judged again
-- when sent again, as a refused invoice is).
alter table tvan_messages add column signed_digest text check (signed_digest ~ '^[A-Za-z0-9+/]{43}=$');
create unique index tvan_messages_signed on tvan_messages (seller_tax_code, message_type, signed_digest) where signed_digest is not null;
