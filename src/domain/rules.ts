/**
 * Business rules that need no database (invoice-format.md §3.2–3.3): tax codes, symbol year,
 * issue date, totals. The rules that read the store (§3.1 seller, §3.4 duplicates, §3.5 related
 * invoice) belong to the caller.
 *
 * Decisions where the spec is silent:
 * - Negative amounts are legal in the format (decrease adjustments), so the schema accepts them;
 *   whether this invoice may carry them is a business rule, reported as TOTALS_MISMATCH with the
 *   field's path. They are allowed only when TTHDLQuan/TCHDon = 2 (adjusts). TGia is always > 0
 *   (schema).
 * - Lines are matched to LTSuat groups by TSuat exactly as written ("KHAC:8.00" ≠ "KHAC:8.00%").
 *   Only TChat 1 (added) and 3 (subtracted) lines count; 2 promotion, 4 note, 5 special goods do not.
 *   Lines without TSuat belong to no group (a sales invoice has no VAT) and count directly in
 *   TgTCThue: TgTCThue = Σ LTSuat.ThTien + Σ such lines.
 * - ThTien per group and TgTCThue, TgTThue are exact; TThue per group and TgTTTBSo allow ±1.
 *   For VND the expected TThue is ThTien × rate rounded once to whole đồng (half away from zero);
 *   in another currency it is the exact product, and ±1 is one unit of that currency (its minor
 *   unit is unknown here: cents, yen, …).
 * - "VND totals are whole numbers" applies to TToan (LTSuat ThTien/TThue, TgTCThue, TgTThue,
 *   TTCKTMai, TGTKhac, TgTTTBSo, TPhi), not to line amounts; lines that do not sum to whole
 *   groups fail the group check anyway.
 * - TgTTTBSo = TgTCThue + TgTThue + Σ TPhi − TTCKTMai − TGTKhac, as the spec writes it (absent
 *   amounts count 0), even though TChat 3 lines already reduce TgTCThue.
 */
import type { Fault } from "../errors.js";
import { gmt7Date, gmt7DayStart } from "./gmt7.js";
import type { Invoice } from "./invoice.js";
import { LIFECYCLE } from "./lifecycle.js";
import { abs, add, cmp, type Decimal, isWhole, mul, ONE, sub, toString, ZERO } from "./money.js";
import { checkTaxCode, taxRateOf } from "./taxcode.js";

/** What the rules need besides the invoice: the day of receipt in GMT+7, and for the time window the receipt itself. */
export interface RuleContext {
  /** YYYY-MM-DD, the day of receipt in GMT+7. */
  today: string;
  /** NLap and SigningTime are bounded against the receipt (checkTimeWindow); null only where no receipt exists (the rules alone, in tests and benchmarks). */
  receipt: Receipt | null;
}

/** The bounds of api.md on NLap and SigningTime, relative to the receipt (HOADON_MAX_SIGNING_LAG_HOURS, HOADON_MAX_ISSUE_DATE_LAG_DAYS). */
export interface TimeWindow {
  /** How far a SigningTime may run ahead of the receipt (clock skew between seller and authority). */
  maxClockSkewMs: number;
  /** How far a SigningTime may lie before the receipt. */
  maxSigningLagMs: number;
  /** How many days NLap may lie before the day of receipt (GMT+7). */
  maxIssueDateLagDays: number;
}

/** One invoice's receipt: when it arrived, the SigningTime the seller signed (null when it carries none) and the window. */
export interface Receipt {
  at: Date;
  signingTime: Date | null;
  window: TimeWindow;
}

/** The defaults of api.md: 5 minutes of skew, 72 hours of signing lag (as Mexico's SAT bounds stamping), 7 days of issue-date lag. */
export const DEFAULT_TIME_WINDOW: TimeWindow = { maxClockSkewMs: 5 * 60_000, maxSigningLagMs: 72 * 3600_000, maxIssueDateLagDays: 7 };

const DAY_MS = 86_400_000;
const SIGNING_TIME = "DSCKS/NBan/Signature/Object/SignatureProperties/SignatureProperty/SigningTime";

