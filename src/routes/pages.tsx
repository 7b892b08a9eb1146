/** GET / and POST / (api.md): the buyer's lookup page, server-rendered, and the pages' style sheet. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../context.js";
import { CODE_PATTERN } from "../domain/code.js";
import { readPastedCode } from "../domain/qr.js";
import { TAX_CODE_FORM } from "../domain/taxcode.js";
import { lookupByCode, lookupByKey, REGISTER_CODE_PATTERN, verifyDocument } from "../domain/verification.js";
import { ApiError } from "../errors.js";
import { BuyerPage, type BuyerQuery, type BuyerResult } from "../web/buyer.js";
import { pageHeaders, pageLang, publicBaseOf, switchHref } from "../web/http.js";
import { WORDS } from "../web/i18n.js";
import { CSS } from "../web/style.js";
import { errorResponses, readLimited } from "./common.js";
import { transparencyOf } from "./log.js";
import { verifyDeps } from "./verify.js";

const buyerPage = createRoute({
  method: "get",
  path: "/",
  tags: ["Pages"],
  summary: "The buyer's lookup page (HTML): by code, or by seller, form, symbol, number and total, or by uploading the XML.",
  description:
    "Query `code` (the code, the URL of the pages' QR, or the DLQRCode data of the XML), or `seller`, `form`, `symbol` (or form and symbol " +
    "together as printed, `1C26TAA`), `number` and `total`, shows the answer on the page; `lang=en` switches to English (remembered in a cookie). " +
    "The file upload posts `multipart/form-data` (field `invoice`) to `/`. No script; Content-Security-Policy without inline code.",
  responses: { 200: { description: "An HTML page.", content: { "text/html": { schema: z.string() } } }, ...errorResponses("RATE_LIMITED") },
});

const SYMBOL = /^[CK]\d{2}[TDLMNBGHX][A-Z]{2}$/;
const TOTAL = /^-?\d{1,15}(\.\d{1,6})?$/;
/** Multipart framing around the 2 MiB invoice. */
const MULTIPART_SLACK = 64 * 1024;

/** What the buyer typed, tidied: spaces dropped, letters upper-cased, thousands separators out of the total. */
function queryOf(c: Context<AppEnv>): BuyerQuery {
  const q = (name: string, max = 64) => {
    const v = c.req.query(name);
    return v === undefined ? undefined : v.slice(0, max).trim();
  };
  const out: BuyerQuery = {};
  // The code box also takes pasted QR contents (DLQRCode data: ≤ 512 characters, case kept).
  const code = q("code", 600);
  if (code !== undefined) out.code = /^000201|^https?:\/\//i.test(code) ? code : code.replace(/\s+/g, "").toUpperCase();
  for (const k of ["seller", "form", "symbol", "number", "total"] as const) {
    const v = q(k);
    if (v !== undefined) out[k] = v.replace(/\s+/g, "");
  }
  if (out.symbol) out.symbol = out.symbol.toUpperCase();
  // Form and symbol as printed together ("1C26TAA"): the form goes to its own field.
  const printed = out.symbol ? /^([1-9])([CK]\d{2}[A-Z]{3})$/.exec(out.symbol) : null;
  if (printed) {
    if (out.form && out.form !== printed[1]) out.formMismatch = true;
    out.form = printed[1]!;
    out.symbol = printed[2]!;
  }
  // "3.520.000" or "3,520,000" as printed: thousands separators (VND totals are whole đồng).
  if (out.total && /^-?\d{1,3}([.,]\d{3})+$/.test(out.total)) out.total = out.total.replace(/[.,]/g, "");
  return out;
}

