/**
 * T-VAN 400 (summary tables 01/TH-HĐĐT) → 204 (LTBao 2, 4, 5, 9), tvan.md §9 and §10: tables
 * built here and signed by the tests' own signer and by xmlsec1 (no real 400 is shared), the
 * header refused whole, a row alone, the period's sequence, what later rows take out of the
 * totals; the answer signed and replayed byte for byte. PGlite, and PostgreSQL with DATABASE_URL.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../src/storage/db.js";
import type { PgStore } from "../../src/storage/pg-store.js";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { todayGmt7 } from "../helpers/invoice.js";
import { verifyWithXmlsec1, xmlsec1Available } from "../helpers/sign.js";
import { packageTdiep, readReply, registrationForm, type SummaryRowFields, signForm, signSummary, signSummaryWithXmlsec1, summaryTable, tdiep, verifyNoticeSignature } from "../helpers/tvan.js";

let h: Harness;
let officer: string;
let authorityPem: string;
const TODAY = todayGmt7();
const K = `K${TODAY.slice(2, 4)}TAA`;

beforeAll(async () => {
  h = await startHarness();
  officer = await h.officer("Đỗ Văn Tổng", "Cục Thuế TP Hà Nội");
  authorityPem = join(mkdtempSync(join(tmpdir(), "hoadon-400-")), "authority.pem");
  writeFileSync(authorityPem, h.authorityCertPem);
}, 180_000);
afterAll(async () => h?.close());

const post = (s: { apiKey: string }, xml: string): Promise<string> => h.message(xml, s.apiKey);

/** A seller registered for summary tables (KCMa 1 through a T-VAN, CBTHop 1): held for an officer (2004), who accepts. */
async function summarySeller(): Promise<TestSeller> {
  const s = await h.seller();
  const form = registrationForm({ mst: s.taxCode, flags: { CMa: "0", KCMa: "1", CDLQTCTN: "1", CDDu: "0", CBTHop: "1" }, certificates: [{ serial: s.serial, action: "1" }] });
  expect(readReply(await post(s, tdiep("100", signForm(form, s), { mst: s.taxCode }).xml)).one("TBao/DLTBao/THop")).toBe("1");
  const pending = (await (await h.call("GET", `/v1/registrations?seller=${s.taxCode}&status=pending`, undefined, officer)).json()) as { items: { id: string; holdReasons: { mloi: string }[] }[] };
  expect(pending.items[0]!.holdReasons.map((r) => r.mloi)).toEqual(["2004"]);
  expect((await h.call("POST", `/v1/registrations/${pending.items[0]!.id}/decision`, { decision: "accept" }, officer)).status).toBe(200);
  return s;
}

const row = (number: number, o: SummaryRowFields = {}): SummaryRowFields => ({
  KHMSHDon: "1",
  KHHDon: K,
  SHDon: String(number),
  NLap: TODAY,
  TNMua: "Khách lẻ",
  TTCThue: "1000000",
  TSuat: "10%",
  TgTThue: "100000",
  TgTTToan: "1100000",
  TThai: "0",
  ...o,
});

const send = async (s: TestSeller, tables: string[]) => {
  const sent = packageTdiep("400", tables, { mst: s.taxCode });
  const text = await post(s, sent.xml);
  return { r: readReply(text), text, sent };
};

async function rows(seller: string): Promise<{ number: string | null; status: number; tax_rate: string | null; counted: boolean }[]> {
  return (h.store as PgStore).db.query(sql`
    select r.number, r.status, r.tax_rate, r.counted from summary_rows r
      join tvan_messages m on m.seller_tax_code = r.seller_tax_code and m.message_id = r.message_id
     where r.seller_tax_code = ${seller} order by m.received_at, r.table_position, r.position`);
}

/** GET /v1/reports/totals for the seller on TODAY, as an officer. */
async function totals(s: TestSeller, query: string): Promise<{ rows: { key: string; invoices: number; revenue: string; tax: string }[]; total: { invoices: number; revenue: string; tax: string } }> {
  const res = await h.call("GET", `/v1/reports/totals?from=${TODAY}&to=${TODAY}&seller=${s.taxCode}${query ? `&${query}` : ""}`, undefined, officer);
  expect(res.status).toBe(200);
  return (await res.json()) as Awaited<ReturnType<typeof totals>>;
}

