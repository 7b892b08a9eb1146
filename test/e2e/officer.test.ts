/**
 * The officer in Chromium, in a desktop window: sign-in with a token (the cookie the browser
 * gets), search, invoice detail and its XML, the dashboard's charts, sign-out; axe-core on each page.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestSeller } from "../helpers/app.js";
import { expectIssued } from "../helpers/refusal.js";
import { expectAccessible, newPage, PHONE, type Rig, shot, startRig } from "./browser.js";

const DESKTOP = { width: 1280, height: 900 };

/** Signs in through the form (Vietnamese). */
async function signIn(page: Page): Promise<void> {
  await page.goto("/officer");
  await page.getByLabel("Mã truy cập cán bộ").fill(token);
  await page.getByRole("button", { name: "Đăng nhập" }).click();
  await page.waitForSelector("text=Trần Văn Cán Bộ");
}
let rig: Rig;
/** The service's clock when set; else the real one. */
let clock: Date | null = null;
let s: TestSeller;
let token: string;

beforeAll(async () => {
  rig = await startRig({ clock: () => clock ?? new Date() });
  s = await rig.h.seller();
  const r = await rig.h.call("POST", "/v1/officers", { name: "Trần Văn Cán Bộ", taxOffice: "Cục Thuế TP Hà Nội" });
  token = ((await r.json()) as { token: string }).token;
});
afterAll(async () => rig?.close());

