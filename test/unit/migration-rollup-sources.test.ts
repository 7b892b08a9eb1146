/**
 * Migration 0013 on a database that already holds invoices of every source and summary rows
 * (counted and switched off), with the rollups as the code before it kept them (every invoice
 * under one row, no summary row): after it, the rollups equal their recomputation by source and
 * in all, and the reports by source give the hand sums. PGlite, and PostgreSQL with DATABASE_URL.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, sql } from "../../src/storage/db.js";
import { openDb } from "../../src/storage/index.js";
import { loadMigrations, migrate } from "../../src/storage/migrate.js";
import { PgStore } from "../../src/storage/pg-store.js";
import { newCode, type ReadySeller, readySeller } from "../helpers/ledger.js";

let db: Db;
let schema: string | null = null;
let store: PgStore;

beforeAll(async () => {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) schema = `test_${process.pid}_${randomBytes(4).toString("hex")}`;
  db = databaseUrl ? await openDb({ databaseUrl, schema: schema!, poolSize: 2 }) : await openDb({ dataDir: "memory://" });
  const all = await loadMigrations();
  await migrate(
    db,
    all.filter((m) => m.name < "0013"),
  );
  store = new PgStore(db);
});
afterAll(async () => {
  if (schema) await db.query(sql`drop schema if exists ${sql.ident(schema)} cascade`);
  await db?.close();
});

let number = 0;
async function invoice(s: ReadySeller, o: { date: string; status: string; source: string; before: string; tax: string; rates: [string, string, string][] }): Promise<void> {
  const code = newCode();
  const n = ++number;
  const message = o.source === "coded" ? null : `M${n}`;
  const register = o.source === "cashRegister" ? `M1-24-ABCDE-${String(n).padStart(11, "0")}` : null;
  await db.query(sql`insert into invoice_keys (seller_tax_code, form, symbol, number, code, issue_date) values (${s.taxCode}, '1', 'C24TAA', ${n}, ${code}, ${o.date}::date)`);
  await db.query(sql`insert into invoice_codes (code, seller_tax_code, issue_date) values (${code}, ${s.taxCode}, ${o.date}::date)`);
  await db.query(sql`
    insert into invoices (code, seller_tax_code, form, symbol, number, status, issue_date, currency, exchange_rate, total_before_tax, total_tax, total_payable,
                          digest, xml, certificate_fingerprint, submitted_by, issued_at, source, message_id, register_code)
    values (${code}, ${s.taxCode}, '1', 'C24TAA', ${n}, ${o.status}, ${o.date}::date, 'VND', 1, ${o.before}, ${o.tax}, ${o.before}, 'x', '<HDon/>',
            ${s.fingerprint}, ${s.keyId}, now(), ${o.source}, ${message}, ${register})`);
  for (const [rate, before, tax] of o.rates) {
    await db.query(sql`insert into invoice_tax_rates (seller_tax_code, invoice_code, tax_rate, amount_before_tax, tax) values (${s.taxCode}, ${code}, ${rate}, ${before}, ${tax})`);
  }
}

describe("migration 0013 (rollups by source)", () => {
  it("keeps every existing figure under all sources, splits it by source, and adds the counted summary rows", async () => {
    const a = await readySeller(store);
    const b = await readySeller(store, { taxOffice: null, province: null });
    await invoice(a, { date: "2024-03-05", status: "issued", source: "coded", before: "1000", tax: "80", rates: [["8%", "1000", "80"]] });
    await invoice(a, { date: "2024-03-05", status: "cancelled", source: "coded", before: "7000", tax: "700", rates: [["10%", "7000", "700"]] });
    await invoice(a, { date: "2024-03-06", status: "issued", source: "uncoded", before: "200.5", tax: "20.05", rates: [["10%", "200.5", "20.05"]] });
    await invoice(b, { date: "2024-04-01", status: "adjusted", source: "cashRegister", before: "300", tax: "24", rates: [["8%", "300", "24"]] });
    // What the rollups held before 0013: every counted invoice, whatever its source (0003's recomputation).
    await db.exec(`
      insert into totals_seller_daily (seller_tax_code, issue_date, tax_rate, invoices, revenue, tax)
        select seller_tax_code, issue_date, '*', count(*), sum(total_before_tax), sum(total_tax) from invoices where status in ('issued', 'adjusted') group by 1, 2
        union all
        select i.seller_tax_code, i.issue_date, r.tax_rate, count(*), sum(r.amount_before_tax), sum(r.tax)
          from invoices i join invoice_tax_rates r on r.seller_tax_code = i.seller_tax_code and r.invoice_code = i.code
         where i.status in ('issued', 'adjusted') group by 1, 2, 3;
      insert into totals_seller_monthly (seller_tax_code, month, invoices, revenue, tax)
        select seller_tax_code, date_trunc('month', issue_date)::date, sum(invoices), sum(revenue), sum(tax) from totals_seller_daily where tax_rate = '*' group by 1, 2;
      insert into totals_seller_yearly (seller_tax_code, year, invoices, revenue, tax)
        select seller_tax_code, date_trunc('year', issue_date)::date, sum(invoices), sum(revenue), sum(tax) from totals_seller_daily where tax_rate = '*' group by 1, 2;
      insert into totals_daily (issue_date, tax_rate, slot, invoices, revenue, tax)
        select issue_date, tax_rate, 3, sum(invoices), sum(revenue), sum(tax) from totals_seller_daily group by 1, 2;`);
    // A summary table of seller b: two counted rows (one without a date: the period's last day), one switched off.
    await db.query(sql`insert into tvan_messages (seller_tax_code, message_id, message_type, received_at) values (${b.taxCode}, 'S1', '400', now())`);
    await db.query(sql`
      insert into summary_tables (seller_tax_code, message_id, position, fuel, lhhoa, period_kind, period_start, period_end, number, printed, received_at, xml)
      values (${b.taxCode}, 'S1', 1, false, 9, 'T', '2024-04-01', '2024-04-30', 1, false, now(), '<BTHDLieu/>')`);
    const row = (position: number, date: string | null, rate: string | null, before: string | null, tax: string | null, counted: boolean) => sql`
      insert into summary_rows (seller_tax_code, message_id, table_position, position, status, form, symbol, number, issue_date, tax_rate, amount_before_tax, tax, report_date, counted)
      values (${b.taxCode}, 'S1', 1, ${position}, 0, '1', 'C24TBB', ${String(position)}, ${date}::date, ${rate}, ${before}, ${tax}, ${date ?? "2024-04-30"}::date, ${counted})`;
    await db.query(row(1, "2024-04-02", "8%", "500", "40", true));
    await db.query(row(2, null, null, "60", null, true));
    await db.query(row(3, "2024-04-03", "10%", "9000", "900", false));

    await migrate(db, await loadMigrations());

    expect(await store.checkRollups()).toEqual([]);
    const q = { from: "2024-01-01", to: "2024-12-31", seller: null };
    expect(await store.reportTotals({ ...q, groupBy: "source" })).toEqual({
      rows: [
        { key: "cashRegister", invoices: 1n, revenue: "300", tax: "24" },
        { key: "coded", invoices: 1n, revenue: "1000", tax: "80" },
        { key: "summary", invoices: 2n, revenue: "560", tax: "40" },
        { key: "uncoded", invoices: 1n, revenue: "200.5", tax: "20.05" },
      ],
      total: { invoices: 5n, revenue: "2060.5", tax: "164.05" },
    });
    expect((await store.reportTotals({ ...q, groupBy: null })).total).toEqual({ invoices: 5n, revenue: "2060.5", tax: "164.05" });
    expect(await store.reportTotals({ ...q, groupBy: "taxRate", source: "summary" })).toEqual({
      rows: [{ key: "8%", invoices: 1n, revenue: "500", tax: "40" }],
      total: { invoices: 2n, revenue: "560", tax: "40" },
    });
    expect(await store.reportTotals({ ...q, groupBy: "day", seller: b.taxCode, source: "summary" })).toEqual({
      rows: [
        { key: "2024-04-02", invoices: 1n, revenue: "500", tax: "40" },
        { key: "2024-04-30", invoices: 1n, revenue: "60", tax: "0" },
      ],
      total: { invoices: 2n, revenue: "560", tax: "40" },
    });
    expect(await store.reportTotals({ ...q, groupBy: "seller", source: "coded" })).toEqual({
      rows: [{ key: a.taxCode, invoices: 1n, revenue: "1000", tax: "80" }],
      total: { invoices: 1n, revenue: "1000", tax: "80" },
    });
  });
});
