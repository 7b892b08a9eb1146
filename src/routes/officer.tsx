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
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { hashSecret } from "../auth.js";
import type { AppEnv } from "../context.js";
import { CODE_PATTERN } from "../domain/code.js";
import { ApiError } from "../errors.js";
import { publicRateLimit } from "../rate-limit.js";
import { isHttps, pageHeaders, pageLang, switchHref } from "../web/http.js";
import { WORDS, type Lang } from "../web/i18n.js";
import { DetailPage, LoginPage, MessagePage, type OfficerView } from "../web/officer.js";
import { DashboardPage } from "../web/dashboard.js";
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
    return c.html(<DashboardPage v={v} data={null} />, 200) as never;
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
    return c.html(<MessagePage v={v} title={WORDS[lang].search} text="" />, 200);
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
    return c.html(<DetailPage v={v} inv={inv} seller={seller} history={history} />, 200);
  });

  app.get("/officer/invoices/:code/xml", async (c) => {
    const v = await signedIn(c, pageLang(c));
    if (!v) return c.redirect("/officer", 303);
    const code = c.req.param("code").toUpperCase();
    const xml = CODE_PATTERN.test(code) ? await c.get("services").store.getInvoiceXml(code) : null;
    if (xml === null) throw new ApiError("NOT_FOUND", `No invoice ${code}.`);
    c.header("Content-Type", "application/xml; charset=utf-8");
    c.header("Content-Disposition", `attachment; filename="${code}.xml"`);
    return c.body(xml, 200);
  });
}
