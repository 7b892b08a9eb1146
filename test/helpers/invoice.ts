/**
 * Test helper: builds the unsigned XML of one HDon in the format of invoice-format.md, with totals
 * computed as §3.3 says. Money is BigInt decimal arithmetic throughout: no binary floats.
 *
 * This is an independent implementation on purpose: the service's own totals (src/domain) are
 * checked against it, so it must not import them.
 */
import { randomInt } from "node:crypto";

export type TaxRate = "0%" | "5%" | "8%" | "10%" | "KCT" | "KKKNT" | `KHAC:${string}`;

/** A decimal given as a string ("1.5", "-20000"), a safe integer, or a bigint. */
export type DecimalInput = string | number | bigint;

export interface InvoiceLine {
  name: string;
  unit?: string;
  quantity: DecimalInput;
  unitPrice: DecimalInput;
  taxRate: TaxRate;
  /** TChat: 1 goods/service (default), 3 trade discount (subtracted from its rate group). */
  kind?: 1 | 3;
  /** Item code (MHHDVu). */
  code?: string;
  /** Writes this ThTien instead of quantity × unitPrice (the totals use it too). */
  amount?: DecimalInput;
}

export interface InvoiceBuyer {
  taxCode?: string;
  name: string;
  address: string;
}

export interface RelatedInvoice {
  /** TCHDon: 1 = this invoice replaces the related one, 2 = adjusts it. */
  kind: 1 | 2;
  form: string;
  symbol: string;
  number: number | string;
  issueDate: string;
  note?: string;
  /** LHDCLQuan (1–4); default 1 (an e-invoice under Decree 123). */
  relatedType?: 1 | 2 | 3 | 4;
}

/** Replaces computed values in the output (to build invoices whose totals are wrong). */
export interface TotalsOverrides {
  /** Per TSuat value: replaces that LTSuat group's ThTien and/or TThue. */
  groups?: Partial<Record<string, { ThTien?: DecimalInput; TThue?: DecimalInput }>>;
  TgTCThue?: DecimalInput;
  TgTThue?: DecimalInput;
  TTCKTMai?: DecimalInput;
  TgTTTBSo?: DecimalInput;
  TgTTTBChu?: string;
}

export interface BuildInvoiceOptions {
  sellerTaxCode?: string;
  sellerName?: string;
  sellerAddress?: string;
  /** null: a consumer (no business buyer). */
  buyer?: InvoiceBuyer | null;
  pban?: string;
  form?: string;
  /** KHHDon; default `C<yy>TAA` with yy from the issue date. */
  symbol?: string;
  /** SHDon; a string is written as is (e.g. zero-padded). Default: nextNumber(). */
  number?: number | string;
  /** NLap, YYYY-MM-DD; default today in GMT+7. */
  issueDate?: string;
  currency?: string;
  /** TGia. Default "1" for VND; required for other currencies; null omits the element. */
  exchangeRate?: DecimalInput | null;
  paymentMethod?: string;
  /** MSTTCGP (the solution provider's tax code); omitted by default. */
  providerTaxCode?: string;
  lines?: InvoiceLine[];
  /** DLHDon/@Id. */
  dlhdonId?: string;
  related?: RelatedInvoice;
  overrides?: TotalsOverrides;
  /** Prefix `<?xml version="1.0" encoding="UTF-8"?>`. */
  declaration?: boolean;
}

/** The totals buildInvoice computed (before overrides), as decimal strings. */
export interface InvoiceTotals {
  lines: string[];
  groups: Array<{ TSuat: string; ThTien: string; TThue: string }>;
  TgTCThue: string;
  TgTThue: string;
  TTCKTMai: string;
  TgTTTBSo: string;
}

// ---------------------------------------------------------------- decimal arithmetic (BigInt)

