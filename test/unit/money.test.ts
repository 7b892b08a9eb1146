import { describe, expect, it, vi } from "vitest";
import { abs, add, cmp, type Decimal, decimalOf, isWhole, mul, ONE, parseAmount, parseSum, roundToWhole, sub, toString, ZERO } from "../../src/domain/money.js";

const d = decimalOf;
const s = (x: Decimal | null): string | null => (x === null ? null : toString(x));

describe("parseAmount", () => {
  it("reads whole and fractional amounts exactly", () => {
    expect(s(parseAmount("0"))).toBe("0");
    expect(s(parseAmount("100200000.0000"))).toBe("100200000");
    expect(s(parseAmount("3200000"))).toBe("3200000");
    expect(s(parseAmount("0.1"))).toBe("0.1");
    expect(s(parseAmount("-1.5"))).toBe("-1.5");
    expect(s(parseAmount("007.250"))).toBe("7.25");
  });

  it("reads -0 as 0 and never prints -0", () => {
    expect(s(parseAmount("-0"))).toBe("0");
    expect(s(parseAmount("-0.000000"))).toBe("0");
    expect(parseAmount("-0")).toBe(ZERO);
  });

  it("accepts the largest numeric(21,6): 15 integer digits and 6 decimals", () => {
    expect(s(parseAmount("999999999999999.999999"))).toBe("999999999999999.999999");
    expect(s(parseAmount("-999999999999999.999999"))).toBe("-999999999999999.999999");
    expect(s(parseAmount("0.000001"))).toBe("0.000001");
  });

  it("refuses a 16th integer digit (21 digits in total, 6 of them decimals, like SQL numeric(21,6))", () => {
    expect(parseAmount("1000000000000000")).toBeNull();
    expect(parseAmount("1000000000000000.5")).toBeNull();
    // Leading zeros count as written.
    expect(parseAmount("0000000000000001")).toBeNull();
  });

  it("refuses a 7th decimal, even a trailing zero", () => {
    expect(parseAmount("1.1234567")).toBeNull();
    expect(parseAmount("1.0000000")).toBeNull();
  });

  it.each(["", "-", "+5", " 5", "5 ", "5.", ".5", "1e3", "1E3", "1,000", "1 000", "0x10", "--1", "Infinity", "NaN", "١٢", "１", "5\n"])(
    "refuses %j",
    (input) => {
      expect(parseAmount(input)).toBeNull();
    },
  );

  it("reads every spelling exactly, with up to 9 integer digits (in doubles) as with more (in BigInt)", () => {
    // The expected value is made from the digits alone: integer digits, then the decimals padded to six.
    let seed = 7;
    const digit = () => String((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 10);
    const digits = (n: number) => Array.from({ length: n }, digit).join("");
    for (let intDigits = 1; intDigits <= 15; intDigits++) {
      for (let decimals = 0; decimals <= 6; decimals++) {
        for (let k = 0; k < 20; k++) {
          const int = k === 0 ? "9".repeat(intDigits) : k === 1 ? "0".repeat(intDigits) : digits(intDigits);
          const frac = k === 0 ? "9".repeat(decimals) : digits(decimals);
          const sign = k % 2 ? "-" : "";
          const written = `${sign}${int}${decimals ? `.${frac}` : ""}`;
          const units = BigInt(int + frac.padEnd(6, "0"));
          expect(parseAmount(written), written).toBe(sign ? -units : units);
        }
      }
    }
  });

  it("refuses a 10,000-digit number without scanning it (by its length, before any regular expression runs)", () => {
    const huge = "9".repeat(10_000);
    const exec = vi.spyOn(RegExp.prototype, "exec");
    try {
      expect(parseAmount(huge)).toBeNull();
      expect(parseAmount(huge.slice(0, 24))).toBeNull();
      expect(exec).not.toHaveBeenCalled();
      expect(parseAmount("-999999999999999.999999")).not.toBeNull();
      expect(exec).toHaveBeenCalled();
    } finally {
      exec.mockRestore();
    }
  });

  it("decimalOf throws on what parseAmount refuses", () => {
    expect(() => decimalOf("1e3")).toThrow(RangeError);
    expect(toString(decimalOf("12.5"))).toBe("12.5");
  });
});

describe("arithmetic", () => {
  it("adds and subtracts exactly (0.1 + 0.2 = 0.3)", () => {
    expect(toString(add(d("0.1"), d("0.2")))).toBe("0.3");
    expect(toString(sub(d("0.3"), d("0.1")))).toBe("0.2");
    expect(toString(sub(d("1"), d("1.000001")))).toBe("-0.000001");
  });

  it("sums past numeric(21,6) without losing a digit", () => {
    let total = ZERO;
    for (let i = 0; i < 1000; i++) total = add(total, d("999999999999999.999999"));
    expect(toString(total)).toBe("999999999999999999.999");
  });

  it("multiplies to 6 decimals, rounding half away from zero", () => {
    expect(toString(mul(d("1.5"), d("1.5")))).toBe("2.25");
    expect(toString(mul(d("3200000"), d("0.08")))).toBe("256000");
    expect(toString(mul(d("0.000001"), d("0.5")))).toBe("0.000001");
    expect(toString(mul(d("-0.000001"), d("0.5")))).toBe("-0.000001");
    expect(toString(mul(d("0.000001"), d("0.4")))).toBe("0");
    expect(toString(mul(d("-0.000001"), d("0.4")))).toBe("0");
  });

  it("multiplies and rounds to whole đồng in one step", () => {
    expect(toString(mul(d("12345"), d("0.1"), 0))).toBe("1235");
    expect(toString(mul(d("-12345"), d("0.1"), 0))).toBe("-1235");
    expect(toString(mul(d("12344"), d("0.1"), 0))).toBe("1234");
    expect(toString(mul(d("100.5"), d("24567.89"), 0))).toBe("2469073");
    expect(toString(mul(d("1.23456"), d("1"), 2))).toBe("1.23");
  });

  it("rounds once: 4.999999 × 0.5 = 2.4999995 is 2 đồng, not 3", () => {
    expect(toString(mul(d("4.999999"), d("0.5"), 0))).toBe("2");
    // Rounding to 6 decimals first would land on 2.5 and then round up.
    expect(toString(roundToWhole(mul(d("4.999999"), d("0.5"))))).toBe("3");
  });

  it("rounds to whole đồng half away from zero", () => {
    expect(toString(roundToWhole(d("2.5")))).toBe("3");
    expect(toString(roundToWhole(d("-2.5")))).toBe("-3");
    expect(toString(roundToWhole(d("2.499999")))).toBe("2");
    expect(toString(roundToWhole(d("-2.499999")))).toBe("-2");
    expect(toString(roundToWhole(d("-0.4")))).toBe("0");
    expect(toString(roundToWhole(d("7")))).toBe("7");
  });

  it("refuses a rounding precision outside 0–6", () => {
    expect(() => mul(ONE, ONE, 7)).toThrow(RangeError);
    expect(() => mul(ONE, ONE, -1)).toThrow(RangeError);
  });

  it("compares, takes absolute values and tells whole numbers", () => {
    expect(cmp(d("1.000001"), d("1"))).toBe(1);
    expect(cmp(d("-5"), d("5"))).toBe(-1);
    expect(cmp(d("5.0"), d("5"))).toBe(0);
    expect(toString(abs(d("-3.25")))).toBe("3.25");
    expect(isWhole(d("100.000000"))).toBe(true);
    expect(isWhole(d("-100"))).toBe(true);
    expect(isWhole(d("100.5"))).toBe(false);
    expect(isWhole(d("0.000001"))).toBe(false);
  });

  it("prints canonical strings: no exponent, no trailing zeros, no -0", () => {
    expect(toString(d("-0.50"))).toBe("-0.5");
    expect(toString(d("1000000"))).toBe("1000000");
    expect(toString(d("0.000010"))).toBe("0.00001");
    expect(toString(sub(d("1"), d("1")))).toBe("0");
    expect(toString(ONE)).toBe("1");
  });
});

describe("parseSum", () => {
  it("reads the sums of reports exactly, past the 15 integer digits of one amount", () => {
    expect(toString(parseSum("123456789012345678901234.5")!)).toBe("123456789012345678901234.5");
    expect(cmp(parseSum("1000000000000000000")!, parseSum("999999999999999999.999999")!)).toBe(1);
    expect(cmp(parseSum("-3")!, parseSum("2")!)).toBe(-1);
  });
  it("refuses what is not a sum", () => {
    for (const bad of ["", "1e3", "+1", ".5", "5.", "1.1234567", "1".repeat(61), "1 000"]) expect(parseSum(bad), bad).toBeNull();
  });
});