/**
 * NLap and SigningTime against the receipt (api.md, issue 14): validity is judged at SigningTime,
 * the seller's own claim, so it is bounded. NLap no more than `maxIssueDateLagDays` days before
 * the day of receipt → ISSUE_DATE_TOO_OLD; SigningTime not before the first instant of NLap's day
 * (GMT+7), not more than the skew ahead of the receipt, not more than `maxSigningLagMs` before it
 * → SIGNING_TIME_OUT_OF_RANGE. A document without SigningTime is judged at its receipt, which
 * these bounds hold by construction. In that order; empty when within.
 */
export function checkTimeWindow(issueDate: string, r: Receipt): Fault[] {
  const faults: Fault[] = [];
  const received = r.at.getTime();
  const oldest = gmt7Date(new Date(received - r.window.maxIssueDateLagDays * DAY_MS));
  if (issueDate < oldest) {
    faults.push(fault("ISSUE_DATE_TOO_OLD", "TTChung/NLap", `NLap ${issueDate} is more than ${r.window.maxIssueDateLagDays} days before the day of receipt (the oldest accepted: ${oldest}, GMT+7)`));
  }
  if (r.signingTime === null) return faults;
  const signed = r.signingTime.getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  const dayStart = gmt7DayStart(issueDate);
  if (signed < dayStart) {
    faults.push(fault("SIGNING_TIME_OUT_OF_RANGE", SIGNING_TIME, `SigningTime ${iso(signed)} is before the day of NLap ${issueDate} (GMT+7)`));
  } else if (signed > received + r.window.maxClockSkewMs) {
    faults.push(fault("SIGNING_TIME_OUT_OF_RANGE", SIGNING_TIME, `SigningTime ${iso(signed)} is after the receipt ${iso(received)} by more than the clock skew (${r.window.maxClockSkewMs / 1000} s)`));
  } else if (signed < received - r.window.maxSigningLagMs) {
    faults.push(fault("SIGNING_TIME_OUT_OF_RANGE", SIGNING_TIME, `SigningTime ${iso(signed)} is more than ${r.window.maxSigningLagMs / 3600_000} hours before the receipt ${iso(received)}`));
  }
  return faults;
}

const LINES = "NDHDon/DSHHDVu/HHDVu";
const GROUPS = "NDHDon/TToan/THTTLTSuat";
const TOTALS = "NDHDon/TToan";

const fault = (code: Fault["code"], path: string, message: string): Fault => ({ code, message, path });
const mismatch = (path: string, message: string): Fault => fault("TOTALS_MISMATCH", path, message);
const str = toString;

/**
 * Checks §3.2–3.3 and returns every fault, ordered by stage: TAX_CODE_INVALID, then
 * SYMBOL_YEAR_MISMATCH, then ISSUE_DATE_IN_FUTURE, then (with a receipt) ISSUE_DATE_TOO_OLD and
 * SIGNING_TIME_OUT_OF_RANGE, then TOTALS_MISMATCH. The caller reports the first fault's code with
 * the faults of that code. Empty when the invoice passes.
 */
export function checkRules(inv: Invoice, ctx: RuleContext): Fault[] {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(ctx.today)) throw new TypeError(`checkRules: today must be YYYY-MM-DD, got ${JSON.stringify(ctx.today)}`);
  return [...taxCodeFaults(inv), ...symbolYearFaults(inv), ...issueDateFaults(inv, ctx.today), ...(ctx.receipt !== null ? checkTimeWindow(inv.issueDate, ctx.receipt) : []), ...totalsFaults(inv)];
}

function taxCodeFaults(inv: Invoice): Fault[] {
  const faults: Fault[] = [];
  const seller = checkTaxCode(inv.seller.taxCode);
  if (!seller.ok) faults.push(fault("TAX_CODE_INVALID", "NDHDon/NBan/MST", `seller tax code ${JSON.stringify(inv.seller.taxCode)}: ${seller.reason}`));
  const buyerCode = inv.buyer?.taxCode ?? null;
  if (buyerCode !== null) {
    const buyer = checkTaxCode(buyerCode);
    if (!buyer.ok) faults.push(fault("TAX_CODE_INVALID", "NDHDon/NMua/MST", `buyer tax code ${JSON.stringify(buyerCode)}: ${buyer.reason}`));
  }
  return faults;
}

function symbolYearFaults(inv: Invoice): Fault[] {
  const symbolYear = inv.symbol.slice(1, 3);
  const issueYear = inv.issueDate.slice(2, 4);
  if (symbolYear === issueYear) return [];
  return [fault("SYMBOL_YEAR_MISMATCH", "TTChung/KHHDon", `symbol ${inv.symbol} names year ${symbolYear} but NLap ${inv.issueDate} is in year ${issueYear}`)];
}

