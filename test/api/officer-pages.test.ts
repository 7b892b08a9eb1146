/**
 * The officer pages in process: token sign-in into a session cookie (HttpOnly, SameSite=Strict,
 * Path=/officer, Secure over https; only the id's hash kept), sign-out with its CSRF token,
 * expiry, the invoice detail with buyer, history and the XML, and that nothing opens without a session.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSecret } from "../../src/auth.js";
import { PAGE_CSP } from "../../src/web/http.js";
import { formatMoney, WORDS } from "../../src/web/i18n.js";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { todayGmt7 } from "../helpers/invoice.js";
import { readPageQr } from "../helpers/qr-read.js";
import { expectIssued } from "../helpers/refusal.js";

let h: Harness;
let s: TestSeller;
let officerToken: string;
let now = new Date();

beforeAll(async () => {
  h = await startHarness({ clock: () => now, rateLimits: { trustProxyHops: 1 }, publicUrl: "https://hoadon.example.vn/" });
  s = await h.seller();
  const r = await h.call("POST", "/v1/officers", { name: "Nguyễn Thị Kiểm Tra", taxOffice: "Cục Thuế TP Hà Nội" });
  officerToken = ((await r.json()) as { token: string }).token;
});
afterAll(async () => h?.close());

const form = (o: Record<string, string>) => ({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(o).toString() });

/** Signs in and returns the session id from the cookie. */
async function signIn(headers: Record<string, string> = {}): Promise<{ id: string; setCookie: string }> {
  const init = form({ token: officerToken });
  const r = await h.app.request("/officer/login", { ...init, headers: { ...init.headers, ...headers } });
  expect(r.status).toBe(303);
  expect(r.headers.get("location")).toBe("/officer");
  const setCookie = r.headers.get("set-cookie") ?? "";
  const id = /hoadon_officer=([^;]+)/.exec(setCookie)?.[1];
  expect(id).toBeDefined();
  return { id: id!, setCookie };
}
const withSession = (id: string, init: RequestInit = {}) => ({ ...init, headers: { ...(init.headers as Record<string, string>), cookie: `hoadon_officer=${id}` } });

describe("signing in", () => {
  it("shows the sign-in form without a session, with the pages' security headers", async () => {
    const r = await h.app.request("/officer");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-security-policy")).toBe(PAGE_CSP);
    const html = await r.text();
    expect(html).toContain('<label for="token">');
    expect(html).toContain('type="password"');
  });

  it("sets an HttpOnly, SameSite=Strict cookie for /officer holding a session id, never the token", async () => {
    const { id, setCookie } = await signIn();
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\/officer/);
    expect(setCookie).not.toMatch(/Secure/i);
    expect(setCookie).not.toContain(officerToken);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Only the hash is kept: the id itself finds nothing.
    expect(await h.services.sessions.findSession(hashSecret(id), now)).toMatchObject({ officerName: "Nguyễn Thị Kiểm Tra" });
    expect(await h.services.sessions.findSession(id, now)).toBeNull();
    const page = await (await h.app.request("/officer", withSession(id))).text();
    expect(page).toContain("Nguyễn Thị Kiểm Tra");
  });

  it("marks the cookie Secure behind a trusted https proxy", async () => {
    const { setCookie } = await signIn({ "x-forwarded-proto": "https" });
    expect(setCookie).toMatch(/Secure/);
  });

  it("refuses a wrong token, a seller's API key and the admin token (401, no cookie)", async () => {
    for (const token of ["hdo_wrong", s.apiKey, "hda_test-admin-token-0123456789"]) {
      const r = await h.app.request("/officer/login", form({ token }));
      expect(r.status, token).toBe(401);
      expect(r.headers.get("set-cookie")).toBeNull();
      expect(await r.text()).toContain("không phải của cán bộ thuế");
    }
  });

  it("ends the session after 8 hours", async () => {
    const { id } = await signIn();
    const saved = now;
    try {
      now = new Date(saved.getTime() + 8 * 3600_000 + 1000);
      const r = await h.app.request("/officer/invoices", withSession(id));
      expect(r.status).toBe(303);
    } finally {
      now = saved;
    }
  });
});

