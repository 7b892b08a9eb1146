/** GET /v1/reports/totals: invoices, revenue and tax by period, seller, rate, tax office or province (officers), JSON or CSV. */
import { TAX_CODE_FORM } from "../domain/taxcode.js";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context.js";
import { totalsCsv, totalsReport } from "../domain/reports.js";
import type { Totals } from "../storage/store.js";
import { audit } from "./audit.js";
import { auth, bearer, errorResponses, Money } from "./common.js";
import { DateParam } from "./search.js";

const GroupBy = z.enum(["day", "month", "seller", "taxRate", "taxOffice", "province"]);

const TotalsQuery = z.object({
  from: DateParam.openapi({ example: "2026-01-01", description: "Issue date (NLap) from, inclusive." }),
  to: DateParam.openapi({ example: "2026-12-31", description: "Issue date to, inclusive." }),
  groupBy: GroupBy.optional().openapi({ description: "Rows by day (`YYYY-MM-DD`), month (`YYYY-MM`), seller (tax code), taxRate (TSuat as written), taxOffice or province (the seller's registered name). Without it: the total alone." }),
  seller: z.string().regex(TAX_CODE_FORM).optional().openapi({ description: "Only this seller's invoices." }),
});

const Figures = { invoices: z.number().int(), revenue: Money.openapi({ description: "Σ TgTCThue in VND." }), tax: Money.openapi({ description: "Σ TgTThue in VND." }) };
const TotalsSchema = z
  .object({ rows: z.array(z.object({ key: z.string(), ...Figures })), total: z.object(Figures) })
  .openapi("Totals", {
    description:
      "Counted: invoices issued or adjusted (replaced and cancelled invoices are out; an adjusting invoice adds its signed amounts). Rows are sorted by key; " +
      "`total` counts each invoice once (for taxRate, a row counts the invoices having that rate).",
  });

const totals = createRoute({
  method: "get",
  path: "/v1/reports/totals",
  tags: ["Reports"],
  summary: "Invoices, revenue and tax for a period, grouped (officers). `Accept: text/csv` for CSV.",
  description:
    "From rollups kept in the transaction of every issue, replacement, adjustment and cancellation: exact, and as fast for a year as for a day. " +
    "CSV: `key,invoices,revenue,tax`, then a `total` line. Every report is recorded in the audit log.",
  security: bearer,
  middleware: [auth("officer")] as const,
  request: { query: TotalsQuery },
  responses: {
    200: {
      description: "The totals.",
      content: { "application/json": { schema: TotalsSchema }, "text/csv": { schema: z.string().openapi({ example: "key,invoices,revenue,tax\r\n2026-11,12,150000000,12000000\r\ntotal,12,150000000,12000000\r\n" }) } },
    },
    ...errorResponses("SCHEMA_INVALID", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

const figures = (t: Totals) => ({ invoices: Number(t.invoices), revenue: t.revenue, tax: t.tax });

export function registerReports(app: OpenAPIHono<AppEnv>): void {
  app.openapi(totals, async (c) => {
    const q = c.req.valid("query");
    const groupBy = q.groupBy ?? null;
    const out = await totalsReport(c.get("services").readStore, { from: q.from, to: q.to, groupBy, seller: q.seller ?? null });
    if (!out.ok) throw out.error;
    await audit(c, "report.totals", null, q);
    if (/\btext\/csv\b/i.test(c.req.header("accept") ?? "")) {
      c.header("Content-Type", "text/csv; charset=utf-8");
      c.header("Content-Disposition", `attachment; filename="totals-${groupBy ?? "all"}-${q.from}-${q.to}.csv"`);
      return c.body(totalsCsv(out.report, groupBy), 200) as never;
    }
    return c.json({ rows: out.report.rows.map((r) => ({ key: r.key, ...figures(r) })), total: figures(out.report.total) }, 200);
  });
}
