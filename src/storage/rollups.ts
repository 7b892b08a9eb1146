/**
 * The report rollups (migrations/0003, 0005): what one transaction adds to them, gathered in memory
 * while the transaction writes invoices and changes statuses, then written in ONE statement
 * just before it commits. Each touched row is written once per transaction, however many
 * invoices the transaction carries (a batch of 1,000 touches a handful of rows), and rows are
 * written in one global order (table, then key), so two transactions never wait on each other
 * in a cycle. Taking the row locks last keeps them held only for the commit itself.
 *
 * An invoice contributes while its status is issued or adjusted (README "The invoice
 * lifecycle"): +1 invoice and its amounts (TgTCThue, TgTThue in VND) on the '*' rows, and per
 * LTSuat group +1 invoice and the group's amounts on that rate's rows. Leaving the counted
 * statuses (replaced, cancelled) takes the same contribution out. Amounts are exact decimals
 * (BigInt millionths; the store keeps at most 6 decimals), never floats.
 */
import { sql, type Db, type Sql } from "./db.js";

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

const amounts = (c: Cell): Sql => sql`${c.invoices.toString()}::bigint, ${fromMicros(c.revenue)}::numeric, ${fromMicros(c.tax)}::numeric`;
const ADD = sql`invoices = t.invoices + excluded.invoices, revenue = t.revenue + excluded.revenue, tax = t.tax + excluded.tax`;

/** Writes a transaction's rollup changes: one statement, each row once, in key order. */
export async function writeRollups(tx: Db, delta: RollupDelta): Promise<void> {
  const parts: Sql[] = [];
  const sd = cells(delta.sellerDaily);
  if (sd.length) {
    parts.push(sql`insert into totals_seller_daily as t (seller_tax_code, issue_date, tax_rate, invoices, revenue, tax)
      values ${sql.join(sd.map(([[seller, date, rate], c]) => sql`(${seller}::text, ${date}::date, ${rate}::text, ${amounts(c)})`))}
      on conflict (seller_tax_code, issue_date, tax_rate) do update set ${ADD}`);
  }
  const sm = cells(delta.sellerMonthly);
  if (sm.length) {
    parts.push(sql`insert into totals_seller_monthly as t (seller_tax_code, month, invoices, revenue, tax)
      values ${sql.join(sm.map(([[seller, month], c]) => sql`(${seller}::text, ${month}::date, ${amounts(c)})`))}
      on conflict (seller_tax_code, month) do update set ${ADD}`);
  }
  const sy = cells(delta.sellerYearly);
  if (sy.length) {
    parts.push(sql`insert into totals_seller_yearly as t (seller_tax_code, year, invoices, revenue, tax)
      values ${sql.join(sy.map(([[seller, year], c]) => sql`(${seller}::text, ${year}::date, ${amounts(c)})`))}
      on conflict (seller_tax_code, year) do update set ${ADD}`);
  }
  const d = cells(delta.daily);
  if (d.length) {
    parts.push(sql`insert into totals_daily as t (issue_date, tax_rate, slot, invoices, revenue, tax)
      values ${sql.join(d.map(([[date, rate, slot], c]) => sql`(${date}::date, ${rate}::text, ${Number(slot)}::smallint, ${amounts(c)})`))}
      on conflict (issue_date, tax_rate, slot) do update set ${ADD}`);
  }
  if (parts.length === 0) return;
  // One round trip: the upserts as data-modifying CTEs of the last.
  const last = parts.pop()!;
  const ctes = parts.map((p, i) => sql`${sql.ident(`r${i}`)} as (${p})`);
  await tx.query(ctes.length ? sql`with ${sql.join(ctes)} ${last}` : last);
}
