/**
 * The report rollups (migrations/0003, 0005, 0013, 0014): what one transaction adds to them, gathered in memory
 * while the transaction writes invoices and changes statuses, then written by the last
 * statement before it commits (with the transaction's rates and events: the Tail of transaction.ts). Each touched row is written once per transaction, however many
 * invoices the transaction carries (a batch of 1,000 touches a handful of rows), and rows are
 * written in one global order (table, then key), so two transactions never wait on each other
 * in a cycle. Taking the row locks last keeps them held only for the commit itself.
 *
 * An invoice contributes while its status is issued or adjusted (docs/lifecycle.md "The invoice
 * lifecycle"): +1 invoice and its amounts (TgTCThue, TgTThue in VND) on the '*' rows, and per
 * LTSuat group +1 invoice and the group's amounts on that rate's rows. Leaving the counted
 * statuses (replaced, cancelled) takes the same contribution out. A counted row of a summary
 * table (T-VAN 400) contributes the same way under source 'summary' (1 under invoices, its
 * amounts, its rate) until a later row switches it off. Every contribution is kept under '*' (all
 * sources), and an uncoded, cash-register or summary one under its source too; an invoice with a
 * code (the bulk) is kept under '*' only, and 'coded' is read as '*' minus the other sources
 * (migration 0014, reports.ts). Amounts are exact decimals
 * (BigInt millionths; the store keeps at most 6 decimals), never floats.
 */
import type { TotalsSource } from "../domain/model.js";
import { type Sql, sql } from "./db.js";

/** The rate key of the rows that hold an invoice as a whole. */
export const ALL_RATES = "*";

/**
 * The source key of the rows that hold every source together (migration 0013): a report over all
 * sources reads exactly the rows it read before sources existed (no sum across sources on the
 * hot paths).
 */
export const ALL_SOURCES = "*";

export type { TotalsSource } from "../domain/model.js";

/**
 * The source that has no rows of its own (migration 0014): it is '*' minus the sources that do
 * (STORED_SOURCES). Invoices with a code are nearly all of them; writing each of their cells once
 * instead of twice (under 'coded' and under '*') is what 0014 saves on the submission path.
 */
export const DERIVED_SOURCE = "coded" satisfies TotalsSource;

/** The sources kept in rows of their own besides '*': a few per cent of the figures. */
export const STORED_SOURCES: readonly Exclude<TotalsSource, typeof DERIVED_SOURCE>[] = ["uncoded", "cashRegister", "summary"];

/**
 * How many rows each day of totals_daily is striped over. Queries sum the slots and the check
 * compares sums, so the number may change at any time; more slots mean fewer waits between
 * sellers at peak and more rows for a cross-seller report to add up.
 */
export const SLOTS = 16;

const SCALE = 1_000_000n;
const DECIMAL = /^(-?)([0-9]+)(?:\.([0-9]{1,6}))?$/;

/** A decimal string with at most 6 decimals → millionths. */
export function toMicros(value: string): bigint {
  const m = DECIMAL.exec(value);
  if (!m) throw new RangeError(`rollups: not a decimal with at most 6 decimals: ${JSON.stringify(value)}`);
  const units = BigInt(m[2]!) * SCALE + BigInt((m[3] ?? "").padEnd(6, "0"));
  return m[1] === "-" ? -units : units;
}

/** Millionths → the canonical decimal string ("1234500", "-0.5"). */
export function fromMicros(value: bigint): string {
  const negative = value < 0n;
  const mag = negative ? -value : value;
  const frac = (mag % SCALE).toString().padStart(6, "0").replace(/0+$/, "");
  const int = (mag / SCALE).toString();
  return (negative ? "-" : "") + (frac ? `${int}.${frac}` : int);
}

/** A stable stripe for a seller (FNV-1a of the tax code). */
export function slotOf(sellerTaxCode: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < sellerTaxCode.length; i++) {
    h ^= sellerTaxCode.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % SLOTS;
}

/** What an invoice adds to the rollups while it counts (amounts in VND, decimal strings). */
export interface Contribution {
  source: TotalsSource;
  sellerTaxCode: string;
  issueDate: string;
  totalBeforeTax: string;
  totalTax: string;
  taxRates: { taxRate: string; amountBeforeTax: string; tax: string }[];
}

interface Cell {
  invoices: bigint;
  revenue: bigint;
  tax: bigint;
}

/** The rollup changes of one transaction. */
export class RollupDelta {
  /** seller|date|rate|source */
  readonly sellerDaily = new Map<string, Cell>();
  /** seller|month|source */
  readonly sellerMonthly = new Map<string, Cell>();
  /** seller|year|source */
  readonly sellerYearly = new Map<string, Cell>();
  /** date|rate|slot|source */
  readonly daily = new Map<string, Cell>();

  get empty(): boolean {
    return this.sellerDaily.size + this.sellerMonthly.size + this.sellerYearly.size + this.daily.size === 0;
  }

