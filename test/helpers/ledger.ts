/**
 * Store-level fixtures for the report tests: registered sellers, ready-to-store invoices, and a
 * ledger that computes the expected totals by hand (plain BigInt sums over the invoices it was
 * told about, with their statuses), independently of the rollups and of their SQL.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { InvoiceStatus, NewInvoice, ReportFigures, Store, TaxRateAmount, TotalsQuery, TotalsReport, TotalsSource } from "../../src/storage/store.js";

export interface ReadySeller {
  taxCode: string;
  fingerprint: string;
  keyId: string;
  taxOffice: string | null;
  province: string | null;
}

const prefix = String(100000 + Math.floor(Math.random() * 900000));
let sellers = 0;
let numbers = 0;
let txn = BigInt(Math.floor(Math.random() * 1e9)) * 1_000_000n;

/** A syntactically valid tax code, unique in this process (the store checks the form, not the check digit). */
export const newTaxCode = (): string => `${prefix}${String(++sellers).padStart(4, "0")}`;
/** A code shaped like the real ones: issuer, increasing transaction number, random MAC. */
export const newCode = (): string => "0C" + (++txn).toString(16).toUpperCase().padStart(14, "0") + randomBytes(9).toString("hex").toUpperCase();

/** A registered seller with one certificate and one API key. */
export async function readySeller(store: Pick<Store, "createSeller" | "addCertificate" | "createApiKey">, o: { taxOffice?: string | null; province?: string | null } = {}): Promise<ReadySeller> {
  const taxCode = newTaxCode();
  const taxOffice = o.taxOffice === undefined ? "Cục Thuế TP Hà Nội" : o.taxOffice;
  const province = o.province === undefined ? "Hà Nội" : o.province;
  await store.createSeller({ taxCode, name: `Seller ${taxCode}`, address: "1 Tràng Tiền, Hà Nội", taxOffice, province });
  const der = new Uint8Array(randomBytes(200));
  const fingerprint = createHash("sha256").update(der).digest("hex");
  await store.addCertificate({
    sellerTaxCode: taxCode,
    fingerprint,
    serial: randomBytes(8).toString("hex").toUpperCase(),
    issuer: "CN=Hoadon Test CA",
    subject: `UID=MST:${taxCode}, CN=Test`,
    notBefore: new Date("2020-01-01T00:00:00Z"),
    notAfter: new Date("2030-01-01T00:00:00Z"),
    der,
  });
  const keyId = randomUUID();
  await store.createApiKey({ id: keyId, sellerTaxCode: taxCode, keyHash: randomBytes(32).toString("hex") });
  return { taxCode, fingerprint, keyId, taxOffice, province };
}

/** An invoice ready for the store: totals are the sums of `rates` unless given. */
export function newInvoice(s: ReadySeller, issueDate: string, rates: TaxRateAmount[], over: Partial<NewInvoice> = {}): NewInvoice {
  const before = sum(rates.map((r) => r.amountBeforeTax));
  const tax = sum(rates.map((r) => r.tax));
  return {
    sellerTaxCode: s.taxCode,
    form: "1",
    symbol: `C${issueDate.slice(2, 4)}TAA`,
    number: ++numbers,
    code: newCode(),
    status: "issued",
    buyerTaxCode: "0100000010",
    issueDate,
    currency: "VND",
    exchangeRate: "1",
    totalBeforeTax: before,
    totalTax: tax,
    totalPayable: sum([before, tax]),
    digest: randomBytes(32).toString("base64"),
    xml: "<HDon/>",
    issuedAt: new Date(),
    certificateFingerprint: s.fingerprint,
    submittedBy: s.keyId,
    taxRates: rates,
    ...over,
  };
}

export const rate = (taxRate: string, amountBeforeTax: string, tax: string): TaxRateAmount => ({ taxRate, amountBeforeTax, tax });

