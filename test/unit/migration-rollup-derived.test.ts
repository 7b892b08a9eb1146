/**
 * Migration 0014 on a database as 0013 left it (every figure under its source, 'coded' included,
 * and under '*'), then new invoices of every source on the same cells: 'coded' is read as '*'
 * minus the other sources, and every report, in all, by source and for each source, over periods
 * that take each path of the reports (one year or one month by seller, whole years, months and end
 * days), equals the hand computation of the ledger. A derivation that forgot a source, or
 * subtracted one twice, or left a sign off in one path, fails here. Also: no 'coded' row is left
 * or written (one written anyway is read by no report and listed by the check), and the stored XML
 * is compressed with lz4 where the server has it (PGlite has not: its columns stay pglz). PGlite,
 * and PostgreSQL with DATABASE_URL.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, sql } from "../../src/storage/db.js";
import { openDb } from "../../src/storage/index.js";
import { loadMigrations, migrate } from "../../src/storage/migrate.js";
import { PgStore } from "../../src/storage/pg-store.js";
import type { IssueOutcome, NewInvoice, TotalsGroupBy, TotalsQuery, TotalsSource } from "../../src/storage/store.js";
import { Ledger, newInvoice, type ReadySeller, rate, readySeller } from "../helpers/ledger.js";

let db: Db;
let schema: string | null = null;
let store: PgStore;

beforeAll(async () => {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) schema = `test_${process.pid}_${randomBytes(4).toString("hex")}`;
  db = databaseUrl ? await openDb({ databaseUrl, schema: schema!, poolSize: 2 }) : await openDb({ dataDir: "memory://" });
  await migrate(
    db,
    (await loadMigrations()).filter((m) => m.name < "0014"),
  );
  store = new PgStore(db);
});
afterAll(async () => {
  if (schema) await db.query(sql`drop schema if exists ${sql.ident(schema)} cascade`);
  await db?.close();
});

const GROUPINGS: (TotalsGroupBy | null)[] = [null, "day", "month", "seller", "taxRate", "taxOffice", "province", "source"];
const SOURCES: (TotalsSource | null)[] = [null, "coded", "uncoded", "cashRegister", "summary"];
/** A whole year and a whole month (the one-row-per-seller path), and a cut into months and end days. */
const PERIODS = [
  { from: "2019-01-01", to: "2019-12-31" },
  { from: "2019-03-01", to: "2019-03-31" },
  { from: "2019-02-20", to: "2019-04-05" },
];

async function expectLedger(ledger: Ledger, sellers: ReadySeller[]): Promise<void> {
  for (const period of PERIODS) {
    for (const seller of [null, ...sellers.map((s) => s.taxCode)]) {
      for (const source of SOURCES) {
        for (const groupBy of GROUPINGS) {
          const q: TotalsQuery = { ...period, groupBy, seller, source };
          expect(await store.reportTotals(q), JSON.stringify(q)).toEqual(ledger.totals(q));
        }
      }
    }
  }
  expect(await store.checkRollups()).toEqual([]);
}

let number = 0;
/** Issues invoices of one seller through the store and tells the ledger. */
async function issue(ledger: Ledger, s: ReadySeller, invs: NewInvoice[]): Promise<void> {
  const outcomes: IssueOutcome[] = await store.issueInvoices(invs);
  expect(outcomes.map((o) => o.kind)).toEqual(invs.map(() => "stored"));
  for (const inv of invs) ledger.issued(s, inv);
}
const of = (source: "coded" | "uncoded" | "cashRegister"): Partial<NewInvoice> =>
  source === "coded" ? {} : { source, messageId: `M${++number}`, ...(source === "cashRegister" ? { registerCode: `M1-19-ABCDE-${String(number).padStart(11, "0")}` } : {}) };

/** Counted summary rows of a seller (and one switched off), straight into summary_rows as a recorded 400 leaves them. */
async function summaryRows(ledger: Ledger, s: ReadySeller, rows: { date: string; rate: string | null; before: string; tax: string | null; counted: boolean }[]): Promise<void> {
  const message = `S${++number}`;
  await db.query(sql`insert into tvan_messages (seller_tax_code, message_id, message_type, received_at) values (${s.taxCode}, ${message}, '400', now())`);
  await db.query(sql`
    insert into summary_tables (seller_tax_code, message_id, position, fuel, lhhoa, period_kind, period_start, period_end, number, printed, received_at, xml)
    values (${s.taxCode}, ${message}, 1, false, 9, 'T', '2019-03-01', '2019-03-31', ${number}, false, now(), '<BTHDLieu/>')`);
  for (const [i, r] of rows.entries()) {
    await db.query(sql`
      insert into summary_rows (seller_tax_code, message_id, table_position, position, status, form, symbol, number, issue_date, tax_rate, amount_before_tax, tax, report_date, counted)
      values (${s.taxCode}, ${message}, 1, ${i + 1}, 0, '1', 'C19TBB', ${String(number * 100 + i)}, ${r.date}::date, ${r.rate}, ${r.before}, ${r.tax}, ${r.date}::date, ${r.counted})`);
    ledger.summaryRow({ seller: s, reportDate: r.date, taxRate: r.rate, revenue: r.before, tax: r.tax, counted: r.counted });
  }
}