function issueDateFaults(inv: Invoice, today: string): Fault[] {
  // Same fixed-width YYYY-MM-DD form on both sides: string order is date order.
  if (inv.issueDate <= today) return [];
  return [fault("ISSUE_DATE_IN_FUTURE", "TTChung/NLap", `NLap ${inv.issueDate} is after the day of receipt ${today} (GMT+7)`)];
}

const isNegative = (d: Decimal): boolean => d < 0n;
const within = (actual: Decimal, expected: Decimal, tolerance: Decimal): boolean => cmp(abs(sub(actual, expected)), tolerance) <= 0;

const RATE_GROUPS = `${GROUPS}/LTSuat`;
const FEES = `${TOTALS}/DSLPhi/LPhi`;
/** The path of an amount `eachAmount` visits: `prefix[index]/field`, or `prefix/field` when `index` is 0. */
const amountPath = (prefix: string, index: number, field: string): string => (index ? `${prefix}[${index}]/${field}` : `${prefix}/${field}`);

/**
 * Visits every amount of the lines (when `lines`) and then of the totals, in the order their
 * faults are listed, with what makes its path (amountPath): a path is made only for a fault.
 */
function eachAmount(inv: Invoice, lines: boolean, visit: (value: Decimal, prefix: string, index: number, field: string) => void): void {
  const at = (value: Decimal | null, prefix: string, index: number, field: string) => value !== null && visit(value, prefix, index, field);
  if (lines) {
    inv.lines.forEach((l, i) => {
      at(l.quantity, LINES, i + 1, "SLuong");
      at(l.unitPrice, LINES, i + 1, "DGia");
      at(l.discountRate, LINES, i + 1, "TLCKhau");
      at(l.discountAmount, LINES, i + 1, "STCKhau");
      at(l.amount, LINES, i + 1, "ThTien");
    });
  }
  const t = inv.totals;
  t.byRate.forEach((g, i) => {
    at(g.amountBeforeTax, RATE_GROUPS, i + 1, "ThTien");
    at(g.tax, RATE_GROUPS, i + 1, "TThue");
  });
  at(t.totalBeforeTax, TOTALS, 0, "TgTCThue");
  at(t.totalTax, TOTALS, 0, "TgTThue");
  at(t.tradeDiscount, TOTALS, 0, "TTCKTMai");
  t.fees.forEach((f, i) => at(f.amount, FEES, i + 1, "TPhi"));
  at(t.otherDeductions, TOTALS, 0, "TGTKhac");
  at(t.totalPayable, TOTALS, 0, "TgTTTBSo");
}

