import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DOMParser, type Element as XmlElement } from "@xmldom/xmldom";
import { describe, expect, it } from "vitest";
import { type Invoice, type InvoiceLine, type LineKind, readInvoice } from "../../src/domain/invoice.js";
import { decimalOf as d, ONE } from "../../src/domain/money.js";
import { checkRules, vndTotals } from "../../src/domain/rules.js";
import type { Fault } from "../../src/errors.js";
import { buildInvoice } from "../helpers/invoice.js";

const TODAY = "2026-03-15";
const INTEROP = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "shared", "interop");

function line(kind: LineKind, amount: string | null, taxRate: string | null, name = "Hàng hóa"): InvoiceLine {
  return { kind, position: null, code: null, name, unit: null, quantity: null, unitPrice: null, discountRate: null, discountAmount: null, amount: amount === null ? null : d(amount), taxRate };
}

/**
 * A consistent VND invoice: 3,200,000 at 10% and 1,000,000 − 200,000 (trade discount) at 8%.
 * 10%: 3,200,000 → 320,000; 8%: 800,000 → 64,000; before tax 4,000,000; tax 384,000; payable 4,384,000.
 */
function base(): Invoice {
  return {
    version: "2.0.1",
    title: "Hóa đơn giá trị gia tăng",
    form: "1",
    symbol: "C26TAA",
    number: 7,
    issueDate: "2026-03-15",
    currency: "VND",
    exchangeRate: ONE,
    paymentMethod: null,
    providerTaxCode: null,
    financialLeasing: null,
    related: null,
    sellerTaxCode: "0100000010",
    buyerTaxCode: "0310000024",
    seller: { name: "Công ty A", taxCode: "0100000010", address: "Hà Nội", phone: null, email: null, bankAccount: null, bankName: null, fax: null, website: null, storeCode: null, storeName: null },
    buyer: {
      name: "Công ty B",
      taxCode: "0310000024",
      address: "TP HCM",
      customerCode: null,
      contactName: null,
      phone: null,
      email: null,
      bankAccount: null,
      bankName: null,
      citizenId: null,
      passport: null,
      budgetUnitCode: null,
    },
    lines: [line(1, "3200000", "10%", "Phần mềm"), line(1, "1000000", "8%", "Dịch vụ"), line(3, "200000", "8%", "Chiết khấu thương mại")],
    totals: {
      byRate: [
        { taxRate: "10%", amountBeforeTax: d("3200000"), tax: d("320000") },
        { taxRate: "8%", amountBeforeTax: d("800000"), tax: d("64000") },
      ],
      totalBeforeTax: d("4000000"),
      totalTax: d("384000"),
      tradeDiscount: null,
      fees: [],
      otherDeductions: null,
      totalPayable: d("4384000"),
      totalInWords: "Bốn triệu ba trăm tám mươi tư nghìn đồng",
    },
    otherInfo: [],
  };
}

/** One line at `rate`, its group, and totals that add up (VND unless changed). */
function single(amount: string, rate: string, tax: string, payable: string): Invoice {
  const inv = base();
  inv.lines = [line(1, amount, rate)];
  inv.totals.byRate = [{ taxRate: rate, amountBeforeTax: d(amount), tax: d(tax) }];
  inv.totals.totalBeforeTax = d(amount);
  inv.totals.totalTax = d(tax);
  inv.totals.totalPayable = d(payable);
  return inv;
}

const rules = (inv: Invoice, today = TODAY): Fault[] => checkRules(inv, { today, receipt: null });
const brief = (faults: Fault[]) => faults.map((f) => [f.code, f.path]);
const G1 = "NDHDon/TToan/THTTLTSuat/LTSuat[1]";
const G2 = "NDHDon/TToan/THTTLTSuat/LTSuat[2]";

function dlhdonOf(xml: string): XmlElement {
  const doc = new DOMParser().parseFromString(xml, "text/xml");
  return Array.from(doc.getElementsByTagName("DLHDon"))[0]!;
}
function readXml(xml: string): Invoice {
  const r = readInvoice(dlhdonOf(xml));
  if (!r.ok) throw new Error(JSON.stringify(r.faults));
  return r.value;
}

describe("checkRules: a consistent invoice", () => {
  it("passes the base invoice with no fault", () => {
    expect(rules(base())).toEqual([]);
  });
});

