/**
 * The reports aggregate (ReportsPort): the officers' totals (from the rollups of
 * storage/rollups.ts), their check against the raw invoices, and the invoice search (search.ts).
 *
 * Which rollup answers which report (bounded scans whatever the number of invoices):
 *   day, taxRate           totals_daily (days × rates × slots rows, summed), or with a seller
 *                          that seller's totals_seller_daily (≤ 366 rows a year per rate)
 *   month, source, total   totals_daily; with a seller, that seller's rows of the levels below
 *   seller, taxOffice,     the period cut into whole years (totals_seller_yearly), whole months
 *   province               (totals_seller_monthly) and the days at its ends (totals_seller_daily);
 *                          by month: months and days only
 * Tax office and province are the seller's current ones (a join on sellers at query time).
 * Every rollup row has a source (migration 0013): a report over all sources reads the '*' rows,
 * one for an uncoded, cash-register or summary source that source's. Invoices with a code have no
 * rows of their own (migration 0014): 'coded' is '*' minus those three, for source=coded and for
 * its row of groupBy source (attributed).
 */
import { type Db, type Sql, sql } from "./db.js";
import { COUNTED_LIST as COUNTED } from "./lifecycle-sql.js";
import { ALL_RATES, ALL_SOURCES, DERIVED_SOURCE, STORED_SOURCES } from "./rollups.js";
import { searchInvoices } from "./search.js";
import type { InvoicePage, InvoiceSearch, ReportFigures, ReportsPort, RollupDrift, TotalsQuery, TotalsReport } from "./store.js";

interface TotalsRow {
  key: string | null;
  invoices: bigint | null;
  revenue: string | null;
  tax: string | null;
  is_total: number;
}

const totalsOf = (r: TotalsRow | undefined): ReportFigures => ({ invoices: r?.invoices ?? 0n, revenue: r?.revenue ?? "0", tax: r?.tax ?? "0" });

const DAY_MS = 86_400_000;

/**
 * Dates as UTC midnights, back to YYYY-MM-DD: the day after 9999-12-31 is 10000-01-01, which
 * PostgreSQL reads (toISOString would write "+010000-01-01", which it does not). Comparisons are
 * on the numbers, never on the strings, so a five-digit year orders right.
 */
const at = (date: string): number => Date.parse(`${date}T00:00:00Z`);
function dateOf(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w: number) => String(n).padStart(w, "0");
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}
/** A UTC midnight; setUTCFullYear, because Date.UTC reads years 0–99 as 1900–1999. */
function utc(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  return d.getTime();
}
/** The first day of the month (year) that holds `ms`, and of the month (year) after it. */
const monthOf = (ms: number): number => utc(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth(), 1);
const nextMonth = (ms: number): number => utc(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth() + 1, 1);
const yearOf = (ms: number): number => utc(new Date(ms).getUTCFullYear(), 0, 1);
const nextYear = (ms: number): number => utc(new Date(ms).getUTCFullYear() + 1, 0, 1);

/** First day of the month after `date` (YYYY-MM-DD). */
function monthAfter(date: string): string {
  return dateOf(nextMonth(at(date)));
}

/** Half-open ranges of dates [start, end). */
export interface PeriodCut {
  years: [string, string][];
  months: [string, string][];
  days: [string, string][];
}

/**
 * The period from–to (inclusive) cut into whole calendar years, whole months and the days left
 * at its ends: the fewest rollup rows that add up to it exactly.
 */
export function cutPeriod(from: string, to: string, years = true): PeriodCut {
  const cut: PeriodCut = { years: [], months: [], days: [] };
  const start = at(from);
  const end = at(to) + DAY_MS;
  const m0 = monthOf(start) === start ? start : nextMonth(start);
  const m1 = monthOf(end);
  if (m0 >= m1) {
    cut.days.push([from, dateOf(end)]);
    return cut;
  }
  if (start < m0) cut.days.push([from, dateOf(m0)]);
  if (m1 < end) cut.days.push([dateOf(m1), dateOf(end)]);
  const y0 = yearOf(m0) === m0 ? m0 : nextYear(m0);
  const y1 = yearOf(m1);
  if (!years || y0 >= y1) {
    cut.months.push([dateOf(m0), dateOf(m1)]);
    return cut;
  }
  if (m0 < y0) cut.months.push([dateOf(m0), dateOf(y0)]);
  if (y1 < m1) cut.months.push([dateOf(y1), dateOf(m1)]);
  cut.years.push([dateOf(y0), dateOf(y1)]);
  return cut;
}

