/**
 * GET /officer (api.md) and the pages under it: token sign-in into a session cookie, invoice
 * search and detail with the XML and history, the dashboard of totals.
 *
 * Sessions: the officer posts a token once; the service checks it is an officer's, then keeps
 * SHA-256 of a new random session id (8 hours, absolute) and gives the browser the id in a cookie
 * that is HttpOnly, SameSite=Strict, Path=/officer, and Secure over https. The token itself is
 * never stored or echoed. Every form that changes something (sign-out) also carries a CSRF token
 * derived from the session id, on top of SameSite=Strict.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { hashSecret } from "../auth.js";
import type { AppEnv } from "../context.js";
import { CODE_PATTERN } from "../domain/code.js";
import { gmt7Date } from "../domain/gmt7.js";
import { INVOICE_STATUSES } from "../domain/lifecycle.js";
import { cmp, parseSum, ZERO } from "../domain/money.js";
import { isLegacyFilterParam, LEGACY_FILTER, searchInvoices, totalsReport } from "../domain/reports.js";
import { TAX_CODE_FORM } from "../domain/taxcode.js";
import { ApiError } from "../errors.js";
import { publicRateLimit } from "../rate-limit-middleware.js";
import type { InvoiceStatus, TotalsSource } from "../storage/store.js";
import { type DashboardData, DashboardPage, type TotalsRow } from "../web/dashboard.js";
import { isHttps, pageHeaders, pageLang, publicBaseOf, switchHref } from "../web/http.js";
import { type Lang, WORDS } from "../web/i18n.js";
import { DetailPage, LoginPage, MessagePage, type OfficerView, type SearchForm, SearchPage } from "../web/officer.js";
import { audit } from "./audit.js";
import { errorResponses, readLimited } from "./common.js";

const COOKIE = "hoadon_officer";
const SESSION_MS = 8 * 3600_000;
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

const officerPage = createRoute({
  method: "get",
  path: "/officer",
  tags: ["Pages"],
  summary: "The officer's dashboard (HTML): sign-in with an officer token, then totals with charts, invoice search and detail.",
  description:
    "Without a session: the sign-in form (POST /officer/login with `token`). With one: revenue and tax by month, tax by rate and top sellers as " +
    "inline SVG, for `from`–`to` (issue dates). Under it: GET /officer/invoices (search), GET /officer/invoices/{code} (detail, history), " +
    "GET /officer/invoices/{code}/xml, POST /officer/logout.",
  responses: { 200: { description: "An HTML page.", content: { "text/html": { schema: z.string() } } }, ...errorResponses("RATE_LIMITED") },
});

/** The CSRF token of a session: a hash of its id (the id never leaves the HttpOnly cookie). */
const csrfOf = (sessionId: string): string => createHash("sha256").update(`hoadon-csrf:${sessionId}`).digest("base64url");

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The signed-in officer of this request, or null. */
async function signedIn(c: Context<AppEnv>, lang: Lang): Promise<OfficerView | null> {
  const id = getCookie(c, COOKIE);
  if (!id || !SESSION_ID.test(id)) return null;
  const s = c.get("services");
  const session = await s.sessions.findSession(hashSecret(id), s.clock());
  if (!session) return null;
  c.set("principal", { role: "officer", id: session.officerId, name: session.officerName });
  return { lang, switchHref: switchHref(c, lang), officerName: session.officerName, csrf: csrfOf(id) };
}

const PAGE_SIZE = 50;
const STATUSES = new Set<string>(INVOICE_STATUSES);

/** The search filters as typed: trimmed, empty ones left out, the symbol upper-cased. */
function searchForm(c: Context<AppEnv>): SearchForm {
  const q: SearchForm = {};
  for (const k of ["seller", "buyer", "from", "to", "status", "form", "symbol", "legacy"] as const) {
    const v = c.req.query(k)?.trim().slice(0, 32);
    if (v) q[k] = k === "symbol" ? v.toUpperCase() : v;
  }
  return q;
}

/** What is wrong with a filter (dates are checked by the search itself), or null. */
/** The first filter that is not well formed, named by its label in the page's language. */
function badFilter(q: SearchForm, lang: Lang): string | null {
  const w = WORDS[lang];
  if (q.seller && !TAX_CODE_FORM.test(q.seller)) return `${w.sellerLabel}: ${q.seller}`;
  if (q.buyer && !TAX_CODE_FORM.test(q.buyer)) return `${w.buyerLabel}: ${q.buyer}`;
  if (q.status && !STATUSES.has(q.status)) return `${w.statusLabel}: ${q.status}`;
  if (q.form && !/^[1-9]$/.test(q.form)) return `${w.formLabel}: ${q.form}`;
  if (q.symbol && !/^[CK]\d{2}[TDLMNBGHX][A-Z]{2}$/.test(q.symbol)) return `${w.symbolLabel}: ${q.symbol}`;
  if (q.legacy && !isLegacyFilterParam(q.legacy)) return `${w.legacyLabel}: ${q.legacy}`;
  return null;
}