async function lookup(c: Context<AppEnv>, q: BuyerQuery, lang: "vi" | "en"): Promise<BuyerResult | null> {
  const w = WORDS[lang];
  const deps = verifyDeps(c.get("services"));
  if (q.code) {
    const pasted = readPastedCode(q.code);
    if (pasted && "badQr" in pasted) return { kind: "inputError", form: "code", message: w.badQr };
    if (pasted && "invoice" in pasted) {
      const { sellerTaxCode, form, symbol, number, totalPayable } = pasted.invoice;
      const inv = await lookupByKey(deps, { sellerTaxCode, form, symbol, number, total: totalPayable });
      return inv ? { kind: "found", invoice: inv } : { kind: "notFound" };
    }
    // The authority's code, or a cash-register invoice's own (tvan.md §8.1).
    if (!pasted || !(CODE_PATTERN.test(pasted.code) || REGISTER_CODE_PATTERN.test(pasted.code))) return { kind: "inputError", form: "code", message: w.badCode };
    const inv = await lookupByCode(deps, pasted.code);
    return inv ? { kind: "found", invoice: inv } : { kind: "notFound" };
  }
  if (![q.seller, q.form, q.symbol, q.number, q.total].some(Boolean)) return null;
  if (q.formMismatch) return { kind: "inputError", form: "details", message: w.formMismatch };
  if (!TAX_CODE_FORM.test(q.seller ?? "") || !/^[1-9]$/.test(q.form ?? "") || !SYMBOL.test(q.symbol ?? "") || !/^\d{1,8}$/.test(q.number ?? "") || Number(q.number) < 1 || !TOTAL.test(q.total ?? "")) {
    return { kind: "inputError", form: "details", message: w.missingFields };
  }
  const inv = await lookupByKey(deps, { sellerTaxCode: q.seller!, form: q.form!, symbol: q.symbol!, number: Number(q.number), total: q.total! });
  return inv ? { kind: "found", invoice: inv } : { kind: "notFound" };
}

/** The uploaded file (multipart field `invoice`), read with the same hard limit as the API. */
async function upload(c: Context<AppEnv>, lang: "vi" | "en"): Promise<BuyerResult> {
  const w = WORDS[lang];
  const deps = verifyDeps(c.get("services"));
  const type = c.req.header("content-type") ?? "";
  if (!/^multipart\/form-data;/i.test(type)) return { kind: "inputError", form: "file", message: w.noFile };
  let file: unknown;
  try {
    const body = await readLimited(c, deps.limits.maxBytes + MULTIPART_SLACK);
    const form = await new Request("http://page.invalid/", { method: "POST", headers: { "content-type": type }, body: body as Uint8Array<ArrayBuffer> }).formData();
    file = form.get("invoice");
  } catch (e) {
    if (e instanceof ApiError && e.code === "PAYLOAD_TOO_LARGE") return { kind: "unreadable", code: e.code, message: e.message };
    if (e instanceof ApiError) throw e;
    return { kind: "inputError", form: "file", message: w.noFile };
  }
  if (!(file instanceof Blob) || file.size === 0) return { kind: "inputError", form: "file", message: w.noFile };
  const out = await verifyDocument(deps, new Uint8Array(await file.arrayBuffer()));
  return out.ok ? { kind: "document", verification: out.verification } : { kind: "unreadable", code: out.error.code, message: out.error.message };
}

export function registerPages(app: OpenAPIHono<AppEnv>): void {
  for (const path of ["/", "/assets/*"]) app.use(path, pageHeaders);

  app.get("/assets/hoadon.css", (c) => {
    c.header("Content-Type", "text/css; charset=utf-8");
    c.header("Cache-Control", "public, max-age=3600");
    return c.body(CSS, 200);
  });

  app.openapi(buyerPage, async (c) => {
    const lang = pageLang(c);
    const query = queryOf(c);
    const found = await lookup(c, query, lang);
    // The invoice's place in the transparency log, once its issue is under a signed head.
    const result = found?.kind === "found" && found.invoice.valid ? { ...found, log: await transparencyOf(c, found.invoice.code) } : found;
    return c.html(<BuyerPage lang={lang} publicBase={publicBaseOf(c)} switchHref={switchHref(c, lang)} query={query} result={result} />, 200) as never;
  });

  app.post("/", async (c) => {
    const lang = pageLang(c);
    const result = await upload(c, lang);
    return c.html(<BuyerPage lang={lang} publicBase={publicBaseOf(c)} switchHref={switchHref(c, lang, "/")} query={{}} result={result} />, 200);
  });
}
