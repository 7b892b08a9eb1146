/**
 * The reports aggregate (storage/reports.ts) and the rollups every writing transaction keeps
 * (rollups.ts), on whichever backend test/helpers/db.ts gives (PGlite, or PostgreSQL with
 * DATABASE_URL). Each test works in a period of its own, so that the
 * cross-seller reports of one test never see another test's invoices.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, type SqlQuery, sql } from "../../src/storage/db.js";
import { PgStore } from "../../src/storage/pg-store.js";
import { cutPeriod } from "../../src/storage/reports.js";
import type { NewInvoice, TotalsGroupBy, TotalsQuery } from "../../src/storage/store.js";
import { testStore } from "../helpers/db.js";
import { Ledger, newCode, newInvoice, type ReadySeller, rate, readySeller } from "../helpers/ledger.js";

let store: PgStore;
let reports: PgStore["reports"];
beforeAll(async () => {
  store = await testStore();
  reports = store.reports;
});
afterAll(async () => store?.close());

const GROUPINGS: (TotalsGroupBy | null)[] = [null, "day", "month", "seller", "taxRate", "taxOffice", "province"];

/** Every grouping, with and without each seller, equals the ledger; and the rollups equal their recomputation. */
async function expectReports(ledger: Ledger, from: string, to: string, sellers: ReadySeller[]): Promise<void> {
  for (const seller of [null, ...sellers.map((s) => s.taxCode)]) {
    for (const groupBy of GROUPINGS) {
      const q: TotalsQuery = { from, to, groupBy, seller };
      expect(await reports.reportTotals(q), JSON.stringify(q)).toEqual(ledger.totals(q));
    }
  }
  expect(await reports.checkRollups()).toEqual([]);
}

async function issue(ledger: Ledger, seller: ReadySeller, inv: NewInvoice): Promise<NewInvoice> {
  const out = await store.invoices.issueInvoice(inv);
  expect(out.kind).toBe("stored");
  ledger.issued(seller, inv);
  if (inv.related) {
    const original = await store.invoices.findInvoiceByKey(inv.related.key);
    ledger.status(original!.code, inv.related.kind === "replaces" ? "replaced" : "adjusted");
  }
  return inv;
}

const related = (kind: "replaces" | "adjusts", original: NewInvoice) => ({ kind, key: original, issueDate: original.issueDate, reason: "Sai sót" });