describe("400 → 204", () => {
  it("accepts a first table and then a supplement (signed by the tests' signer, then xmlsec1): LTBao 2, signed; rows kept; " +
    "a cancellation and a correction take earlier rows out of the totals; a replay answers byte for byte", async () => {
    const s = await summarySeller();
    const first = signSummary(summaryTable({ mst: s.taxCode }, [row(1), row(1, { TSuat: "8%", TgTThue: "80000", TgTTToan: "1080000" }), row(2)]), s);
    const { r, text, sent } = await send(s, [first]);
    expect(r.ttchung).toMatchObject({ MLTDiep: "204", MTDTChieu: sent.id, MST: s.taxCode, SLuong: "1" });
    expect(r.one("TBao/DLTBao/LTBao")).toBe("2");
    expect(r.one("TBao/DLTBao/CCu")).toBe("Thông điệp chuyển bảng tổng hợp dữ liệu hóa đơn điện tử đến CQT");
    expect(verifyNoticeSignature(text, h.authorityCertPem).ok).toBe(true);
    if (xmlsec1Available()) expect(verifyWithXmlsec1(text, { nodeXpath: "//*[local-name()='CQT']/*[local-name()='Signature']", trustedPem: authorityPem, idAttrs: ["DLTBao"] }).ok).toBe(true);
    expect((await rows(s.taxCode)).map((x) => [x.number, x.tax_rate, x.counted])).toEqual([["1", "10%", true], ["1", "8%", true], ["2", "10%", true]]);
    // The rows count in the totals under source `summary` (each row once, its rate), and in all.
    expect(await totals(s, "groupBy=source")).toEqual({ rows: [{ key: "summary", invoices: 3, revenue: "3000000", tax: "280000" }], total: { invoices: 3, revenue: "3000000", tax: "280000" } });
    expect(await totals(s, "groupBy=taxRate&source=summary")).toEqual({
      rows: [
        { key: "10%", invoices: 2, revenue: "2000000", tax: "200000" },
        { key: "8%", invoices: 1, revenue: "1000000", tax: "80000" },
      ],
      total: { invoices: 3, revenue: "3000000", tax: "280000" },
    });
    expect((await totals(s, "source=coded")).total).toEqual({ invoices: 0, revenue: "0", tax: "0" });
    const before = await h.store.countRows();
    expect(await post(s, sent.xml)).toBe(text);
    expect(await h.store.countRows()).toEqual(before);

    const supplementRows = [
      row(1, { TThai: "1", LHDCLQuan: "1", TTCThue: undefined, TgTThue: undefined, TgTTToan: undefined, TSuat: undefined }),
      row(2, { TThai: "5", TTCThue: "2000000", TgTThue: "200000", TgTTToan: "2200000" }),
    ];
    const supplement = summaryTable({ mst: s.taxCode, number: 2, supplement: 1 }, supplementRows);
    const signed = xmlsec1Available() ? signSummaryWithXmlsec1(supplement, s) : signSummary(supplement, s);
    const second = await send(s, [signed]);
    expect(second.r.one("TBao/DLTBao/LTBao"), second.text).toBe("2");
    expect((await rows(s.taxCode)).map((x) => [x.number, x.status, x.tax_rate, x.counted])).toEqual([
      ["1", 0, "10%", false],
      ["1", 0, "8%", false],
      ["2", 0, "10%", false],
      ["1", 1, null, false],
      ["2", 5, "10%", true],
    ]);
    // The cancelled invoice's two rows and the corrected row are out; the correction counts.
    expect(await totals(s, "groupBy=source")).toEqual({ rows: [{ key: "summary", invoices: 1, revenue: "2000000", tax: "200000" }], total: { invoices: 1, revenue: "2000000", tax: "200000" } });
    expect((await totals(s, "")).total).toEqual({ invoices: 1, revenue: "2000000", tax: "200000" });
  });

  it("judges two messages carrying the same first table for one period, sent at once: one is accepted, the other refused out of sequence (4009), never a 500", async () => {
    const s = await summarySeller();
    const tables = [signSummary(summaryTable({ mst: s.taxCode }, [row(1)]), s), signSummary(summaryTable({ mst: s.taxCode }, [row(2)]), s)];
    const answers = await Promise.all(tables.map((t) => send(s, [t])));
    expect(answers.map((a) => a.r.one("TBao/DLTBao/LTBao")).sort()).toEqual(["2", "4"]);
    const refused = answers.find((a) => a.r.one("TBao/DLTBao/LTBao") === "4")!;
    expect(refused.text).toContain("4009");
    expect((await rows(s.taxCode)).length).toBe(1);
  });

  it("answers LTBao 4 listing a table refused by its header (out of sequence 4009, its signature broken 2005) and the rows refused alone " +
    "(totals 3005, reported before 4003, an unknown invoice cancelled 4004), and keeps the rest", async () => {
    const s = await summarySeller();
    expect((await send(s, [signSummary(summaryTable({ mst: s.taxCode }, [row(1)]), s)])).r.one("TBao/DLTBao/LTBao")).toBe("2");
    const again = signSummary(summaryTable({ mst: s.taxCode }, [row(5)]), s);
    const broken = signSummary(summaryTable({ mst: s.taxCode, periodKind: "Q", period: `${Math.ceil(Number(TODAY.slice(5, 7)) / 3)}/${TODAY.slice(0, 4)}` }, [row(6)]), s).replace("<SHDon>6</SHDon>", "<SHDon>7</SHDon>");
    const mixed = signSummary(
      summaryTable({ mst: s.taxCode, number: 2, supplement: 1 }, [
        row(10, { STT: "1", TgTTToan: "1200000" }),
        row(1, { STT: "2" }),
        row(99, { STT: "3", TThai: "1", LHDCLQuan: "1" }),
        row(11, { STT: "4" }),
      ]),
      s,
    );
    const { r, text } = await send(s, [again, broken, mixed]);
    expect(r.one("TBao/DLTBao/LTBao"), text).toBe("4");
    expect(r.all("TBao/DLTBao/LBTHKXDau/DSBTHop/BTHop/STT")).toEqual(["1", "2", "3"]);
    expect(r.all("TBao/DLTBao/LBTHKXDau/DSBTHop/BTHop/DSLDTTChung/LDTTChung/MLoi")).toEqual(["4009", "2005"]);
    expect(r.all("TBao/DLTBao/LBTHKXDau/DSBTHop/BTHop/DSLHDon/HDon/STT")).toEqual(["1", "2", "3"]);
    expect(r.all("TBao/DLTBao/LBTHKXDau/DSBTHop/BTHop/DSLHDon/HDon/DSLDo/LDo/MLoi")).toEqual(["3005", "4003", "4004"]);
    expect(verifyNoticeSignature(text, h.authorityCertPem).ok).toBe(true);
    expect((await rows(s.taxCode)).map((x) => x.number).sort()).toEqual(["1", "11"]);
  });

  it("answers LTBao 5 for a fuel table (daily) with a row missing its product, and LTBao 9 for mixed fuel and other tables (3001) or a seller not registered for summary tables (4008)", async () => {
    const s = await summarySeller();
    const fuelRow = (o: SummaryRowFields = {}): SummaryRowFields => ({
      MHHDVu: "RON95", THHDVu: "Xăng RON 95-III", DVTinh: "lít", SLuong: "1000", TTCThue: "20000000", TSuat: "10%",
      TgTThue: "2000000", TgTTToan: "22000000", TThai: "0", ...o,
    });
    const fuel = signSummary(summaryTable({ mst: s.taxCode, periodKind: "N", lhhoa: 1 }, [fuelRow(), fuelRow({ MHHDVu: undefined, STT: "2" })]), s);
    const r5 = (await send(s, [fuel])).r;
    expect(r5.one("TBao/DLTBao/LTBao")).toBe("5");
    expect(r5.all("TBao/DLTBao/LBTHXDau/DSBTHop/BTHop/DSLMHang/MHang/STT")).toEqual(["2"]);
    expect(r5.all("TBao/DLTBao/LBTHXDau/DSBTHop/BTHop/DSLMHang/MHang/DSLDo/LDo/MLoi")).toEqual(["3001"]);
    expect((await rows(s.taxCode)).map((x) => x.counted)).toEqual([true]);

    const before = await h.store.countRows();
    const mixed = (await send(s, [signSummary(summaryTable({ mst: s.taxCode, periodKind: "N", lhhoa: 1, number: 2, supplement: 1 }, [fuelRow()]), s), signSummary(summaryTable({ mst: s.taxCode }, [row(1)]), s)])).r;
    expect(mixed.one("TBao/DLTBao/LTBao")).toBe("9");
    expect(mixed.all("TBao/DLTBao/KHLKhac/DSLDo/LDo/MLoi")).toEqual(["3001"]);
    const other = await h.seller();
    const r9 = (await send(other, [signSummary(summaryTable({ mst: other.taxCode }, [row(1)]), other)])).r;
    expect(r9.all("TBao/DLTBao/KHLKhac/DSLDo/LDo/MLoi")).toEqual(["4008"]);
    const after = await h.store.countRows();
    expect([after.summary_tables, after.summary_rows]).toEqual([before.summary_tables, before.summary_rows]);
  });
});

