/**
 * The buyer's page (GET /, POST /) in process: what it answers for each lookup, in both
 * languages, and the security headers. The browser suite (test/e2e) drives the same page in Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAGE_CSP } from "../../src/web/http.js";
import { startHarness, type Harness, type TestSeller } from "../helpers/app.js";
import { nextNumber, todayGmt7 } from "../helpers/invoice.js";
import { expectIssued } from "../helpers/refusal.js";

let h: Harness;
let s: TestSeller;

beforeAll(async () => {
  h = await startHarness();
  s = await h.seller();
});
afterAll(async () => h?.close());

const page = async (path: string, init?: RequestInit) => {
  const r = await h.app.request(path, init);
  return { r, html: await r.text() };
};
const symbol = () => `C${todayGmt7().slice(2, 4)}TAA`;

function upload(xml: string, lang = "vi") {
  const form = new FormData();
  form.set("invoice", new Blob([xml], { type: "application/xml" }), "invoice.xml");
  return page(`/?lang=${lang}`, { method: "POST", body: form });
}

describe("GET /", () => {
  it("serves the lookup forms in Vietnamese, with strict security headers and no script", async () => {
    const { r, html } = await page("/");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/html/);
    expect(r.headers.get("content-security-policy")).toBe(PAGE_CSP);
    expect(PAGE_CSP).toContain("frame-ancestors 'none'");
    expect(r.headers.get("x-frame-options")).toBe("DENY");
    expect(html).toContain('<html lang="vi">');
    expect(html).toContain("Kiểm tra hóa đơn điện tử");
    expect(html).not.toMatch(/<script|\son[a-z]+=|style=/i);
    for (const id of ["code", "seller", "form", "symbol", "number", "total", "invoice"]) expect(html).toContain(`<label for="${id}">`);
  });

  it("switches to English with ?lang=en and remembers it in a cookie", async () => {
    const { r, html } = await page("/?lang=en");
    expect(html).toContain('<html lang="en">');
    expect(html).toContain("Check an e-invoice");
    const cookie = r.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/hoadon_lang=en/);
    const again = await page("/", { headers: { cookie: "hoadon_lang=en" } });
    expect(again.html).toContain('<html lang="en">');
  });

  it("says a genuine invoice found by its code is genuine, with seller, date, amounts and the QR, and no buyer data", async () => {
    const { code } = await expectIssued(h, s.invoice(), s.apiKey);
    const { html } = await page(`/?code=${code.toLowerCase()}`);
    expect(html).toContain("Hóa đơn thật");
    expect(html).toContain("Đang có hiệu lực.");
    expect(html).toContain(s.taxCode);
    expect(html).toContain("3.520.000 ₫");
    expect(html).toContain(`<img src="data:image/svg+xml;base64,`);
    expect(html).not.toContain("0310000024");
    expect(html).not.toContain("Sài Gòn");
  });

  it("finds an invoice by seller, form, symbol, number and total, also with the total as printed (3.520.000)", async () => {
    const number = nextNumber();
    await expectIssued(h, s.invoice({ number }), s.apiKey);
    const { html } = await page(`/?lang=en&seller=${s.taxCode}&form=1&symbol=${symbol().toLowerCase()}&number=${number}&total=3.520.000`);
    expect(html).toContain("Genuine invoice");
    const wrong = await page(`/?lang=en&seller=${s.taxCode}&form=1&symbol=${symbol()}&number=${number}&total=3520001`);
    expect(wrong.html).toContain("No such invoice");
  });

  it("calls a made-up code out as not found, and asks for a proper code when it is not one", async () => {
    expect((await page("/?code=00B7ED1EE40D31479DAE6D8235E8549FB3")).html).toContain("Không tìm thấy hóa đơn");
    const bad = await page("/?lang=en&code=12345");
    expect(bad.html).toContain("has 34 characters");
    expect(bad.html).toContain('aria-invalid="true"');
  });

  it("says a cancelled invoice is genuine but cancelled", async () => {
    const { code } = await expectIssued(h, s.invoice(), s.apiKey);
    expect((await h.call("POST", `/v1/invoices/${code}/cancellation`, { reason: "Sai thông tin" }, s.apiKey)).status).toBe(200);
    const { html } = await page(`/?lang=en&code=${code}`);
    expect(html).toContain("Genuine invoice");
    expect(html).toContain("Cancelled: genuine but no longer valid.");
  });
});

describe("POST / (the file upload)", () => {
  it("verifies a genuine file and shows every check passed", async () => {
    const { xml } = await expectIssued(h, s.invoice(), s.apiKey);
    const { r, html } = await upload(xml, "en");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-security-policy")).toBe(PAGE_CSP);
    expect(html).toContain("Genuine invoice");
    expect(html.match(/✓ Passed/g)).toHaveLength(4);
  });

  it("calls a tampered file out, names the failing checks and shows the genuine invoice with that code", async () => {
    const { xml } = await expectIssued(h, s.invoice(), s.apiKey);
    const tampered = xml.replace(/<TgTTTBSo>[^<]*<\/TgTTTBSo>/, "<TgTTTBSo>9520000</TgTTTBSo>");
    const { html } = await upload(tampered, "en");
    expect(html).toContain("NOT a genuine invoice");
    expect(html).toContain("✗ Failed");
    expect(html).toContain("The genuine invoice with this code");
    expect(html).toContain("3,520,000 ₫");
  });

  it("says a file that is not XML cannot be read", async () => {
    expect((await upload("hello", "en")).html).toContain("The file cannot be read");
  });

  it("asks for a file when none was sent", async () => {
    const { html } = await page("/?lang=en", { method: "POST", body: new FormData() });
    expect(html).toContain("Please choose an XML file.");
  });
});

describe("/assets/hoadon.css", () => {
  it("is served as CSS from the app itself", async () => {
    const r = await h.app.request("/assets/hoadon.css");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/css/);
    expect(await r.text()).toContain("body{");
  });
});

describe("rate limits on the page forms", () => {
  it("limits the buyer's page and its upload, and the officer's sign-in, per client address", async () => {
    const limited = await startHarness({ rateLimits: { publicPerMinute: 2 } });
    try {
      expect((await limited.app.request("/")).status).toBe(200);
      expect((await limited.app.request("/?code=00B7ED1EE40D31479DAE6D8235E8549FB3")).status).toBe(200);
      const upload = await limited.app.request("/", { method: "POST", body: new FormData() });
      expect(upload.status).toBe(429);
      expect(upload.headers.get("retry-after")).toMatch(/^\d+$/);
      const login = await limited.app.request("/officer/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "token=x" });
      expect(login.status).toBe(429);
    } finally {
      await limited.close();
    }
  });
});
