/**
 * The report rollups (migrations/0003, 0005): what one transaction adds to them, gathered in memory
 * while the transaction writes invoices and changes statuses, then written by the last
 * statement before it commits (with the transaction's rates and events: PgStore's tail). Each touched row is written once per transaction, however many
 * invoices the transaction carries (a batch of 1,000 touches a handful of rows), and rows are
 * written in one global order (table, then key), so two transactions never wait on each other
 * in a cycle. Taking the row locks last keeps them held only for the commit itself.
 *
 * An invoice contributes while its status is issued or adjusted (docs/lifecycle.md "The invoice
 * lifecycle"): +1 invoice and its amounts (TgTCThue, TgTThue in VND) on the '*' rows, and per
 * LTSuat group +1 invoice and the group's amounts on that rate's rows. Leaving the counted
 * statuses (replaced, cancelled) takes the same contribution out. Amounts are exact decimals
 * (BigInt millionths; the store keeps at most 6 decimals), never floats.
 */
import { sql, type Sql } from "./db.js";

/** The rate key of the rows that hold an invoice as a whole. */
export const ALL_RATES = "*";

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
  /** seller|date|rate */
  readonly sellerDaily = new Map<string, Cell>();
  /** seller|month */
  readonly sellerMonthly = new Map<string, Cell>();
  /** seller|year */
  readonly sellerYearly = new Map<string, Cell>();
  /** date|rate|slot */
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
    bump(this.sellerDaily, `${c.sellerTaxCode}|${c.issueDate}|${ALL_RATES}`, whole);
    bump(this.sellerMonthly, `${c.sellerTaxCode}|${month}`, whole);
    bump(this.sellerYearly, `${c.sellerTaxCode}|${year}`, whole);
    bump(this.daily, `${c.issueDate}|${ALL_RATES}|${slot}`, whole);
    for (const r of c.taxRates) {
      const cell = { invoices: s, revenue: s * toMicros(r.amountBeforeTax), tax: s * toMicros(r.tax) };
      bump(this.sellerDaily, `${c.sellerTaxCode}|${c.issueDate}|${r.taxRate}`, cell);
      bump(this.daily, `${c.issueDate}|${r.taxRate}|${slot}`, cell);
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

/** The rows of a table as one JSON parameter (see jsonRows in pg-store.ts): one statement text for any count. */
const rows = (cs: [string[], Cell][], key: (k: string[]) => object) => JSON.stringify(cs.map(([k, c]) => ({ ...key(k), ...amounts(c) })));

/**
 * A transaction's rollup changes as four upserts, CTEs of the statement that ends the
 * transaction (always all four, so the statement is one prepared text and takes its locks table
 * by table in one order), each row once, in key order. Names: r_seller_daily, r_seller_monthly,
 * r_seller_yearly, r_daily.
 */
export function rollupUpserts(delta: RollupDelta): Sql {
  const sd = cells(delta.sellerDaily);
  const sm = cells(delta.sellerMonthly);
  const sy = cells(delta.sellerYearly);
  const d = cells(delta.daily);
  // with ordinality + order by: rows are locked in the order sent (key order).
  return sql`
    r_seller_daily as (
      insert into totals_seller_daily as t (seller_tax_code, issue_date, tax_rate, invoices, revenue, tax)
      select seller_tax_code, issue_date, tax_rate, invoices, revenue, tax
        from rows from (json_to_recordset(${rows(sd, ([seller, date, rate]) => ({ seller_tax_code: seller, issue_date: date, tax_rate: rate }))}::text::json)
             as (seller_tax_code text, issue_date date, tax_rate text, ${AMOUNTS})) with ordinality as r (seller_tax_code, issue_date, tax_rate, ${AMOUNT_NAMES})
       order by ord
      on conflict (seller_tax_code, issue_date, tax_rate) do update set ${ADD}),
    r_seller_monthly as (
      insert into totals_seller_monthly as t (seller_tax_code, month, invoices, revenue, tax)
      select seller_tax_code, month, invoices, revenue, tax
        from rows from (json_to_recordset(${rows(sm, ([seller, month]) => ({ seller_tax_code: seller, month }))}::text::json)
             as (seller_tax_code text, month date, ${AMOUNTS})) with ordinality as r (seller_tax_code, month, ${AMOUNT_NAMES})
       order by ord
      on conflict (seller_tax_code, month) do update set ${ADD}),
    r_seller_yearly as (
      insert into totals_seller_yearly as t (seller_tax_code, year, invoices, revenue, tax)
      select seller_tax_code, year, invoices, revenue, tax
        from rows from (json_to_recordset(${rows(sy, ([seller, year]) => ({ seller_tax_code: seller, year }))}::text::json)
             as (seller_tax_code text, year date, ${AMOUNTS})) with ordinality as r (seller_tax_code, year, ${AMOUNT_NAMES})
       order by ord
      on conflict (seller_tax_code, year) do update set ${ADD}),
    r_daily as (
      insert into totals_daily as t (issue_date, tax_rate, slot, invoices, revenue, tax)
      select issue_date, tax_rate, slot, invoices, revenue, tax
        from rows from (json_to_recordset(${rows(d, ([date, rate, slot]) => ({ issue_date: date, tax_rate: rate, slot: Number(slot) }))}::text::json)
             as (issue_date date, tax_rate text, slot smallint, ${AMOUNTS})) with ordinality as r (issue_date, tax_rate, slot, ${AMOUNT_NAMES})
       order by ord
      on conflict (issue_date, tax_rate, slot) do update set ${ADD})`;
}
