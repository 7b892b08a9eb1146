-- 0005_rollup_years: a yearly level of the seller rollups, and date indexes on the seller levels.
--
-- A report grouped by seller, tax office or province adds up one row per seller and period
-- unit. Over a year with whole months that was 12 rows per seller (≈ 120,000 rows for 10,000
-- sellers, 60–120 ms of numeric sums); a yearly row per seller makes it 10,000. A period is
-- now cut into whole years (totals_seller_yearly), whole months (totals_seller_monthly) and the
-- days at its ends (totals_seller_daily). Each write adds one row more to its rollup statement.
--
-- The date indexes let the cross-seller parts of such a report read only their period: the
-- primary keys lead with the seller, which suits a seller's own reports.

create table totals_seller_yearly (
  seller_tax_code text not null,
  -- January 1st of the year.
  year            date not null check (extract(month from year) = 1 and extract(day from year) = 1),
  invoices        bigint not null,
  revenue         numeric not null,
  tax             numeric not null,
  primary key (seller_tax_code, year)
);
insert into totals_seller_yearly (seller_tax_code, year, invoices, revenue, tax)
  select seller_tax_code, date_trunc('year', month)::date, sum(invoices), sum(revenue), sum(tax)
    from totals_seller_monthly group by 1, 2;

create index totals_seller_yearly_year on totals_seller_yearly (year);
create index totals_seller_monthly_month on totals_seller_monthly (month);
create index totals_seller_daily_date on totals_seller_daily (issue_date, tax_rate);