/**
 * Totals from the rollups. The queries group with ROLLUP, so the grand total comes from the
 * same scan as the rows; for taxRate the '*' rows are the total (each invoice once).
 */
export async function reportTotals(db: Db, q: TotalsQuery): Promise<TotalsReport> {
  const byRate = q.groupBy === "taxRate";
  const rates = byRate ? sql`` : sql`and t.tax_rate = ${ALL_RATES}`;
  const bySeller = q.groupBy === "seller" || q.groupBy === "taxOffice" || q.groupBy === "province";
  // Every part gives (seller_tax_code, d: a day, month or year, tax_rate, source, invoices, revenue, tax).
  // Without a source: the '*' rows, each counted figure once (migration 0013); for a stored
  // source, its rows; where 'coded' is asked for, every row, attributed (0014).
  const only = q.source ?? null;
  const derived = only === DERIVED_SOURCE || (q.groupBy === "source" && only === null);
  const sources = (alias: string) => {
    const a = sql.ident(alias);
    if (derived) return sql`and ${a}.source in (${sql.join([ALL_SOURCES, ...STORED_SOURCES].map((x) => sql`${x}`), sql`, `)})`;
    return sql`and ${a}.source = ${only ?? ALL_SOURCES}`;
  };
  let source: Sql;
  if (q.groupBy === "day" || byRate || (q.seller === null && !bySeller)) {
    source =
      q.seller !== null
        ? sql`select t.seller_tax_code, t.issue_date as d, t.tax_rate, t.source, t.invoices, t.revenue, t.tax from totals_seller_daily t
            where t.seller_tax_code = ${q.seller} and t.issue_date between ${q.from}::date and ${q.to}::date ${rates} ${sources("t")}`
        : sql`select null::text as seller_tax_code, t.issue_date as d, t.tax_rate, t.source, t.invoices, t.revenue, t.tax from totals_daily t
            where t.issue_date between ${q.from}::date and ${q.to}::date ${rates} ${sources("t")}`;
  } else {
    // Whole years (not when grouping by month), whole months, and the days at the ends.
    const cut = cutPeriod(q.from, q.to, q.groupBy !== "month");
    const mine = (alias: string) => (q.seller === null ? sql`` : sql`and ${sql.ident(alias)}.seller_tax_code = ${q.seller}`);
    if (q.groupBy === "seller") {
      const one = onePeriodRow(cut);
      if (one) return sellerRows(db, one, mine, sources, derived);
    }
    source = sql.join(
      [
        ...cut.years.map(
          ([a, b]) => sql`select y.seller_tax_code, y.year as d, ${ALL_RATES}::text as tax_rate, y.source, y.invoices, y.revenue, y.tax from totals_seller_yearly y
            where y.year >= ${a}::date and y.year < ${b}::date ${mine("y")} ${sources("y")}`,
        ),
        ...cut.months.map(
          ([a, b]) => sql`select m.seller_tax_code, m.month as d, ${ALL_RATES}::text as tax_rate, m.source, m.invoices, m.revenue, m.tax from totals_seller_monthly m
            where m.month >= ${a}::date and m.month < ${b}::date ${mine("m")} ${sources("m")}`,
        ),
        ...cut.days.map(
          ([a, b]) => sql`select t.seller_tax_code, t.issue_date as d, t.tax_rate, t.source, t.invoices, t.revenue, t.tax from totals_seller_daily t
            where t.tax_rate = ${ALL_RATES} and t.issue_date >= ${a}::date and t.issue_date < ${b}::date ${mine("t")} ${sources("t")}`,
        ),
      ],
      sql` union all `,
    );
  }

  let key: Sql;
  let join = sql``;
  switch (q.groupBy) {
    case "day":
      key = sql`to_char(x.d, 'YYYY-MM-DD')`;
      break;
    case "month":
      key = sql`to_char(x.d, 'YYYY-MM')`;
      break;
    case "seller":
      key = sql`x.seller_tax_code`;
      break;
    case "taxOffice":
      key = sql`coalesce(s.tax_office, '')`;
      join = sql`left join sellers s on s.tax_code = x.seller_tax_code`;
      break;
    case "province":
      key = sql`coalesce(s.province, '')`;
      join = sql`left join sellers s on s.tax_code = x.seller_tax_code`;
      break;
    case "taxRate":
      key = sql`x.tax_rate`;
      break;
    case "source":
      key = sql`x.source`;
      break;
    case null:
      key = sql`''`;
      break;
  }
  if (derived) source = attributed(source, q.groupBy === "source" && only === null);
  return grouped(db, q, source, key, join);
}