describe("checkRules: tax codes (TAX_CODE_INVALID)", () => {
  it("refuses a seller tax code with a wrong check digit, naming NBan/MST", () => {
    const inv = base();
    inv.seller.taxCode = "0310000025";
    const faults = rules(inv);
    expect(brief(faults)).toEqual([["TAX_CODE_INVALID", "NDHDon/NBan/MST"]]);
    expect(faults[0]!.message).toBe('seller tax code "0310000025": wrong check digit');
  });

  it("refuses a malformed buyer tax code, naming NMua/MST", () => {
    const inv = base();
    inv.buyer!.taxCode = "031000002";
    expect(brief(rules(inv))).toEqual([["TAX_CODE_INVALID", "NDHDon/NMua/MST"]]);
  });

  it("refuses both when both are wrong, seller first", () => {
    const inv = base();
    inv.seller.taxCode = "0100000010-000";
    inv.buyer!.taxCode = "0310000025";
    expect(brief(rules(inv))).toEqual([
      ["TAX_CODE_INVALID", "NDHDon/NBan/MST"],
      ["TAX_CODE_INVALID", "NDHDon/NMua/MST"],
    ]);
  });

  it("accepts a branch seller and a 12-digit individual buyer", () => {
    const inv = base();
    inv.seller.taxCode = "0100000010-001";
    inv.buyer!.taxCode = "001203012345";
    expect(rules(inv)).toEqual([]);
  });

  it("checks no buyer tax code when there is none", () => {
    const noCode = base();
    noCode.buyer!.taxCode = null;
    expect(rules(noCode)).toEqual([]);
    const noBuyer = base();
    noBuyer.buyer = null;
    expect(rules(noBuyer)).toEqual([]);
  });
});

describe("checkRules: symbol year and issue date", () => {
  it("refuses C25TAA on an invoice issued in 2026 (SYMBOL_YEAR_MISMATCH)", () => {
    const inv = base();
    inv.symbol = "C25TAA";
    const faults = rules(inv);
    expect(brief(faults)).toEqual([["SYMBOL_YEAR_MISMATCH", "TTChung/KHHDon"]]);
    expect(faults[0]!.message).toBe("symbol C25TAA names year 25 but NLap 2026-03-15 is in year 26");
  });

  it("accepts C25 on 31 December 2025", () => {
    const inv = base();
    inv.symbol = "C25TAA";
    inv.issueDate = "2025-12-31";
    expect(rules(inv)).toEqual([]);
  });

  it("refuses an invoice dated the day after receipt (ISSUE_DATE_IN_FUTURE)", () => {
    expect(brief(rules(base(), "2026-03-14"))).toEqual([["ISSUE_DATE_IN_FUTURE", "TTChung/NLap"]]);
  });

  it("accepts an invoice dated the day of receipt or earlier", () => {
    expect(rules(base(), "2026-03-15")).toEqual([]);
    expect(rules(base(), "2027-01-01")).toEqual([]);
  });

  it("throws when today is not YYYY-MM-DD (a caller bug, not a refusal)", () => {
    expect(() => checkRules(base(), { today: "15/03/2026", receipt: null })).toThrow(TypeError);
  });
});