describe("reports after every kind of transition", () => {
  it("equal hand-computed sums after issue, adjustment, replacement and cancellation, in VND and in dollars", async () => {
    const ledger = new Ledger();
    const a = await readySeller(store.registry, { taxOffice: "Cục Thuế TP Hà Nội", province: "Hà Nội" });
    const b = await readySeller(store.registry, { taxOffice: "Chi cục Thuế Quận 1", province: "TP Hồ Chí Minh" });
    const period = { from: "2023-03-01", to: "2023-04-30" };

    // Issue: two rates on one invoice, one on another, and a dollar invoice stored in VND (TGia 25,000).
    const a1 = await issue(ledger, a, newInvoice(a, "2023-03-05", [rate("8%", "1000000", "80000"), rate("10%", "500000", "50000")]));
    const a2 = await issue(ledger, a, newInvoice(a, "2023-03-20", [rate("10%", "2000000", "200000")]));
    const b1 = await issue(ledger, b, newInvoice(b, "2023-04-02", [rate("8%", "2500000", "200000")], { currency: "USD", exchangeRate: "25000" }));
    expect(await reports.reportTotals({ ...period, groupBy: null, seller: null })).toEqual({ rows: [], total: { invoices: 3n, revenue: "6000000", tax: "530000" } });
    expect(await reports.reportTotals({ ...period, groupBy: "month", seller: null })).toEqual({
      rows: [
        { key: "2023-03", invoices: 2n, revenue: "3500000", tax: "330000" },
        { key: "2023-04", invoices: 1n, revenue: "2500000", tax: "200000" },
      ],
      total: { invoices: 3n, revenue: "6000000", tax: "530000" },
    });
    // By rate: the invoices having each rate; the total still counts each invoice once.
    expect(await reports.reportTotals({ ...period, groupBy: "taxRate", seller: null })).toEqual({
      rows: [
        { key: "10%", invoices: 2n, revenue: "2500000", tax: "250000" },
        { key: "8%", invoices: 2n, revenue: "3500000", tax: "280000" },
      ],
      total: { invoices: 3n, revenue: "6000000", tax: "530000" },
    });
    expect((await reports.reportTotals({ ...period, groupBy: "province", seller: null })).rows).toEqual([
      { key: "Hà Nội", invoices: 2n, revenue: "3500000", tax: "330000" },
      { key: "TP Hồ Chí Minh", invoices: 1n, revenue: "2500000", tax: "200000" },
    ]);
    await expectReports(ledger, period.from, period.to, [a, b]);

    // Adjustment: a decrease of a1, on a date of its own; it counts as an invoice with negative amounts.
    await issue(ledger, a, newInvoice(a, "2023-03-25", [rate("8%", "-200000", "-16000")], { related: related("adjusts", a1) }));
    expect((await reports.reportTotals({ ...period, groupBy: null, seller: null })).total).toEqual({ invoices: 4n, revenue: "5800000", tax: "514000" });
    await expectReports(ledger, period.from, period.to, [a, b]);

    // Replacement: a2 leaves the totals, its replacement counts instead.
    await issue(ledger, a, newInvoice(a, "2023-03-28", [rate("10%", "1800000", "180000")], { related: related("replaces", a2) }));
    expect((await reports.reportTotals({ ...period, groupBy: null, seller: null })).total).toEqual({ invoices: 4n, revenue: "5600000", tax: "494000" });
    expect((await reports.reportTotals({ ...period, groupBy: "day", seller: a.taxCode })).rows.map((r) => r.key)).toEqual(["2023-03-05", "2023-03-25", "2023-03-28"]);
    await expectReports(ledger, period.from, period.to, [a, b]);

    // Cancellation of an issued invoice, then of an adjusted one (its adjustment keeps counting).
    expect((await store.invoices.cancelInvoice({ code: b1.code, at: new Date(), by: "officer", reason: "Hủy" })).kind).toBe("done");
    ledger.status(b1.code, "cancelled");
    expect((await reports.reportTotals({ ...period, groupBy: "seller", seller: null })).rows).toEqual([{ key: a.taxCode, invoices: 3n, revenue: "3100000", tax: "294000" }]);
    await expectReports(ledger, period.from, period.to, [a, b]);
    expect((await store.invoices.cancelInvoice({ code: a1.code, at: new Date(), by: "officer", reason: "Hủy" })).kind).toBe("done");
    ledger.status(a1.code, "cancelled");
    expect((await reports.reportTotals({ ...period, groupBy: null, seller: null })).total).toEqual({ invoices: 2n, revenue: "1600000", tax: "164000" });
    await expectReports(ledger, period.from, period.to, [a, b]);

    // A refused transition changes nothing.
    expect((await store.invoices.cancelInvoice({ code: a1.code, at: new Date(), by: "officer", reason: "Hủy" })).kind).toBe("state");
    await expectReports(ledger, period.from, period.to, [a, b]);
  });

  it("groups a seller by its current tax office and province (a PATCH regroups its history)", async () => {
    const ledger = new Ledger();
    const s = await readySeller(store.registry, { taxOffice: "Chi cục Thuế Cầu Giấy", province: null });
    await issue(ledger, s, newInvoice(s, "2023-05-10", [rate("5%", "100", "5")]));
    const q = { from: "2023-05-01", to: "2023-05-31", seller: null } as const;
    expect((await reports.reportTotals({ ...q, groupBy: "province" })).rows).toEqual([{ key: "", invoices: 1n, revenue: "100", tax: "5" }]);
    await store.registry.updateSeller(s.taxCode, { taxOffice: "Chi cục Thuế Ba Đình", province: "Hà Nội" });
    expect((await reports.reportTotals({ ...q, groupBy: "taxOffice" })).rows).toEqual([{ key: "Chi cục Thuế Ba Đình", invoices: 1n, revenue: "100", tax: "5" }]);
    expect((await reports.reportTotals({ ...q, groupBy: "province" })).rows).toEqual([{ key: "Hà Nội", invoices: 1n, revenue: "100", tax: "5" }]);
  });

  it("cuts a period into whole years, whole months and the days at its ends", () => {
    expect(cutPeriod("2025-01-01", "2025-12-31")).toEqual({ years: [["2025-01-01", "2026-01-01"]], months: [], days: [] });
    expect(cutPeriod("2025-03-01", "2025-05-31")).toEqual({ years: [], months: [["2025-03-01", "2025-06-01"]], days: [] });
    expect(cutPeriod("2025-03-02", "2025-03-30")).toEqual({ years: [], months: [], days: [["2025-03-02", "2025-03-31"]] });
    expect(cutPeriod("2024-02-29", "2024-02-29")).toEqual({ years: [], months: [], days: [["2024-02-29", "2024-03-01"]] });
    expect(cutPeriod("2023-11-15", "2026-02-10")).toEqual({
      years: [["2024-01-01", "2026-01-01"]],
      months: [["2023-12-01", "2024-01-01"], ["2026-01-01", "2026-02-01"]],
      days: [["2023-11-15", "2023-12-01"], ["2026-02-01", "2026-02-11"]],
    });
    expect(cutPeriod("2024-12-31", "2025-01-01")).toEqual({ years: [], months: [], days: [["2024-12-31", "2025-01-02"]] });
    // The ends of the calendar: the day after 9999-12-31 is 10000-01-01 (PostgreSQL reads it), never "+010000-01-01".
    expect(cutPeriod("0001-01-01", "9999-12-31")).toEqual({ years: [["0001-01-01", "10000-01-01"]], months: [], days: [] });
    expect(cutPeriod("0001-01-02", "9999-12-30")).toEqual({
      years: [["0002-01-01", "9999-01-01"]],
      months: [["0001-02-01", "0002-01-01"], ["9999-01-01", "9999-12-01"]],
      days: [["0001-01-02", "0001-02-01"], ["9999-12-01", "9999-12-31"]],
    });
    expect(cutPeriod("9999-12-15", "9999-12-31")).toEqual({ years: [], months: [], days: [["9999-12-15", "10000-01-01"]] });
    expect(cutPeriod("2026-03-01", "9999-12-31", false)).toEqual({ years: [], months: [["2026-03-01", "10000-01-01"]], days: [] });
    // By month, no years.
    expect(cutPeriod("2025-01-01", "2025-12-31", false)).toEqual({ years: [], months: [["2025-01-01", "2026-01-01"]], days: [] });
  });

  it("adds whole years, whole months and the days at either end of a period correctly, for everyone and for one seller", async () => {
    const ledger = new Ledger();
    const s = await readySeller(store.registry);
    const t = await readySeller(store.registry);
    const dates = ["2021-01-01", "2021-12-31", "2022-01-01", "2022-05-31", "2022-06-01", "2022-06-15", "2022-06-30", "2022-07-01", "2022-07-31", "2022-08-01", "2022-12-31", "2023-01-01"];
    for (const [i, d] of dates.entries()) {
      await issue(ledger, s, newInvoice(s, d, [rate("10%", String(1000 * (i + 1)), String(100 * (i + 1)))]));
      await issue(ledger, t, newInvoice(t, d, [rate("KCT", String(7 + i), "0")]));
    }
    const periods = [
      ["2022-05-31", "2022-08-01"],
      ["2022-06-01", "2022-07-31"],
      ["2022-06-02", "2022-07-30"],
      ["2022-06-15", "2022-06-15"],
      ["2022-06-01", "2022-06-30"],
      ["2022-05-01", "2023-01-01"],
      ["2022-07-01", "2022-12-31"],
      ["2022-02-28", "2022-03-31"],
      ["2022-01-01", "2022-12-31"],
      ["2021-01-01", "2022-12-31"],
      ["2021-12-31", "2023-01-01"],
      ["2021-01-02", "2022-12-30"],
      ["2021-02-01", "2023-01-31"],
    ];
    for (const [from, to] of periods) {
      for (const groupBy of ["seller", "taxOffice", "province", "month", null] as const) {
        for (const seller of [null, s.taxCode, t.taxCode]) {
          const q: TotalsQuery = { from: from!, to: to!, groupBy, seller };
          expect(await reports.reportTotals(q), `${from}..${to} by ${groupBy} of ${seller}`).toEqual(ledger.totals(q));
        }
      }
    }
  });

  it("counts a batch's invoices once each and writes each touched rollup row once, in one statement", async () => {
    const ledger = new Ledger();
    const s = await readySeller(store.registry);
    const batch = Array.from({ length: 1000 }, (_, i) =>
      newInvoice(s, i % 2 ? "2021-02-10" : "2021-02-11", i % 3 ? [rate("8%", "1000", "80")] : [rate("8%", "1000", "80"), rate("KCT", "500", "0")]),
    );
    const statements: SqlQuery[] = [];
    const counting = new PgStore(countingDb(store.db, statements));
    const outcomes = await counting.issueInvoices(batch);
    expect(outcomes.every((o) => o.kind === "stored")).toBe(true);
    for (const inv of batch) ledger.issued(s, inv);
    const rollupStatements = statements.filter((q) => /totals_/.test(q.text));
    expect(rollupStatements).toHaveLength(1);
    // Rows per table (each a JSON parameter): 1,334 rates, 1,000 events and 1,000 transparency log
    // entries, then 2 days × ('*', 8%, KCT) seller-day rows, 1 seller-month and 1 seller-year row,
    // 2 × 3 day rows (one slot), each once: under '*' (all sources) only, since invoices with a
    // code have no rows of their own ('coded' is '*' minus the other sources, 0014).
    expect(rollupStatements[0]!.values.map((v) => (JSON.parse(v as string) as unknown[]).length)).toEqual([1334, 1000, 1000, 6, 1, 1, 6]);
    // And the statements' texts do not depend on the number of rows: one prepared statement each.
    const again = statements.length;
    await counting.issueInvoices(Array.from({ length: 600 }, () => newInvoice(s, "2021-03-12", [rate("5%", "10", "0.5")])).map((inv) => (ledger.issued(s, inv), inv)));
    expect(statements.slice(again).every((q) => statements.slice(0, again).some((p) => p.text === q.text))).toBe(true);
    await expectReports(ledger, "2021-02-01", "2021-02-28", [s]);
    expect((await reports.reportTotals({ from: "2021-02-01", to: "2021-02-28", groupBy: null, seller: s.taxCode })).total).toEqual({
      invoices: 1000n,
      revenue: String(1000 * 1000 + 334 * 500),
      tax: String(80 * 1000),
    });
  });

  it("writes a group of new invoices with their rates, events, leaves and rollups in one statement, and only the winners' when a key was taken", async () => {
    const ledger = new Ledger();
    const s = await readySeller(store.registry);
    const statements: SqlQuery[] = [];
    const counting = new PgStore(countingDb(store.db, statements));
    const day = "2021-05-03";
    const group = (n: number) => Array.from({ length: n }, (_, i) => newInvoice(s, day, i % 2 ? [rate("8%", "1000", "80")] : [rate("8%", "100", "8"), rate("10%", "50", "5")]));
    const first = group(3);
    expect((await counting.issueInvoices(first)).map((o) => o.kind)).toEqual(["stored", "stored", "stored"]);
    for (const inv of first) ledger.issued(s, inv);
    expect(statements).toHaveLength(1);
    expect(statements[0]!.text).toMatch(/insert into invoice_keys[\s\S]*insert into invoice_tax_rates[\s\S]*insert into invoice_events[\s\S]*insert into tlog_pending[\s\S]*insert into totals_daily/);
    // The same text for another count: one prepared statement.
    const second = group(5);
    expect((await counting.issueInvoices(second)).every((o) => o.kind === "stored")).toBe(true);
    for (const inv of second) ledger.issued(s, inv);
    expect(statements).toHaveLength(2);
    expect(statements[1]!.text).toBe(statements[0]!.text);

    // A replay and a duplicate among new invoices: the statement writes no tail at all, and the
    // winners' is written apart (after the read of the keys taken).
    const fresh = group(2);
    const replay = { ...first[0]!, code: newCode() };
    const duplicate = { ...first[1]!, code: newCode(), digest: randomBytes(32).toString("base64") };
    const outcomes = await counting.issueInvoices([fresh[0]!, replay, duplicate, fresh[1]!]);
    expect(outcomes.map((o) => o.kind)).toEqual(["stored", "replay", "conflict", "stored"]);
    for (const inv of fresh) ledger.issued(s, inv);
    expect(statements.slice(2).map((q) => (/insert into invoice_keys/.test(q.text) ? "insert" : /insert into totals_daily/.test(q.text) ? "tail" : "read"))).toEqual(["insert", "read", "tail"]);
    for (const inv of [...fresh, ...first]) expect(await store.invoices.getInvoiceHistory(inv.code)).toHaveLength(1);
    expect(await store.invoices.getInvoiceHistory(replay.code)).toEqual([]);
    const [rates] = await store.db.query<{ n: bigint }>(sql`select count(*) as n from invoice_tax_rates where seller_tax_code = ${s.taxCode}`);
    expect(Number(rates!.n)).toBe([...first, ...second, ...fresh].reduce((n, inv) => n + inv.taxRates.length, 0));
    await expectReports(ledger, "2021-05-01", "2021-05-31", [s]);
  });

  it("takes out an invoice replaced by a later item of the same batch, with its rates", async () => {
    const ledger = new Ledger();
    const s = await readySeller(store.registry);
    const first = newInvoice(s, "2021-04-05", [rate("10%", "1000", "100"), rate("KCT", "50", "0")]);
    const second = newInvoice(s, "2021-04-06", [rate("8%", "300", "24")], { related: related("replaces", first) });
    const third = newInvoice(s, "2021-04-07", [rate("10%", "-100", "-10")], { related: related("adjusts", second) });
    expect((await store.invoices.issueInvoices([first, second, third])).map((o) => o.kind)).toEqual(["stored", "stored", "stored"]);
    for (const inv of [first, second, third]) ledger.issued(s, inv);
    ledger.status(first.code, "replaced");
    ledger.status(second.code, "adjusted");
    await expectReports(ledger, "2021-04-01", "2021-04-30", [s]);
    expect((await reports.reportTotals({ from: "2021-04-01", to: "2021-04-30", groupBy: "taxRate", seller: s.taxCode })).rows).toEqual([
      { key: "10%", invoices: 1n, revenue: "-100", tax: "-10" },
      { key: "8%", invoices: 1n, revenue: "300", tax: "24" },
    ]);
  });

  it("stays exact under concurrent issues and cancellations of many sellers on one day", async () => {
    const ledger = new Ledger();
    const sellers = await Promise.all(Array.from({ length: 6 }, () => readySeller(store.registry)));
    const first = await Promise.all(sellers.map((s) => issue(ledger, s, newInvoice(s, "2020-07-07", [rate("10%", "1000", "100")]))));
    await Promise.all([
      ...sellers.flatMap((s) => Array.from({ length: 4 }, () => issue(ledger, s, newInvoice(s, "2020-07-07", [rate("10%", "3000", "300"), rate("5%", "10", "1")])))),
      ...first.map(async (inv) => {
        expect((await store.invoices.cancelInvoice({ code: inv.code, at: new Date(), by: "officer", reason: "Hủy" })).kind).toBe("done");
        ledger.status(inv.code, "cancelled");
      }),
    ]);
    await expectReports(ledger, "2020-07-01", "2020-07-31", []);
    expect((await reports.reportTotals({ from: "2020-07-07", to: "2020-07-07", groupBy: null, seller: null })).total).toEqual({ invoices: 24n, revenue: "72240", tax: "7224" });
  });
});

/** The same database, every statement recorded. */
function countingDb(db: Db, seen: SqlQuery[]): Db {
  const wrap = (inner: Db): Db => ({
    engine: inner.engine,
    query<T>(q: string | SqlQuery, params?: readonly unknown[]): Promise<T[]> {
      seen.push(typeof q === "string" ? { text: q, values: params ?? [] } : q);
      return typeof q === "string" ? inner.query<T>(q, params) : inner.query<T>(q);
    },
    exec: (script) => {
      seen.push({ text: script, values: [] });
      return inner.exec(script);
    },
    transaction: <T>(fn: (tx: Db) => Promise<T>) => inner.transaction((tx) => fn(wrap(tx))),
    close: () => inner.close(),
  });
  return wrap(db);
}