describe("the officer", () => {
  it("signs in with a token and gets an HttpOnly, SameSite=Strict session cookie", async () => {
    const { context, page } = await newPage(rig, DESKTOP);
    await page.goto("/officer");
    await shot(page, "officer-login");
    await expectAccessible(page);
    await page.getByLabel("Mã truy cập cán bộ").fill("hdo_not-a-token");
    await page.getByRole("button", { name: "Đăng nhập" }).click();
    expect(await page.locator("#login-error").textContent()).toContain("không phải của cán bộ thuế");
    await page.getByLabel("Mã truy cập cán bộ").fill(token);
    await page.getByRole("button", { name: "Đăng nhập" }).click();
    await page.waitForSelector("text=Trần Văn Cán Bộ");
    const cookie = (await context.cookies()).find((c) => c.name === "hoadon_officer");
    expect(cookie).toMatchObject({ name: "hoadon_officer", httpOnly: true, sameSite: "Strict", path: "/officer" });
    expect(cookie!.value).not.toBe(token);
    // Scripts in the page cannot read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain("hoadon_officer");
    await context.close();
  });

  it("opens an invoice by its code: buyer, history, QR, the XML download; then signs out", async () => {
    const { code, xml } = await expectIssued(rig.h, s.invoice(), s.apiKey);
    const { context, page } = await newPage(rig, DESKTOP);
    await page.goto("/officer?lang=en");
    await page.getByLabel("Officer access token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#open-code").fill(code);
    await page.getByRole("button", { name: "Open", exact: true }).click();
    await page.waitForURL(`**/officer/invoices/${code}`);
    expect(await page.locator("h1").textContent()).toBe("Invoice details");
    expect(await page.locator("dl.facts").textContent()).toContain("0310000024");
    expect(await page.locator("table").textContent()).toContain("Issued");
    await shot(page, "officer-invoice-detail");
    await expectAccessible(page);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download the XML" }).click()]);
    expect(download.suggestedFilename()).toBe(`${code}.xml`);
    const { readFile } = await import("node:fs/promises");
    expect(await readFile((await download.path())!, "utf8")).toBe(xml);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForSelector("#token");
    expect((await context.cookies()).map((c) => c.name)).toEqual(["hoadon_lang"]);
    await page.goto(`/officer/invoices/${code}`);
    expect(new URL(page.url()).pathname).toBe("/officer");
    await context.close();
  });

  it("searches a seller's invoices and opens one from the results", async () => {
    const seller = await rig.h.seller();
    const { code } = await expectIssued(rig.h, seller.invoice(), seller.apiKey);
    const { context, page } = await newPage(rig, DESKTOP);
    await signIn(page);
    await page.getByRole("link", { name: "Tìm hóa đơn" }).click();
    await page.getByLabel("Mã số thuế người bán").fill(seller.taxCode);
    await page.getByLabel("Trạng thái").selectOption("issued");
    await page.locator("#filters-title + form button[type=submit]").click();
    await page.waitForURL(/seller=/);
    const rows = page.locator("section[aria-labelledby=results-title] tbody tr");
    expect(await rows.count()).toBe(1);
    await shot(page, "officer-search");
    await expectAccessible(page);
    await rows.first().locator("a").click();
    await page.waitForURL(`**/officer/invoices/${code}`);
    await context.close();
  });

  it("sees the dashboard: revenue and tax by month and by source, tax by rate and top sellers drawn as SVG", async () => {
    // Two sellers, two months (when this month is not January), two rates.
    const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
    const year = today.slice(0, 4);
    // a's certificate is valid from the year's start: it signs an invoice of January.
    const a = await rig.h.seller({ notBefore: new Date(`${year}-01-01T00:00:00+07:00`) });
    const b = await rig.h.seller();
    const earlier = today.slice(5, 7) === "01" ? today : `${year}-01-15`;
    // Received on its own day: NLap and SigningTime are bounded against the receipt.
    clock = new Date(Date.parse(`${earlier}T12:00:00+07:00`));
    try {
      await expectIssued(rig.h, a.invoice({ issueDate: earlier }, { signingTime: `${earlier}T11:00:00` }), a.apiKey);
    } finally {
      clock = null;
    }
    await expectIssued(rig.h, a.invoice({ lines: [{ name: "Sách", quantity: 3, unitPrice: 2_000_000, taxRate: "8%" }] }), a.apiKey);
    await expectIssued(rig.h, b.invoice({ lines: [{ name: "Dịch vụ", quantity: 1, unitPrice: 9_000_000, taxRate: "10%" }] }), b.apiKey);
    const { context, page } = await newPage(rig, DESKTOP);
    await signIn(page);
    await page.goto(`/officer?from=${year}-01-01&to=${today}`);
    const bars = page.locator("svg[aria-labelledby='month-chart-title month-chart-desc'] rect.rev");
    // One pair of bars per month of the period, empty months included (zero, not a gap).
    expect(await bars.count()).toBe(Number(today.slice(5, 7)));
    const monthRows = page.locator("section[aria-labelledby=month-title] tbody tr");
    expect(await monthRows.filter({ hasText: earlier.slice(0, 7) }).locator("td").first().textContent()).not.toBe("0");
    expect(await monthRows.filter({ hasText: today.slice(0, 7) }).locator("td").first().textContent()).not.toBe("0");
    expect(await page.locator("svg title#month-chart-title").textContent()).toBe("Doanh thu và thuế theo tháng");
    expect(await page.locator("section[aria-labelledby=rate-title] tbody").textContent()).toContain("8%");
    // By source: each source named (zeros included) and all sources together.
    const sources = page.locator("section[aria-labelledby=source-title] tbody tr");
    expect(await sources.count()).toBe(5);
    expect(await sources.first().locator("th").textContent()).toBe("Hóa đơn có mã của cơ quan thuế");
    expect(await sources.last().locator("th").textContent()).toBe("Tất cả các nguồn");
    const sellers = await page.locator("section[aria-labelledby=sellers-title] tbody").textContent();
    expect(sellers).toContain(a.taxCode);
    expect(sellers).toContain(b.taxCode);
    await shot(page, "officer-dashboard");
    await expectAccessible(page);
    await context.close();
  });

  it("works on a phone too: the dashboard, a search and an invoice's detail pass axe-core at 390 px", async () => {
    const seller = await rig.h.seller();
    await expectIssued(rig.h, seller.invoice({ lines: [{ name: "Dịch vụ tư vấn", quantity: 1, unitPrice: 900_000_000, taxRate: "8%" }] }), seller.apiKey);
    const { code } = await expectIssued(rig.h, seller.invoice(), seller.apiKey);
    expect((await rig.h.call("POST", `/v1/invoices/${code}/cancellation`, { reason: "Lập trùng với hóa đơn đã gửi" }, seller.apiKey)).status).toBe(200);
    const { context, page } = await newPage(rig, PHONE);
    await signIn(page);
    const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
    await page.goto(`/officer?from=${today.slice(0, 4)}-01-01&to=${today}`);
    expect(await page.locator("section[aria-labelledby=sellers-title] tbody").textContent()).toContain(seller.taxCode);
    await shot(page, "officer-dashboard-phone");
    await expectAccessible(page);
    await page.goto(`/officer/invoices?seller=${seller.taxCode}`);
    expect(await page.locator("section[aria-labelledby=results-title] tbody tr").count()).toBe(2);
    await shot(page, "officer-search-phone");
    await expectAccessible(page);
    await page.goto(`/officer/invoices/${code}`);
    expect(await page.locator("table").textContent()).toContain("Hủy");
    // The history table scrolls sideways: its region takes the keyboard focus.
    const region = page.locator("div.scroll[role=group]").first();
    await region.focus();
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Lịch sử");
    await shot(page, "officer-invoice-detail-phone");
    await expectAccessible(page);
    await context.close();
  });
});
