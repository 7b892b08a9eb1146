/** GET /v1/reports/totals: invoices, revenue and tax by period, seller, rate, tax office, province or source (officers), JSON or CSV. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context.js";
import { totalsCsv, totalsReport } from "../domain/reports.js";
import { TAX_CODE_FORM } from "../domain/taxcode.js";
import type { ReportFigures } from "../storage/store.js";
import { audit } from "./audit.js";
import { answered, auth, bearer, errorResponses, Money } from "./common.js";
import { DateParam } from "./search.js";

const GroupBy = z.enum(["day", "month", "seller", "taxRate", "taxOffice", "province", "source"]);
const Source = z.enum(["coded", "uncoded", "cashRegister", "summary"]);

const TotalsQuery = z.object({
  from: DateParam.openapi({ example: "2026-01-01", description: "Issue date (NLap) from, inclusive." }),
  to: DateParam.openapi({ example: "2026-12-31", description: "Issue date to, inclusive." }),
  groupBy: GroupBy.optional().openapi({
    description:
      "Rows by day (`YYYY-MM-DD`), month (`YYYY-MM`), seller (tax code), taxRate (TSuat as written), taxOffice or province (the seller's registered name), " +
      "or source (`coded`, `uncoded`, `cashRegister`, `summary`). Without it: the total alone.",
    example: "source",
  }),
  seller: z.string().regex(TAX_CODE_FORM).optional().openapi({ description: "Only this seller's invoices and summary rows.", example: "0100109106" }),
  source: Source.optional().openapi({
    description:
      "Only one source: `coded` (invoices with the authority's code), `uncoded` (invoices without a code, T-VAN 203), `cashRegister` (cash-register invoices, 206), " +
      "`summary` (the counted rows of summary tables, 400). Default: all of them.",
    example: "summary",
  }),
});

const Figures = { invoices: z.number().int(), revenue: Money.openapi({ description: "Σ TgTCThue in VND." }), tax: Money.openapi({ description: "Σ TgTThue in VND." }) };
const TotalsSchema = z
  .object({ rows: z.array(z.object({ key: z.string(), ...Figures })), total: z.object(Figures) })
  .openapi("Totals", {
    description:
      "Counted: invoices issued or adjusted (replaced and cancelled invoices are out; an adjusting invoice adds its signed amounts), of every source, and the rows of " +
      "summary tables (T-VAN 400) not cancelled, replaced or corrected by a later row (each counts 1 under `invoices`, on its NLap, else the period's last day). " +
      "Rows are sorted by key; `total` counts each invoice once (for taxRate, a row counts the invoices having that rate).",
    example: {
      rows: [
        { key: "cashRegister", invoices: 120, revenue: "18500000", tax: "1480000" },
        { key: "coded", invoices: 9800, revenue: "1250000000", tax: "112000000" },
        { key: "summary", invoices: 310, revenue: "46000000", tax: "4600000" },
        { key: "uncoded", invoices: 45, revenue: "9000000", tax: "720000" },
      ],
      total: { invoices: 10275, revenue: "1323500000", tax: "118800000" },
    },
  });

const totals = createRoute({
  method: "get",
  path: "/v1/reports/totals",
  tags: ["Reports"],
  summary: "Invoices, revenue and tax for a period, grouped, in all or by source (officers). `Accept: text/csv` for CSV.",
  description:
    "From rollups kept in the transaction of every issue, replacement, adjustment and cancellation: exact, and as fast for a year as for a day. " +
    "CSV: `key,invoices,revenue,tax`, then a `total` line. Every report is recorded in the audit log.",
  security: bearer,
  middleware: [auth("officer")] as const,
  request: { query: TotalsQuery },
  responses: {
    200: {
      description: "The totals.",
      content: {
        "application/json": { schema: TotalsSchema },
        "text/csv": {
          schema: z.string().openapi({ example: "key,invoices,revenue,tax\r\ncoded,12,150000000,12000000\r\nsummary,3,4500000,450000\r\ntotal,15,154500000,12450000\r\n" }),
        },
      },
    },
    ...errorResponses("SCHEMA_INVALID", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

const figures = (t: ReportFigures) => ({ invoices: Number(t.invoices), revenue: t.revenue, tax: t.tax });

export function registerReports(app: OpenAPIHono<AppEnv>): void {
  app.openapi(totals, async (c) => {
    const q = c.req.valid("query");
    const groupBy = q.groupBy ?? null;
    const out = answered(await totalsReport(c.get("services").readStore, { from: q.from, to: q.to, groupBy, seller: q.seller ?? null, source: q.source ?? null }));
    await audit(c, "report.totals", null, q);
    if (/\btext\/csv\b/i.test(c.req.header("accept") ?? "")) {
      c.header("Content-Type", "text/csv; charset=utf-8");
      c.header("Content-Disposition", `attachment; filename="totals-${groupBy ?? "all"}${q.source ? `-${q.source}` : ""}-${q.from}-${q.to}.csv"`);
      return c.body(totalsCsv(out.report, groupBy), 200) as never;
    }
    return c.json({ rows: out.report.rows.map((r) => ({ key: r.key, ...figures(r) })), total: figures(out.report.total) }, 200);
  });
}
