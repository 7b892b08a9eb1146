/**
 * Officers' search and reports (api.md: GET /v1/invoices, GET /v1/reports/totals): who may see
 * what, the opaque page cursor, the period, and the CSV form of a report.
 *
 * Decisions where the spec is silent:
 * - Search: officers see every invoice; a seller's key sees only its own (without `seller` it is
 *   implicitly its own, `seller` naming another tax code is FORBIDDEN); admins manage officers
 *   and sellers and are refused (FORBIDDEN), as for reading one invoice.
 * - Search order: newest issue date first, then code descending; the cursor is the last
 *   invoice's (issue date, code), base64url, and a page continues strictly after it.
 * - Reports are for officers only (api.md's "who"); admins and sellers are FORBIDDEN.
 * - Reports count the invoices whose status is issued or adjusted (docs/lifecycle.md "The invoice
 *   lifecycle"): a replaced or cancelled invoice is out, its replacement counts instead, and
 *   an adjusting invoice counts as one invoice with its own signed amounts, on its own issue
 *   date. Each invoice counts by its own status: an adjustment stays counted when the invoice it
 *   adjusted is later replaced or cancelled, until it is cancelled itself.
 * - groupBy taxRate: a row per TSuat value; `invoices` is the number of invoices that have that
 *   rate, `revenue`/`tax` the sums of their LTSuat ThTien/TThue. `total` counts each invoice once
 *   with TgTCThue/TgTThue, the same total as every other grouping; so the rows need not add up
 *   to it (an invoice with two rates, lines without TSuat, per-amount rounding of TGia).
 * - taxOffice, province: the seller's current registration (a PATCH regroups its whole
 *   history); a seller without one is under the key "".
 * - Summary tables (T-VAN 400): a row counts while switched on (summary_rows.counted), as one
 *   under `invoices` with TTCThue and TgTThue (absent: 0), on its NLap or else the period's last
 *   day, under its TSuat; its seller's office and province as for an invoice.
 * - source: coded, uncoded, cashRegister, summary; absent, all of them. groupBy source: a row per
 *   source with a counted figure, adding up to the total.
 * - Without groupBy the answer is the total alone (`rows` empty).
 * - CSV: the header `key,invoices,revenue,tax`, one line per row, then a line `total,…`;
 *   RFC 4180 quoting; a tax office or province name starting with = + - @ (a spreadsheet
 *   formula) is written with a leading apostrophe.
 */
import { type Outcome, type Refusal, refusal, refused } from "../errors.js";
import type { InvoiceCursor, InvoicePage, InvoiceSearch, ReportsPort, TotalsQuery, TotalsReport } from "./ports.js";

/** Who searches: the principal's role and, for a seller key, its tax code. */
export type Viewer = { role: "admin" | "officer" } | { role: "seller"; sellerTaxCode: string };

/** True for a real calendar date written YYYY-MM-DD (2026-02-30 is not, nor is any day of year 0000, which PostgreSQL has not). */
export function isCalendarDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || s.startsWith("0000")) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

const CURSOR = /^(\d{4}-\d{2}-\d{2})\.([0-9A-F]{34})$/;

/** The opaque cursor of a page: base64url of "<issue date>.<code>". */
export function encodeCursor(c: InvoiceCursor): string {
  return Buffer.from(`${c.issueDate}.${c.code}`, "utf8").toString("base64url");
}

/** The cursor's position, or null when it is not one this service wrote. */
export function decodeCursor(s: string): InvoiceCursor | null {
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(s)) return null;
  const m = CURSOR.exec(Buffer.from(s, "base64url").toString("utf8"));
  return m && isCalendarDate(m[1]!) ? { issueDate: m[1]!, code: m[2]! } : null;
}

export type SearchParams = Omit<InvoiceSearch, "after"> & { cursor?: string };

/** The `legacy` filter as the API and the officer page write it → the store's (docs/security.md "The legacy switches"). */
export const LEGACY_FILTER = { true: "any", false: "none", sha1: "sha1", rsa1024: "rsa1024" } as const satisfies Record<string, NonNullable<InvoiceSearch["legacy"]>>;
export type LegacyFilterParam = keyof typeof LEGACY_FILTER;
export const isLegacyFilterParam = (s: string): s is LegacyFilterParam => Object.hasOwn(LEGACY_FILTER, s);

/** One page of the invoices `viewer` may see, with the cursor of the next page (null at the end). */
export async function searchInvoices(
  store: Pick<ReportsPort, "searchInvoices">,
  viewer: Viewer,
  params: SearchParams,
): Promise<Outcome<{ page: InvoicePage; nextCursor: string | null }>> {
  const { cursor, ...filters } = params;
  if (viewer.role === "admin") return refused(refusal("FORBIDDEN", "Searching invoices is for officers and sellers."));
  if (viewer.role === "seller") {
    if (filters.seller !== undefined && filters.seller !== viewer.sellerTaxCode) {
      return refused(refusal("FORBIDDEN", "A seller's key searches only that seller's invoices."));
    }
    filters.seller = viewer.sellerTaxCode;
  }
  const period = checkPeriod(filters.from, filters.to);
  if (period) return refused(period);
  let after: InvoiceCursor | undefined;
  if (cursor !== undefined) {
    const c = decodeCursor(cursor);
    if (!c) return refused(invalid("cursor", "not a cursor of this search (use nextCursor as given)"));
    after = c;
  }
  const page = await store.searchInvoices({ ...filters, ...(after ? { after } : {}) });
  return { ok: true, page, nextCursor: page.next ? encodeCursor(page.next) : null };
}

/** Totals for officers; the period must be real dates with from ≤ to. */
export async function totalsReport(store: Pick<ReportsPort, "reportTotals">, q: TotalsQuery): Promise<Outcome<{ report: TotalsReport }>> {
  const period = checkPeriod(q.from, q.to);
  if (period) return refused(period);
  return { ok: true, report: await store.reportTotals(q) };
}

const invalid = (path: string, message: string): Refusal => refusal("SCHEMA_INVALID", `${path}: ${message}.`, [{ code: "SCHEMA_INVALID", message, path }]);

function checkPeriod(from: string | undefined, to: string | undefined): Refusal | null {
  for (const [name, value] of [["from", from], ["to", to]] as const) {
    if (value !== undefined && !isCalendarDate(value)) return invalid(name, `not a date (YYYY-MM-DD): ${JSON.stringify(value)}`);
  }
  if (from !== undefined && to !== undefined && from > to) return invalid("to", `the period ends (${to}) before it starts (${from})`);
  return null;
}

/** A CSV field: quoted when it holds a comma, quote or line break (RFC 4180). */
function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The report as CSV (CRLF line ends, UTF-8): header, rows, then the total. */
export function totalsCsv(report: TotalsReport, groupBy: TotalsQuery["groupBy"]): string {
  const names = groupBy === "taxOffice" || groupBy === "province";
  // A name a spreadsheet would run as a formula is kept as text.
  const key = (k: string) => field(names && /^[=+\-@\t\r]/.test(k) ? `'${k}` : k);
  const lines = ["key,invoices,revenue,tax"];
  for (const r of report.rows) lines.push([key(r.key), r.invoices.toString(), r.revenue, r.tax].join(","));
  lines.push(["total", report.total.invoices.toString(), report.total.revenue, report.total.tax].join(","));
  return lines.join("\r\n") + "\r\n";
}
