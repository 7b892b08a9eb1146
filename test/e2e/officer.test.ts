/**
 * The officer in Chromium, in a desktop window: sign-in with a token (the cookie the browser
 * gets), invoice detail and its XML, sign-out; axe-core on each page.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestSeller } from "../helpers/app.js";
import { expectIssued } from "../helpers/refusal.js";
import { expectAccessible, newPage, shot, startRig, type Rig } from "./browser.js";

const DESKTOP = { width: 1280, height: 900 };
let rig: Rig;
let s: TestSeller;
let token: string;

beforeAll(async () => {
  rig = await startRig();
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
});