// Decimal strings with at most 6 decimals, as BigInt millionths.
const micros = (s: string): bigint => {
  const m = /^(-?)(\d+)(?:\.(\d{1,6}))?$/.exec(s);
  if (!m) throw new Error(`ledger: not a decimal: ${s}`);
  const v = BigInt(m[2]!) * 1_000_000n + BigInt((m[3] ?? "").padEnd(6, "0"));
  return m[1] ? -v : v;
};
const decimal = (v: bigint): string => {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const frac = (a % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return (neg ? "-" : "") + (a / 1_000_000n).toString() + (frac ? "." + frac : "");
};
export const sum = (xs: string[]): string => decimal(xs.reduce((acc, x) => acc + micros(x), 0n));

interface Entry {
  inv: NewInvoice;
  status: InvoiceStatus;
  seller: ReadySeller;
}

/** A row of a summary table (T-VAN 400) as the reports count it while `counted`. */
export interface LedgerSummaryRow {
  seller: ReadySeller;
  reportDate: string;
  taxRate: string | null;
  revenue: string | null;
  tax: string | null;
  counted: boolean;
}

/** What the reports must say, computed from every invoice and its current status, and every summary row and whether it counts. */
export class Ledger {
  readonly entries = new Map<string, Entry>();
  readonly summaryRows: LedgerSummaryRow[] = [];

  summaryRow(r: LedgerSummaryRow): LedgerSummaryRow {
    this.summaryRows.push(r);
    return r;
  }

  issued(seller: ReadySeller, inv: NewInvoice): void {
    this.entries.set(inv.code, { inv, status: "issued", seller });
  }

  status(code: string, status: InvoiceStatus): void {
    const e = this.entries.get(code);
    if (!e) throw new Error(`ledger: unknown invoice ${code}`);
    e.status = status;
  }

  /**
   * The report as the contract defines it: counted = invoices issued or adjusted, and summary rows
   * switched on (each 1 under `invoices`, its amounts, its rate); by source when asked.
   */
  totals(q: TotalsQuery): TotalsReport {
    interface Item {
      source: TotalsSource;
      date: string;
      seller: ReadySeller;
      revenue: string;
      tax: string;
      rates: TaxRateAmount[];
    }
    const items: Item[] = [
      ...[...this.entries.values()]
        .filter((e) => e.status === "issued" || e.status === "adjusted")
        .map((e) => ({ source: e.inv.source ?? "coded", date: e.inv.issueDate, seller: e.seller, revenue: e.inv.totalBeforeTax, tax: e.inv.totalTax, rates: e.inv.taxRates })),
      ...this.summaryRows
        .filter((r) => r.counted)
        .map((r) => {
          const revenue = r.revenue ?? "0";
          const tax = r.tax ?? "0";
          return { source: "summary" as const, date: r.reportDate, seller: r.seller, revenue, tax, rates: r.taxRate === null ? [] : [{ taxRate: r.taxRate, amountBeforeTax: revenue, tax }] };
        }),
    ];
    const counted = items.filter(
      (i) => i.date >= q.from && i.date <= q.to && (q.seller === null || i.seller.taxCode === q.seller) && (q.source == null || i.source === q.source),
    );
    const groups = new Map<string, { invoices: bigint; revenue: bigint; tax: bigint }>();
    const add = (key: string, revenue: string, tax: string) => {
      const g = groups.get(key) ?? { invoices: 0n, revenue: 0n, tax: 0n };
      g.invoices += 1n;
      g.revenue += micros(revenue);
      g.tax += micros(tax);
      groups.set(key, g);
    };
    let total = { invoices: 0n, revenue: 0n, tax: 0n };
    for (const i of counted) {
      total = { invoices: total.invoices + 1n, revenue: total.revenue + micros(i.revenue), tax: total.tax + micros(i.tax) };
      switch (q.groupBy) {
        case "day":
          add(i.date, i.revenue, i.tax);
          break;
        case "month":
          add(i.date.slice(0, 7), i.revenue, i.tax);
          break;
        case "seller":
          add(i.seller.taxCode, i.revenue, i.tax);
          break;
        case "taxOffice":
          add(i.seller.taxOffice ?? "", i.revenue, i.tax);
          break;
        case "province":
          add(i.seller.province ?? "", i.revenue, i.tax);
          break;
        case "taxRate":
          for (const r of i.rates) add(r.taxRate, r.amountBeforeTax, r.tax);
          break;
        case "source":
          add(i.source, i.revenue, i.tax);
          break;
        case null:
          break;
      }
    }
    const t = (g: { invoices: bigint; revenue: bigint; tax: bigint }): ReportFigures => ({ invoices: g.invoices, revenue: decimal(g.revenue), tax: decimal(g.tax) });
    const rows = [...groups].map(([key, g]) => ({ key, ...t(g) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { rows, total: t(total) };
  }
}