describe("checkRules: totals (TOTALS_MISMATCH)", () => {
  it("refuses a line total off by 2 đồng", () => {
    const inv = base();
    inv.lines[0]!.amount = d("3200002");
    const faults = rules(inv);
    expect(brief(faults)).toEqual([["TOTALS_MISMATCH", `${G1}/ThTien`]]);
    expect(faults[0]!.message).toBe("ThTien of 10% is 3200000 but its lines sum to 3200002");
  });

  it("refuses a per-rate ThTien off by 1 đồng: that sum is exact", () => {
    const inv = base();
    inv.lines[1]!.amount = d("1000001");
    expect(brief(rules(inv))).toEqual([["TOTALS_MISMATCH", `${G2}/ThTien`]]);
  });

  it("subtracts trade-discount lines (TChat 3) from their rate", () => {
    const inv = base();
    inv.lines[2]!.kind = 1; // the discount counted as a sale: 8% lines would sum to 1,200,000
    expect(brief(rules(inv))).toEqual([["TOTALS_MISMATCH", `${G2}/ThTien`]]);
  });

  it("accepts a per-rate TThue off by +1 or −1 đồng", () => {
    for (const tax of ["320001", "319999"]) {
      const inv = base();
      inv.totals.byRate[0]!.tax = d(tax);
      inv.totals.totalTax = d(tax === "320001" ? "384001" : "383999");
      inv.totals.totalPayable = d(tax === "320001" ? "4384001" : "4383999");
      expect(rules(inv)).toEqual([]);
    }
  });

  it("refuses a per-rate TThue off by +2 or −2 đồng", () => {
    for (const [tax, total, payable] of [
      ["320002", "384002", "4384002"],
      ["319998", "383998", "4383998"],
    ] as const) {
      const inv = base();
      inv.totals.byRate[0]!.tax = d(tax);
      inv.totals.totalTax = d(total);
      inv.totals.totalPayable = d(payable);
      const faults = rules(inv);
      expect(brief(faults)).toEqual([["TOTALS_MISMATCH", `${G1}/TThue`]]);
      expect(faults[0]!.message).toBe(`TThue of 10% is ${tax} but 3200000 × 10% is 320000 (±1 allowed)`);
    }
  });

  it("rounds the expected tax half away from zero: 12345 × 10% = 1234.5 → 1235", () => {
    expect(rules(single("12345", "10%", "1235", "13580"))).toEqual([]);
    expect(rules(single("12345", "10%", "1236", "13581"))).toEqual([]);
    expect(rules(single("12345", "10%", "1234", "13579"))).toEqual([]);
    expect(brief(rules(single("12345", "10%", "1233", "13578")))).toEqual([["TOTALS_MISMATCH", `${G1}/TThue`]]);
    expect(brief(rules(single("12345", "10%", "1237", "13582")))).toEqual([["TOTALS_MISMATCH", `${G1}/TThue`]]);
  });

  it("compares an absent TThue (read as 0) with ThTien × rate", () => {
    const inv = single("1000000", "8%", "0", "1000000");
    expect(brief(rules(inv))).toEqual([["TOTALS_MISMATCH", `${G1}/TThue`]]);
    expect(rules(single("1000000", "KCT", "0", "1000000"))).toEqual([]);
    expect(rules(single("1000000", "KKKNT", "0", "1000000"))).toEqual([]);
    expect(rules(single("1000000", "0%", "0", "1000000"))).toEqual([]);
  });

  it("refuses TgTCThue that is not Σ LTSuat.ThTien, even by 1 đồng", () => {
    const inv = base();
    inv.totals.totalBeforeTax = d("4000001");
    inv.totals.totalPayable = d("4384001");
    const faults = rules(inv);
    expect(brief(faults)).toEqual([["TOTALS_MISMATCH", "NDHDon/TToan/TgTCThue"]]);
    expect(faults[0]!.message).toBe("TgTCThue is 4000001 but Σ LTSuat.ThTien is 4000000");
  });

  it("refuses TgTThue that is not Σ LTSuat.TThue, even by 1 đồng", () => {
    const inv = base();
    inv.totals.totalTax = d("384001");
    inv.totals.totalPayable = d("4384001");
    expect(brief(rules(inv))).toEqual([["TOTALS_MISMATCH", "NDHDon/TToan/TgTThue"]]);
  });

  it("accepts TgTTTBSo off by ±1 đồng", () => {
    for (const payable of ["4384001", "4383999"]) {
      const inv = base();
      inv.totals.totalPayable = d(payable);
      expect(rules(inv)).toEqual([]);
    }
  });

  it("refuses TgTTTBSo off by ±2 đồng", () => {
    for (const payable of ["4384002", "4383998"]) {
      const inv = base();
      inv.totals.totalPayable = d(payable);
      const faults = rules(inv);
      expect(brief(faults)).toEqual([["TOTALS_MISMATCH", "NDHDon/TToan/TgTTTBSo"]]);
      expect(faults[0]!.message).toBe(`TgTTTBSo is ${payable} but TgTCThue + TgTThue + Σ TPhi − TTCKTMai − TGTKhac is 4384000 (±1 allowed)`);
    }
  });

  it("adds fees and subtracts TTCKTMai and TGTKhac in TgTTTBSo", () => {
    const inv = base();
    inv.totals.fees = [{ name: "Phí môi trường", amount: d("50000") }];
    inv.totals.tradeDiscount = d("100000");
    inv.totals.otherDeductions = d("10000");
    inv.totals.totalPayable = d("4324000");
    expect(rules(inv)).toEqual([]);
    inv.totals.totalPayable = d("4384000");
    expect(brief(rules(inv))).toEqual([["TOTALS_MISMATCH", "NDHDon/TToan/TgTTTBSo"]]);
  });

  it("refuses a VND total with a fraction of a đồng, even within tolerance", () => {
    const inv = base();
    inv.totals.totalPayable = d("4384000.5");
    const faults = rules(inv);
    expect(brief(faults)).toEqual([["TOTALS_MISMATCH", "NDHDon/TToan/TgTTTBSo"]]);
    expect(faults[0]!.message).toBe("4384000.5 is not a whole number of đồng (VND totals are whole)");
  });

  it("names the fee (DSLPhi/LPhi[n]/TPhi) whose amount has a fraction of a đồng, after the totals before it", () => {
    const inv = base();
    inv.totals.fees = [{ name: "Phí môi trường", amount: d("1000") }, { name: "Phí vận chuyển", amount: d("0.5") }];
    inv.totals.totalTax = d("0.5");
    const paths = brief(rules(inv)).filter(([, path]) => /TgTThue|LPhi/.test(path!));
    expect(paths.slice(0, 2)).toEqual([
      ["TOTALS_MISMATCH", "NDHDon/TToan/TgTThue"],
      ["TOTALS_MISMATCH", "NDHDon/TToan/DSLPhi/LPhi[2]/TPhi"],
    ]);
  });

  it("refuses lines at a rate that has no LTSuat", () => {
    const inv = base();
    inv.lines.push(line(1, "500000", "5%"));
    const faults = rules(inv);
    expect(brief(faults)).toEqual([["TOTALS_MISMATCH", "NDHDon/TToan/THTTLTSuat"]]);
    expect(faults[0]!.message).toBe("lines at 5% sum to 500000 but there is no LTSuat for 5%");
  });

  it("matches lines to groups by TSuat as written (KHAC:8.00 is not KHAC:8.00%)", () => {
    const inv = single("1000000", "KHAC:8.00%", "80000", "1080000");
    inv.lines[0]!.taxRate = "KHAC:8.00";
    expect(brief(rules(inv))).toEqual([
      ["TOTALS_MISMATCH", `${G1}/ThTien`],
      ["TOTALS_MISMATCH", "NDHDon/TToan/THTTLTSuat"],
    ]);
  });

  it("leaves promotion (2), note (4) and special goods (5) lines out of the sums", () => {
    const inv = base();
    inv.lines.push(line(2, "150000", "10%", "Khuyến mại"), line(4, null, null, "Ghi chú"), line(5, "99999", "8%", "Hàng đặc trưng"));
    expect(rules(inv)).toEqual([]);
  });

  it("counts lines without TSuat directly in TgTCThue (a sales invoice has no VAT groups)", () => {
    const inv = base();
    inv.form = "2";
    inv.lines = [line(1, "1000000", null), line(1, "250000", null)];
    inv.totals.byRate = [];
    inv.totals.totalBeforeTax = d("1250000");
    inv.totals.totalTax = d("0");
    inv.totals.totalPayable = d("1250000");
    expect(rules(inv)).toEqual([]);
    inv.totals.totalBeforeTax = d("1000000");
    inv.totals.totalPayable = d("1000000");
    expect(rules(inv)[0]!.message).toBe("TgTCThue is 1000000 but Σ LTSuat.ThTien + lines without TSuat is 1250000");
  });
});

