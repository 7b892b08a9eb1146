-- 0013_rollup_sources: the report rollups by source (issue 15 item 2; api.md GET /v1/reports/totals `source`).
--
-- Every rollup row gets a `source`: 'coded' (invoices with a code), 'uncoded' (T-VAN 203),
-- 'cashRegister' (206), 'summary' (the counted rows of summary tables, T-VAN 400), or '*' for all
-- of them together. Each write adds its contribution twice, under its own source and under '*'
-- (storage/rollups.ts): a report over all sources reads the '*' rows, exactly the rows (and row
-- counts) it read before, and a report by source or for one source reads the others. Storing
-- '*' costs one more row per touched cell; summing the sources at query time instead would
-- have cost the seller report of a whole year its one-row-per-seller read (reports-sql.ts).
-- `source` comes right after the seller in the keys and first in the date indexes, so that a
-- report reads one contiguous range of its source's rows, as many index entries as before 0013
-- (after the date, a year by month walked the entries of every source and slowed ≈ 2×).
--
-- A summary row counts as one under `invoices`, with TTCThue as revenue and TgTThue as tax, on
-- its NLap (else the period's last day: summary_rows.report_date), on its TSuat's rate row.
--
-- Backfill: the existing rows (every invoice of every source, no summary row yet) become the '*'
-- rows; the per-source rows are recomputed from invoices; the counted summary rows are added
-- under 'summary' and to '*'. totals_daily's new rows go to slot 0 (any slot sums the same).

alter table totals_seller_daily add column source text not null default '*' check (source in ('*', 'coded', 'uncoded', 'cashRegister', 'summary'));
alter table totals_seller_daily alter column source drop default;
alter table totals_seller_daily drop constraint totals_seller_daily_pkey;
alter table totals_seller_daily add primary key (seller_tax_code, source, issue_date, tax_rate);
drop index totals_seller_daily_date;
create index totals_seller_daily_date on totals_seller_daily (source, issue_date, tax_rate);

alter table totals_seller_monthly add column source text not null default '*' check (source in ('*', 'coded', 'uncoded', 'cashRegister', 'summary'));
alter table totals_seller_monthly alter column source drop default;
alter table totals_seller_monthly drop constraint totals_seller_monthly_pkey;
alter table totals_seller_monthly add primary key (seller_tax_code, source, month);
drop index totals_seller_monthly_month;
create index totals_seller_monthly_month on totals_seller_monthly (source, month);

alter table totals_seller_yearly add column source text not null default '*' check (source in ('*', 'coded', 'uncoded', 'cashRegister', 'summary'));
alter table totals_seller_yearly alter column source drop default;
alter table totals_seller_yearly drop constraint totals_seller_yearly_pkey;
alter table totals_seller_yearly add primary key (seller_tax_code, source, year);
drop index totals_seller_yearly_year;
create index totals_seller_yearly_year on totals_seller_yearly (source, year);

alter table totals_daily add column source text not null default '*' check (source in ('*', 'coded', 'uncoded', 'cashRegister', 'summary'));
alter table totals_daily alter column source drop default;
alter table totals_daily drop constraint totals_daily_pkey;
alter table totals_daily add primary key (source, issue_date, tax_rate, slot);

-- The per-source cells of a seller's day: invoices by their source, counted summary rows as 'summary'.
create temporary table rollup_sources_0013 on commit drop as
  select seller_tax_code, issue_date, '*'::text as tax_rate, source, count(*) as invoices, sum(total_before_tax) as revenue, sum(total_tax) as tax
    from invoices where status in ('issued', 'adjusted') group by seller_tax_code, issue_date, source
  union all
  select i.seller_tax_code, i.issue_date, r.tax_rate, i.source, count(*), sum(r.amount_before_tax), sum(r.tax)
    from invoices i join invoice_tax_rates r on r.seller_tax_code = i.seller_tax_code and r.invoice_code = i.code
   where i.status in ('issued', 'adjusted') group by i.seller_tax_code, i.issue_date, r.tax_rate, i.source
  union all
  select seller_tax_code, report_date, '*', 'summary', count(*), coalesce(sum(amount_before_tax), 0), coalesce(sum(tax), 0)
    from summary_rows where counted group by seller_tax_code, report_date
  union all
  select seller_tax_code, report_date, tax_rate, 'summary', count(*), coalesce(sum(amount_before_tax), 0), coalesce(sum(tax), 0)
    from summary_rows where counted and tax_rate is not null group by seller_tax_code, report_date, tax_rate;

insert into totals_seller_daily (seller_tax_code, issue_date, tax_rate, source, invoices, revenue, tax)
  select seller_tax_code, issue_date, tax_rate, source, invoices, revenue, tax from rollup_sources_0013;
insert into totals_seller_daily as t (seller_tax_code, issue_date, tax_rate, source, invoices, revenue, tax)
  select seller_tax_code, issue_date, tax_rate, '*', invoices, revenue, tax from rollup_sources_0013 where source = 'summary'
  on conflict (seller_tax_code, issue_date, tax_rate, source) do update
    set invoices = t.invoices + excluded.invoices, revenue = t.revenue + excluded.revenue, tax = t.tax + excluded.tax;

insert into totals_seller_monthly as t (seller_tax_code, month, source, invoices, revenue, tax)
  select seller_tax_code, date_trunc('month', issue_date)::date, source, sum(invoices), sum(revenue), sum(tax)
    from rollup_sources_0013 where tax_rate = '*' group by 1, 2, 3
  union all
  select seller_tax_code, date_trunc('month', issue_date)::date, '*', sum(invoices), sum(revenue), sum(tax)
    from rollup_sources_0013 where tax_rate = '*' and source = 'summary' group by 1, 2
  on conflict (seller_tax_code, month, source) do update
    set invoices = t.invoices + excluded.invoices, revenue = t.revenue + excluded.revenue, tax = t.tax + excluded.tax;

insert into totals_seller_yearly as t (seller_tax_code, year, source, invoices, revenue, tax)
  select seller_tax_code, date_trunc('year', issue_date)::date, source, sum(invoices), sum(revenue), sum(tax)
    from rollup_sources_0013 where tax_rate = '*' group by 1, 2, 3
  union all
  select seller_tax_code, date_trunc('year', issue_date)::date, '*', sum(invoices), sum(revenue), sum(tax)
    from rollup_sources_0013 where tax_rate = '*' and source = 'summary' group by 1, 2
  on conflict (seller_tax_code, year, source) do update
    set invoices = t.invoices + excluded.invoices, revenue = t.revenue + excluded.revenue, tax = t.tax + excluded.tax;

insert into totals_daily as t (issue_date, tax_rate, slot, source, invoices, revenue, tax)
  select issue_date, tax_rate, 0, source, sum(invoices), sum(revenue), sum(tax)
    from rollup_sources_0013 group by 1, 2, 4
  union all
  select issue_date, tax_rate, 0, '*', sum(invoices), sum(revenue), sum(tax)
    from rollup_sources_0013 where source = 'summary' group by 1, 2
  on conflict (issue_date, tax_rate, slot, source) do update
    set invoices = t.invoices + excluded.invoices, revenue = t.revenue + excluded.revenue, tax = t.tax + excluded.tax;
