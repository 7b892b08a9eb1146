-- The transparency log (docs/transparency-log.md): an append-only Merkle tree (RFC 9162) of an
-- entry per issued code and per change of an invoice's status, stored as C2SP tlog-tiles.
--
-- Two steps, so that the submission path takes no lock shared by every writer:
--  1. The event's own transaction appends its entries to tlog_pending (an identity column: no
--     lock, and a rolled-back transaction leaves only an unused number behind). So an entry
--     exists exactly when its event committed: never for an invoice that was not written.
--  2. The sequencer (storage/tlog-sql.ts, tlog/log.ts), off the submission path, takes the
--     committed pending entries in one transaction that holds tlog_state's single row: gives
--     them the next dense leaf indexes from tlog_state.size, writes the tiles, the entry bundles
--     and the code index, deletes them from tlog_pending, and signs the new checkpoint. A crash
--     rolls all of that back together: no gap, no leaf twice, and leaf order is commit order
--     (an entry becomes visible to the sequencer only once its transaction has committed).

create table tlog_pending (
  id    bigint generated always as identity primary key,
  entry bytea not null
);

-- One row: the size of the sequenced tree, its root and the latest signed checkpoint.
create table tlog_state (
  id         smallint primary key check (id = 1),
  size       bigint not null check (size >= 0),
  root       bytea not null check (length(root) = 32),
  checkpoint text,
  signed_at  timestamptz
);
-- The empty tree's root: SHA-256 of the empty string.
insert into tlog_state (id, size, root) values (1, 0, decode('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex'));

-- Tiles of hashes (C2SP tlog-tiles): level 0 holds leaf hashes, level L > 0 the roots of full
-- tiles of level L - 1. The rightmost tile of a level grows in place up to 256 hashes; a tile's
-- prefix never changes, so a partial tile of width W is the first W hashes.
create table tlog_tiles (
  level  smallint not null check (level between 0 and 63),
  n      bigint not null check (n >= 0),
  hashes bytea not null check (length(hashes) between 32 and 8192 and length(hashes) % 32 = 0),
  primary key (level, n)
);
-- Hashes do not compress: keep them out of line without trying.
alter table tlog_tiles alter column hashes set storage external;

-- Entry bundles (C2SP tlog-tiles): up to 256 big-endian uint16 length-prefixed entries.
create table tlog_bundles (
  n       bigint primary key check (n >= 0),
  entries bytea not null
);

-- The leaves of each code: its issue, then any change of status.
create table tlog_codes (
  code char(34) not null,
  idx  bigint not null,
  primary key (code, idx)
);
