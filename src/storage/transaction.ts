/**
 * A writing transaction that spans aggregates: the invoices it issues and the status changes it
 * makes (invoices.ts), the summary tables of a T-VAN 400 (summary-store.ts), the message that
 * carries them (messages.ts) — all commit together or not at all. What they gather on the way
 * (rates, events, rollup changes, transparency-log leaves) is written by one last statement, or
 * carried by the statement that inserts a group of new invoices (invoices.ts, issuePlain).
 */
import { type Db, jsonRows, type Sql, sql } from "./db.js";
import { RollupDelta, rollupUpserts } from "./rollups.js";
import type { InvoiceEventKind } from "./store.js";
import { tlogPendingCte } from "./tlog-sql.js";

/**
 * What a writing transaction writes last, in one statement just before it commits: the rates
 * and events of its invoices, in the order they happened, and its rollup changes. One round
 * trip for all of it, and the rollup rows (which concurrent transactions of the same seller
 * share) are locked only for the commit.
 */
interface RateRow {
  seller_tax_code: string;
  invoice_code: string;
  tax_rate: string;
  amount_before_tax: string;
  tax: string;
}

export class Tail {
  readonly rates: RateRow[] = [];
  readonly events: object[] = [];
  readonly rollups = new RollupDelta();
  /** Transparency log entries of this transaction's events, in order (tlog/entry.ts). */
  readonly leaves: Buffer[] = [];

  event(sellerTaxCode: string, code: string, event: InvoiceEventKind, at: Date, by: string, reason: string | null, relatedCode: string | null): void {
    this.events.push({ seller_tax_code: sellerTaxCode, invoice_code: code, event, at: at.toISOString(), by_principal: by, reason, related_code: relatedCode });
  }

  get empty(): boolean {
    return this.rates.length === 0 && this.events.length === 0 && this.rollups.empty && this.leaves.length === 0;
  }

  /**
   * What this tail writes, as CTEs of a statement (named rates, events, tlog when there are
   * leaves, and rollupUpserts'), each writing its rows only if `onlyIf` holds: another statement's
   * writes can carry the tail they make (PgInvoices.issueInvoices), all or nothing.
   */
  ctes(onlyIf: Sql = sql`true`): Sql {
    return sql`
      rates as (
        insert into invoice_tax_rates (seller_tax_code, invoice_code, tax_rate, amount_before_tax, tax)
        select * from json_to_recordset(${jsonRows(this.rates)}::text::json)
          as r (seller_tax_code text, invoice_code char(34), tax_rate text, amount_before_tax numeric, tax numeric)
         where ${onlyIf}),
      events as (
        insert into invoice_events (seller_tax_code, invoice_code, event, at, by_principal, reason, related_code)
        select seller_tax_code, invoice_code, event, at, by_principal, reason, related_code
          from rows from (json_to_recordset(${jsonRows(this.events)}::text::json)
            as (seller_tax_code text, invoice_code char(34), event text, at timestamptz, by_principal text, reason text, related_code char(34)))
            with ordinality as e (seller_tax_code, invoice_code, event, at, by_principal, reason, related_code, ord)
         where ${onlyIf}
         order by ord),
      ${this.leaves.length > 0 ? sql`${tlogPendingCte(this.leaves, onlyIf)},` : sql``}
      ${rollupUpserts(this.rollups, onlyIf)}`;
  }

  async write(tx: Db): Promise<void> {
    if (this.empty) return;
    await tx.query(sql`with ${this.ctes()} select 1`);
  }
}


/**
 * A transaction whose rates, events and rollup changes are gathered by the invoice writes and
 * status changes inside it and written in one statement just before it commits (Tail).
 */
export function writing<T>(db: Db, fn: (tx: Db, tail: Tail) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    const tail = new Tail();
    const result = await fn(tx, tail);
    await tail.write(tx);
    return result;
  });
}
