/**
 * Error messages in Vietnamese (default) or English by Accept-Language: the code, details' codes
 * and paths never change; the message of the error and of every detail does. Vietnamese reuses
 * the MTLoi texts of the T-VAN table where no specific translation exists, and keeps the
 * parameters (codes, numbers) of a specific message.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pickLanguage, vietnamese } from "../../src/error-i18n.js";
import { ERRORS, type ErrorCode } from "../../src/errors.js";
import { TVAN_ERRORS } from "../../src/tvan/errors.js";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";

/** Letters only Vietnamese uses (with their diacritics): a message carrying none is not Vietnamese. */
const VIETNAMESE = /[ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]/i;

type Envelope = { error: { code: string; message: string; details: Array<{ code: string; message: string; path?: string }> } };

let h: Harness;
let seller: TestSeller;
beforeAll(async () => {
  h = await startHarness();
  seller = await h.seller();
});
afterAll(async () => h?.close());

describe("Accept-Language", () => {
  it("picks vi by default and for *, en when asked (by q)", () => {
    expect(pickLanguage(undefined)).toBe("vi");
    expect(pickLanguage("*")).toBe("vi");
    expect(pickLanguage("fr-FR, de")).toBe("vi");
    expect(pickLanguage("en")).toBe("en");
    expect(pickLanguage("en-US,en;q=0.9")).toBe("en");
    expect(pickLanguage("vi-VN, en;q=0.8")).toBe("vi");
    expect(pickLanguage("vi;q=0.3, en;q=0.7")).toBe("en");
    expect(pickLanguage("en;q=0, vi;q=0.1")).toBe("vi");
  });

  it("every default message has the MTLoi of its code in Vietnamese", () => {
    for (const code of Object.keys(ERRORS) as ErrorCode[]) expect(vietnamese(code, ERRORS[code].message)).toBe(TVAN_ERRORS[code].mtloi);
  });
});

