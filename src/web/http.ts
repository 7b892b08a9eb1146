/** What the pages share over HTTP: security headers, the language choice, the style sheet route. */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../context.js";
import { LANGS, type Lang } from "./i18n.js";

/**
 * The pages' Content-Security-Policy: nothing inline (no script at all; styles from
 * /assets/hoadon.css only), images from the site or data: URLs (the QR), no framing, forms post
 * only here, no <base>.
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Strict security headers for every page and page asset. */
export const pageHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  c.header("Content-Security-Policy", PAGE_CSP);
  c.header("X-Frame-Options", "DENY");
  c.header("Referrer-Policy", "no-referrer");
  c.header("Cross-Origin-Opener-Policy", "same-origin");
  c.header("Cross-Origin-Resource-Policy", "same-origin");
  c.header("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
  if (isHttps(c)) c.header("Strict-Transport-Security", "max-age=31536000");
};

/** True when the client reached us over https (Workers, or Node behind a TLS proxy whose X-Forwarded-Proto is believed). */
export function isHttps(c: Context<AppEnv>): boolean {
  if (new URL(c.req.url).protocol === "https:") return true;
  const hops = c.get("services").rateLimiter.settings.trustProxyHops;
  return hops > 0 && (c.req.header("x-forwarded-proto") ?? "").split(",").pop()?.trim() === "https";
}

const LANG_COOKIE = "hoadon_lang";

/** The page's language: `?lang=` (remembered in a cookie), else the cookie, else Vietnamese. */
export function pageLang(c: Context<AppEnv>): Lang {
  const asked = c.req.query("lang");
  if (asked && (LANGS as readonly string[]).includes(asked)) {
    setCookie(c, LANG_COOKIE, asked, { path: "/", sameSite: "Lax", maxAge: 365 * 24 * 3600, httpOnly: true, secure: isHttps(c) });
    return asked as Lang;
  }
  const kept = getCookie(c, LANG_COOKIE);
  return kept && (LANGS as readonly string[]).includes(kept) ? (kept as Lang) : "vi";
}

/** The same page in the other language: the current path and query with `lang` switched (a GET link; no script). */
export function switchHref(c: Context<AppEnv>, lang: Lang, path?: string): string {
  const url = new URL(c.req.url);
  const params = c.req.method === "GET" && !path ? new URLSearchParams(url.search) : new URLSearchParams();
  params.set("lang", lang === "vi" ? "en" : "vi");
  return `${path ?? url.pathname}?${params}`;
}

/** HOADON_PUBLIC_URL, else this request's origin: the base of the URL the pages' QR codes hold. */
export function publicBaseOf(c: Context<AppEnv>): string {
  return c.get("services").publicUrl ?? new URL("/", c.req.url).href;
}
