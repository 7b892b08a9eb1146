/**
 * Exact decimal money for the invoice format's number(21,6), on BigInt: a Decimal is an integer
 * count of millionths. No binary floating point anywhere (invoice-format.md §2).
 *
 * Limits follow SQL numeric(21,6): at most 21 significant places of which 6 are fractional, so at
 * most 15 integer digits and at most 6 decimals, counted as written (leading zeros count too).
 * Arithmetic results are not bounded: a sum of many 15-digit amounts stays exact.
 */

declare const decimalBrand: unique symbol;

/** An exact decimal: an integer number of millionths (10^-6), branded so plain bigints do not mix in. */
export type Decimal = bigint & { readonly [decimalBrand]: true };

/** Number of fractional digits a Decimal carries. */
export const FRACTION_DIGITS = 6;

const SCALE = 1_000_000n;
const POW10: readonly bigint[] = [1n, 10n, 100n, 1_000n, 10_000n, 100_000n, 1_000_000n];
/** Millionths per unit of the last written decimal, by the number of decimals written: 10^(6 − n). */
const SCALE_OF_FRACTION: readonly number[] = [1_000_000, 100_000, 10_000, 1_000, 100, 10, 1];

/** The Decimal 0. */
export const ZERO = 0n as Decimal;
/** The Decimal 1. */
export const ONE = SCALE as Decimal;

// "-"? 1–15 integer digits, then optionally "." and 1–6 decimals: no "+", no exponent, no spaces,
// no ".5" or "5.", no separators. 23 = 1 + 15 + 1 + 6 is the longest accepted spelling, checked
// before the regex so a 10,000-digit string is refused without scanning it.
const AMOUNT = /^(-?)(\d{1,15})(?:\.(\d{1,6}))?$/;
const MAX_AMOUNT_LENGTH = 23;

/** Parses a written amount (`-?\d{1,15}(\.\d{1,6})?`); null when it is not one. */
export function parseAmount(s: string): Decimal | null {
  if (typeof s !== "string" || s.length === 0 || s.length > MAX_AMOUNT_LENGTH) return null;
  const m = AMOUNT.exec(s);
  if (m === null) return null;
  const int = m[2]!;
  const frac = m[3] ?? "";
  // Up to 9 integer digits the count of millionths is below 10^15 < 2^53: exact as a double, and
  // cheaper than a BigInt parsed from a joined string (the schema reads four amounts per line).
  const units =
    int.length <= 9
      ? BigInt(Number(int) * 1_000_000 + (frac === "" ? 0 : Number(frac) * SCALE_OF_FRACTION[frac.length]!))
      : BigInt(int + frac) * POW10[FRACTION_DIGITS - frac.length]!;
  return (m[1] === "-" ? -units : units) as Decimal;
}
// A sum over a period (a report's total) may pass 15 integer digits; 60 bounds the text read.
const SUM = /^(-?)(\d{1,52})(?:\.(\d{1,6}))?$/;

/** Parses a sum as the reports write it (any number of integer digits, up to 52); null when it is not one. */
export function parseSum(s: string): Decimal | null {
  if (typeof s !== "string" || s.length > 60) return null;
  const m = SUM.exec(s);
  if (m === null) return null;
  const frac = m[3] ?? "";
  const units = BigInt(m[2]! + frac) * POW10[FRACTION_DIGITS - frac.length]!;
  return (m[1] === "-" ? -units : units) as Decimal;
}

/** Like parseAmount, but throws on a malformed amount: for constants and tests, not for input. */
export function decimalOf(s: string): Decimal {
  const d = parseAmount(s);
  if (d === null) throw new RangeError(`not an amount: ${JSON.stringify(s.length > 40 ? s.slice(0, 40) + "…" : s)}`);
  return d;
}

/** a + b, exact. */
export function add(a: Decimal, b: Decimal): Decimal {
  return (a + b) as Decimal;
}

/** a − b, exact. */
export function sub(a: Decimal, b: Decimal): Decimal {
  return (a - b) as Decimal;
}

/** Divides by a positive power of ten, rounding half away from zero (so −2.5 → −3, 2.5 → 3). */
function divRound(n: bigint, d: bigint): bigint {
  const q = n / d; // truncates toward zero
  const r = n % d; // has the sign of n
  if ((r < 0n ? -r : r) * 2n >= d) return n < 0n ? q - 1n : q + 1n;
  return q;
}

/**
 * a × b rounded once to `places` decimals (0–6, default 6), half away from zero. Rounding once
 * matters: rounding to 6 decimals and then to whole đồng could round a …0.4999996 up.
 */
export function mul(a: Decimal, b: Decimal, places = FRACTION_DIGITS): Decimal {
  if (!Number.isInteger(places) || places < 0 || places > FRACTION_DIGITS) throw new RangeError(`places must be 0–6, got ${places}`);
  // a·b carries 12 fractional digits: drop 12 − places of them, then scale back to millionths.
  const d = SCALE * POW10[FRACTION_DIGITS - places]!;
  return (divRound(a * b, d) * POW10[FRACTION_DIGITS - places]!) as Decimal;
}

/** Rounds to a whole number (đồng), half away from zero: 2.5 → 3, −2.5 → −3, 2.4999 → 2. */
export function roundToWhole(a: Decimal): Decimal {
  return (divRound(a, SCALE) * SCALE) as Decimal;
}

/** −1, 0 or 1 as a is less than, equal to or greater than b. */
export function cmp(a: Decimal, b: Decimal): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** |a|. */
export function abs(a: Decimal): Decimal {
  return (a < 0n ? -a : a) as Decimal;
}

/** True when a has no fractional part. */
export function isWhole(a: Decimal): boolean {
  return a % SCALE === 0n;
}

/** Canonical decimal string: no exponent, no trailing fractional zeros, no "-0" ("1234500", "-0.5"). */
export function toString(a: Decimal): string {
  const negative = a < 0n;
  const mag = negative ? -a : a;
  const int = (mag / SCALE).toString();
  const frac = (mag % SCALE).toString().padStart(FRACTION_DIGITS, "0").replace(/0+$/, "");
  return (negative ? "-" : "") + (frac === "" ? int : `${int}.${frac}`);
}