/** value = v / 10^s */
interface Dec {
  v: bigint;
  s: number;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

function dec(x: DecimalInput): Dec {
  if (typeof x === "bigint") return { v: x, s: 0 };
  if (typeof x === "number" && !Number.isSafeInteger(x)) {
    throw new TypeError(`buildInvoice: ${x} is not a safe integer; pass decimals as strings ("1.5")`);
  }
  const m = DECIMAL.exec(String(x).trim());
  if (!m) throw new TypeError(`buildInvoice: ${JSON.stringify(x)} is not a decimal number`);
  const frac = m[3] ?? "";
  const v = BigInt(m[2]! + frac);
  return { v: m[1] === "-" ? -v : v, s: frac.length };
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);
const rescale = (a: Dec, s: number): bigint => a.v * pow10(s - a.s); // s >= a.s
const mul = (a: Dec, b: Dec): Dec => ({ v: a.v * b.v, s: a.s + b.s });
function add(a: Dec, b: Dec): Dec {
  const s = Math.max(a.s, b.s);
  return { v: rescale(a, s) + rescale(b, s), s };
}
const neg = (a: Dec): Dec => ({ v: -a.v, s: a.s });
const ZERO: Dec = { v: 0n, s: 0 };

/** Rounds half away from zero (half-up on magnitudes) to `places` decimals. */
function round(a: Dec, places: number): Dec {
  if (a.s <= places) return { v: rescale(a, places), s: places };
  const d = pow10(a.s - places);
  const mag = a.v < 0n ? -a.v : a.v;
  let q = mag / d;
  if ((mag % d) * 2n >= d) q += 1n;
  return { v: a.v < 0n ? -q : q, s: places };
}

/** Plain decimal notation without trailing fractional zeros. */
function fmt(a: Dec): string {
  const negative = a.v < 0n;
  let digits = (negative ? -a.v : a.v).toString();
  if (a.s > 0) {
    digits = digits.padStart(a.s + 1, "0");
    const int = digits.slice(0, -a.s);
    const frac = digits.slice(-a.s).replace(/0+$/, "");
    digits = frac ? `${int}.${frac}` : int;
  }
  return negative && digits !== "0" ? `-${digits}` : digits;
}

/** The VAT rate as a fraction: "10%" → 0.10, "KHAC:5.26" → 0.0526; 0 for KCT/KKKNT. */
function rateFraction(rate: string): Dec {
  if (rate === "KCT" || rate === "KKKNT") return ZERO;
  const m = /^(?:KHAC:)?(\d+(?:\.\d+)?)%?$/.exec(rate);
  if (!m || (!rate.startsWith("KHAC:") && !rate.endsWith("%"))) throw new TypeError(`buildInvoice: unknown tax rate ${JSON.stringify(rate)}`);
  const p = dec(m[1]!);
  return { v: p.v, s: p.s + 2 };
}

// ---------------------------------------------------------------- XML text

/** Escapes text and attribute values (&, <, >, "). */
export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const el = (name: string, text: string | number): string => `<${name}>${escapeXml(String(text))}</${name}>`;

// ---------------------------------------------------------------- public helpers

/** Today's date in GMT+7 (Vietnam), YYYY-MM-DD. */
export function todayGmt7(now: Date = new Date()): string {
  return new Date(now.getTime() + 7 * 3600_000).toISOString().slice(0, 10);
}

const MST_WEIGHTS = [31, 29, 23, 19, 17, 13, 7, 5, 3] as const;

/** A random 10-digit tax code (MST) with a valid check digit (invoice-format.md §2). */
export function randomTaxCode(): string {
  for (;;) {
    const digits = Array.from({ length: 9 }, () => randomInt(10));
    const sum = digits.reduce((acc, d, i) => acc + d * MST_WEIGHTS[i]!, 0);
    const check = 10 - (sum % 11);
    if (check === 10) continue; // never issued: draw again
    return digits.join("") + String(check);
  }
}

let numberBase = randomInt(1, 90_000_000);
let numberCounter = 0;

/** A process-unique invoice number (SHDon), below 99,999,999. */
export function nextNumber(): number {
  numberCounter += 1;
  if (numberBase + numberCounter >= 99_999_999) {
    numberBase = randomInt(1, 1_000_000);
    numberCounter = 1;
  }
  return numberBase + numberCounter;
}

export const DEFAULT_SELLER = {
  taxCode: "0100000010",
  name: "Công ty TNHH Thử nghiệm Hóa đơn Hà Nội",
  address: "Số 1 Đường Thử Nghiệm, Phường Dịch Vọng Hậu, Quận Cầu Giấy, Hà Nội",
} as const;

export const DEFAULT_BUYER: InvoiceBuyer = {
  taxCode: "0310000024",
  name: "Công ty Cổ phần Thử nghiệm Hóa đơn Sài Gòn",
  address: "Số 2 Đường Kiểm Thử, Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh",
};

export const DEFAULT_LINES: InvoiceLine[] = [
  { name: "Phần mềm kế toán", unit: "Gói", quantity: 1, unitPrice: 3_200_000, taxRate: "10%" },
];

/** Computes the totals of §3.3 for the given lines (amounts rounded to whole đồng for VND). */
export function computeTotals(lines: InvoiceLine[], currency = "VND"): InvoiceTotals {
  const places = currency === "VND" ? 0 : 2;
  const groups = new Map<string, { base: Dec; rate: Dec }>();
  const lineAmounts: string[] = [];
  for (const line of lines) {
    const amount = line.amount !== undefined ? dec(line.amount) : round(mul(dec(line.quantity), dec(line.unitPrice)), places);
    lineAmounts.push(fmt(amount));
    const g = groups.get(line.taxRate) ?? { base: ZERO, rate: rateFraction(line.taxRate) };
    g.base = add(g.base, (line.kind ?? 1) === 3 ? neg(amount) : amount);
    groups.set(line.taxRate, g);
  }
  let before = ZERO;
  let vat = ZERO;
  const out: InvoiceTotals["groups"] = [];
  for (const [rate, g] of groups) {
    const tax = round(mul(g.base, g.rate), places);
    before = add(before, g.base);
    vat = add(vat, tax);
    out.push({ TSuat: rate, ThTien: fmt(g.base), TThue: fmt(tax) });
  }
  return { lines: lineAmounts, groups: out, TgTCThue: fmt(before), TgTThue: fmt(vat), TTCKTMai: "0", TgTTTBSo: fmt(add(before, vat)) };
}

const num = (x: DecimalInput): string => fmt(dec(x));

function invoiceTitle(form: string): string {
  if (form === "1") return "Hóa đơn giá trị gia tăng";
  if (form === "2") return "Hóa đơn bán hàng";
  return "Hóa đơn điện tử";
}

/** The unsigned XML of one HDon (see the options for defaults); `DSCKS/NBan` is left empty for the signer. */
export function buildInvoice(opts: BuildInvoiceOptions = {}): string {
  const issueDate = opts.issueDate ?? todayGmt7();
  const currency = opts.currency ?? "VND";
  const form = opts.form ?? "1";
  const symbol = opts.symbol ?? `C${issueDate.slice(2, 4)}TAA`;
  const number = opts.number ?? nextNumber();
  const lines = opts.lines ?? DEFAULT_LINES;
  const buyer = opts.buyer === undefined ? DEFAULT_BUYER : opts.buyer;
  if (opts.exchangeRate === undefined && currency !== "VND") {
    throw new TypeError("buildInvoice: exchangeRate is required when currency is not VND (null omits TGia)");
  }
  const exchangeRate = opts.exchangeRate === undefined ? "1" : opts.exchangeRate;
  const totals = computeTotals(lines, currency);
  const o = opts.overrides ?? {};

  const related = opts.related
    ? "<TTHDLQuan>" +
      el("TCHDon", opts.related.kind) +
      el("LHDCLQuan", opts.related.relatedType ?? 1) +
      el("KHMSHDCLQuan", opts.related.form) +
      el("KHHDCLQuan", opts.related.symbol) +
      el("SHDCLQuan", opts.related.number) +
      el("NLHDCLQuan", opts.related.issueDate) +
      (opts.related.note !== undefined ? el("GChu", opts.related.note) : "") +
      "</TTHDLQuan>"
    : "";

  const ttchung =
    "<TTChung>" +
    el("PBan", opts.pban ?? "2.0.0") +
    el("THDon", invoiceTitle(form)) +
    el("KHMSHDon", form) +
    el("KHHDon", symbol) +
    el("SHDon", number) +
    el("NLap", issueDate) +
    el("DVTTe", currency) +
    (exchangeRate === null ? "" : el("TGia", num(exchangeRate))) +
    el("HTTToan", opts.paymentMethod ?? "Tiền mặt/Chuyển khoản") +
    (opts.providerTaxCode !== undefined ? el("MSTTCGP", opts.providerTaxCode) : "") +
    related +
    "</TTChung>";

  const nban =
    "<NBan>" +
    el("Ten", opts.sellerName ?? DEFAULT_SELLER.name) +
    el("MST", opts.sellerTaxCode ?? DEFAULT_SELLER.taxCode) +
    el("DChi", opts.sellerAddress ?? DEFAULT_SELLER.address) +
    "</NBan>";

  const nmua =
    buyer === null
      ? "<NMua>" + el("HVTNMHang", "Khách lẻ không lấy hóa đơn") + "</NMua>"
      : "<NMua>" + el("Ten", buyer.name) + (buyer.taxCode !== undefined ? el("MST", buyer.taxCode) : "") + el("DChi", buyer.address) + "</NMua>";

  const items = lines
    .map(
      (line, i) =>
        "<HHDVu>" +
        el("TChat", line.kind ?? 1) +
        el("STT", i + 1) +
        (line.code !== undefined ? el("MHHDVu", line.code) : "") +
        el("THHDVu", line.name) +
        (line.unit !== undefined ? el("DVTinh", line.unit) : "") +
        el("SLuong", num(line.quantity)) +
        el("DGia", num(line.unitPrice)) +
        el("ThTien", totals.lines[i]!) +
        el("TSuat", line.taxRate) +
        "</HHDVu>",
    )
    .join("");

  const groups = totals.groups
    .map((g) => {
      const og = o.groups?.[g.TSuat];
      return (
        "<LTSuat>" +
        el("TSuat", g.TSuat) +
        el("ThTien", og?.ThTien !== undefined ? num(og.ThTien) : g.ThTien) +
        el("TThue", og?.TThue !== undefined ? num(og.TThue) : g.TThue) +
        "</LTSuat>"
      );
    })
    .join("");

  const ttoan =
    "<TToan>" +
    `<THTTLTSuat>${groups}</THTTLTSuat>` +
    el("TgTCThue", o.TgTCThue !== undefined ? num(o.TgTCThue) : totals.TgTCThue) +
    el("TgTThue", o.TgTThue !== undefined ? num(o.TgTThue) : totals.TgTThue) +
    el("TTCKTMai", o.TTCKTMai !== undefined ? num(o.TTCKTMai) : totals.TTCKTMai) +
    el("TgTTTBSo", o.TgTTTBSo !== undefined ? num(o.TgTTTBSo) : totals.TgTTTBSo) +
    el("TgTTTBChu", o.TgTTTBChu ?? "Số tiền viết bằng chữ (hóa đơn kiểm thử)") +
    "</TToan>";

  const xml =
    "<HDon>" +
    `<DLHDon Id="${escapeXml(opts.dlhdonId ?? "SigningData")}">` +
    ttchung +
    `<NDHDon>${nban}${nmua}<DSHHDVu>${items}</DSHHDVu>${ttoan}</NDHDon>` +
    "</DLHDon>" +
    "<DSCKS><NBan/></DSCKS>" +
    "</HDon>";
  return opts.declaration ? `<?xml version="1.0" encoding="UTF-8"?>${xml}` : xml;
}