/** The rollups as 0013 kept them: recomputed from the raw rows, every cell under its source ('coded' too) and under '*'. */
const ROLLUPS_0013 = `
  delete from totals_seller_daily; delete from totals_seller_monthly; delete from totals_seller_yearly; delete from totals_daily;
  insert into totals_seller_daily (seller_tax_code, issue_date, tax_rate, source, invoices, revenue, tax)
    select seller_tax_code, issue_date, tax_rate, s, sum(invoices), sum(revenue), sum(tax)
      from (select seller_tax_code, issue_date, '*'::text as tax_rate, source, count(*) as invoices, sum(total_before_tax) as revenue, sum(total_tax) as tax
              from invoices where status in ('issued', 'adjusted') group by 1, 2, 4
            union all
            select i.seller_tax_code, i.issue_date, r.tax_rate, i.source, count(*), sum(r.amount_before_tax), sum(r.tax)
              from invoices i join invoice_tax_rates r on r.seller_tax_code = i.seller_tax_code and r.invoice_code = i.code
             where i.status in ('issued', 'adjusted') group by 1, 2, 3, 4
            union all
            select seller_tax_code, report_date, '*', 'summary', count(*), sum(amount_before_tax), coalesce(sum(tax), 0) from summary_rows where counted group by 1, 2
            union all
            select seller_tax_code, report_date, tax_rate, 'summary', count(*), sum(amount_before_tax), coalesce(sum(tax), 0)
              from summary_rows where counted and tax_rate is not null group by 1, 2, 3) c
      cross join lateral (values (c.source), ('*')) as v (s)
     group by 1, 2, 3, 4;
  insert into totals_seller_monthly (seller_tax_code, month, source, invoices, revenue, tax)
    select seller_tax_code, date_trunc('month', issue_date)::date, source, sum(invoices), sum(revenue), sum(tax) from totals_seller_daily where tax_rate = '*' group by 1, 2, 3;
  insert into totals_seller_yearly (seller_tax_code, year, source, invoices, revenue, tax)
    select seller_tax_code, date_trunc('year', issue_date)::date, source, sum(invoices), sum(revenue), sum(tax) from totals_seller_daily where tax_rate = '*' group by 1, 2, 3;
  insert into totals_daily (issue_date, tax_rate, slot, source, invoices, revenue, tax)
    select issue_date, tax_rate, 5, source, sum(invoices), sum(revenue), sum(tax) from totals_seller_daily group by 1, 2, 4;`;

const codedRows = async (): Promise<number> => {
  const [r] = await db.query<{ n: bigint }>(sql`
    select (select count(*) from totals_seller_daily where source = 'coded') + (select count(*) from totals_seller_monthly where source = 'coded')
         + (select count(*) from totals_seller_yearly where source = 'coded') + (select count(*) from totals_daily where source = 'coded') as n`);
  return Number(r!.n);
};

/** The TOAST compression of invoices.xml on the partitioned table and on each of its partitions ('p' pglz, 'l' lz4). */
async function xmlCompression(): Promise<string[]> {
  const rows = await db.query<{ c: string }>(sql`
    select distinct a.attcompression::text as c from pg_attribute a join pg_class c on c.oid = a.attrelid
     where a.attname = 'xml' and (c.oid = 'invoices'::regclass or c.oid in (select inhrelid from pg_inherits where inhparent = 'invoices'::regclass))`);
  return rows.map((r) => r.c).sort();
}