describe("signing out", () => {
  it("refuses a sign-out without the session's CSRF token (403), and signs out with it", async () => {
    const { id } = await signIn();
    const bad = await h.app.request("/officer/logout", withSession(id, form({ csrf: "forged" })));
    expect(bad.status).toBe(403);
    const page = await (await h.app.request("/officer", withSession(id))).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
    expect(csrf).toBeDefined();
    const out = await h.app.request("/officer/logout", withSession(id, form({ csrf: csrf! })));
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/hoadon_officer=;/);
    expect(await h.services.sessions.findSession(hashSecret(id), now)).toBeNull();
    expect((await h.app.request("/officer/invoices", withSession(id))).status).toBe(303);
  });
});

describe("the invoice detail", () => {
  it("shows the invoice with its buyer, history and QR, and downloads its XML", async () => {
    const { code, xml } = await expectIssued(h, s.invoice(), s.apiKey);
    expect((await h.call("POST", `/v1/invoices/${code}/cancellation`, { reason: "Lập trùng" }, s.apiKey)).status).toBe(200);
    const { id } = await signIn();
    const r = await h.app.request(`/officer/invoices/${code}?lang=en`, withSession(id));
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain(code);
    expect(html).toContain("Tax code: 0310000024"); // officers see the buyer
    expect(html).toContain("Cancelled");
    expect(html).toContain("Lập trùng");
    expect(html).toContain("3,520,000");
    expect(html).toContain(`href="/officer/invoices/${code}/xml"`);
    const x = await h.app.request(`/officer/invoices/${code}/xml`, withSession(id));
    expect(x.status).toBe(200);
    expect(x.headers.get("content-disposition")).toBe(`attachment; filename="${code}.xml"`);
    expect(await x.text()).toBe(xml);
  });

  it("shows a QR of the public buyer check of the code, and tables that scroll as keyboard-reachable named regions", async () => {
    const { code } = await expectIssued(h, s.invoice(), s.apiKey);
    const { id } = await signIn();
    const html = await (await h.app.request(`/officer/invoices/${code}`, withSession(id))).text();
    expect(readPageQr(html)).toBe(`https://hoadon.example.vn/?code=${code}`);
    expect(html).toContain('<div class="scroll" tabindex="0" role="group" aria-label="Lịch sử">');
  });

  it("opens an invoice typed into the code box, and says when there is none", async () => {
    const { code } = await expectIssued(h, s.invoice(), s.apiKey);
    const { id } = await signIn();
    const r = await h.app.request(`/officer/invoices?code=${code.toLowerCase()}`, withSession(id));
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe(`/officer/invoices/${code}`);
    expect((await h.app.request("/officer/invoices/00B7ED1EE40D31479DAE6D8235E8549FB3", withSession(id))).status).toBe(404);
  });

  it("opens nothing without a session: pages redirect to the sign-in, the XML too", async () => {
    const { code } = await expectIssued(h, s.invoice(), s.apiKey);
    for (const path of [`/officer/invoices/${code}`, `/officer/invoices/${code}/xml`, "/officer/invoices", `/officer/invoices/${code}?x=1`]) {
      const r = await h.app.request(path, withSession("A".repeat(43)));
      expect(r.status, path).toBe(303);
      expect(r.headers.get("location")).toBe("/officer");
    }
  });
});