/**
 * The rows of a report that asks for 'coded' (migration 0014), each under the source it counts
 * for: a '*' row is +coded, and a row of a stored source is −coded (so that coded = '*' minus the
 * stored sources) and, when every source is reported (`all`), +itself. Amounts times ±1: exact.
 */
function attributed(source: Sql, all: boolean): Sql {
  const rows = [
    sql`(${ALL_SOURCES}::text, ${DERIVED_SOURCE}::text, 1)`,
    ...STORED_SOURCES.flatMap((s) => [sql`(${s}::text, ${DERIVED_SOURCE}::text, -1)`, ...(all ? [sql`(${s}::text, ${s}::text, 1)`] : [])]),
  ];
  return sql`select x.seller_tax_code, x.d, x.tax_rate, m.counts_for as source, x.invoices * m.sign as invoices, x.revenue * m.sign as revenue, x.tax * m.sign as tax
      from (${source}) x join (values ${sql.join(rows, sql`, `)}) as m (source, counts_for, sign) on m.source = x.source`;
}

/** The one rollup level and period unit a cut amounts to (a calendar year or month), if it is one. */
function onePeriodRow(cut: PeriodCut): { table: "totals_seller_yearly" | "totals_seller_monthly"; start: string } | null {
  if (cut.days.length > 0 || cut.years.length + cut.months.length !== 1) return null;
  const [y] = cut.years;
  if (y) return y[1] === `${Number(y[0].slice(0, 4)) + 1}-01-01` ? { table: "totals_seller_yearly", start: y[0] } : null;
  const [m] = cut.months;
  return m && m[1] === monthAfter(m[0]) ? { table: "totals_seller_monthly", start: m[0] } : null;
}

/**
 * By seller over exactly one calendar year or month: the rollup holds one row per seller already,
 * so the rows are read as they are and only the total is aggregated (grouping 10,000 sellers
 * costs ≈ 20 ms of numeric aggregate states that this avoids). The rows come back as one text
 * value, a line per seller in key order (a tax code, a count and two decimals: no space or line
 * break in any of them): 10,000 rows of four fields cost the driver ≈ 20 ms to decode one by
 * one, and their garbage doubled the p95.
 */
async function sellerRows(
  db: Db,
  one: { table: string; start: string },
  mine: (alias: string) => Sql,
  sources: (alias: string) => Sql,
  derived: boolean,
): Promise<TotalsReport> {
  const column = sql.ident(one.table === "totals_seller_yearly" ? "year" : "month");
  const where = sql`where r.${column} = ${one.start}::date ${mine("r")} ${sources("r")}`;
  // 'coded' (migration 0014): a seller's '*' row minus its rows of the stored sources.
  const signed = (c: string) => sql`sum(case when r.source = ${ALL_SOURCES} then r.${sql.ident(c)} else -r.${sql.ident(c)} end) as ${sql.ident(c)}`;
  const from = derived
    ? sql`(select r.seller_tax_code, ${signed("invoices")}, ${signed("revenue")}, ${signed("tax")}
             from ${sql.ident(one.table)} r ${where} group by r.seller_tax_code) r`
    : sql`${sql.ident(one.table)} r ${where}`;
  const [r] = await db.query<{ lines: string | null; invoices: bigint | null; revenue: string | null; tax: string | null }>(sql`
    select string_agg(r.seller_tax_code || ' ' || r.invoices || ' ' || trim_scale(r.revenue) || ' ' || trim_scale(r.tax), E'\n'
                      order by r.seller_tax_code collate "C") filter (where r.invoices <> 0) as lines,
           sum(r.invoices)::bigint as invoices, trim_scale(sum(r.revenue)) as revenue, trim_scale(sum(r.tax)) as tax
      from ${from}`);
  const rows = (r?.lines ? r.lines.split("\n") : []).map((line) => {
    const [key, invoices, revenue, tax] = line.split(" ");
    return { key: key!, invoices: BigInt(invoices!), revenue: revenue!, tax: tax! };
  });
  return { rows, total: { invoices: r?.invoices ?? 0n, revenue: r?.revenue ?? "0", tax: r?.tax ?? "0" } };
}

