/** Submitting and reading invoices. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { Principal } from "../auth.js";
import type { AppEnv } from "../context.js";
import { cancelInvoice } from "../domain/cancel.js";
import { INVOICE_EVENT_KINDS, INVOICE_STATUSES } from "../domain/lifecycle.js";
import { type BatchItem, dryRunInvoice, submitBatch, submitInvoice } from "../domain/submit.js";
import { localizeError } from "../error-i18n.js";
import { ApiError, type ErrorCode, type Fault, httpStatus } from "../errors.js";
import { STAGES } from "../gate/stages.js";
import type { InvoiceEvent, InvoiceSummary } from "../storage/store.js";
import { audit } from "./audit.js";
import { answered, answerLanguage, auth, bearer, errorResponses, Money, readLimited, text } from "./common.js";
import { TransparencySchema, transparencyOf } from "./log.js";

const InvoiceStatus = z.enum(INVOICE_STATUSES);

/** The legacy allowances an invoice was accepted under (shared by the invoice, the issue answer and the search). */
export const LegacyMarks = z
  .array(z.enum(["sha1", "rsa1024"]))
  .openapi({
    description:
      "The legacy allowances the seller's signature needed: `sha1` (rsa-sha1 or a sha1 digest, accepted only under HOADON_ALLOW_SHA1), " +
      "`rsa1024` (an RSA key under 2048 bits, only under HOADON_ALLOW_RSA1024). Empty for every other invoice. " +
      "Officers find them with `GET /v1/invoices?legacy=true` (or `legacy=sha1`, `legacy=rsa1024`).",
    example: ["sha1", "rsa1024"],
  });

const summaryFields = {
  code: z.string().openapi({ example: "00000000000003E8A1B2C3D4E5F6A7B8C9" }),
  status: InvoiceStatus,
  sellerTaxCode: z.string(),
  form: z.string().openapi({ example: "1" }),
  symbol: z.string().openapi({ example: "C26TAA" }),
  number: z.number().int(),
  issueDate: z.string().openapi({ example: "2026-11-22" }),
  currency: z.string(),
  totalBeforeTax: Money,
  totalTax: Money,
  totalPayable: Money,
  issuedAt: z.string(),
  digest: z.string().openapi({ description: "SHA-256 (base64) of the signed DLHDon under C14N 1.0." }),
  legacy: LegacyMarks,
};

const IssuedSchema = z.object({ ...summaryFields, xml: z.string() }).openapi("IssuedInvoice");
const EventSchema = z.object({
  event: z.enum(INVOICE_EVENT_KINDS),
  at: z.string(),
  by: z.string(),
  reason: z.string().optional(),
  relatedCode: z.string().optional(),
});
const InvoiceSchema = z
  .object({ ...summaryFields, buyerTaxCode: z.string().nullable(), history: z.array(EventSchema), transparency: TransparencySchema.optional() })
  .openapi("Invoice");
const CodeParam = z.object({ code: z.string().regex(/^[0-9A-F]{34}$/).openapi({ param: { name: "code", in: "path" }, example: "00000000000003E8A1B2C3D4E5F6A7B8C9" }) });

const DryRunSchema = z
  .object({
    dryRun: z.literal(true),
    wouldIssue: z.boolean(),
    replayOf: z.object(summaryFields).optional().openapi({ description: "The invoice issued before from the same signed data (a submission would answer 200 with it)." }),
  })
  .openapi("DryRun", { example: { dryRun: true, wouldIssue: true } });

/** The gate's stages as a Markdown list, from the table the code runs (gate/stages.ts). */
function gateStages(): string {
  return "The stages, in order:\n" + STAGES.map((st, i) => `${i + 1}. **${st.name}**: ${st.checks}${st.codes.length ? ` (${st.codes.map((c) => `\`${c}\``).join(", ")})` : ""}`).join("\n");
}

