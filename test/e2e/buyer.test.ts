/**
 * The buyer, on a phone-sized window in Chromium: the three lookups (code; seller, form, symbol,
 * number and total; the XML file), a tampered upload and a made-up code, the language switch,
 * keyboard use, and axe-core on every state of the page.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestSeller } from "../helpers/app.js";
import { nextNumber, todayGmt7 } from "../helpers/invoice.js";
import { readSvgQr } from "../helpers/qr-read.js";
import { expectIssued } from "../helpers/refusal.js";
import { expectAccessible, newPage, type Rig, shot, startRig } from "./browser.js";

let rig: Rig;
let s: TestSeller;
const files = mkdtempSync(join(tmpdir(), "hoadon-e2e-"));

beforeAll(async () => {
  rig = await startRig();
  s = await rig.h.seller();
});
afterAll(async () => rig?.close());

async function issue(number = nextNumber()) {
  return { ...(await expectIssued(rig.h, s.invoice({ number }), s.apiKey)), number };
}

describe("the buyer's lookup on a phone", () => {
  it("opens in Vietnamese, passes axe-core, and fits the phone's width", async () => {
    const { context, page } = await newPage(rig);
    const r = await page.goto("/");
    expect(r?.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(await page.locator("h1").textContent()).toBe("Kiểm tra hóa đơn điện tử");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(page, "buyer-home-vi");
    await expectAccessible(page);
    await context.close();
  });

  it("finds a genuine invoice by its code, typed and submitted with the keyboard only", async () => {
    const { code } = await issue();
    const { context, page } = await newPage(rig);
    await page.goto("/");
    // Tab from the top: skip link, brand, language switch, then the code field.
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain("Bỏ qua");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("code");
    await page.keyboard.type(code.toLowerCase());
    await page.keyboard.press("Enter");
    await page.waitForURL(/\?code=/);
    const verdict = page.locator(".verdict");
    expect(await verdict.getAttribute("class")).toContain("ok");
    expect(await verdict.locator("h2").textContent()).toContain("Hóa đơn thật");
    expect(await page.locator("dl.facts").textContent()).toContain("3.520.000 ₫");
    const qr = page.locator(".qr img");
    expect(await qr.getAttribute("alt")).toBe(`Mã QR của hóa đơn ${code}`);
    expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    await shot(page, "buyer-by-code-genuine");
    await expectAccessible(page);
    await context.close();
  });

  it("finds an invoice by seller, form, symbol, number and total, in English", async () => {
    const { number } = await issue();
    const { context, page } = await newPage(rig);
    await page.goto("/");
    await page.getByRole("link", { name: "Switch to English" }).click();
    expect(await page.locator("html").getAttribute("lang")).toBe("en");
    await page.getByLabel("Seller's tax code").fill(s.taxCode);
    await page.getByLabel("Form").fill("1");
    await page.getByLabel("Symbol").fill(`C${todayGmt7().slice(2, 4)}TAA`);
    await page.getByLabel("Invoice number").fill(String(number));
    await page.getByLabel("Total payable (VND)").fill("3.520.000");
    await page.locator("#by-details + form button[type=submit]").click();
    await page.waitForURL(/seller=/);
    expect(await page.locator(".verdict h2").textContent()).toContain("Genuine invoice");
    expect(await page.locator("dl.facts").textContent()).toContain(s.taxCode);
    await shot(page, "buyer-by-details-en");
    await expectAccessible(page);
    await context.close();
  });

  it("opens the verdict from the URL the page's QR holds, as a phone camera would", async () => {
    const { code } = await issue();
    const { context, page } = await newPage(rig);
    await page.goto(`/?code=${code}`);
    const src = (await page.locator(".qr img").getAttribute("src"))!;
    const url = readSvgQr(Buffer.from(src.slice(src.indexOf(",") + 1), "base64").toString("utf8"));
    expect(url).toBe(`${rig.base}/?code=${code}`);
    // A fresh context: nothing typed, nothing remembered.
    const phone = await newPage(rig);
    await phone.page.goto(url);
    expect(await phone.page.locator(".verdict h2").textContent()).toContain("Hóa đơn thật");
    expect(await phone.page.locator("dl.facts").textContent()).toContain(code);
    await shot(phone.page, "buyer-scanned-qr");
    await expectAccessible(phone.page);
    await phone.context.close();
    await context.close();
  });

  it("headlines a cancelled invoice as cancelled, and takes the symbol as printed (1C26TAA) with the form box empty", async () => {
    const { code, number } = await issue();
    expect((await rig.h.call("POST", `/v1/invoices/${code}/cancellation`, { reason: "Sai thông tin" }, s.apiKey)).status).toBe(200);
    const { context, page } = await newPage(rig);
    await page.goto("/");
    await page.getByLabel("Mã số thuế người bán").fill(s.taxCode);
    await page.getByLabel("Ký hiệu").fill(`1C${todayGmt7().slice(2, 4)}TAA`);
    await page.getByLabel("Số hóa đơn").fill(String(number));
    await page.getByLabel("Tổng tiền thanh toán (đồng)").fill("3.520.000");
    await page.locator("#by-details + form button[type=submit]").click();
    await page.waitForURL(/seller=/);
    expect(await page.locator(".verdict").getAttribute("class")).toContain("warn");
    expect(await page.locator(".verdict h2").textContent()).toContain("Hóa đơn thật nhưng đã bị hủy");
    expect(await page.locator("main").textContent()).not.toMatch(/\b(the|invoice|signature|not)\b/i);
    await shot(page, "buyer-cancelled-by-printed-symbol");
    await expectAccessible(page);
    await context.close();
  });

  it("calls a made-up code out as not found", async () => {
    const { context, page } = await newPage(rig);
    await page.goto("/");
    await page.getByLabel("Mã của cơ quan thuế (MCCQT, 34 ký tự)").fill("00B7ED1EE40D31479DAE6D8235E8549FB3");
    await page.locator("#by-code + form button[type=submit]").click();
    await page.waitForURL(/\?code=/);
    expect(await page.locator(".verdict").getAttribute("class")).toContain("bad");
    expect(await page.locator(".verdict h2").textContent()).toContain("Không tìm thấy hóa đơn");
    await shot(page, "buyer-made-up-code");
    await expectAccessible(page);
    await context.close();
  });

  it("verifies an uploaded genuine XML file: every check passed", async () => {
    const { xml } = await issue();
    const file = join(files, "genuine.xml");
    writeFileSync(file, xml);
    const { context, page } = await newPage(rig);
    await page.goto("/?lang=en");
    await page.getByLabel("Stamped invoice XML file").setInputFiles(file);
    await page.locator("#by-file + form button[type=submit]").click();
    await page.waitForSelector(".verdict");
    expect(await page.locator(".verdict h2").textContent()).toContain("Genuine invoice");
    expect(await page.locator("ul.checks .pass").count()).toBe(4);
    await shot(page, "buyer-upload-genuine");
    await expectAccessible(page);
    await context.close();
  });

  it("calls a tampered upload out and names the failing checks", async () => {
    const { xml } = await issue();
    const file = join(files, "tampered.xml");
    writeFileSync(file, xml.replace(/<TgTTTBSo>[^<]*<\/TgTTTBSo>/, "<TgTTTBSo>9520000</TgTTTBSo>"));
    const { context, page } = await newPage(rig);
    await page.goto("/?lang=en");
    await page.getByLabel("Stamped invoice XML file").setInputFiles(file);
    await page.locator("#by-file + form button[type=submit]").click();
    await page.waitForSelector(".verdict");
    expect(await page.locator(".verdict").getAttribute("class")).toContain("bad");
    expect(await page.locator(".verdict h2").textContent()).toContain("NOT a genuine invoice");
    expect(await page.locator("ul.checks .fail").count()).toBe(4);
    expect(await page.locator("ul.checks").textContent()).toContain("The seller's digital signature");
    await shot(page, "buyer-upload-tampered");
    await expectAccessible(page);
    await context.close();
  });
});
