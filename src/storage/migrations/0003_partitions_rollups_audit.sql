-- 0003_partitions_rollups_audit: invoices partitioned by issue month, the identity of an invoice
-- in small tables of its own, report rollups kept in the transaction of every write, and the
-- audit log of officers' reads.
--
-- Why the schema looks like this (volume: 10 billion invoices a year, README "Scaling"):
--
-- * invoices is partitioned by RANGE (issue_date), one partition a month. Reports and searches
--   name a period, so they touch only its months (partition pruning); old months can be
--   archived or detached whole (the XML after the retention window) without a DELETE; each
--   month's indexes stay small enough to be cached while that month is busy. By issue date,
--   not by receipt time, because every filter of the API (from/to) is on the issue date.
-- * A unique key of a partitioned table must contain the partition key, so invoices can no
--   longer carry `unique (code)` or `unique (seller, form, symbol, number)` on its own: both
--   must stay unique across months. They move to two unpartitioned tables that hold one narrow
--   row per invoice:
--     invoice_keys  (seller, form, symbol, number) → code, issue_date: the natural key, where
--                   INSERT … ON CONFLICT decides between issued, replay and conflict as before;
--                   unique (seller, code) is what invoice_tax_rates and invoice_events point at;
--     invoice_codes code → seller, issue_date: the global uniqueness of MCCQT and the route from a
--                   code to its partition (GET /v1/invoices/{code}); on Citus the routing table
--                   distributed by code (README "Scaling").
--   The primary key of invoices is (seller_tax_code, issue_date, code): it is the seller-search
--   index too (a seller's invoices by date, `code` last for a total order under the cursor).
-- * Nothing references invoices itself: rates and events reference invoice_keys, so a row can be
--   moved between partitions (out of the default partition) without touching them, and every
--   key and foreign key of a table distributed by seller includes seller_tax_code (Citus).
-- * Partitions: `invoices_default` (DEFAULT) catches any date without a partition, so an insert
--   never fails for want of one. Monthly partitions (`invoices_yYYYYmMM`) are created ahead by the
--   store (storage/partitions.ts) on every start and `npm run migrate`, for last month through
--   three months ahead, and for every month found in the default partition, whose rows are moved
--   into it. Creating a partition takes an ACCESS EXCLUSIVE lock on invoices for milliseconds;
--   doing it ahead of the month keeps it off the first invoice of a month, where concurrent
--   submissions would queue behind it.
-- * Indexes per partition: the primary key (seller, date, code) for sellers' searches and the
--   keyset order; (buyer, date, code) for buyers' searches (partial: consumers have no MST);
--   (date, code) for officers browsing everything by date. status, form and symbol are filters
--   on these scans: a seller has few forms and symbols, and cancelled/replaced invoices are a few
--   percent, so an index of their own would cost every insert more than it saves.
--
-- Rollups (totals_*): reports never scan invoices. Every write (issue, replace, adjust, cancel)
-- adds its signed contribution to the rollups in its own transaction, aggregated per
-- transaction (storage/rollups.ts: one statement, each touched row once, in one lock order).
-- An invoice contributes while its status is issued or adjusted: +1 invoice, + TgTCThue and
-- TgTThue in VND; replaced or cancelled takes the same contribution out again. The row with
-- tax_rate '*' is the invoice as a whole; the other rows are its LTSuat groups (each counts
-- the invoices that have that rate). Sums are unconstrained numeric: a national year of
-- amounts overflows no precision.
--   totals_seller_daily   (seller, day, rate)   a seller's reports, and the edges of a period
--   totals_seller_monthly (seller, month)       by seller / tax office / province over months
--   totals_daily          (day, rate, slot)     everyone by day / month / rate: `slot` stripes
--                         each day over a few rows (by seller) so that concurrent transactions of
--                         different sellers rarely wait on one hot row; queries sum the slots.
-- A seller's tax office and province are joined at query time (sellers is small): a PATCHed
-- office applies to the seller's whole history and no rollup is rewritten.
-- `npm run reports:check` recomputes all three from invoices and compares.

-- 1. The identity of an invoice -------------------------------------------------------------

create table invoice_keys (
  seller_tax_code text not null references sellers (tax_code),
  form            text not null,
  symbol          text not null,
  number          integer not null,
  code            char(34) not null,
  issue_date      date not null,
  primary key (seller_tax_code, form, symbol, number),
  unique (seller_tax_code, code)
);
insert into invoice_keys (seller_tax_code, form, symbol, number, code, issue_date)
  select seller_tax_code, form, symbol, number, code, issue_date from invoices;

-- No foreign key: on Citus it is distributed by code, apart from the seller's shard.
create table invoice_codes (
  code            char(34) primary key,
  seller_tax_code text not null,
  issue_date      date not null
);
insert into invoice_codes (code, seller_tax_code, issue_date) select code, seller_tax_code, issue_date from invoices;

-- 2. Rates and events carry the seller and point at invoice_keys --------------------------

alter table invoice_tax_rates add column seller_tax_code text;
update invoice_tax_rates r set seller_tax_code = i.seller_tax_code from invoices i where i.code = r.invoice_code;
alter table invoice_tax_rates
  alter column seller_tax_code set not null,
  drop constraint invoice_tax_rates_invoice_code_fkey,
  drop constraint invoice_tax_rates_pkey,
  add primary key (seller_tax_code, invoice_code, tax_rate),
  add foreign key (seller_tax_code, invoice_code) references invoice_keys (seller_tax_code, code);

alter table invoice_events add column seller_tax_code text;
update invoice_events e set seller_tax_code = i.seller_tax_code from invoices i where i.code = e.invoice_code;
-- A relation names an invoice of the same seller (a replacement or an adjustment of one's own).
alter table invoice_events
  alter column seller_tax_code set not null,
  drop constraint invoice_events_invoice_code_fkey,
  drop constraint invoice_events_related_code_fkey,
  drop constraint invoice_events_pkey,
  add primary key (seller_tax_code, id),
  add foreign key (seller_tax_code, invoice_code) references invoice_keys (seller_tax_code, code),
  add foreign key (seller_tax_code, related_code) references invoice_keys (seller_tax_code, code);

-- 3. invoices, partitioned by issue month ------------------------------------------------------

-- The rows wait in a temporary copy, so that the new table's constraints get the plain names.
create temporary table invoices_0002 on commit drop as select * from invoices;
drop table invoices;

create table invoices (
  -- MCCQT (invoice-format.md §5); unique through invoice_codes.
  code                    char(34) not null check (code ~ '^[0-9A-F]{34}$'),
  seller_tax_code         text not null,
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
  digest                  text not null,
  xml                     text compression pglz not null,
  certificate_fingerprint text not null,
  submitted_by            uuid not null references api_keys (id),
  issued_at               timestamptz not null,
  primary key (seller_tax_code, issue_date, code),
  -- The natural key and the code live in invoice_keys (unique there); the seller through it.
  foreign key (seller_tax_code, code) references invoice_keys (seller_tax_code, code),
  -- The signer must be a certificate registered to this very seller.
  foreign key (seller_tax_code, certificate_fingerprint) references certificates (seller_tax_code, fingerprint)
) partition by range (issue_date);
create index invoices_buyer_date on invoices (buyer_tax_code, issue_date, code) where buyer_tax_code is not null;
create index invoices_date on invoices (issue_date, code);
create table invoices_default partition of invoices default;

-- Every existing row lands in the default partition here; the store moves them into monthly
-- partitions right after the migrations (storage/partitions.ts).
insert into invoices (code, seller_tax_code, form, symbol, number, status, buyer_tax_code, issue_date, currency,
                      exchange_rate, total_before_tax, total_tax, total_payable, digest, xml,
                      certificate_fingerprint, submitted_by, issued_at)
  select code, seller_tax_code, form, symbol, number, status, buyer_tax_code, issue_date, currency,
         exchange_rate, total_before_tax, total_tax, total_payable, digest, xml,
         certificate_fingerprint, submitted_by, issued_at
    from invoices_0002;

-- 4. Rollups --------------------------------------------------------------------------------

create table totals_seller_daily (
  seller_tax_code text not null,
  issue_date      date not null,
  -- TSuat as written, or '*' for the invoice as a whole (TgTCThue, TgTThue).
  tax_rate        text not null,
  invoices        bigint not null,
  revenue         numeric not null,
  tax             numeric not null,
  primary key (seller_tax_code, issue_date, tax_rate)
);

create table totals_seller_monthly (
  seller_tax_code text not null,
  -- The first day of the month.
  month           date not null check (extract(day from month) = 1),
  invoices        bigint not null,
  revenue         numeric not null,
  tax             numeric not null,
  primary key (seller_tax_code, month)
);

create table totals_daily (
  issue_date date not null,
  tax_rate   text not null,
  slot       smallint not null check (slot >= 0),
  invoices   bigint not null,
  revenue    numeric not null,
  tax        numeric not null,
  primary key (issue_date, tax_rate, slot)
);

-- The rollups of the invoices that exist already (slot 0: any slot sums the same).
insert into totals_seller_daily (seller_tax_code, issue_date, tax_rate, invoices, revenue, tax)
  select seller_tax_code, issue_date, '*', count(*), sum(total_before_tax), sum(total_tax)
    from invoices where status in ('issued', 'adjusted') group by seller_tax_code, issue_date
  union all
  select i.seller_tax_code, i.issue_date, r.tax_rate, count(*), sum(r.amount_before_tax), sum(r.tax)
    from invoices i join invoice_tax_rates r on r.seller_tax_code = i.seller_tax_code and r.invoice_code = i.code
   where i.status in ('issued', 'adjusted') group by i.seller_tax_code, i.issue_date, r.tax_rate;
insert into totals_seller_monthly (seller_tax_code, month, invoices, revenue, tax)
  select seller_tax_code, date_trunc('month', issue_date)::date, sum(invoices), sum(revenue), sum(tax)
    from totals_seller_daily where tax_rate = '*' group by 1, 2;
insert into totals_daily (issue_date, tax_rate, slot, invoices, revenue, tax)
  select issue_date, tax_rate, 0, sum(invoices), sum(revenue), sum(tax) from totals_seller_daily group by 1, 2;

-- 5. The audit log ----------------------------------------------------------------------------

-- Who read what, when, from where: every officer's read of an invoice, every search and every
-- report (GET /v1/audit for admins). Append-only. One insert in the request it records.
create table audit_log (
  id             bigint generated always as identity primary key,
  at             timestamptz not null,
  actor_role     text not null check (actor_role in ('admin', 'officer', 'seller')),
  -- The officer's id, the API key's id, or 'admin'.
  actor_id       text not null,
  action         text not null check (action in ('invoice.read', 'invoice.xml', 'invoice.search', 'report.totals')),
  -- The invoice code of a read; null for searches and reports.
  target         text,
  -- The validated parameters of a search or report.
  query          jsonb not null default '{}',
  client_address text not null,
  request_id     text not null
);
-- GET /v1/audit pages newest first by id; filters by actor and by time.
create index audit_log_actor on audit_log (actor_id, id);
create index audit_log_at on audit_log (at);
