/**
 * Tax codes (MST) and VAT rates (TSuat) as invoice-format.md §2 defines them.
 */
import { type Decimal, ZERO } from "./money.js";

/** The verdict on one tax code: its kind when well-formed, otherwise why not. */
export type TaxCodeCheck = { ok: true; kind: "enterprise" | "branch" | "individual" } | { ok: false; reason: string };

/** The form of a tax code (MST) without its check digit: 10 digits, a branch `<10>-NNN`, or 12 digits. Inputs are matched against it; checkTaxCode judges the digits. */
export const TAX_CODE_FORM = /^(?:\d{10}(?:-\d{3})?|\d{12})$/;

const WEIGHTS = [31, 29, 23, 19, 17, 13, 7, 5, 3] as const;
const TEN_DIGITS = /^\d{10}$/;
const BRANCH = /^(\d{10})-(\d{3})$/;
const TWELVE_DIGITS = /^\d{12}$/;

/** The check digit the tax authority would give these 9 digits; 10 means such a code is never issued. */
function checkDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += WEIGHTS[i]! * (digits.charCodeAt(i) - 48);
  return 10 - (sum % 11);
}

/** Checks the form of a tax code: 10 digits with a check digit, a branch `<10>-NNN`, or a 12-digit individual's code. */
export function checkTaxCode(s: string): TaxCodeCheck {
  if (typeof s !== "string") return { ok: false, reason: "not a string" };
  if (TEN_DIGITS.test(s)) {
    const expected = checkDigit(s);
    if (expected === 10) return { ok: false, reason: "no valid check digit exists for these 9 digits (such codes are never issued)" };
    if (expected !== s.charCodeAt(9) - 48) return { ok: false, reason: "wrong check digit" };
    return { ok: true, kind: "enterprise" };
  }
  const branch = BRANCH.exec(s);
  if (branch !== null) {
    const parent = checkTaxCode(branch[1]!);
    if (!parent.ok) return { ok: false, reason: `branch of an invalid tax code: ${parent.reason}` };
    if (branch[2] === "000") return { ok: false, reason: "branch number 000 is never issued" };
    return { ok: true, kind: "branch" };
  }
  // Since 2025 individuals use their 12-digit citizen id as tax code; it has no check digit.
  if (TWELVE_DIGITS.test(s)) return { ok: true, kind: "individual" };
  return { ok: false, reason: "expected 10 digits, 10 digits + '-' + 3 digits, or 12 digits" };
}

const FIXED_RATES: Readonly<Record<string, Decimal>> = {
  "0%": ZERO,
  "5%": 50_000n as Decimal,
  "8%": 80_000n as Decimal,
  "10%": 100_000n as Decimal,
  // Not subject to VAT / not declared: no tax is due, so the rate is 0.
  KCT: ZERO,
  KKKNT: ZERO,
};
const OTHER_RATE = /^KHAC:(\d{1,2})\.(\d{2})%?$/;

/**
 * The VAT rate of a TSuat value as a fraction ("8%" → 0.08, "KHAC:5.26" → 0.0526, KCT → 0);
 * null when the value is not one of invoice-format.md §2.
 */
export function taxRateOf(tsuat: string): Decimal | null {
  if (typeof tsuat !== "string") return null;
  if (Object.hasOwn(FIXED_RATES, tsuat)) return FIXED_RATES[tsuat]!;
  const m = OTHER_RATE.exec(tsuat);
  if (m === null) return null;
  // AB.CD percent = ABCD / 10^4 as a fraction = ABCD·100 millionths.
  return (BigInt(m[1]! + m[2]!) * 100n) as Decimal;
}
