/**
 * The buyer's page (GET /, POST /) in process: what it answers for each lookup, in both
 * languages, and the security headers. The browser suite (test/e2e) drives the same page in Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAGE_CSP } from "../../src/web/http.js";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { nextNumber, todayGmt7 } from "../helpers/invoice.js";
import { readPageQr } from "../helpers/qr-read.js";
import { expectIssued } from "../helpers/refusal.js";

let h: Harness;
let s: TestSeller;
const PUBLIC = "https://hoadon.example.vn/tra-cuu/";

beforeAll(async () => {
  h = await startHarness({ publicUrl: PUBLIC });
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

/** The text of <main>, tags out. */
const mainText = (html: string) =>
  html
    .slice(html.indexOf("<main"), html.indexOf("</main>"))
    .replace(/<[^>]+>/g, " ")
    .replace(/&[a-z#0-9]+;/g, " ");
/** English words a Vietnamese page must not show (technical messages leaking through). */
const ENGLISH = /\b(the|is|was|not|does|of|and|invoice|signature|code|data|valid|error|digest|certificate|found|with)\b/i;
/** The result section of a page (up to the first lookup form). */
const resultOf = (html: string) => html.slice(html.indexOf('aria-labelledby="result-title"'), html.indexOf('aria-labelledby="by-code"'));

describe("the QR a phone camera can use", () => {
  it("encodes the public buyer check with the code (HOADON_PUBLIC_URL), and that URL opens the verdict", async () => {
    const { code } = await expectIssued(h, s.invoice(), s.apiKey);
    const { html } = await page(`/?code=${code}`);
    const url = readPageQr(html, 'aria-labelledby="result-title"');
    expect(url).toBe(`${PUBLIC}?code=${code}`);
    // What the camera opens, as the service sees it behind the public URL's path.
    const opened = await page(`/${new URL(url).search}`);
    expect(resultOf(opened.html)).toContain("Hóa đơn thật");
    expect(resultOf(opened.html)).toContain(code);
  });

  it("uses the request's own origin when HOADON_PUBLIC_URL is unset", async () => {
    const { code } = await expectIssued(h, s.invoice(), s.apiKey);
    const services = h.services as { publicUrl?: string };
    delete services.publicUrl;
    try {
      const html = await (await h.app.request(`http://127.0.0.1:8080/?code=${code}`)).text();
      expect(readPageQr(html, 'aria-labelledby="result-title"')).toBe(`http://127.0.0.1:8080/?code=${code}`);
    } finally {
      services.publicUrl = PUBLIC;
    }
  });

  it("finds the invoice from the DLQRCode data of the XML pasted into the code box, and from the QR's URL", async () => {
    const number = nextNumber();
    const { code, xml } = await expectIssued(h, s.invoice({ number }), s.apiKey);
    const dlqr = /<DLQRCode>([^<]*)<\/DLQRCode>/.exec(xml)![1]!;
    const byData = await page(`/?code=${encodeURIComponent(dlqr)}`);
    expect(resultOf(byData.html)).toContain("Hóa đơn thật");
    expect(resultOf(byData.html)).toContain(code);
    const byUrl = await page(`/?code=${encodeURIComponent(`${PUBLIC}?code=${code.toLowerCase()}`)}`);
    expect(resultOf(byUrl.html)).toContain(code);
    // A broken checksum is said in words, not looked up.
    const broken = dlqr.slice(0, -1) + (dlqr.endsWith("0") ? "1" : "0");
    const bad = await page(`/?code=${encodeURIComponent(broken)}`);
    expect(bad.html).toContain("Nội dung mã QR không đọc được");
    expect(bad.html).toContain('aria-invalid="true"');
    // The pasted data is shown back as it was typed.
    expect(bad.html).toContain(`value="${broken}"`);
  });
});

describe("the verdict", () => {
  it("headlines a cancelled invoice as cancelled, with its status said once", async () => {
    const { code } = await expectIssued(h, s.invoice(), s.apiKey);
    expect((await h.call("POST", `/v1/invoices/${code}/cancellation`, { reason: "Sai thông tin" }, s.apiKey)).status).toBe(200);
    const vi = resultOf((await page(`/?code=${code}`)).html);
    expect(/<h2 id="result-title">[\s\S]*?<\/h2>/.exec(vi)![0]).toContain("Hóa đơn thật nhưng đã bị hủy, không còn giá trị");
    expect(vi).toContain('class="verdict warn"');
    expect(vi.match(/Đã bị hủy: hóa đơn thật nhưng không còn giá trị\./g)).toHaveLength(1);
    expect(vi.match(/Trạng thái/g)).toHaveLength(1);
    const en = resultOf((await page(`/?lang=en&code=${code}`)).html);
    expect(/<h2 id="result-title">[\s\S]*?<\/h2>/.exec(en)![0]).toContain("Genuine invoice but cancelled");
    expect(en.match(/Status/g)).toHaveLength(1);
  });

  it("headlines a replaced invoice as replaced, and its replacement as genuine", async () => {
    const number = nextNumber();
    const { code } = await expectIssued(h, s.invoice({ number }), s.apiKey);
    const { code: newCode } = await expectIssued(h, s.invoice({ related: { kind: 1, form: "1", symbol: symbol(), number, issueDate: todayGmt7() } }), s.apiKey);
    const old = resultOf((await page(`/?code=${code}`)).html);
    expect(/<h2 id="result-title">[\s\S]*?<\/h2>/.exec(old)![0]).toContain("Hóa đơn thật nhưng đã bị thay thế");
    expect(old.match(/Trạng thái/g)).toHaveLength(1);
    const fresh = resultOf((await page(`/?code=${newCode}`)).html);
    expect(/<h2 id="result-title">[\s\S]*?<\/h2>/.exec(fresh)![0]).toMatch(/Hóa đơn thật\s*<\/h2>/);
    expect(fresh).toContain('class="verdict ok"');
  });

  it("headlines an uploaded file of a cancelled invoice as cancelled too", async () => {
    const { code, xml } = await expectIssued(h, s.invoice(), s.apiKey);
    expect((await h.call("POST", `/v1/invoices/${code}/cancellation`, { reason: "Lập trùng" }, s.apiKey)).status).toBe(200);
    const html = resultOf((await upload(xml)).html);
    expect(/<h2 id="result-title">[\s\S]*?<\/h2>/.exec(html)![0]).toContain("đã bị hủy");
    expect(html.match(/Trạng thái/g)).toHaveLength(1);
  });
});

describe("the symbol as printed", () => {
  it("accepts form and symbol together (1C26TAA), with the form box empty or the same", async () => {
    const number = nextNumber();
    await expectIssued(h, s.invoice({ number }), s.apiKey);
    for (const q of [`form=&symbol=1${symbol()}`, `symbol=1${symbol().toLowerCase()}`, `form=1&symbol=1${symbol()}`]) {
      const { html } = await page(`/?seller=${s.taxCode}&${q}&number=${number}&total=3520000`);
      expect(resultOf(html), q).toContain("Hóa đơn thật");
    }
  });

  it("says so when the form typed differs from the one printed before the symbol", async () => {
    const { html } = await page(`/?seller=${s.taxCode}&form=2&symbol=1${symbol()}&number=1&total=3520000`);
    expect(html).toContain("Mẫu số không khớp");
    expect(html).not.toContain('id="result-title"');
  });
});

describe("Vietnamese pages carry no English", () => {
  it("names a tampered file's failing checks in Vietnamese only", async () => {
    const { xml } = await expectIssued(h, s.invoice(), s.apiKey);
    const { html } = await upload(xml.replace(/<TgTTTBSo>[^<]*<\/TgTTTBSo>/, "<TgTTTBSo>9520000</TgTTTBSo>"));
    expect(html).toContain("Không đạt");
    expect(mainText(html)).not.toMatch(ENGLISH);
    expect(html).not.toContain('lang="en">(');
  });

  it("says in Vietnamese why a file cannot be read", async () => {
    const { html } = await upload("<HDon><DLHDon>");
    expect(html).toContain("Không đọc được tệp");
    expect(mainText(html)).not.toMatch(ENGLISH);
    // English keeps the technical reason.
    expect((await upload("<HDon><DLHDon>", "en")).html).toMatch(/The file cannot be read[\s\S]*class="hint"/);
  });

  it("shows a found invoice, a made-up code and a bad input without English words", async () => {
    const { code } = await expectIssued(h, s.invoice(), s.apiKey);
    for (const path of [`/?code=${code}`, "/?code=00B7ED1EE40D31479DAE6D8235E8549FB3", "/?code=123", `/?seller=${s.taxCode}&symbol=X`]) {
      expect(mainText((await page(path)).html), path).not.toMatch(ENGLISH);
    }
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