describe("checkRules: KHAC rates", () => {
  it("computes KHAC:5.26 as 5.26%: 1,000,000 → 52,600", () => {
    expect(rules(single("1000000", "KHAC:5.26", "52600", "1052600"))).toEqual([]);
    expect(brief(rules(single("1000000", "KHAC:5.26", "52602", "1052602")))).toEqual([["TOTALS_MISMATCH", `${G1}/TThue`]]);
  });

  it("computes KHAC:3.50% with its percent sign: 12,345 → 432.075 → 432", () => {
    expect(rules(single("12345", "KHAC:3.50%", "432", "12777"))).toEqual([]);
    expect(rules(single("12345", "KHAC:3.50%", "433", "12778"))).toEqual([]);
    expect(brief(rules(single("12345", "KHAC:3.50%", "434", "12779")))).toEqual([["TOTALS_MISMATCH", `${G1}/TThue`]]);
  });
});

describe("checkRules: foreign currency", () => {
  function usd(): Invoice {
    const inv = single("100.5", "10%", "10.05", "110.55");
    inv.currency = "USD";
    inv.exchangeRate = d("25000");
    return inv;
  }

  it("accepts cents in a foreign currency (only VND totals must be whole)", () => {
    expect(rules(usd())).toEqual([]);
  });

  it("compares the tax with the exact product, ±1 unit of the currency", () => {
    const ok = usd();
    ok.totals.byRate[0]!.tax = d("11.05");
    ok.totals.totalTax = d("11.05");
    ok.totals.totalPayable = d("111.55");
    expect(rules(ok)).toEqual([]);
    const off = usd();
    off.totals.byRate[0]!.tax = d("11.06");
    off.totals.totalTax = d("11.06");
    off.totals.totalPayable = d("111.56");
    expect(brief(rules(off))).toEqual([["TOTALS_MISMATCH", `${G1}/TThue`]]);
  });

  it("converts the totals to VND with TGia", () => {
    expect(vndTotals(usd())).toEqual({
      totalBeforeTax: "2512500",
      totalTax: "251250",
      totalPayable: "2763750",
      exchangeRate: "25000",
      taxRates: [{ taxRate: "10%", amountBeforeTax: "2512500", tax: "251250" }],
    });
  });

  it("rounds each converted amount once to whole đồng, half away from zero", () => {
    const inv = usd();
    inv.exchangeRate = d("24567.89");
    // 100.5 × 24567.89 = 2469072.945; 10.05 × … = 246907.2945; 110.55 × … = 2715980.2395
    expect(vndTotals(inv)).toEqual({
      totalBeforeTax: "2469073",
      totalTax: "246907",
      totalPayable: "2715980",
      exchangeRate: "24567.89",
      taxRates: [{ taxRate: "10%", amountBeforeTax: "2469073", tax: "246907" }],
    });
  });

  it("keeps VND amounts as they are", () => {
    expect(vndTotals(base())).toEqual({
      totalBeforeTax: "4000000",
      totalTax: "384000",
      totalPayable: "4384000",
      exchangeRate: "1",
      taxRates: [
        { taxRate: "10%", amountBeforeTax: "3200000", tax: "320000" },
        { taxRate: "8%", amountBeforeTax: "800000", tax: "64000" },
      ],
    });
  });
});