const submit = createRoute({
  method: "post",
  path: "/v1/invoices",
  tags: ["Invoices"],
  summary: "Submit one seller-signed invoice (HDon) for the tax authority's code.",
  description:
    "The gate runs in the order of invoice-format.md §4; the first failing stage is reported with all of its faults. " +
    "201 with the stamped invoice (MCCQT and CQT signature); 200 when the same signed invoice was issued before (replay). " +
    "With `Accept: application/xml` the body is the stamped XML. " +
    "With `?dryRun=true` the whole gate runs, duplicates and the related invoice included, and nothing is issued or stored: " +
    "200 `{dryRun: true, wouldIssue: true}`, 200 `{dryRun: true, wouldIssue: false, replayOf: <the invoice issued before>}`, " +
    "or the very refusal a submission would get.\n\n" +
    gateStages(),
  security: bearer,
  middleware: [auth("seller")] as const,
  request: {
    query: z.object({ dryRun: z.enum(["true", "false"]).optional().openapi({ description: "true: judge the invoice, issue and store nothing." }) }),
    body: {
      required: true,
      content: { "application/xml": { schema: z.string().openapi({ example: "<HDon><DLHDon Id=\"SigningData\">…</DLHDon><DSCKS><NBan><Signature …/></NBan></DSCKS></HDon>" }) } },
    },
  },
  responses: {
    201: { description: "Issued.", headers: { Location: { schema: { type: "string" } } }, content: { "application/json": { schema: IssuedSchema }, "application/xml": { schema: z.string() } } },
    200: {
      description: "Replay: the same signed invoice was issued before; the original answer. Or, with ?dryRun=true, what a submission would do.",
      content: { "application/json": { schema: z.union([IssuedSchema, DryRunSchema]) }, "application/xml": { schema: z.string() } },
    },
    ...errorResponses(
      "XML_MALFORMED",
      "XML_FORBIDDEN_CONSTRUCT",
      "UNAUTHENTICATED",
      "FORBIDDEN",
      "DUPLICATE_INVOICE",
      "PAYLOAD_TOO_LARGE",
      "UNSUPPORTED_MEDIA_TYPE",
      "CODE_ALREADY_PRESENT",
      "SIGNATURE_MISSING",
      "SIGNATURE_PROFILE",
      "ALGORITHM_NOT_ALLOWED",
      "SIGNATURE_INVALID",
      "CERT_UNTRUSTED",
      "CERT_EXPIRED",
      "CERT_REVOKED",
      "CERT_TAX_CODE_MISMATCH",
      "CERT_NOT_REGISTERED",
      "SELLER_NOT_REGISTERED",
      "SELLER_SUSPENDED",
      "SCHEMA_INVALID",
      "TAX_CODE_INVALID",
      "SYMBOL_YEAR_MISMATCH",
      "ISSUE_DATE_IN_FUTURE",
      "ISSUE_DATE_TOO_OLD",
      "SIGNING_TIME_OUT_OF_RANGE",
      "TOTALS_MISMATCH",
      "RATE_LIMITED",
    ),
  },
});

/** A batch body may carry up to 1,000 invoices of up to 2 MiB each, but no more than this in all. */
export const BATCH_MAX_BYTES = 32 * 1024 * 1024;
export const BATCH_MAX_ITEMS = 1000;

const BatchBody = z
  .object({ invoices: z.array(z.string()).min(1).max(BATCH_MAX_ITEMS).openapi({ description: "Seller-signed HDon documents, each as an XML string." }) })
  .openapi("InvoiceBatch");
const BatchResult = z
  .object({
    results: z.array(
      z.object({
        index: z.number().int(),
        status: z.number().int().openapi({ description: "201 issued, 200 replay, or the HTTP status of the item's error code." }),
        code: z.string().optional(),
        error: z.object({ code: z.string(), message: z.string(), details: z.array(z.object({ code: z.string(), message: z.string(), path: z.string().optional() })) }).optional(),
      }),
    ),
  })
  .openapi("InvoiceBatchResult");

const batch = createRoute({
  method: "post",
  path: "/v1/invoices/batch",
  tags: ["Invoices"],
  summary: "Submit up to 1,000 seller-signed invoices at once; each is judged on its own.",
  description:
    "Every item runs the same gate as `POST /v1/invoices`; one refused item never affects another. Results come in input order with `index`: " +
    "`status` 201 with `code` (issued), 200 with `code` (replay), or the item's error status with `error`. Items under one natural key resolve as " +
    "sequential submissions would. All accepted items are written in one transaction. Body ≤ 32 MiB.",
  security: bearer,
  middleware: [auth("seller"), limitBody(BATCH_MAX_BYTES)] as const,
  request: { body: { required: true, content: { "application/json": { schema: BatchBody } } } },
  responses: {
    200: { description: "One result per item, in input order.", content: { "application/json": { schema: BatchResult } } },
    ...errorResponses("BAD_REQUEST", "SCHEMA_INVALID", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "UNAUTHENTICATED", "FORBIDDEN", "RATE_LIMITED"),
  },
});

