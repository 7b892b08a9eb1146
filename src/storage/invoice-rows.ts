/**
 * An invoice as its row: the columns read back (trim_scale gives the canonical decimal,
 * "1234500" not "1234500.000000", the same on both engines) and the lookups by code and by
 * natural key. Shared by invoices.ts, search.ts and messages.ts.
 */
import { sql } from "./db.js";
import type { InvoiceSource, InvoiceStatus, InvoiceSummary, LegacyAllowance } from "./store.js";

export const INVOICE = sql`code, seller_tax_code, form, symbol, number, status, buyer_tax_code, issue_date, currency,
  trim_scale(exchange_rate) as exchange_rate, trim_scale(total_before_tax) as total_before_tax,
  trim_scale(total_tax) as total_tax, trim_scale(total_payable) as total_payable, digest, issued_at, array_to_string(legacy, ',') as legacy,
  source, register_code`;
/** The same columns of `invoices i` in a join. */
export const INVOICE_I = sql`i.code, i.seller_tax_code, i.form, i.symbol, i.number, i.status, i.buyer_tax_code, i.issue_date, i.currency,
  trim_scale(i.exchange_rate) as exchange_rate, trim_scale(i.total_before_tax) as total_before_tax,
  trim_scale(i.total_tax) as total_tax, trim_scale(i.total_payable) as total_payable, i.digest, i.issued_at, array_to_string(i.legacy, ',') as legacy,
  i.source, i.register_code`;
/**
 * invoices is partitioned by issue month and keyed by (seller, issue date, code): a lookup by
 * code or by natural key goes through the unpartitioned invoice_codes or invoice_keys, which
 * name the partition (run-time partition pruning on the join).
 */
export const BY_CODE = sql`invoice_codes k join invoices i on i.seller_tax_code = k.seller_tax_code and i.issue_date = k.issue_date and i.code = k.code`;
export const BY_KEY = sql`invoice_keys k join invoices i on i.seller_tax_code = k.seller_tax_code and i.issue_date = k.issue_date and i.code = k.code`;
export interface InvoiceRow {
  code: string;
  seller_tax_code: string;
  form: string;
  symbol: string;
  number: number;
  status: InvoiceStatus;
  buyer_tax_code: string | null;
  issue_date: string;
  currency: string;
  exchange_rate: string;
  total_before_tax: string;
  total_tax: string;
  total_payable: string;
  digest: string;
  issued_at: Date;
  /** The legacy allowances, comma-separated: text on every driver (Workers read no array types). */
  legacy: string;
  source: InvoiceSource;
  register_code: string | null;
}
export const toInvoice = (r: InvoiceRow): InvoiceSummary => ({
  code: r.code,
  sellerTaxCode: r.seller_tax_code,
  form: r.form,
  symbol: r.symbol,
  number: r.number,
  status: r.status,
  buyerTaxCode: r.buyer_tax_code,
  issueDate: r.issue_date,
  currency: r.currency,
  exchangeRate: r.exchange_rate,
  totalBeforeTax: r.total_before_tax,
  totalTax: r.total_tax,
  totalPayable: r.total_payable,
  digest: r.digest,
  issuedAt: r.issued_at,
  legacy: r.legacy === "" ? [] : (r.legacy.split(",") as LegacyAllowance[]),
  source: r.source,
  registerCode: r.register_code,
});
