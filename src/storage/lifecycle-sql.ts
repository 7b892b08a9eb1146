/**
 * The SQL that the lifecycle table (domain/lifecycle.ts) answers, generated from it: no status
 * is written out in storage's queries. Literals, not parameters, so that a generic plan still
 * sees the predicates of the partial indexes on status (invoices_seller_status, 0006).
 */
import { COUNTED_STATUSES, INVOICE_STATUSES, type InvoiceStatus } from "../domain/lifecycle.js";
import { type Sql, sql } from "./db.js";

/** `status = '<status>'` for each status. */
export const STATUS_IS = Object.fromEntries(INVOICE_STATUSES.map((s) => [s, sql`status = ${sql.literal(s)}`])) as Record<InvoiceStatus, Sql>;

/** The statuses that count in reports, as an SQL list of literals (COUNTED_STATUSES). */
export const COUNTED_LIST: Sql = sql`(${sql.join(COUNTED_STATUSES.map((s) => sql.literal(s)))})`;
