-- 0002_lifecycle_tvan: the invoice lifecycle (replace, adjust, cancel) and the T-VAN message log.
--
-- The lifecycle needs no new column: the status lives on invoices (0001 allows all four), the
-- links live in invoice_events (each relation written on both invoices, each naming the other),
-- and every transition runs in the transaction of its cause (pg-store.ts).

-- A cancellation always says why.
alter table invoice_events
  add constraint invoice_events_cancel_reason check (event <> 'cancelled' or reason is not null);

-- T-VAN messages (TDiep) received, each with the reply it got, so that a repeated MTDiep is
-- answered with the same bytes. Keyed per seller: the sender's MTDiep is unique by construction
-- (sender code + a UUID), and a message id another seller already used never reveals that
-- seller's reply. Only answered messages are kept: a refused envelope (999) is not a message.
-- The reply is null only inside the transaction that received the message (a placeholder that
-- makes a concurrent repeat wait on the primary key until the first reply commits).
create table tvan_messages (
  seller_tax_code text not null references sellers (tax_code),
  message_id      text not null check (message_id ~ '^[0-9A-Za-z-]{1,46}$'),
  -- MLTDiep received (200, 300) and answered (202, 204, 301).
  message_type    text not null check (message_type ~ '^[0-9]{3}$'),
  reply_type      text check (reply_type ~ '^[0-9]{3}$'),
  received_at     timestamptz not null,
  answered_at     timestamptz,
  reply           text compression pglz,
  primary key (seller_tax_code, message_id),
  check ((reply is null) = (reply_type is null) and (reply is null) = (answered_at is null))
);
