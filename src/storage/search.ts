/**
 * The invoice search (GET /v1/invoices, the officers' pages): filters and keyset pages over the
 * partitioned invoices, with the filters written so that the partial indexes serve them. A read
 * of the ReportsPort (reports.ts), served by a replica when there is one.
 */
import { type Db, type Sql, sql } from "./db.js";
import { INVOICE, type InvoiceRow, toInvoice } from "./invoice-rows.js";
import { STATUS_IS } from "./lifecycle-sql.js";
import type { InvoicePage, InvoiceSearch, InvoiceSource } from "./store.js";

/**
 * The legacy filter of a search, as literals (like STATUS_IS, lifecycle-sql.ts): the marked ones imply the
 * predicate of the partial index invoices_legacy (0008), so a generic plan can use it.
 */
const LEGACY_LITERAL: Record<NonNullable<InvoiceSearch["legacy"]>, Sql> = {
  any: sql`legacy <> '{}'::text[]`,
  none: sql`legacy = '{}'::text[]`,
  sha1: sql`legacy <> '{}'::text[] and 'sha1' = any (legacy)`,
  rsa1024: sql`legacy <> '{}'::text[] and 'rsa1024' = any (legacy)`,
};

/** The source filter as a literal (like STATUS_IS, lifecycle-sql.ts): the partial index invoices_source_date (0012) serves the non-coded ones. */
const SOURCE_LITERAL: Record<InvoiceSource, Sql> = {
  coded: sql`source = 'coded'`,
  uncoded: sql`source <> 'coded' and source = 'uncoded'`,
  cashRegister: sql`source <> 'coded' and source = 'cashRegister'`,
};

/**
 * Keyset pagination on (issue_date, code) descending: a page starts strictly after the last
 * invoice of the previous one, so an invoice inserted meanwhile never shifts what comes next
 * (no repeats, no gaps; one issued into an earlier date shows up on a later page, one into a
 * later date does not). The bound on issue_date lets the planner prune partitions; the
 * row comparison then runs on the index (seller, date, code), (buyer, date, code) or (date, code).
 */
export async function searchInvoices(db: Db, q: InvoiceSearch): Promise<InvoicePage> {
  const where: Sql[] = [];
  if (q.seller !== undefined) where.push(sql`seller_tax_code = ${q.seller}`);
  if (q.buyer !== undefined) where.push(sql`buyer_tax_code = ${q.buyer}`);
  if (q.from !== undefined) where.push(sql`issue_date >= ${q.from}::date`);
  if (q.to !== undefined) where.push(sql`issue_date <= ${q.to}::date`);
  // A literal, not a parameter: a generic plan of the prepared statement could not prove that
  // status = $n implies the predicate of the partial index invoices_seller_status (0006).
  if (q.status !== undefined) where.push(STATUS_IS[q.status]);
  if (q.form !== undefined) where.push(sql`form = ${q.form}`);
  if (q.symbol !== undefined) where.push(sql`symbol = ${q.symbol}`);
  if (q.legacy !== undefined) where.push(LEGACY_LITERAL[q.legacy]);
  if (q.source !== undefined) where.push(SOURCE_LITERAL[q.source]);
  if (q.after !== undefined) {
    where.push(sql`issue_date <= ${q.after.issueDate}::date`);
    where.push(sql`(issue_date, code) < (${q.after.issueDate}::date, ${q.after.code}::char(34))`);
  }
  const rows = await db.query<InvoiceRow>(sql`
    select ${INVOICE} from invoices ${where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``}
    order by issue_date desc, code desc limit ${q.limit + 1}`);
  const items = rows.slice(0, q.limit).map(toInvoice);
  const last = items[items.length - 1];
  return { items, next: rows.length > q.limit && last ? { issueDate: last.issueDate, code: last.code } : null };
}
