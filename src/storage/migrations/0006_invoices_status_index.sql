-- 0006_invoices_status_index: searching a seller's invoices by a status other than issued.
--
-- An officer looking for a seller's cancelled (or replaced, adjusted) invoices of a year
-- filtered the seller's whole year on the primary key: 80–150 ms for a large seller at 10
-- million invoices (load-tests/RESULTS.md), 60 matches among a million rows. Those statuses are
-- a few percent of invoices, so a partial index holds only them: it costs an issue nothing (an
-- issued invoice is not in it) and a status change one entry more (status is in the index's
-- predicate, so that update is not a HOT one). Per partition, like every index of invoices.
create index invoices_seller_status on invoices (seller_tax_code, status, issue_date, code) where status <> 'issued';