function totalsFaults(inv: Invoice): Fault[] {
  const faults: Fault[] = [];
  const vnd = inv.currency === "VND";
  const t = inv.totals;

  if (inv.related?.kind !== LIFECYCLE.transitions.adjust.causeEvent) {
    eachAmount(inv, true, (value, prefix, index, field) => {
      if (isNegative(value)) {
        faults.push(mismatch(amountPath(prefix, index, field), `negative amount ${str(value)}: only an adjusting invoice (TTHDLQuan/TCHDon = 2) may carry negative amounts`));
      }
    });
  }
  if (vnd) {
    eachAmount(inv, false, (value, prefix, index, field) => {
      if (!isWhole(value)) faults.push(mismatch(amountPath(prefix, index, field), `${str(value)} is not a whole number of đồng (VND totals are whole)`));
    });
  }

  // Σ of TChat 1 lines minus TChat 3 lines, per TSuat as written; lines without TSuat apart.
  const expectedByRate = new Map<string, Decimal>();
  let untaxed = ZERO;
  for (const line of inv.lines) {
    if (line.kind !== 1 && line.kind !== 3) continue;
    const signed = line.kind === 1 ? (line.amount ?? ZERO) : sub(ZERO, line.amount ?? ZERO);
    if (line.taxRate === null) untaxed = add(untaxed, signed);
    else expectedByRate.set(line.taxRate, add(expectedByRate.get(line.taxRate) ?? ZERO, signed));
  }

  let sumBefore = ZERO;
  let sumTax = ZERO;
  t.byRate.forEach((g, i) => {
    const p = `${GROUPS}/LTSuat[${i + 1}]`;
    sumBefore = add(sumBefore, g.amountBeforeTax);
    sumTax = add(sumTax, g.tax);
    const expected = expectedByRate.get(g.taxRate) ?? ZERO;
    if (cmp(g.amountBeforeTax, expected) !== 0) {
      faults.push(mismatch(`${p}/ThTien`, `ThTien of ${g.taxRate} is ${str(g.amountBeforeTax)} but its lines sum to ${str(expected)}`));
    }
    const rate = taxRateOf(g.taxRate);
    if (rate === null) return; // the schema refuses such a TSuat; nothing to compute against
    const expectedTax = vnd ? mul(g.amountBeforeTax, rate, 0) : mul(g.amountBeforeTax, rate);
    if (!within(g.tax, expectedTax, ONE)) {
      faults.push(mismatch(`${p}/TThue`, `TThue of ${g.taxRate} is ${str(g.tax)} but ${str(g.amountBeforeTax)} × ${g.taxRate} is ${str(expectedTax)} (±1 allowed)`));
    }
  });
  const declared = new Set(t.byRate.map((g) => g.taxRate));
  for (const [rate, expected] of expectedByRate) {
    if (!declared.has(rate) && cmp(expected, ZERO) !== 0) {
      faults.push(mismatch(GROUPS, `lines at ${rate} sum to ${str(expected)} but there is no LTSuat for ${rate}`));
    }
  }

  const expectedBefore = add(sumBefore, untaxed);
  if (cmp(t.totalBeforeTax, expectedBefore) !== 0) {
    const how = cmp(untaxed, ZERO) === 0 ? "Σ LTSuat.ThTien" : "Σ LTSuat.ThTien + lines without TSuat";
    faults.push(mismatch(`${TOTALS}/TgTCThue`, `TgTCThue is ${str(t.totalBeforeTax)} but ${how} is ${str(expectedBefore)}`));
  }
  if (cmp(t.totalTax, sumTax) !== 0) {
    faults.push(mismatch(`${TOTALS}/TgTThue`, `TgTThue is ${str(t.totalTax)} but Σ LTSuat.TThue is ${str(sumTax)}`));
  }
  const fees = t.fees.reduce((s, f) => add(s, f.amount), ZERO);
  const expectedPayable = sub(sub(add(add(t.totalBeforeTax, t.totalTax), fees), t.tradeDiscount ?? ZERO), t.otherDeductions ?? ZERO);
  if (!within(t.totalPayable, expectedPayable, ONE)) {
    faults.push(
      mismatch(`${TOTALS}/TgTTTBSo`, `TgTTTBSo is ${str(t.totalPayable)} but TgTCThue + TgTThue + Σ TPhi − TTCKTMai − TGTKhac is ${str(expectedPayable)} (±1 allowed)`),
    );
  }
  return faults;
}

/** The amounts the store and the reports keep, in VND, as decimal strings. */
export interface VndTotals {
  /** TgTCThue × TGia */
  totalBeforeTax: string;
  /** TgTThue × TGia */
  totalTax: string;
  /** TgTTTBSo × TGia */
  totalPayable: string;
  /** The rate used, TGia ("1" for VND), for the store's exchangeRate. */
  exchangeRate: string;
  /** One per LTSuat: TSuat as written, ThTien × TGia, TThue × TGia. */
  taxRates: { taxRate: string; amountBeforeTax: string; tax: string }[];
}

/**
 * The invoice's totals in VND: each amount × TGia (1 for VND), rounded once to whole đồng, half
 * away from zero. Each amount is rounded on its own, so in a foreign currency the per-rate rows
 * may differ from the totals by a few đồng.
 */
export function vndTotals(inv: Invoice): VndTotals {
  const rate = inv.currency === "VND" ? ONE : inv.exchangeRate;
  const vnd = (d: Decimal): string => str(mul(d, rate, 0));
  const t = inv.totals;
  return {
    totalBeforeTax: vnd(t.totalBeforeTax),
    totalTax: vnd(t.totalTax),
    totalPayable: vnd(t.totalPayable),
    exchangeRate: str(rate),
    taxRates: t.byRate.map((g) => ({ taxRate: g.taxRate, amountBeforeTax: vnd(g.amountBeforeTax), tax: vnd(g.tax) })),
  };
}