const definedOnly = (o: object): Record<string, string> => Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === "string"));

/** Compares two sums exactly (a sum over a period may pass what an invoice's amount can be). */
const compareSums = (a: string, b: string): number => cmp(parseSum(a) ?? ZERO, parseSum(b) ?? ZERO);

/** Month rows for every month of the period (a month without invoices is a zero, not a gap), up to 60 months. */
function everyMonth(from: string, to: string, rows: TotalsRow[]): TotalsRow[] {
  const have = new Map(rows.map((r) => [r.key, r]));
  const out: TotalsRow[] = [];
  let [y, m] = [Number(from.slice(0, 4)), Number(from.slice(5, 7))];
  const end = to.slice(0, 7);
  for (let i = 0; i < 60; i++) {
    const key = `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}`;
    if (key > end) return out;
    out.push(have.get(key) ?? { key, invoices: 0, revenue: "0", tax: "0" });
    [y, m] = m === 12 ? [y + 1, 1] : [y, m + 1];
  }
  return rows;
}

/** The sources in the dashboard's order (api.md GET /v1/reports/totals `source`). */
const SOURCES: readonly TotalsSource[] = ["coded", "uncoded", "cashRegister", "summary"];

/** Today in Vietnam (GMT+7). */
const today = gmt7Date;

/**
 * The dashboard's figures for `from`–`to` (default: this year to today, GMT+7), from the reports
 * (issue 5: GET /v1/reports/totals semantics, read on the replica), called directly. Null when
 * the period is not a valid one.
 */
async function dashboard(c: Context<AppEnv>): Promise<DashboardData | null> {
  const s = c.get("services");
  const to = c.req.query("to") || today(s.clock());
  const from = c.req.query("from") || `${to.slice(0, 4)}-01-01`;
  const totals = (groupBy: "month" | "taxRate" | "seller" | "source") => totalsReport(s.readStore, { from, to, groupBy, seller: null });
  const [month, rate, seller, source] = await Promise.all([totals("month"), totals("taxRate"), totals("seller"), totals("source")]);
  if (!month.ok || !rate.ok || !seller.ok || !source.ok) return null;
  await audit(c, "report.totals", null, { from, to, groupBy: "month,taxRate,seller,source" });
  const row = (r: { key: string; invoices: bigint; revenue: string; tax: string }): TotalsRow => ({ key: r.key, invoices: Number(r.invoices), revenue: r.revenue, tax: r.tax });
  const byRevenue = (a: TotalsRow, b: TotalsRow) => compareSums(b.revenue, a.revenue) || (a.key < b.key ? -1 : 1);
  const top = seller.report.rows.map(row).sort(byRevenue).slice(0, 10);
  const names = await Promise.all(top.map((r) => s.readStore.getSeller(r.key)));
  return {
    from,
    to,
    byMonth: everyMonth(from, to, month.report.rows.map(row)),
    byRate: rate.report.rows.map(row),
    bySource: SOURCES.map((key) => {
      const r = source.report.rows.find((x) => x.key === key);
      return r ? { ...row(r), key } : { key, invoices: 0, revenue: "0", tax: "0" };
    }),
    topSellers: top.map((r, i) => ({ ...r, name: names[i]?.name ?? "" })),
    total: { invoices: Number(month.report.total.invoices), revenue: month.report.total.revenue, tax: month.report.total.tax },
  };
}

/** Reads a small urlencoded form body (sign-in, sign-out). */
async function formBody(c: Context<AppEnv>): Promise<URLSearchParams> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(c.req.header("content-type") ?? "")) return new URLSearchParams();
  return new URLSearchParams(new TextDecoder().decode(await readLimited(c, 8192)));
}