describe("migration 0014 ('coded' derived as '*' minus the other sources; lz4 where the server has it)", () => {
  it("drops the 'coded' rows without changing any report, and new invoices of every source keep every report exact", async () => {
    const ledger = new Ledger();
    const a = await readySeller(store, { taxOffice: "Cục Thuế TP Hà Nội", province: "Hà Nội" });
    const b = await readySeller(store, { taxOffice: "Chi cục Thuế Quận 1", province: "TP Hồ Chí Minh" });
    // Every source on the same seller, day and rate, so that each subtraction is on a shared cell.
    await issue(ledger, a, [
      newInvoice(a, "2019-03-05", [rate("8%", "1000", "80"), rate("10%", "500", "50")]),
      newInvoice(a, "2019-03-05", [rate("10%", "200.5", "20.05")], of("uncoded")),
      newInvoice(a, "2019-03-05", [rate("8%", "300", "24")], of("cashRegister")),
      newInvoice(a, "2019-02-25", [rate("KCT", "70", "0")]),
      newInvoice(a, "2019-04-02", [rate("10%", "-100", "-10")], of("uncoded")),
    ]);
    const cancelled = newInvoice(b, "2019-03-05", [rate("8%", "7000", "560")]);
    await issue(ledger, b, [cancelled, newInvoice(b, "2019-03-31", [rate("5%", "40", "2")]), newInvoice(b, "2019-03-31", [rate("5%", "9", "0.45")], of("cashRegister"))]);
    expect((await store.cancelInvoice({ code: cancelled.code, at: new Date(), by: "officer", reason: "Hủy" })).kind).toBe("done");
    ledger.status(cancelled.code, "cancelled");
    await summaryRows(ledger, a, [
      { date: "2019-03-05", rate: "8%", before: "400", tax: "32", counted: true },
      { date: "2019-03-05", rate: null, before: "60", tax: null, counted: true },
      { date: "2019-03-06", rate: "10%", before: "9000", tax: "900", counted: false },
    ]);
    await db.exec(ROLLUPS_0013);
    expect(await codedRows()).toBeGreaterThan(0);
    const before = await xmlCompression();
    expect(before).toEqual(["p"]);

    await migrate(db, await loadMigrations());

    expect(await codedRows()).toBe(0);
    await expectLedger(ledger, [a, b]);
    // A 'coded' row (as an instance of the previous release writes during a rollout) is read by no
    // report, and the check lists it until it is deleted.
    await db.query(sql`insert into totals_seller_yearly (seller_tax_code, year, source, invoices, revenue, tax) values (${a.taxCode}, '2019-01-01', 'coded', 1, 1, 1)`);
    expect(await store.checkRollups()).toEqual([
      { table: "totals_seller_yearly", key: `${a.taxCode}|2019-01-01|coded`, expected: null, actual: { invoices: 1n, revenue: "1", tax: "1" } },
    ]);
    for (const source of SOURCES) {
      const q: TotalsQuery = { ...PERIODS[0]!, groupBy: "seller", seller: null, source };
      expect(await store.reportTotals(q), JSON.stringify(q)).toEqual(ledger.totals(q));
    }
    await db.query(sql`delete from totals_seller_yearly where source = 'coded'`);

    // New invoices of every source on the same cells, and one of the earlier cancelled: the live path.
    await issue(ledger, a, [
      newInvoice(a, "2019-03-05", [rate("8%", "11", "0.88")]),
      newInvoice(a, "2019-03-05", [rate("8%", "13", "1.04")], of("uncoded")),
      newInvoice(a, "2019-03-31", [rate("10%", "17", "1.7")], of("cashRegister")),
    ]);
    await issue(ledger, b, [newInvoice(b, "2019-03-31", [rate("5%", "19", "0.95")])]);
    const [first] = [...ledger.entries.values()].filter((e) => e.seller === a && (e.inv.source ?? "coded") === "coded");
    expect((await store.cancelInvoice({ code: first!.inv.code, at: new Date(), by: "officer", reason: "Hủy" })).kind).toBe("done");
    ledger.status(first!.inv.code, "cancelled");
    expect(await codedRows()).toBe(0);
    await expectLedger(ledger, [a, b]);
  });

  it("compresses the stored XML with lz4 where the server has it, on every partition of invoices and on those created later", async () => {
    const [row] = await db.query<{ lz4: boolean }>(sql`select 'lz4' = any (enumvals) as lz4 from pg_settings where name = 'default_toast_compression'`);
    const expected = row?.lz4 ? "l" : "p";
    expect(await xmlCompression()).toEqual([expected]);
    await store.ensurePartitions(new Date("2031-06-15T00:00:00Z"));
    expect(await xmlCompression()).toEqual([expected]);
    // The T-VAN documents too: no column of the schema is left naming pglz on a server with lz4.
    const pglz = await db.query<{ name: string }>(sql`
      select c.relname || '.' || a.attname as name from pg_attribute a join pg_class c on c.oid = a.attrelid
       where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped and a.attcompression = 'p'`);
    if (row?.lz4) expect(pglz).toEqual([]);
    else expect(pglz.length).toBeGreaterThan(0);
  });
});
