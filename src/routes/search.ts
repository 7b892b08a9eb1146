/** GET /v1/invoices: officers search every invoice, a seller's key its own; keyset pages. Recorded in the audit log. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context.js";
import { INVOICE_STATUSES } from "../domain/lifecycle.js";
import { isCalendarDate, LEGACY_FILTER, searchInvoices } from "../domain/reports.js";
import { TAX_CODE_FORM } from "../domain/taxcode.js";
import { INVOICE_SOURCES, type InvoiceSource, type InvoiceSummary } from "../storage/store.js";
import { audit } from "./audit.js";
import { answered, auth, bearer, errorResponses, Money } from "./common.js";
import { LegacyMarks, summaryJson } from "./invoices.js";

/** docs/lifecycle.md "Invoices without a code". */
export const SOURCE_TEXT =
  "Where the invoice came from: `coded` (issued a code here), `uncoded` (T-VAN 203, sent without a code), `cashRegister` (T-VAN 206, with the seller's own code in `registerCode`). " +
  "An uncoded or cash-register invoice has no authority code: its `code` is a record id.";

const TaxCode = z.string().regex(TAX_CODE_FORM);
export const DateParam = z.string().refine(isCalendarDate, { message: "a date, YYYY-MM-DD" });

const SearchQuery = z.object({
  seller: TaxCode.optional().openapi({ example: "0100000010", description: "The seller's tax code. A seller's key: its own (the default)." }),
  buyer: TaxCode.optional().openapi({ description: "The buyer's tax code." }),
  from: DateParam.optional().openapi({ example: "2026-11-01", description: "Issue date (NLap) from, inclusive." }),
  to: DateParam.optional().openapi({ example: "2026-11-30", description: "Issue date to, inclusive." }),
  status: z.enum(INVOICE_STATUSES).optional(),
  form: z.string().regex(/^[1-9]$/).optional().openapi({ description: "KHMSHDon." }),
  symbol: z.string().regex(/^[CK]\d{2}[TDLMNBGHX][A-Z]{2}$/).optional().openapi({ example: "C26TAA", description: "KHHDon." }),
  legacy: z
    .enum(["true", "false", "sha1", "rsa1024"])
    .optional()
    .openapi({
      example: "true",
      description:
        "Invoices accepted under a legacy allowance (their `legacy` is not empty): `true` any, `sha1` or `rsa1024` that one; " +
        "`false` only the others (HOADON_ALLOW_SHA1, HOADON_ALLOW_RSA1024; docs/security.md).",
    }),
  source: z.enum(INVOICE_SOURCES as [InvoiceSource, ...InvoiceSource[]]).optional().openapi({ description: SOURCE_TEXT }),
  limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ description: "Invoices per page, ≤ 1000 (default 100)." }),
  cursor: z.string().max(100).optional().openapi({ description: "`nextCursor` of the previous page, as given." }),
});

const ItemSchema = z
  .object({
    code: z.string(),
    status: z.enum(INVOICE_STATUSES),
    sellerTaxCode: z.string(),
    buyerTaxCode: z.string().nullable(),
    form: z.string(),
    symbol: z.string(),
    number: z.number().int(),
    issueDate: z.string(),
    currency: z.string(),
    totalBeforeTax: Money,
    totalTax: Money,
    totalPayable: Money,
    issuedAt: z.string(),
    digest: z.string(),
    legacy: LegacyMarks,
    source: z.enum(INVOICE_SOURCES as [InvoiceSource, ...InvoiceSource[]]).openapi({ description: SOURCE_TEXT }),
    registerCode: z.string().nullable().openapi({ example: "M1-26-SGYCT-00000000122", description: "A cash-register invoice's own code (MCCQT made by the seller's software); null otherwise." }),
  })
  .openapi("InvoiceListItem");

const search = createRoute({
  method: "get",
  path: "/v1/invoices",
  tags: ["Invoices"],
  summary: "Search invoices (officers: all; a seller's key: its own), newest issue date first, in pages.",
  description:
    "Filters combine with AND. Pages are keyset-paged: pass `nextCursor` as `cursor` until it is null. Each invoice that exists when the search " +
    "starts comes exactly once, whatever is issued meanwhile. Amounts in VND. Every search is recorded in the audit log.",
  security: bearer,
  middleware: [auth("officer", "seller")] as const,
  request: { query: SearchQuery },
  responses: {
    200: {
      description: "One page.",
      content: { "application/json": { schema: z.object({ items: z.array(ItemSchema), nextCursor: z.string().nullable() }).openapi("InvoicePage") } },
    },
    ...errorResponses("SCHEMA_INVALID", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

/** An invoice of the list: what a submission answers (summaryJson), with the buyer and where it came from. */
const item = (i: InvoiceSummary) => ({ ...summaryJson(i), buyerTaxCode: i.buyerTaxCode, source: i.source, registerCode: i.registerCode });

export function registerSearch(app: OpenAPIHono<AppEnv>): void {
  app.openapi(search, async (c) => {
    const q = c.req.valid("query");
    const p = c.get("principal");
    const viewer = p.role === "seller" ? { role: p.role, sellerTaxCode: p.sellerTaxCode } : { role: p.role };
    const { legacy, ...rest } = q;
    const params = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as typeof rest;
    const out = answered(await searchInvoices(c.get("services").readStore, viewer, { ...params, ...(legacy ? { legacy: LEGACY_FILTER[legacy] } : {}) }));
    await audit(c, "invoice.search", null, q);
    return c.json({ items: out.page.items.map(item), nextCursor: out.nextCursor }, 200);
  });
}
