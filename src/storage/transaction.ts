/**
 * A writing transaction that spans aggregates: the invoices it issues and the status changes it
 * makes (invoices.ts), the summary tables of a T-VAN 400 (summary-store.ts), the message that
 * carries them (messages.ts) — all commit together or not at all. What they gather on the way
 * (rates, events, rollup changes, transparency-log leaves) is written by one last statement.
 */
import { jsonRows, sql, type Db } from "./db.js";
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

  async write(tx: Db): Promise<void> {
    if (this.rates.length === 0 && this.events.length === 0 && this.rollups.empty && this.leaves.length === 0) return;
    await tx.query(sql`
      with rates as (
        insert into invoice_tax_rates (seller_tax_code, invoice_code, tax_rate, amount_before_tax, tax)
        select * from json_to_recordset(${jsonRows(this.rates)}::text::json)
          as r (seller_tax_code text, invoice_code char(34), tax_rate text, amount_before_tax numeric, tax numeric)),
      events as (
        insert into invoice_events (seller_tax_code, invoice_code, event, at, by_principal, reason, related_code)
        select seller_tax_code, invoice_code, event, at, by_principal, reason, related_code
          from rows from (json_to_recordset(${jsonRows(this.events)}::text::json)
            as (seller_tax_code text, invoice_code char(34), event text, at timestamptz, by_principal text, reason text, related_code char(34)))
            with ordinality as e (seller_tax_code, invoice_code, event, at, by_principal, reason, related_code, ord)
         order by ord),
      ${this.leaves.length > 0 ? sql`${tlogPendingCte(this.leaves)},` : sql``}
      ${rollupUpserts(this.rollups)}
      select 1`);
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
