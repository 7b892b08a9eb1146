-- 0012_tvan_uncoded_cash_register_summary: what T-VAN 203, 206 and 400 store (tvan.md §7–§9, §13).
--
-- * Invoices without a code (203) and cash-register invoices (206) are invoices: the same row,
--   rates, events and rollups as an invoice with a code, told apart by `source`. The authority
--   issues them no code, so `code` holds a record id there: 34 random hex characters drawn by the
--   service (not an authority code: it carries no MAC, /v1/verify/{code} does not take it), which
--   keeps every key, route and foreign key of 0003 as it is. `message_id` is the MTDiep that
--   carried it (tvan_messages). A cash-register invoice's own code (MCCQT `M1-25-…`, made by the
--   seller's software, Decision 1271) is `register_code`, unique across all sellers through
--   cash_register_codes (distributed by that code on Citus, like invoice_codes: no foreign key).
-- * A seller's cash-register range (5 characters, assigned by the authority at the first accepted
--   registration with CMTMTTien 1, §8.1): by seller in cash_register_ranges, and unique across
--   sellers through cash_register_range_owners (the same routing-table pattern).
-- * Summary tables (400, 01/TH-HĐĐT): the accepted tables (a table refused by its header is not
--   kept; its reasons are in the recorded 204) and their accepted rows. Rows are not invoices:
--   no code, not listed, not in the buyer's lookup. `counted` says whether a row contributes to
--   the totals now (a later row cancelling, replacing or correcting it turns it off, §9).
-- * The −1 answer (§11) is recorded like any answer: reply_type '-1'.
-- A constant default adds `source` without rewriting invoices; the checks read each partition once.

alter table invoices
  add column source        text not null default 'coded' check (source in ('coded', 'uncoded', 'cashRegister')),
  add column message_id    text,
  add column register_code text check (register_code ~ '^M[1-9]-[0-9]{2}-[0-9A-Z]{5}-[0-9]{11}$');
alter table invoices add constraint invoices_source_register_code check ((source = 'cashRegister') = (register_code is not null));
alter table invoices add constraint invoices_source_message check (source = 'coded' or message_id is not null);
-- Officers' searches by source (a few per cent of all invoices outside 'coded', by date like invoices_date).
create index invoices_source_date on invoices (source, issue_date, code) where source <> 'coded';

create table cash_register_codes (
  register_code   text primary key check (register_code ~ '^M[1-9]-[0-9]{2}-[0-9A-Z]{5}-[0-9]{11}$'),
  seller_tax_code text not null,
  code            char(34) not null,
  issue_date      date not null
);

create table cash_register_ranges (
  seller_tax_code text primary key references sellers (tax_code),
  range           text not null check (range ~ '^[0-9A-Z]{5}$'),
  assigned_at     timestamptz not null
);
create table cash_register_range_owners (
  range           text primary key check (range ~ '^[0-9A-Z]{5}$'),
  seller_tax_code text not null
);

create table summary_tables (
  seller_tax_code text not null,
  message_id      text not null,
  -- The table's place in the message's DLieu (1-based).
  position        int not null check (position between 1 and 1000),
  -- LHHoa 1 (fuel) or the others: sequences and answers differ (§9).
  fuel            boolean not null,
  lhhoa           smallint not null check (lhhoa in (1, 2, 9)),
  period_kind     text not null check (period_kind in ('T', 'Q', 'N')),
  period_start    date not null,
  period_end      date not null check (period_end >= period_start),
  number          int not null check (number between 1 and 99999),
  supplement      int check (supplement between 1 and 999),
  printed         boolean not null,
  received_at     timestamptz not null,
  xml             text compression pglz not null,
  primary key (seller_tax_code, message_id, position),
  foreign key (seller_tax_code, message_id) references tvan_messages (seller_tax_code, message_id),
  -- One table per number in a seller's period and kind: SUMMARY_SEQUENCE, decided by the database under concurrency.
  unique (seller_tax_code, fuel, period_kind, period_start, number)
);

create table summary_rows (
  seller_tax_code   text not null,
  message_id        text not null,
  table_position    int not null,
  position          int not null check (position between 1 and 1000000),
  status            smallint not null check (status between 0 and 5),
  form              text,
  symbol            text,
  number            text,
  issue_date        date,
  buyer_tax_code    text,
  product_code      text,
  tax_rate          text,
  amount_before_tax numeric(38, 6),
  tax               numeric(38, 6),
  total             numeric(38, 6),
  related_kind      smallint check (related_kind between 1 and 4),
  related_form      text,
  related_symbol    text,
  related_number    text,
  -- The day its amounts count on: NLap, else the period's last day.
  report_date       date not null,
  counted           boolean not null,
  primary key (seller_tax_code, message_id, table_position, position),
  foreign key (seller_tax_code, message_id, table_position) references summary_tables (seller_tax_code, message_id, position)
);
-- The natural-key checks of later rows and messages (an invoice reported twice, a row cancelling one).
create index summary_rows_invoice on summary_rows (seller_tax_code, form, symbol, number) where form is not null;
create index summary_rows_date on summary_rows (report_date) where counted;

alter table tvan_messages drop constraint tvan_messages_reply_type_check;
alter table tvan_messages add constraint tvan_messages_reply_type_check check (reply_type ~ '^(-1|[0-9]{3})$');
