import { describe, expect, it } from "vitest";
import { toString } from "../../src/domain/money.js";
import { checkTaxCode, taxRateOf } from "../../src/domain/taxcode.js";

describe("checkTaxCode", () => {
  it.each(["0100000010", "0310000024", "0105987432", "0202029650", "0200845734", "0201626485"])("accepts the enterprise code %s", (mst) => {
    expect(checkTaxCode(mst)).toEqual({ ok: true, kind: "enterprise" });
  });

  it("refuses 0310000025: wrong check digit", () => {
    expect(checkTaxCode("0310000025")).toEqual({ ok: false, reason: "wrong check digit" });
  });

  it("refuses codes whose check digit would be 10 (never issued)", () => {
    // 0·31 + … + 0·3 = 0, 0 mod 11 = 0, 10 − 0 = 10.
    const r = checkTaxCode("0000000000");
    expect(r.ok).toBe(false);
    // 1·31 + 1·13 = 44 = 4·11: no check digit exists either.
    expect(checkTaxCode("1000010000").ok).toBe(false);
  });

  it("accepts a branch: a valid code, '-', three digits", () => {
    expect(checkTaxCode("0100000010-001")).toEqual({ ok: true, kind: "branch" });
    expect(checkTaxCode("0105987432-999")).toEqual({ ok: true, kind: "branch" });
  });

  it("refuses branch 000 and branches of invalid codes", () => {
    expect(checkTaxCode("0100000010-000")).toEqual({ ok: false, reason: "branch number 000 is never issued" });
    expect(checkTaxCode("0310000025-001")).toEqual({ ok: false, reason: "branch of an invalid tax code: wrong check digit" });
  });

  it("accepts a 12-digit individual's code without a check digit", () => {
    expect(checkTaxCode("001203012345")).toEqual({ ok: true, kind: "individual" });
    expect(checkTaxCode("079199999998")).toEqual({ ok: true, kind: "individual" });
  });

  it.each(["", "010000001", "01000000100", "0100000010-01", "0100000010-0001", "0100000010_001", " 0100000010", "0100000010 ", "01000000１0", "0123456789012", "abcdefghij", "0100000010-", "-001"])(
    "refuses the malformed %j",
    (mst) => {
      expect(checkTaxCode(mst).ok).toBe(false);
    },
  );
});

describe("taxRateOf", () => {
  it.each([
    ["0%", "0"],
    ["5%", "0.05"],
    ["8%", "0.08"],
    ["10%", "0.1"],
    ["KCT", "0"],
    ["KKKNT", "0"],
    ["KHAC:5.26", "0.0526"],
    ["KHAC:5.26%", "0.0526"],
    ["KHAC:8.00%", "0.08"],
    ["KHAC:12.50", "0.125"],
    ["KHAC:0.01", "0.0001"],
  ])("reads %s as the fraction %s", (tsuat, fraction) => {
    const r = taxRateOf(tsuat);
    expect(r === null ? null : toString(r)).toBe(fraction);
  });

  it.each(["", "7%", "10", "10 %", "0.1", "kct", "KHAC", "KHAC:5", "KHAC:5.2", "KHAC:5.265", "KHAC:123.45", "khac:5.26", "KHAC:5.26%%", "KHAC: 5.26", "KHAC:-5.26", "toString", "__proto__"])(
    "refuses %j",
    (tsuat) => {
      expect(taxRateOf(tsuat)).toBeNull();
    },
  );
});