  /** Adds (sign 1) or takes out (sign -1) one invoice's contribution. */
  add(c: Contribution, sign: 1 | -1): void {
    const s = BigInt(sign);
    const slot = slotOf(c.sellerTaxCode);
    const month = c.issueDate.slice(0, 8) + "01";
    const year = c.issueDate.slice(0, 5) + "01-01";
    const whole = { invoices: s, revenue: s * toMicros(c.totalBeforeTax), tax: s * toMicros(c.totalTax) };
    const rates = c.taxRates.map((r) => ({ rate: r.taxRate, cell: { invoices: s, revenue: s * toMicros(r.amountBeforeTax), tax: s * toMicros(r.tax) } }));
    for (const src of c.source === DERIVED_SOURCE ? [ALL_SOURCES] : [ALL_SOURCES, c.source]) {
      bump(this.sellerDaily, `${c.sellerTaxCode}|${c.issueDate}|${ALL_RATES}|${src}`, whole);
      bump(this.sellerMonthly, `${c.sellerTaxCode}|${month}|${src}`, whole);
      bump(this.sellerYearly, `${c.sellerTaxCode}|${year}|${src}`, whole);
      bump(this.daily, `${c.issueDate}|${ALL_RATES}|${slot}|${src}`, whole);
      for (const r of rates) {
        bump(this.sellerDaily, `${c.sellerTaxCode}|${c.issueDate}|${r.rate}|${src}`, r.cell);
        bump(this.daily, `${c.issueDate}|${r.rate}|${slot}|${src}`, r.cell);
      }
    }
  }

}

function bump(m: Map<string, Cell>, key: string, d: Cell): void {
  const c = m.get(key);
  if (c) {
    c.invoices += d.invoices;
    c.revenue += d.revenue;
    c.tax += d.tax;
  } else m.set(key, { ...d });
}

/**
 * The cells in key order (the lock order). Keys never contain "|". Cells that came to zero are
 * written too: every contribution touches all three tables, so every rollup statement has the
 * same shape and takes its locks table by table in the same order.
 */
function cells(m: Map<string, Cell>): [string[], Cell][] {
  return [...m]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, c]) => [k.split("|"), c]);
}

const ADD = sql`invoices = t.invoices + excluded.invoices, revenue = t.revenue + excluded.revenue, tax = t.tax + excluded.tax`;
const amounts = (c: Cell) => ({ invoices: c.invoices.toString(), revenue: fromMicros(c.revenue), tax: fromMicros(c.tax) });
const AMOUNTS = sql`invoices bigint, revenue numeric, tax numeric`;
const AMOUNT_NAMES = sql`invoices, revenue, tax, ord`;

/** The rows of a table as one JSON parameter (see jsonRows in db.ts): one statement text for any count. */
const rows = (cs: [string[], Cell][], key: (k: string[]) => object) => JSON.stringify(cs.map(([k, c]) => ({ ...key(k), ...amounts(c) })));

/**
 * A transaction's rollup changes as four upserts, CTEs of the statement that ends the
 * transaction (always all four, so the statement is one prepared text and takes its locks table
 * by table in one order), each row once, in key order. Names: r_seller_daily, r_seller_monthly,
 * r_seller_yearly, r_daily. `onlyIf`: a condition of the statement (Tail.ctes) without which no
 * row is written.
 */
export function rollupUpserts(delta: RollupDelta, onlyIf: Sql = sql`true`): Sql {
  const sd = cells(delta.sellerDaily);
  const sm = cells(delta.sellerMonthly);
  const sy = cells(delta.sellerYearly);
  const d = cells(delta.daily);
  // with ordinality + order by: rows are locked in the order sent (key order).
  return sql`
    r_seller_daily as (
      insert into totals_seller_daily as t (seller_tax_code, issue_date, tax_rate, source, invoices, revenue, tax)
      select seller_tax_code, issue_date, tax_rate, source, invoices, revenue, tax
        from rows from (json_to_recordset(${rows(sd, ([seller, date, rate, source]) => ({ seller_tax_code: seller, issue_date: date, tax_rate: rate, source }))}::text::json)
             as (seller_tax_code text, issue_date date, tax_rate text, source text, ${AMOUNTS})) with ordinality as r (seller_tax_code, issue_date, tax_rate, source, ${AMOUNT_NAMES})
       where ${onlyIf}
       order by ord
      on conflict (seller_tax_code, issue_date, tax_rate, source) do update set ${ADD}),
    r_seller_monthly as (
      insert into totals_seller_monthly as t (seller_tax_code, month, source, invoices, revenue, tax)
      select seller_tax_code, month, source, invoices, revenue, tax
        from rows from (json_to_recordset(${rows(sm, ([seller, month, source]) => ({ seller_tax_code: seller, month, source }))}::text::json)
             as (seller_tax_code text, month date, source text, ${AMOUNTS})) with ordinality as r (seller_tax_code, month, source, ${AMOUNT_NAMES})
       where ${onlyIf}
       order by ord
      on conflict (seller_tax_code, month, source) do update set ${ADD}),
    r_seller_yearly as (
      insert into totals_seller_yearly as t (seller_tax_code, year, source, invoices, revenue, tax)
      select seller_tax_code, year, source, invoices, revenue, tax
        from rows from (json_to_recordset(${rows(sy, ([seller, year, source]) => ({ seller_tax_code: seller, year, source }))}::text::json)
             as (seller_tax_code text, year date, source text, ${AMOUNTS})) with ordinality as r (seller_tax_code, year, source, ${AMOUNT_NAMES})
       where ${onlyIf}
       order by ord
      on conflict (seller_tax_code, year, source) do update set ${ADD}),
    r_daily as (
      insert into totals_daily as t (issue_date, tax_rate, slot, source, invoices, revenue, tax)
      select issue_date, tax_rate, slot, source, invoices, revenue, tax
        from rows from (json_to_recordset(${rows(d, ([date, rate, slot, source]) => ({ issue_date: date, tax_rate: rate, slot: Number(slot), source }))}::text::json)
             as (issue_date date, tax_rate text, slot smallint, source text, ${AMOUNTS})) with ordinality as r (issue_date, tax_rate, slot, source, ${AMOUNT_NAMES})
       where ${onlyIf}
       order by ord
      on conflict (issue_date, tax_rate, slot, source) do update set ${ADD})`;
}