describe("search and dashboard", () => {
  it("searches by seller and status and records the search in the audit log", async () => {
    const other = await h.seller();
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) codes.push((await expectIssued(h, other.invoice(), other.apiKey)).code);
    const { id } = await signIn();
    const r = await h.app.request(`/officer/invoices?lang=en&seller=${other.taxCode}&status=issued`, withSession(id));
    expect(r.status).toBe(200);
    const html = await r.text();
    for (const code of codes) expect(html).toContain(`href="/officer/invoices/${code}"`);
    expect(html).not.toContain(`>${s.taxCode}<`);
    const audit = await h.store.listAudit({ action: "invoice.search", limit: 10 });
    expect(JSON.stringify(audit, (_, v) => (typeof v === "bigint" ? String(v) : v))).toContain(`"seller":"${other.taxCode}"`);
  });

  it("says what is wrong with a filter instead of searching", async () => {
    const { id } = await signIn();
    const html = await (await h.app.request("/officer/invoices?lang=en&status=lost&from=2026-02-30", withSession(id))).text();
    expect(html).toContain("The request was not valid.");
    expect(html).not.toContain("<table>");
    // In Vietnamese, the filter is named by its Vietnamese label, nothing English.
    const vi = await (await h.app.request("/officer/invoices?seller=12", withSession(id))).text();
    expect(vi).toContain("Yêu cầu không hợp lệ. Vui lòng thử lại. Mã số thuế người bán: 12");
    expect(vi).not.toMatch(/seller: 12/);
  });

  it("draws revenue and tax by month, tax by rate and top sellers for a period", async () => {
    const seller = await h.seller();
    await expectIssued(h, seller.invoice({ lines: [{ name: "Sách", quantity: 2, unitPrice: 1_000_000, taxRate: "8%" }] }), seller.apiKey);
    const { id } = await signIn();
    const to = todayGmt7();
    const html = await (await h.app.request(`/officer?lang=en&from=2020-01-01&to=${to}`, withSession(id))).text();
    expect(html).toContain('aria-labelledby="month-chart-title month-chart-desc"');
    expect(html).toMatch(/<rect class="rev"/);
    expect(html).toContain(`<th scope="row">${to.slice(0, 7)}</th>`);
    expect(html).toContain('<th scope="row">8%</th>');
    expect(html).toContain(`Công ty TNHH Thử nghiệm ${seller.taxCode} (${seller.taxCode})`);
    expect(html).not.toMatch(/<script|\son[a-z]+=|style=/i);
  });

  it("shows revenue and tax by source (with a code, without a code, cash register, summary) and in all, in Vietnamese and in English, as the report gives them", async () => {
    const seller = await h.seller();
    await expectIssued(h, seller.invoice({ lines: [{ name: "Sách", quantity: 1, unitPrice: 3_000_000, taxRate: "10%" }] }), seller.apiKey);
    const { id } = await signIn();
    const to = todayGmt7();
    const report = await h.store.reportTotals({ from: "2020-01-01", to, groupBy: "source", seller: null });
    for (const lang of ["vi", "en"] as const) {
      const w = WORDS[lang];
      const html = await (await h.app.request(`/officer?lang=${lang}&from=2020-01-01&to=${to}`, withSession(id))).text();
      const section = /<section class="card" aria-labelledby="source-title">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? "";
      expect(section).toContain(`<h2 id="source-title">${w.bySource}</h2>`);
      expect(section).toContain('aria-labelledby="source-chart-title source-chart-desc"');
      expect(section).toContain(`<caption>${w.bySource}</caption>`);
      for (const key of ["coded", "uncoded", "cashRegister", "summary"] as const) {
        const r = report.rows.find((x) => x.key === key) ?? { invoices: 0n, revenue: "0", tax: "0" };
        const cells =
          `<th scope="row">${w.sourceName[key].replaceAll("'", "&#39;")}</th><td class="num">${formatMoney(String(r.invoices), lang)}</td>` +
          `<td class="num">${formatMoney(r.revenue, lang)}</td><td class="num">${formatMoney(r.tax, lang)}</td>`;
        expect(section, `${lang} ${key}`).toContain(cells);
      }
      expect(report.rows.find((x) => x.key === "coded")!.invoices).toBeGreaterThan(0n);
      const all = `<th scope="row">${w.allSources}</th><td class="num">${formatMoney(String(report.total.invoices), lang)}</td><td class="num">${formatMoney(report.total.revenue, lang)}</td>`;
      expect(section).toContain(all);
    }
  });
});