describe("checkRules: adjustments and negative amounts", () => {
  /** A decrease adjustment: −1 × 1,000,000 at 8% → −80,000; payable −1,080,000. */
  function decrease(kind: "adjusts" | "replaces" | null): Invoice {
    const inv = single("-1000000", "8%", "-80000", "-1080000");
    inv.lines[0]!.quantity = d("-1");
    inv.lines[0]!.unitPrice = d("1000000");
    inv.related = kind === null ? null : { kind, relatedType: 1, form: "1", symbol: "C26TAA", number: "5", issueDate: "2026-03-01", note: null };
    return inv;
  }

  it("accepts negative amounts on an adjusting invoice (TCHDon 2)", () => {
    expect(rules(decrease("adjusts"))).toEqual([]);
  });

  it("refuses negative amounts on an ordinary invoice (TOTALS_MISMATCH at each field)", () => {
    const faults = rules(decrease(null));
    expect(brief(faults)).toEqual([
      ["TOTALS_MISMATCH", "NDHDon/DSHHDVu/HHDVu[1]/SLuong"],
      ["TOTALS_MISMATCH", "NDHDon/DSHHDVu/HHDVu[1]/ThTien"],
      ["TOTALS_MISMATCH", `${G1}/ThTien`],
      ["TOTALS_MISMATCH", `${G1}/TThue`],
      ["TOTALS_MISMATCH", "NDHDon/TToan/TgTCThue"],
      ["TOTALS_MISMATCH", "NDHDon/TToan/TgTThue"],
      ["TOTALS_MISMATCH", "NDHDon/TToan/TgTTTBSo"],
    ]);
    expect(faults[0]!.message).toBe("negative amount -1: only an adjusting invoice (TTHDLQuan/TCHDon = 2) may carry negative amounts");
  });

  it("refuses negative amounts on a replacing invoice (TCHDon 1)", () => {
    expect(rules(decrease("replaces")).length).toBe(7);
  });

  it("rounds a negative tax half away from zero: −12345 × 10% = −1234.5 → −1235", () => {
    const at = (tax: string, payable: string) => {
      const inv = single("-12345", "10%", tax, payable);
      inv.related = decrease("adjusts").related;
      return rules(inv);
    };
    expect(at("-1235", "-13580")).toEqual([]);
    expect(at("-1234", "-13579")).toEqual([]);
    expect(at("-1236", "-13581")).toEqual([]);
    expect(brief(at("-1233", "-13578"))).toEqual([["TOTALS_MISMATCH", `${G1}/TThue`]]);
    expect(brief(at("-1237", "-13582"))).toEqual([["TOTALS_MISMATCH", `${G1}/TThue`]]);
  });
});

