/** Public verification (api.md /v1/verify…): by code, by natural key and total, by the invoice file. Rate limited per client address (app.ts). */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv, Services } from "../context.js";
import { INVOICE_STATUSES } from "../domain/lifecycle.js";
import { TAX_CODE_FORM } from "../domain/taxcode.js";
import { lookupByCode, lookupByKey, type VerifyDeps, verifyDocument } from "../domain/verification.js";
import { ApiError } from "../errors.js";
import { clientAddress } from "../rate-limit-middleware.js";
import { errorResponses, Money, readLimited } from "./common.js";
import { TransparencySchema, transparencyOf } from "./log.js";

/** What verification needs from the services built at start. */
export const verifyDeps = (s: Services): VerifyDeps => ({ store: s.store, authority: s.authority, codeSecret: s.codeSecret, allowSha1: s.submit.allowSha1, limits: s.submit.limits, lane: s.heavyWork });

const Status = z.enum(INVOICE_STATUSES);

const PublicInvoiceSchema = z
  .object({
    valid: z.boolean().openapi({ description: "Genuine: issued by the tax authority (the code authenticates the record). The status is separate: a cancelled invoice is genuine and cancelled." }),
    code: z.string().openapi({ example: "0A00000000000003E8A1B2C3D4E5F6A7B8" }),
    status: Status,
    sellerTaxCode: z.string().openapi({ example: "0100000010" }),
    sellerName: z.string(),
    form: z.string().openapi({ example: "1" }),
    symbol: z.string().openapi({ example: "C26TAA" }),
    number: z.number().int(),
    issueDate: z.string().openapi({ example: "2026-11-20" }),
    totalBeforeTax: Money,
    totalTax: Money,
    totalPayable: Money.openapi({ description: "In VND (converted with TGia)." }),
    currency: z.string().openapi({ example: "VND" }),
    source: z.enum(["coded", "uncoded", "cashRegister"]).openapi({
      description:
        "coded: `code` is the tax authority's (MCCQT, its MAC checked); uncoded (T-VAN 203) and cashRegister (T-VAN 206, `code` its own MCCQT `M1-26-…`): received and checked by the authority, genuine by its record.",
    }),
  })
  .openapi("PublicInvoice", { description: "No buyer data: no name, tax code or address." });

const CheckSchema = z.enum(["sellerSignature", "authoritySignature", "codeAuthentic", "matchesRecord"]);
const VerificationSchema = z
  .object({
    valid: z.boolean().openapi({ description: "Every check passed: the tax authority issued exactly this invoice. `checks.status` says whether it still counts." }),
    code: z.string().nullable().openapi({ description: "The document's MCCQT." }),
    checks: z.object({
      sellerSignature: z.boolean().openapi({ description: "The seller's signature over DLHDon verifies." }),
      authoritySignature: z.boolean().openapi({ description: "The CQT signature verifies and was made with the tax authority's certificate." }),
      codeAuthentic: z.boolean().openapi({ description: "The code's MAC binds this invoice's seller, form, symbol, number, date, total and signed data." }),
      matchesRecord: z.boolean().openapi({ description: "The invoice stored under this code has exactly this signed data (digest)." }),
      status: Status.nullable().openapi({ description: "The stored invoice's status; null when no invoice has this code." }),
    }),
    failures: z.array(z.object({ check: CheckSchema, code: z.string(), message: z.string() })).openapi({ description: "Each failed check with the reason." }),
    invoice: PublicInvoiceSchema.nullable().openapi({ description: "The invoice the tax authority issued under this code, when there is one." }),
    transparency: TransparencySchema,
  })
  .openapi("Verification");

const PublicInvoiceLogged = z.object({ ...PublicInvoiceSchema.shape, transparency: TransparencySchema }).openapi("PublicInvoiceLogged", { description: "No buyer data: no name, tax code or address." });

const byCode = createRoute({
  method: "get",
  path: "/v1/verify/{code}",
  tags: ["Verification"],
  summary: "Is the invoice with this code genuine, and what is its status? (public)",
  description: "Answers the public facts of the invoice (no buyer data). An unknown or made-up code is 404. A cash-register invoice (T-VAN 206) is found by its own 23-character code (`M1-26-A1B2C-00001234567`).",
  request: { params: z.object({ code: z.string().max(64).openapi({ param: { name: "code", in: "path" }, example: "0A00000000000003E8A1B2C3D4E5F6A7B8" }) }) },
  responses: {
    200: { description: "The invoice.", content: { "application/json": { schema: PublicInvoiceLogged } } },
    ...errorResponses("NOT_FOUND", "RATE_LIMITED"),
  },
});