async function grouped(db: Db, q: TotalsQuery, source: Sql, key: Sql, join: Sql): Promise<TotalsReport> {
  const byRate = q.groupBy === "taxRate";
  const query = byRate
    ? sql`select key, sum(invoices)::bigint as invoices, trim_scale(sum(revenue)) as revenue, trim_scale(sum(tax)) as tax,
          case when key = ${ALL_RATES} then 1 else 0 end as is_total
        from (select ${key} as key, x.invoices, x.revenue, x.tax from (${source}) x) g
        group by key having sum(invoices) <> 0 or key = ${ALL_RATES}`
    : sql`select key, sum(invoices)::bigint as invoices, trim_scale(sum(revenue)) as revenue, trim_scale(sum(tax)) as tax,
          grouping(key) as is_total
        from (select ${key} as key, x.invoices, x.revenue, x.tax from (${source}) x ${join}) g
        group by rollup (key) having sum(invoices) <> 0 or grouping(key) = 1`;
  const rows = await db.query<TotalsRow>(query);
  const total = totalsOf(rows.find((r) => Number(r.is_total) === 1));
  const out = q.groupBy === null ? [] : rows.filter((r) => Number(r.is_total) !== 1).map((r) => ({ key: r.key ?? "", ...totalsOf(r) }));
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { rows: out, total };
}

// ---------------------------------------------------------------------------------------------
// The check: the rollups recomputed from the raw rows

/**
 * The counted figures as seller-day-rate-source cells, '*' rate for each invoice (summary row) as
 * a whole: invoices by their source, counted summary rows under 'summary' (migration 0013).
 */
const CELLS = sql`
  select seller_tax_code, issue_date, ${ALL_RATES}::text as tax_rate, source, count(*) as invoices, sum(total_before_tax) as revenue, sum(total_tax) as tax
    from invoices where status in ${COUNTED} group by seller_tax_code, issue_date, source
  union all
  select i.seller_tax_code, i.issue_date, r.tax_rate, i.source, count(*), sum(r.amount_before_tax), sum(r.tax)
    from invoices i join invoice_tax_rates r on r.seller_tax_code = i.seller_tax_code and r.invoice_code = i.code
   where i.status in ${COUNTED} group by i.seller_tax_code, i.issue_date, r.tax_rate, i.source
  union all
  select seller_tax_code, report_date, ${ALL_RATES}::text, 'summary', count(*), coalesce(sum(amount_before_tax), 0), coalesce(sum(tax), 0)
    from summary_rows where counted group by seller_tax_code, report_date
  union all
  select seller_tax_code, report_date, tax_rate, 'summary', count(*), coalesce(sum(amount_before_tax), 0), coalesce(sum(tax), 0)
    from summary_rows where counted and tax_rate is not null group by seller_tax_code, report_date, tax_rate`;

/** The cells of the stored sources under their source (none under 'coded': migration 0014), and every cell summed under '*' (all sources). */
const RECOMPUTED = sql`
  select seller_tax_code, issue_date, tax_rate, source, invoices, revenue, tax from (${CELLS}) c where source <> ${DERIVED_SOURCE}
  union all
  select seller_tax_code, issue_date, tax_rate, ${ALL_SOURCES}::text, sum(invoices), sum(revenue), sum(tax) from (${CELLS}) c group by 1, 2, 3`;

const NONZERO = sql`(invoices <> 0 or revenue <> 0 or tax <> 0)`;

interface DriftRow {
  key: string;
  e_invoices: bigint | null;
  e_revenue: string | null;
  e_tax: string | null;
  a_invoices: bigint | null;
  a_revenue: string | null;
  a_tax: string | null;
}

