-- 0001_init: the first schema of Hoadon.
--
-- This one file runs unchanged on the PostgreSQL server (15 and later) and on PGlite
-- (PostgreSQL 18): it needs no extension and no build option (no pgcrypto, no lz4).
-- The runner (storage/migrate.ts) records a checksum of every applied file and refuses an
-- edited one: later changes (partitioning, reporting rollups, …) come as new files.
--
-- Conventions and why:
-- * Closed sets of values are text with a CHECK, not enum types: a CHECK is replaced in one
--   transactional statement, whereas ALTER TYPE … ADD VALUE has transaction restrictions.
-- * Money is numeric(38,6): exact decimals, 32 integer digits (the format allows 21 digits
--   with at most 6 decimals), negative allowed (decrease adjustments). Amounts are in VND,
--   already converted with TGia; the invoice keeps its currency and rate beside them.
-- * Instants are timestamptz; calendar dates written on the invoice (NLap) are date.
-- * Secrets are never stored: officers and API keys keep only a hash of their token/key.
-- * Nothing is ever deleted (sellers cease, certificates stop, keys are revoked, invoices are
--   cancelled), so foreign keys keep the default NO ACTION.

create table sellers (
  -- MST: 10 digits, optionally "-" and a 3-digit branch; 12 digits (citizen ID) for individuals
  -- since 2025. The check digit is the domain's business; the table only refuses malformed keys.
  tax_code   text primary key check (tax_code ~ '^([0-9]{10}(-[0-9]{3})?|[0-9]{12})$'),
  name       text not null check (name <> ''),
  address    text not null,
  tax_office text,
  province   text,
  status     text not null default 'active' check (status in ('active', 'suspended', 'ceased')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table certificates (
  seller_tax_code text not null references sellers (tax_code),
  -- SHA-256 of the DER, lower-case hex: what the submission path looks a signer up by. The
  -- CHECK ties it to the stored bytes, so a fingerprint can never name another certificate.
  fingerprint     text not null check (fingerprint ~ '^[0-9a-f]{64}$'),
  -- Upper-case hex without separators, as `openssl x509 -serial` prints it (the API's handle
  -- for stopping a certificate). Not unique: two CAs may issue the same serial.
  serial          text not null check (serial ~ '^[0-9A-F]+$'),
  issuer          text not null,
  subject         text not null,
  not_before      timestamptz not null,
  not_after       timestamptz not null,
  der             bytea not null,
  status          text not null default 'active' check (status in ('active', 'stopped')),
  registered_at   timestamptz not null default now(),
  stopped_at      timestamptz,
  -- Registration is per seller: the same certificate may be registered to several tax codes
  -- (e.g. head office and branch), each with its own status.
  primary key (seller_tax_code, fingerprint),
  check (fingerprint = encode(sha256(der), 'hex')),
  check ((status = 'stopped') = (stopped_at is not null))
);
create index certificates_seller_serial on certificates (seller_tax_code, serial);

create table officers (
  id         uuid primary key,
  name       text not null check (name <> ''),
  tax_office text,
  token_hash text not null unique,
  created_at timestamptz not null default now()
);

create table api_keys (
  id              uuid primary key,
  seller_tax_code text not null references sellers (tax_code),
  key_hash        text not null unique,
  created_at      timestamptz not null default now(),
  revoked_at      timestamptz
);
create index api_keys_seller on api_keys (seller_tax_code);

create table invoices (
  -- MCCQT: 34 upper-case hex characters (invoice-format.md §5). char(34) because it is fixed.
  code                    char(34) primary key check (code ~ '^[0-9A-F]{34}$'),
  -- The natural key (seller MST, KHMSHDon, KHHDon, SHDon), unique below: the database, not a
  -- read-then-write in the application, decides between issued, replay and conflict.
  seller_tax_code         text not null references sellers (tax_code),
  form                    text not null check (form ~ '^[1-9]$'),
  symbol                  text not null check (symbol ~ '^[CK][0-9]{2}[TDLMNBGHX][A-Z]{2}$'),
  number                  integer not null check (number between 1 and 99999999),
  status                  text not null check (status in ('issued', 'replaced', 'adjusted', 'cancelled')),
  buyer_tax_code          text,
  issue_date              date not null,
  currency                text not null check (currency ~ '^[A-Z]{3}$'),
  exchange_rate           numeric not null check (exchange_rate > 0),
  total_before_tax        numeric(38, 6) not null,
  total_tax               numeric(38, 6) not null,
  total_payable           numeric(38, 6) not null,
  -- SHA-256 of the canonical signed DLHDon, base64: same key + same digest = a replay.
  digest                  text not null,
  -- The stamped invoice, byte for byte as returned. Large text is TOASTed and compressed;
  -- pglz is named because it exists in every build, while lz4 does not (PGlite) and a server
  -- might default to it.
  xml                     text compression pglz not null,
  certificate_fingerprint text not null,
  submitted_by            uuid not null references api_keys (id),
  issued_at               timestamptz not null,
  unique (seller_tax_code, form, symbol, number),
  -- The signer must be a certificate registered to this very seller.
  foreign key (seller_tax_code, certificate_fingerprint) references certificates (seller_tax_code, fingerprint)
);
-- Search and reports: a seller's invoices by date, a buyer's by date, everyone's by date.
-- `code` last gives a stable order for cursor pagination.
create index invoices_seller_date on invoices (seller_tax_code, issue_date, code);
create index invoices_buyer_date on invoices (buyer_tax_code, issue_date, code) where buyer_tax_code is not null;
create index invoices_date on invoices (issue_date, code);

-- Per-rate amounts (LTSuat), for reports grouped by tax rate.
create table invoice_tax_rates (
  invoice_code      char(34) not null references invoices (code),
  -- TSuat as written: "8%", "KCT", "KHAC:5.26", …
  tax_rate          text not null check (char_length(tax_rate) between 1 and 11),
  amount_before_tax numeric(38, 6) not null,
  tax               numeric(38, 6) not null,
  primary key (invoice_code, tax_rate)
);

-- The history of an invoice, append-only. The current status lives on invoices; this says how
-- it got there. Replacement and adjustment write an event on both invoices, each naming the other.
create table invoice_events (
  id           bigint generated always as identity primary key,
  invoice_code char(34) not null references invoices (code),
  event        text not null check (event in ('issued', 'replaced', 'replaces', 'adjusted', 'adjusts', 'cancelled')),
  at           timestamptz not null,
  by_principal text not null,
  reason       text,
  related_code char(34) references invoices (code),
  check (event not in ('replaced', 'replaces', 'adjusted', 'adjusts') or related_code is not null)
);
create index invoice_events_invoice on invoice_events (invoice_code, id);

-- Transaction numbers for codes (invoice-format.md §5), handed out in blocks so that an
-- instance issues codes from memory and asks the database once per block.
-- One nextval reserves a whole block: the sequence advances by 1024 per call, so a call that
-- returns n owns n … n+1023 and no other call can return a number in that range (nextval is
-- atomic and never rolls back). A caller asking for fewer numbers simply leaves a gap.
-- No setval, no lock, no table row to contend on. The block size is fixed here and mirrored
-- by TXN_BLOCK_SIZE in pg-store.ts; changing it means a new migration and that constant.
create sequence invoice_txn_seq as bigint increment by 1024 minvalue 1 start with 1 no cycle;