describe("checkRules: order of the stages", () => {
  it("lists tax code, then symbol year, then issue date, then totals faults", () => {
    const inv = base();
    inv.totals.totalPayable = d("1");
    inv.issueDate = "2026-03-16";
    inv.symbol = "C25TAA";
    inv.seller.taxCode = "0310000025";
    expect(rules(inv).map((f) => f.code)).toEqual(["TAX_CODE_INVALID", "SYMBOL_YEAR_MISMATCH", "ISSUE_DATE_IN_FUTURE", "TOTALS_MISMATCH"]);
  });
});

describe("checkRules on invoices read from XML", () => {
  it("passes the real invoice of interop 03 on its issue day, refuses it the day before", () => {
    const text = readFileSync(join(INTEROP, "03_msg202_invoice_with_MCCQT_and_CQT_signature.xml"), "utf8");
    const inv = readXml(text);
    expect(rules(inv, "2021-11-25")).toEqual([]);
    expect(brief(rules(inv, "2021-11-24"))).toEqual([["ISSUE_DATE_IN_FUTURE", "TTChung/NLap"]]);
    expect(vndTotals(inv)).toEqual({ totalBeforeTax: "3200000", totalTax: "0", totalPayable: "3200000", exchangeRate: "1", taxRates: [{ taxRate: "KCT", amountBeforeTax: "3200000", tax: "0" }] });
  });

  it("passes the real invoice of interop 01 (a branch seller)", () => {
    const text = readFileSync(join(INTEROP, "01_msg200_invoice_sent_for_code_seller_signed.xml"), "utf8");
    expect(rules(readXml(text), "2021-11-27")).toEqual([]);
  });

  it("agrees with the test builder's independent totals on several rates, a discount and KHAC", () => {
    const xml = buildInvoice({
      issueDate: "2026-02-10",
      lines: [
        { name: "Máy tính", quantity: 3, unitPrice: "12345678", taxRate: "10%" },
        { name: "Dịch vụ lắp đặt", quantity: "2.5", unitPrice: "333333", taxRate: "8%" },
        { name: "Chiết khấu", quantity: 1, unitPrice: 0, amount: "50000", kind: 3, taxRate: "8%" },
        { name: "Vận chuyển", quantity: 1, unitPrice: "777777", taxRate: "KHAC:5.26" },
        { name: "Sách", quantity: 4, unitPrice: "85000", taxRate: "KCT" },
      ],
    });
    expect(rules(readXml(xml), "2026-02-10")).toEqual([]);
  });

  it("agrees with the test builder on a foreign-currency invoice", () => {
    const xml = buildInvoice({
      issueDate: "2026-02-10",
      currency: "USD",
      exchangeRate: "25430.5",
      lines: [
        { name: "Consulting", quantity: "1.5", unitPrice: "333.33", taxRate: "10%" },
        { name: "Licence", quantity: 1, unitPrice: "99.99", taxRate: "8%" },
      ],
    });
    const inv = readXml(xml);
    expect(rules(inv, "2026-02-10")).toEqual([]);
    expect(inv.currency).toBe("USD");
  });

  it("refuses a builder invoice whose 10% tax was raised by 2 đồng", () => {
    const xml = buildInvoice({ issueDate: "2026-02-10", overrides: { groups: { "10%": { TThue: "320002" } }, TgTThue: "320002", TgTTTBSo: "3520002" } });
    expect(brief(rules(readXml(xml), "2026-02-10"))).toEqual([["TOTALS_MISMATCH", `${G1}/TThue`]]);
  });
});