/**
 * Each rollup table against the same figures recomputed from invoices and invoice_tax_rates
 * (zero rows count as absent; totals_daily is compared summed over its slots). At most 1,000
 * differences per table.
 */
export async function checkRollups(db: Db): Promise<RollupDrift[]> {
  const compare = async (table: RollupDrift["table"], expected: Sql, actual: Sql, columns: string[]): Promise<RollupDrift[]> => {
    const on = sql.join(
      columns.map((c) => sql`a.${sql.ident(c)} = e.${sql.ident(c)}`),
      sql` and `,
    );
    const key = sql.join(
      columns.map((c) => sql`coalesce(e.${sql.ident(c)}, a.${sql.ident(c)})::text`),
      sql` || '|' || `,
    );
    const rows = await db.query<DriftRow>(sql`
      with e as (${expected}), a as (${actual})
      select ${key} as key,
             e.invoices::bigint as e_invoices, trim_scale(e.revenue) as e_revenue, trim_scale(e.tax) as e_tax,
             a.invoices::bigint as a_invoices, trim_scale(a.revenue) as a_revenue, trim_scale(a.tax) as a_tax
        from e full join a on ${on}
       where e.invoices is distinct from a.invoices or e.revenue is distinct from a.revenue or e.tax is distinct from a.tax
       order by 1 limit 1000`);
    const side = (i: bigint | null, r: string | null, t: string | null): ReportFigures | null => (i === null ? null : { invoices: i, revenue: r ?? "0", tax: t ?? "0" });
    return rows.map((r) => ({ table, key: r.key, expected: side(r.e_invoices, r.e_revenue, r.e_tax), actual: side(r.a_invoices, r.a_revenue, r.a_tax) }));
  };
  return [
    ...(await compare(
      "totals_seller_daily",
      RECOMPUTED,
      sql`select seller_tax_code, issue_date, tax_rate, source, invoices, revenue, tax from totals_seller_daily where ${NONZERO}`,
      ["seller_tax_code", "issue_date", "tax_rate", "source"],
    )),
    ...(await compare(
      "totals_seller_monthly",
      sql`select seller_tax_code, date_trunc('month', issue_date)::date as month, source, sum(invoices) as invoices, sum(revenue) as revenue, sum(tax) as tax
            from (${RECOMPUTED}) r where tax_rate = ${ALL_RATES} group by 1, 2, 3`,
      sql`select seller_tax_code, month, source, invoices, revenue, tax from totals_seller_monthly where ${NONZERO}`,
      ["seller_tax_code", "month", "source"],
    )),
    ...(await compare(
      "totals_seller_yearly",
      sql`select seller_tax_code, date_trunc('year', issue_date)::date as year, source, sum(invoices) as invoices, sum(revenue) as revenue, sum(tax) as tax
            from (${RECOMPUTED}) r where tax_rate = ${ALL_RATES} group by 1, 2, 3`,
      sql`select seller_tax_code, year, source, invoices, revenue, tax from totals_seller_yearly where ${NONZERO}`,
      ["seller_tax_code", "year", "source"],
    )),
    ...(await compare(
      "totals_daily",
      sql`select issue_date, tax_rate, source, sum(invoices) as invoices, sum(revenue) as revenue, sum(tax) as tax from (${RECOMPUTED}) r group by 1, 2, 3`,
      sql`select issue_date, tax_rate, source, sum(invoices) as invoices, sum(revenue) as revenue, sum(tax) as tax
            from totals_daily group by 1, 2, 3 having sum(invoices) <> 0 or sum(revenue) <> 0 or sum(tax) <> 0`,
      ["issue_date", "tax_rate", "source"],
    )),
  ];
}

export class PgReports implements ReportsPort {
  constructor(private readonly db: Db) {}

  /** One page of invoices, newest issue date first (search.ts). */
  searchInvoices(q: InvoiceSearch): Promise<InvoicePage> {
    return searchInvoices(this.db, q);
  }

  /** Totals of the counted invoices (issued, adjusted) by issue date, from the rollups. */
  reportTotals(q: TotalsQuery): Promise<TotalsReport> {
    return reportTotals(this.db, q);
  }

  /** Recomputes the rollups from invoices and their rates; every difference (none when they agree). */
  checkRollups(): Promise<RollupDrift[]> {
    return checkRollups(this.db);
  }
}