const cancel = createRoute({
  method: "post",
  path: "/v1/invoices/{code}/cancellation",
  tags: ["Invoices"],
  summary: "Cancel an issued or adjusted invoice, with a reason (officers, or the owning seller).",
  security: bearer,
  middleware: [auth("officer", "seller")] as const,
  request: { params: CodeParam, body: { required: true, content: { "application/json": { schema: z.object({ reason: text(255, { multiline: true }) }).openapi("Cancellation") } } } },
  responses: {
    200: { description: "The cancelled invoice with its history.", content: { "application/json": { schema: InvoiceSchema } } },
    ...errorResponses("SCHEMA_INVALID", "NOT_FOUND", "RELATED_INVOICE_STATE", "SELLER_SUSPENDED", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

const read = createRoute({
  method: "get",
  path: "/v1/invoices/{code}",
  tags: ["Invoices"],
  summary: "An invoice's summary, status and history (officers, or the owning seller).",
  security: bearer,
  middleware: [auth("officer", "seller")] as const,
  request: { params: CodeParam },
  responses: {
    200: { description: "The invoice.", content: { "application/json": { schema: InvoiceSchema } } },
    ...errorResponses("NOT_FOUND", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

const readXml = createRoute({
  method: "get",
  path: "/v1/invoices/{code}/xml",
  tags: ["Invoices"],
  summary: "The stamped invoice XML (officers, or the owning seller).",
  security: bearer,
  middleware: [auth("officer", "seller")] as const,
  request: { params: CodeParam },
  responses: {
    200: { description: "The stamped XML.", content: { "application/xml": { schema: z.string() } } },
    ...errorResponses("NOT_FOUND", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

export const summaryJson = (i: InvoiceSummary) => ({
  code: i.code,
  status: i.status,
  sellerTaxCode: i.sellerTaxCode,
  form: i.form,
  symbol: i.symbol,
  number: i.number,
  issueDate: i.issueDate,
  currency: i.currency,
  totalBeforeTax: i.totalBeforeTax,
  totalTax: i.totalTax,
  totalPayable: i.totalPayable,
  issuedAt: i.issuedAt.toISOString(),
  digest: i.digest,
  legacy: i.legacy,
});

const XML_TYPES = new Set(["application/xml", "text/xml"]);

/** One item's answer in a batch (api.md): 201 issued now, 200 a replay, else its refusal with the status its code names. */
interface BatchItemResult {
  index: number;
  status: number;
  code?: string;
  error?: { code: ErrorCode; message: string; details: Fault[] };
}

function batchResult(item: BatchItem): BatchItemResult {
  if (item.ok) return { index: item.index, status: item.status === "fresh" ? 201 : 200, code: item.code };
  const { code, message, details } = item.error;
  return { index: item.index, status: httpStatus(code), error: { code, message, details: [...details] } };
}

export function registerInvoices(app: OpenAPIHono<AppEnv>): void {
  app.openapi(submit, async (c) => {
    const principal = c.get("principal");
    if (principal.role !== "seller") throw new ApiError("FORBIDDEN");
    const [type, ...params] = (c.req.header("content-type") ?? "").split(";").map((s) => s.trim().toLowerCase());
    if (!XML_TYPES.has(type ?? "") || params.some((p) => p.startsWith("charset=") && !/^charset="?utf-8"?$/.test(p))) {
      throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Send the invoice as application/xml (UTF-8).");
    }
    const { submit: deps, rateLimiter, heavyWork } = c.get("services");
    const submitter = { keyId: principal.id, sellerTaxCode: principal.sellerTaxCode };
    // A large document: at most a few in flight per API key (429 past them).
    return heavyWork.withBody(`key:${principal.id}`, c.req.header("content-length"), () => readLimited(c, deps.limits.maxBytes), async (body) => {
      if (c.req.valid("query").dryRun === "true") {
        // The same gate and the same refusals (the slow-down included); nothing issued or stored.
        const { dry } = await rateLimiter.guardRefusals(principal.id, body, async () => answered(await dryRunInvoice(deps, body, submitter)));
        return c.json(dry.wouldIssue ? { dryRun: true as const, wouldIssue: true } : { dryRun: true as const, wouldIssue: false, replayOf: summaryJson(dry.replayOf) }, 200);
      }
      // A key that keeps sending the same refused invoice gets 429 before the gate runs again.
      const out = await rateLimiter.guardRefusals(principal.id, body, async () => answered(await submitInvoice(deps, body, submitter)));
      const status = out.status === "fresh" ? 201 : 200;
      if (status === 201) c.get("metrics").invoicesIssued.inc();
      c.header("Location", `/v1/invoices/${out.invoice.code}`);
      if (wantsXml(c)) {
        c.header("Content-Type", "application/xml; charset=utf-8");
        return c.body(out.xml, status) as never;
      }
      return c.json({ ...summaryJson(out.invoice), xml: out.xml }, status);
    });
  });

  app.openapi(batch, async (c) => {
    const principal = c.get("principal");
    if (principal.role !== "seller") throw new ApiError("FORBIDDEN");
    const { invoices } = c.req.valid("json");
    let bytes = 0;
    for (const x of invoices) bytes += x.length;
    // A large batch: at most a few large requests in flight per API key (429 past them).
    const release = c.get("services").heavyWork.admit(`key:${principal.id}`, bytes);
    let items: BatchItem[];
    try {
      items = await submitBatch(c.get("services").submit, invoices, { keyId: principal.id, sellerTaxCode: principal.sellerTaxCode });
    } finally {
      release();
    }
    const results = items.map(batchResult);
    const metrics = c.get("metrics");
    metrics.batchSize.observe({}, invoices.length);
    metrics.invoicesIssued.inc({}, results.filter((r) => r.status === 201).length);
    // Each refused item's messages in the caller's language, as a refusal of the whole request would be.
    const lang = answerLanguage(c);
    return c.json({ results: results.map((r) => (r.error ? { ...r, error: localizeError(r.error, lang) } : r)) }, 200);
  });

  app.openapi(cancel, async (c) => {
    const { code } = c.req.valid("param");
    const p = c.get("principal");
    if (p.role === "admin") throw new ApiError("FORBIDDEN");
    const s = c.get("services");
    const actor = p.role === "seller" ? { role: p.role, id: p.id, sellerTaxCode: p.sellerTaxCode } : { role: p.role, id: p.id };
    const done = answered(await cancelInvoice(s.store, s.store, actor, code, c.req.valid("json").reason, s.clock()));
    return c.json(invoiceJson(done.invoice, await s.store.getInvoiceHistory(code)), 200);
  });

  app.openapi(read, async (c) => {
    const { code } = c.req.valid("param");
    const store = c.get("services").store;
    const inv = await readable(c.get("principal"), code, store.getInvoice(code));
    const history = await store.getInvoiceHistory(code);
    // Officers' reads are recorded (who, what, when, from where); a seller reading its own is not.
    if (c.get("principal").role === "officer") await audit(c, "invoice.read", code);
    // A cash-register invoice's leaf is under its own code.
    return c.json({ ...invoiceJson(inv, history), transparency: await transparencyOf(c, inv.registerCode ?? code) }, 200);
  });

  app.openapi(readXml, async (c) => {
    const { code } = c.req.valid("param");
    const store = c.get("services").store;
    await readable(c.get("principal"), code, store.getInvoice(code));
    const xml = await store.getInvoiceXml(code);
    if (xml === null) throw new ApiError("NOT_FOUND", `No invoice ${code}.`);
    if (c.get("principal").role === "officer") await audit(c, "invoice.xml", code);
    c.header("Content-Type", "application/xml; charset=utf-8");
    c.header("Content-Disposition", `attachment; filename="${code}.xml"`);
    return c.body(xml, 200) as never;
  });
}

/** GET /v1/invoices/{code}: the summary, the buyer, the status and every event. */
function invoiceJson(inv: InvoiceSummary, history: InvoiceEvent[]) {
  return {
    ...summaryJson(inv),
    buyerTaxCode: inv.buyerTaxCode,
    history: history.map((h) => ({
      event: h.event,
      at: h.at.toISOString(),
      by: h.by,
      ...(h.reason !== null ? { reason: h.reason } : {}),
      ...(h.relatedCode !== null ? { relatedCode: h.relatedCode } : {}),
    })),
  };
}

/** Route middleware: reads the body with a hard limit (PAYLOAD_TOO_LARGE past it, whatever Content-Length says) before any validator parses it. */
export function limitBody(max: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // readLimited concatenates into a fresh Buffer: an ArrayBuffer, never a shared one.
    const body = (await readLimited(c, max)) as Uint8Array<ArrayBuffer>;
    c.req.raw = new Request(c.req.raw, { body });
    await next();
  };
}

/** Officers read every invoice; a seller only its own. */
async function readable(p: Principal, code: string, pending: Promise<InvoiceSummary | null>): Promise<InvoiceSummary> {
  const inv = await pending;
  if (!inv) throw new ApiError("NOT_FOUND", `No invoice ${code}.`);
  if (p.role === "seller" && p.sellerTaxCode !== inv.sellerTaxCode) throw new ApiError("FORBIDDEN", "This invoice belongs to another seller.");
  return inv;
}

function wantsXml(c: Context<AppEnv>): boolean {
  const accept = c.req.header("accept") ?? "";
  return /\b(application|text)\/xml\b/.test(accept) && !/\bapplication\/json\b/.test(accept);
}
