-- 0014_rollup_derived_coded_lz4: PostgreSQL's share of an issued invoice (issue 12 item 4).
--
-- 1. No rollup rows under 'coded'. Since 0013 every contribution was written twice, under its
-- source and under '*' (all sources); invoices with a code are nearly all of them, so nearly every
-- touched cell was two rows (+0.05 ms of PostgreSQL CPU per issued invoice, load-tests/RESULTS.md).
-- Now an invoice with a code adds to the '*' rows only, and the other sources ('uncoded',
-- 'cashRegister', 'summary': a few per cent) to their rows and to '*' as before. A report for
-- 'coded', or its row of groupBy source, reads '*' minus the other sources (storage/reports.ts);
-- every other report reads the rows it read before. The 'coded' rows are deleted (their figures are
-- '*' minus the others already). The source checks still admit 'coded', so that an instance of the
-- previous release keeps issuing during a rollout (docs/operations.md "Migrations"); its reports
-- for 'coded' are short until it stops, the 'coded' rows it writes meanwhile are read by nothing,
-- and `npm run reports:check` lists them as differences until they are deleted
-- (`delete from totals_… where source = 'coded'`, once the rollout is over).
--
-- 2. TOAST compression lz4 for the stored documents where the server has it (PostgreSQL 14+ built
-- --with-lz4, as Debian's and the official images are): the stamped XML of every issued invoice is
-- compressed by the backend that inserts it, and pglz costs ≈ 0.07–0.1 ms of PostgreSQL CPU per
-- 7.7 KB invoice more than lz4 for about the same size (RESULTS.md). A build without lz4 (PGlite)
-- keeps pglz: the columns stay as they are and nothing fails. Every column of this schema that
-- names pglz is switched, on each table and on each existing partition of invoices (ALTER TABLE on
-- the partitioned table does not reach the partitions that exist; the ones created later inherit
-- it from the parent). Values already stored stay pglz until rewritten: both are read alike. A dump
-- restored onto a server without lz4 needs `pg_dump --no-toast-compression`.

delete from totals_seller_daily where source = 'coded';
delete from totals_seller_monthly where source = 'coded';
delete from totals_seller_yearly where source = 'coded';
delete from totals_daily where source = 'coded';

do $$
declare
  col record;
begin
  if not exists (select 1 from pg_settings where name = 'default_toast_compression' and 'lz4' = any (enumvals)) then
    return;
  end if;
  for col in
    select c.oid::regclass as tab, a.attname as name
      from pg_attribute a join pg_class c on c.oid = a.attrelid
     where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p')
       and a.attnum > 0 and not a.attisdropped and a.attcompression = 'p'
     order by c.relname, a.attname
  loop
    execute format('alter table %s alter column %I set compression lz4', col.tab, col.name);
  end loop;
end
$$;
