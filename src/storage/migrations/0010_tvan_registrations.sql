-- 0010_tvan_registrations: T-VAN 100 (registration or change of e-invoice use, 01/ĐKTĐ-HĐĐT),
-- the answers that follow the first one, and the registrations officers decide (tvan.md §4, §13).

-- Every answer after a message's first (a 103 after its 102), in order. The first answer stays in
-- tvan_messages.reply (what a repeated MTDiep gets, byte for byte).
create table tvan_answers (
  seller_tax_code text not null,
  message_id      text not null,
  seq             int not null check (seq >= 2),
  answer_type     text not null check (answer_type ~ '^-?[0-9]{1,3}$'),
  answer_id       text not null,
  at              timestamptz not null,
  xml             text compression pglz not null,
  primary key (seller_tax_code, message_id, seq),
  foreign key (seller_tax_code, message_id) references tvan_messages (seller_tax_code, message_id)
);

-- One per 100 received (refused ones too: the 102 that refused it is the record). The form is
-- kept whole (its bytes as received) and read: the flags and lists the rules use (content).
create table registrations (
  id              uuid primary key,
  seller_tax_code text not null references sellers (tax_code),
  message_id      text not null,
  kind            text not null check (kind in ('new', 'change')),
  received_at     timestamptz not null,
  status          text not null check (status in ('notReceived', 'pending', 'accepted', 'refused')),
  -- [{mloi, text}]: why an officer must decide (pending), or why it was not received (notReceived).
  hold_reasons    jsonb not null default '[]',
  content         jsonb not null,
  form_xml        text compression pglz not null,
  decided_at      timestamptz,
  decided_by      text,
  -- [{mloi, text}] of a refusal.
  decision_reasons jsonb,
  foreign key (seller_tax_code, message_id) references tvan_messages (seller_tax_code, message_id),
  check ((status in ('accepted', 'refused')) = (decided_at is not null))
);
create index registrations_seller on registrations (seller_tax_code, received_at desc);
create index registrations_status on registrations (status, received_at, id);
-- At most one form of a seller awaits an officer (9991 refuses another).
create unique index registrations_one_pending on registrations (seller_tax_code) where status = 'pending';

-- The numbers of the 102 (per tax office and year in production; one sequence here) and 103 (STBao/So).
create sequence tvan_registration_notice_seq minvalue 1 maxvalue 9999999999 cycle;

-- Officers' reads of registrations and their decisions are audited like invoice reads.
alter table audit_log drop constraint audit_log_action_check;
alter table audit_log add constraint audit_log_action_check
  check (action in ('invoice.read', 'invoice.xml', 'invoice.search', 'report.totals', 'registration.list', 'registration.decision', 'message.read'));