const byKey = createRoute({
  method: "get",
  path: "/v1/verify",
  tags: ["Verification"],
  summary: "The same lookup without the code: seller, form, symbol, number and the total payable (public).",
  description:
    "`total` must equal the invoice's total payable in VND, compared as a decimal (`1000` = `1000.00`). A wrong total answers 404, exactly like an " +
    "unknown invoice, so that the natural key alone tells nothing.",
  request: {
    query: z.object({
      seller: z.string().regex(TAX_CODE_FORM).openapi({ example: "0100000010", description: "The seller's tax code (MST)." }),
      form: z.string().regex(/^[1-9]$/).openapi({ example: "1", description: "KHMSHDon." }),
      symbol: z
        .string()
        .transform((s) => s.trim().toUpperCase())
        .pipe(z.string().regex(/^[CK]\d{2}[TDLMNBGHX][A-Z]{2}$/))
        .openapi({ example: "C26TAA", description: "KHHDon." }),
      number: z
        .string()
        .regex(/^\d{1,8}$/)
        .transform(Number)
        .pipe(z.number().int().min(1))
        .openapi({ example: "42", description: "SHDon (zero padding allowed)." }),
      total: z.string().regex(/^-?\d{1,15}(\.\d{1,6})?$/).openapi({ example: "3790000", description: "The total payable in VND." }),
    }),
  },
  responses: {
    200: { description: "The invoice.", content: { "application/json": { schema: PublicInvoiceLogged } } },
    ...errorResponses("SCHEMA_INVALID", "NOT_FOUND", "RATE_LIMITED"),
  },
});

const byDocument = createRoute({
  method: "post",
  path: "/v1/verify",
  tags: ["Verification"],
  summary: "Verify a stamped invoice file: both signatures, the code, the stored record and the status (public).",
  description:
    "The body is the stamped invoice XML (≤ 2 MiB, read by the gate's hardened parser). 200 with `valid` and each check; a tampered or forged " +
    "invoice comes back `valid: false` with the failing checks named in `failures`. A body that is not XML at all is refused like a submission.",
  request: { body: { required: true, content: { "application/xml": { schema: z.string().openapi({ example: "<HDon><DLHDon Id=\"SigningData\">…</DLHDon><MCCQT Id=\"Id-…\">…</MCCQT><DSCKS>…</DSCKS></HDon>" }) } } } },
  responses: {
    200: { description: "The verdict, check by check.", content: { "application/json": { schema: VerificationSchema } } },
    ...errorResponses("XML_MALFORMED", "XML_FORBIDDEN_CONSTRUCT", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "RATE_LIMITED"),
  },
});

const XML_TYPES = new Set(["application/xml", "text/xml"]);

/** Reads the verification body as the gate reads a submission: strictly XML, with a hard size limit. */
export async function verifyBody(deps: VerifyDeps, body: Uint8Array) {
  const out = await verifyDocument(deps, body);
  if (!out.ok) throw ApiError.of(out.error);
  return out.verification;
}

export function registerVerify(app: OpenAPIHono<AppEnv>): void {
  app.openapi(byCode, async (c) => {
    const { code } = c.req.valid("param");
    const found = await lookupByCode(verifyDeps(c.get("services")), code.toUpperCase());
    if (!found) throw new ApiError("NOT_FOUND", "No invoice was issued with this code.");
    return c.json({ ...found, transparency: await transparencyOf(c, found.code) }, 200);
  });

  app.openapi(byKey, async (c) => {
    const q = c.req.valid("query");
    const found = await lookupByKey(verifyDeps(c.get("services")), { sellerTaxCode: q.seller, form: q.form, symbol: q.symbol, number: q.number, total: q.total });
    if (!found) throw new ApiError("NOT_FOUND", "No invoice with this seller, form, symbol, number and total.");
    return c.json({ ...found, transparency: await transparencyOf(c, found.code) }, 200);
  });

  app.openapi(byDocument, async (c) => {
    const [type] = (c.req.header("content-type") ?? "").split(";").map((s) => s.trim().toLowerCase());
    if (!XML_TYPES.has(type ?? "")) throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Send the invoice as application/xml (UTF-8).");
    const services = c.get("services");
    const deps = verifyDeps(services);
    // A large document: at most a few in flight per client address (429 past them).
    const client = `address:${clientAddress(c, services.rateLimiter.settings.trustProxyHops)}`;
    const verdict = await services.heavyWork.withBody(client, c.req.header("content-length"), () => readLimited(c, deps.limits.maxBytes), (body) => verifyBody(deps, body));
    return c.json({ ...verdict, transparency: verdict.invoice ? await transparencyOf(c, verdict.invoice.code) : null }, 200);
  });
}
