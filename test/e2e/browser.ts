/**
 * The end-to-end rig: the real app (test/helpers/app.ts) served over HTTP on a free loopback
 * port by @hono/node-server, and Debian's Chromium driven by playwright-core (never a
 * downloaded browser). Screenshots go to test-results/e2e/; axe-core runs in the page.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { expect } from "vitest";
import { type Harness, type HarnessOptions, startHarness } from "../helpers/app.js";
import { ROOT } from "../helpers/process.js";

export const CHROMIUM = process.env.HOADON_CHROMIUM ?? "/usr/bin/chromium";
export const SHOTS = `${ROOT}test-results/e2e/`;
/** A phone: the buyer's tests run in this window. */
export const PHONE = { width: 390, height: 844 };

// As the machine's notes say: headless, no sandbox (root in CI), and nothing that phones home.
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export interface Rig {
  h: Harness;
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/** Starts the app on a free port and Chromium; close it in afterAll. */
export async function startRig(opts: HarnessOptions = {}): Promise<Rig> {
  mkdirSync(SHOTS, { recursive: true });
  const h = await startHarness(opts);
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: h.app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  return {
    h,
    base: `http://127.0.0.1:${port}`,
    browser,
    async close() {
      await browser.close().catch(() => {});
      await new Promise((r) => server.close(r));
      await h.close();
    },
  };
}

/** A fresh browser context (no cookies) with a phone-sized or desktop window. */
export async function newPage(rig: Rig, viewport = PHONE): Promise<{ context: BrowserContext; page: Page }> {
  const context = await rig.browser.newContext({ viewport, locale: "vi-VN", baseURL: rig.base });
  const page = await context.newPage();
  // A console error would mean the CSP blocked something the page tried to load, or a 404.
  const errors: string[] = [];
  consoleErrors.set(page, errors);
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  return { context, page };
}

const consoleErrors = new WeakMap<Page, string[]>();

/** Keeps a full-page screenshot as a test artifact, and expects the browser console to be free of errors so far. */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
  expect(consoleErrors.get(page) ?? [], "browser console errors").toEqual([]);
}

// Evaluated through the DevTools protocol rather than added as a <script> tag: the page's CSP
// (script-src 'none') rightly refuses any script tag, and the CSP stays on while axe runs.
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core (WCAG 2.1 A/AA and best practices) in the page and expects no violation at all. */
export async function expectAccessible(page: Page): Promise<void> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
}