describe("error answers in both languages", () => {
  async function tampered(lang?: string): Promise<{ status: number; body: Envelope; headers: Headers }> {
    const xml = seller.invoice().replace(/<SHDon>(\d+)<\/SHDon>/, (_, n: string) => `<SHDon>${Number(n) + 500}</SHDon>`);
    const res = await h.submit(xml, seller.apiKey, lang ? { "accept-language": lang } : {});
    return { status: res.status, body: (await res.json()) as Envelope, headers: res.headers };
  }

  it("a gate refusal: Vietnamese by default, English with en; same code, detail codes and paths", async () => {
    const vi = await tampered();
    const en = await tampered("en-US,en;q=0.9");
    expect(vi.status).toBe(422);
    expect(en.status).toBe(422);
    expect(vi.body.error.code).toBe("SIGNATURE_INVALID");
    expect(en.body.error.code).toBe("SIGNATURE_INVALID");
    expect(vi.headers.get("content-language")).toBe("vi");
    expect(en.headers.get("content-language")).toBe("en");
    expect(vi.body.error.message).toBe(TVAN_ERRORS.SIGNATURE_INVALID.mtloi);
    expect(en.body.error.message).not.toMatch(VIETNAMESE);
    expect(vi.body.error.details.map(({ code, path }) => ({ code, path }))).toEqual(en.body.error.details.map(({ code, path }) => ({ code, path })));
    expect(vi.body.error.details.length).toBeGreaterThan(0);
    for (const d of vi.body.error.details) expect(d.message).toMatch(VIETNAMESE);
    for (const d of en.body.error.details) expect(d.message).not.toMatch(VIETNAMESE);
  });

  it("a specific message keeps its parameters: a duplicate names the code already issued", async () => {
    const xml = seller.invoice();
    const first = (await (await h.submit(xml, seller.apiKey)).json()) as { code: string };
    const other = seller.invoice({ number: Number(/<SHDon>(\d+)<\/SHDon>/.exec(xml)![1]), lines: [{ name: "Khác", quantity: 1, unitPrice: 1000, taxRate: "10%" }] });
    const vi = (await (await h.submit(other, seller.apiKey)).json()) as Envelope;
    const en = (await (await h.submit(other, seller.apiKey, { "accept-language": "en" })).json()) as Envelope;
    expect(vi.error.code).toBe("DUPLICATE_INVOICE");
    expect(vi.error.message).toContain(first.code);
    expect(vi.error.message).toMatch(/^Hóa đơn mẫu số .* đã được cấp mã /);
    expect(en.error.message).toContain(first.code);
    expect(en.error.message).toMatch(/was already issued with code/);
  });

  it("errors of the HTTP layer too: no credential, an unknown path, a wrong media type", async () => {
    const noKey = (await (await h.app.request("/v1/invoices", { method: "POST", body: "<HDon/>", headers: { "content-type": "application/xml" } })).json()) as Envelope;
    expect(noKey.error.code).toBe("UNAUTHENTICATED");
    expect(noKey.error.message).toMatch(VIETNAMESE);
    const missing = (await (await h.app.request("/v1/nothing-here", { headers: { "accept-language": "vi" } })).json()) as Envelope;
    expect(missing.error).toMatchObject({ code: "NOT_FOUND", message: "Không có địa chỉ (endpoint) này." });
    const missingEn = (await (await h.app.request("/v1/nothing-here", { headers: { "accept-language": "en" } })).json()) as Envelope;
    expect(missingEn.error.message).toBe("No such endpoint.");
    const media = (await (await h.submit("<HDon/>", seller.apiKey, { "content-type": "text/plain" })).json()) as Envelope;
    expect(media.error).toMatchObject({ code: "UNSUPPORTED_MEDIA_TYPE", message: "Gửi hóa đơn với Content-Type application/xml (UTF-8)." });
  });

  it("each refused item of a batch, in the caller's language", async () => {
    const bad = seller.invoice().replace(/<SHDon>(\d+)<\/SHDon>/, (_, n: string) => `<SHDon>${Number(n) + 700}</SHDon>`);
    const ask = async (lang: string) =>
      (await (await h.call("POST", "/v1/invoices/batch", { invoices: [bad] }, seller.apiKey, { "accept-language": lang })).json()) as { results: Array<{ status: number; error: Envelope["error"] }> };
    const vi = await ask("vi");
    const en = await ask("en");
    expect(vi.results[0]!.error.code).toBe("SIGNATURE_INVALID");
    expect(vi.results[0]!.error.message).toBe(TVAN_ERRORS.SIGNATURE_INVALID.mtloi);
    expect(en.results[0]!.error.code).toBe("SIGNATURE_INVALID");
    expect(en.results[0]!.error.message).not.toMatch(VIETNAMESE);
  });
});

describe("the business rules' messages in Vietnamese keep their figures", () => {
  it.each([
    [
      "TOTALS_MISMATCH",
      "TgTTTBSo is 4384001 but TgTCThue + TgTThue + Σ TPhi − TTCKTMai − TGTKhac is 4384000 (±1 allowed)",
      "TgTTTBSo là 4384001 nhưng TgTCThue + TgTThue + Σ TPhi − TTCKTMai − TGTKhac là 4384000 (cho phép chênh lệch ±1)",
    ],
    ["TOTALS_MISMATCH", "TThue of 10% is 320002 but 3200000 × 10% is 320000 (±1 allowed)", "TThue của thuế suất 10% là 320002 nhưng 3200000 × 10% là 320000 (cho phép chênh lệch ±1)"],
    ["TAX_CODE_INVALID", 'seller tax code "0310000025": wrong check digit', 'mã số thuế người bán "0310000025": sai chữ số kiểm tra'],
    ["SYMBOL_YEAR_MISMATCH", "symbol C25TAA names year 25 but NLap 2026-03-15 is in year 26", "ký hiệu C25TAA ghi năm 25 nhưng ngày lập 2026-03-15 thuộc năm 26"],
    ["TOTALS_MISMATCH", "something no pattern knows", TVAN_ERRORS.TOTALS_MISMATCH.mtloi],
  ] as const)("%s: %s", (code, english, expected) => {
    expect(vietnamese(code, english)).toBe(expected);
  });
});
