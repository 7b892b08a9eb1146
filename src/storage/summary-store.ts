/**
 * The summary tables of T-VAN 400 (tvan.md §9, migration 0012) inside the transaction that
 * records the message: the period's sequence, the rows reported before, what the accepted tables
 * and rows add, and the rows a later row takes out of the totals.
 */
import type { SummaryWork } from "../domain/ports.js";
import { type Db, jsonRows, sql } from "./db.js";
import type { RollupDelta } from "./rollups.js";

export type { NamedInvoice, NewSummaryRow, SummaryWork } from "../domain/ports.js";

/** A counted row's amounts as the database keeps them (canonical decimals): what it adds to the rollups. */
interface CountedRow {
  report_date: string;
  tax_rate: string | null;
  amount_before_tax: string | null;
  tax: string | null;
}
const COUNTED_ROW = sql`to_char(report_date, 'YYYY-MM-DD') as report_date, tax_rate, trim_scale(amount_before_tax) as amount_before_tax, trim_scale(tax) as tax`;

/**
 * A summary row counts under source 'summary' (migration 0013): 1 under `invoices`, TTCThue as
 * revenue and TgTThue as tax (absent: 0), on its report date, and on its TSuat's rate row.
 */
function count(rollups: RollupDelta, seller: string, rows: CountedRow[], sign: 1 | -1): void {
  for (const r of rows) {
    const revenue = r.amount_before_tax ?? "0";
    const tax = r.tax ?? "0";
    rollups.add(
      { source: "summary", sellerTaxCode: seller, issueDate: r.report_date, totalBeforeTax: revenue, totalTax: tax, taxRates: r.tax_rate === null ? [] : [{ taxRate: r.tax_rate, amountBeforeTax: revenue, tax }] },
      sign,
    );
  }
}

const rowKey = (form: string, symbol: string, number: string) => `${form}|${symbol}|${number}`;

/** The summary work of one transaction; what its rows add to or take out of the totals goes to `rollups` (the transaction's tail). */
export function summaryWork(tx: Db, rollups: RollupDelta): SummaryWork {
  return {
    async lastInPeriod(p) {
      const rows = await tx.query<{ number: number; supplement: number | null }>(sql`
        select number, supplement from summary_tables
        where seller_tax_code = ${p.sellerTaxCode} and fuel = ${p.fuel} and period_kind = ${p.periodKind} and period_start = ${p.periodStart}::date
        order by number desc limit 1`);
      return rows[0] ?? null;
    },
    async known(seller, named) {
      const rows = new Set<string>();
      const invoices = new Set<string>();
      if (named.length === 0) return { rows, invoices };
      const wanted = jsonRows(named.map((n) => ({ form: n.form, symbol: n.symbol, number: n.number })));
      const reported = await tx.query<{ form: string; symbol: string; number: string; tax_rate: string | null }>(sql`
        select r.form, r.symbol, r.number, r.tax_rate
          from json_to_recordset(${wanted}::text::json) as q (form text, symbol text, number text)
          join summary_rows r on r.seller_tax_code = ${seller} and r.form = q.form and r.symbol = q.symbol and r.number = q.number
         where r.counted`);
      for (const r of reported) {
        rows.add(`${rowKey(r.form, r.symbol, r.number)}|${r.tax_rate ?? ""}`);
        invoices.add(rowKey(r.form, r.symbol, r.number));
      }
      const sent = await tx.query<{ form: string; symbol: string; number: string }>(sql`
        select q.form, q.symbol, q.number
          from json_to_recordset(${wanted}::text::json) as q (form text, symbol text, number text)
          join invoice_keys k on k.seller_tax_code = ${seller} and k.form = q.form and k.symbol = q.symbol
           and q.number ~ '^[0-9]{1,8}$' and k.number = q.number::integer`);
      for (const r of sent) invoices.add(`sent|${rowKey(r.form, r.symbol, r.number)}`);
      return { rows, invoices };
    },
    async insertTable(t) {
      await tx.query(sql`
        insert into summary_tables (seller_tax_code, message_id, position, fuel, lhhoa, period_kind, period_start, period_end, number, supplement, printed, received_at, xml)
        values (${t.sellerTaxCode}, ${t.messageId}, ${t.position}, ${t.fuel}, ${t.lhhoa}, ${t.periodKind}, ${t.periodStart}::date, ${t.periodEnd}::date,
                ${t.number}, ${t.supplement}, ${t.printed}, ${t.receivedAt}, ${t.xml})`);
    },
    async insertRows(seller, messageId, rows) {
      if (rows.length === 0) return;
      const data = rows.map((r) => ({
        table_position: r.tablePosition,
        position: r.position,
        status: r.status,
        form: r.form,
        symbol: r.symbol,
        number: r.number,
        issue_date: r.issueDate,
        buyer_tax_code: r.buyerTaxCode,
        product_code: r.productCode,
        tax_rate: r.taxRate,
        amount_before_tax: r.amountBeforeTax,
        tax: r.tax,
        total: r.total,
        related_kind: r.relatedKind,
        related_form: r.relatedForm,
        related_symbol: r.relatedSymbol,
        related_number: r.relatedNumber,
        report_date: r.reportDate,
        counted: r.counted,
      }));
      const inserted = await tx.query<CountedRow & { counted: boolean }>(sql`
        insert into summary_rows (seller_tax_code, message_id, table_position, position, status, form, symbol, number, issue_date, buyer_tax_code,
                                  product_code, tax_rate, amount_before_tax, tax, total, related_kind, related_form, related_symbol, related_number, report_date, counted)
        select ${seller}, ${messageId}, r.table_position, r.position, r.status, r.form, r.symbol, r.number, r.issue_date, r.buyer_tax_code,
               r.product_code, r.tax_rate, r.amount_before_tax, r.tax, r.total, r.related_kind, r.related_form, r.related_symbol, r.related_number, r.report_date, r.counted
          from json_to_recordset(${jsonRows(data)}::text::json) as r (table_position int, position int, status smallint, form text, symbol text, number text,
               issue_date date, buyer_tax_code text, product_code text, tax_rate text, amount_before_tax numeric, tax numeric, total numeric,
               related_kind smallint, related_form text, related_symbol text, related_number text, report_date date, counted boolean)
        returning counted, ${COUNTED_ROW}`);
      count(rollups, seller, inserted.filter((r) => r.counted), 1);
    },
    async uncount(seller, n, taxRate) {
      const off = await tx.query<CountedRow>(sql`
        update summary_rows set counted = false
        where seller_tax_code = ${seller} and form = ${n.form} and symbol = ${n.symbol} and number = ${n.number} and counted
          ${taxRate === null ? sql`` : sql`and tax_rate = ${taxRate}`}
        returning ${COUNTED_ROW}`);
      count(rollups, seller, off, -1);
    },
  };
}