export function registerOfficer(app: OpenAPIHono<AppEnv>): void {
  for (const path of ["/officer", "/officer/*"]) app.use(path, pageHeaders);
  // Sign-in is open to anyone: limited per client address like the public endpoints.
  app.use("/officer/login", publicRateLimit);

  app.openapi(officerPage, async (c) => {
    const lang = pageLang(c);
    const v = await signedIn(c, lang);
    if (!v) return c.html(<LoginPage lang={lang} switchHref={switchHref(c, lang)} error={null} />, 200) as never;
    return c.html(<DashboardPage v={v} data={await dashboard(c)} />, 200) as never;
  });

  app.post("/officer/login", async (c) => {
    const lang = pageLang(c);
    const token = (await formBody(c)).get("token")?.trim() ?? "";
    const s = c.get("services");
    const principal = /^[\x21-\x7e]{1,512}$/.test(token) ? await s.store.findPrincipal(hashSecret(token)) : null;
    if (principal?.role !== "officer") {
      return c.html(<LoginPage lang={lang} switchHref={switchHref(c, lang, "/officer")} error={WORDS[lang].loginFailed} />, 401);
    }
    const id = randomBytes(32).toString("base64url");
    const now = s.clock();
    s.credentialUse.note(principal.id, now);
    await s.sessions.createSession({ idHash: hashSecret(id), officerId: principal.id, createdAt: now, expiresAt: new Date(now.getTime() + SESSION_MS) });
    setCookie(c, COOKIE, id, { httpOnly: true, sameSite: "Strict", path: "/officer", secure: isHttps(c), maxAge: SESSION_MS / 1000 });
    return c.redirect("/officer", 303);
  });

  app.post("/officer/logout", async (c) => {
    const lang = pageLang(c);
    const v = await signedIn(c, lang);
    const csrf = (await formBody(c)).get("csrf") ?? "";
    if (v && !sameText(csrf, v.csrf)) throw new ApiError("FORBIDDEN", "The form's CSRF token does not match this session.");
    const id = getCookie(c, COOKIE);
    if (v && id) await c.get("services").sessions.deleteSession(hashSecret(id));
    deleteCookie(c, COOKIE, { path: "/officer", httpOnly: true, sameSite: "Strict", secure: isHttps(c) });
    return c.redirect("/officer", 303);
  });

  app.get("/officer/invoices", async (c) => {
    const lang = pageLang(c);
    const v = await signedIn(c, lang);
    if (!v) return c.redirect("/officer", 303);
    const code = c.req.query("code")?.replace(/\s+/g, "").toUpperCase();
    if (code) return c.redirect(`/officer/invoices/${encodeURIComponent(code)}`, 303);
    const q = searchForm(c);
    const bad = badFilter(q, lang);
    if (bad) return c.html(<SearchPage v={v} q={q} items={null} next={null} error={WORDS[lang].badRequest + " " + bad} />, 200);
    const cursor = c.req.query("cursor");
    const { legacy, ...plain } = q;
    const filters = { ...plain, status: q.status as InvoiceStatus | undefined, ...(legacy && isLegacyFilterParam(legacy) ? { legacy: LEGACY_FILTER[legacy] } : {}), limit: PAGE_SIZE };
    const out = await searchInvoices(c.get("services").readStore, { role: "officer" }, { ...filters, ...(cursor ? { cursor } : {}) });
    // The domain's message is English: the Vietnamese page says it in its own words only.
    if (!out.ok) return c.html(<SearchPage v={v} q={q} items={null} next={null} error={lang === "en" ? `${WORDS[lang].badRequest} ${out.error.message}` : WORDS[lang].badRequest} />, 200);
    await audit(c, "invoice.search", null, { ...q, limit: PAGE_SIZE, cursor });
    const next = out.nextCursor ? `/officer/invoices?${new URLSearchParams({ ...definedOnly(q), cursor: out.nextCursor })}` : null;
    return c.html(<SearchPage v={v} q={q} items={out.page.items} next={next} error={null} />, 200);
  });

  app.get("/officer/invoices/:code", async (c) => {
    const lang = pageLang(c);
    const v = await signedIn(c, lang);
    if (!v) return c.redirect("/officer", 303);
    const code = c.req.param("code").toUpperCase();
    const store = c.get("services").store;
    const inv = CODE_PATTERN.test(code) ? await store.getInvoice(code) : null;
    if (!inv) return c.html(<MessagePage v={v} title={WORDS[lang].notFoundPage} text={code} />, 404);
    const [seller, history] = await Promise.all([store.getSeller(inv.sellerTaxCode), store.getInvoiceHistory(code)]);
    await audit(c, "invoice.read", code);
    return c.html(<DetailPage v={v} inv={inv} seller={seller} history={history} publicBase={publicBaseOf(c)} />, 200);
  });

  app.get("/officer/invoices/:code/xml", async (c) => {
    const v = await signedIn(c, pageLang(c));
    if (!v) return c.redirect("/officer", 303);
    const code = c.req.param("code").toUpperCase();
    const xml = CODE_PATTERN.test(code) ? await c.get("services").store.getInvoiceXml(code) : null;
    if (xml === null) throw new ApiError("NOT_FOUND", `No invoice ${code}.`);
    await audit(c, "invoice.xml", code);
    c.header("Content-Type", "application/xml; charset=utf-8");
    c.header("Content-Disposition", `attachment; filename="${code}.xml"`);
    return c.body(xml, 200);
  });
}
