/** Operations: Prometheus metrics, the interactive documentation (Scalar, served offline) and its scripts. */
import { timingSafeEqual } from "node:crypto";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { hashSecret } from "../auth.js";
import type { AppEnv } from "../context.js";
import { ApiError } from "../errors.js";
import { METRICS_CONTENT_TYPE } from "../metrics.js";
import { errorResponses } from "./common.js";

export interface OpsOptions {
  /** SHA-256 (hex) of HOADON_METRICS_TOKEN; unset: /metrics is public. */
  metricsTokenHash?: string | undefined;
  /** What GET /metrics serves (default: this process's metrics); with HOADON_WORKERS, the whole process group. */
  renderMetrics?: (() => string | Promise<string>) | undefined;
  /** Reads a file of public/ (Node); on Workers the platform serves public/ itself. */
  asset?: ((path: string) => Promise<Uint8Array | null>) | undefined;
}

const metrics = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["Operations"],
  summary: "Prometheus metrics (text format 0.0.4).",
  description:
    "Request counts and latency by route and status, invoices issued, refusals by error code, batch sizes, database pool use and " +
    "query latency, event-loop lag and utilization, process CPU and memory (heap, external, array buffers), garbage collection, the expiry of the " +
    "authority's certificate and of the CRLs. With HOADON_WORKERS > 1, every worker's series with a `worker` label. Public unless HOADON_METRICS_TOKEN is set; then `Authorization: Bearer <that token>`.",
  security: [{}, { bearerAuth: [] }],
  responses: {
    200: {
      description: "The metrics.",
      content: {
        "text/plain": {
          schema: z.string().openapi({
            example: '# HELP hoadon_invoices_issued_total Invoices issued.\n# TYPE hoadon_invoices_issued_total counter\nhoadon_invoices_issued_total 42\n',
          }),
        },
      },
    },
    ...errorResponses("UNAUTHENTICATED"),
  },
});

const docs = createRoute({
  method: "get",
  path: "/docs",
  tags: ["Operations"],
  summary: "Interactive API documentation (Scalar) of /openapi.json; works offline.",
  responses: { 200: { description: "An HTML page.", content: { "text/html": { schema: z.string() } } } },
});

// No inline script or style: the page stays within a strict Content-Security-Policy
// (script-src 'self'; Scalar itself needs style-src 'unsafe-inline' for the styles it injects).
const DOCS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Hoadon API reference</title>
  </head>
  <body>
    <div id="app"></div>
    <script src="/docs/scalar.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

/** The files of public/ that are served, with their types: nothing else is served from disk. */
const DOCS_ASSETS: Record<string, string> = {
  "/docs/scalar.js": "text/javascript; charset=utf-8",
  "/docs/init.js": "text/javascript; charset=utf-8",
};

const XSD_PATH = "/schemas/invoice.xsd";
/**
 * public/schemas/invoice.xsd is a copy of schemas/invoice.xsd (test/unit/spec-copy.test.ts keeps them equal; a copy, not a link,
 * so that every asset uploader takes it); on Workers the platform serves it from public/.
 */
const xsd = createRoute({
  method: "get",
  path: XSD_PATH,
  tags: ["Operations"],
  summary: "The XSD of the invoice (HDon) this service accepts (docs/invoice-format.md).",
  responses: {
    200: {
      description: "The XML Schema.",
      content: { "application/xml": { schema: z.string().openapi({ example: '<?xml version="1.0" encoding="UTF-8"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">…</xs:schema>' }) } },
    },
    ...errorResponses("NOT_FOUND"),
  },
});

export function registerOps(app: OpenAPIHono<AppEnv>, o: OpsOptions = {}): void {
  const tokenHash = o.metricsTokenHash ? Buffer.from(o.metricsTokenHash, "hex") : null;

  app.openapi(metrics, async (c) => {
    if (tokenHash) {
      const m = /^Bearer[ ]+([\x21-\x7e]{1,512})$/i.exec(c.req.header("authorization") ?? "");
      const given = m ? Buffer.from(hashSecret(m[1]!), "hex") : Buffer.alloc(0);
      if (given.length !== tokenHash.length || !timingSafeEqual(given, tokenHash)) {
        throw new ApiError("UNAUTHENTICATED", "Send Authorization: Bearer <HOADON_METRICS_TOKEN>.");
      }
    }
    c.header("Content-Type", METRICS_CONTENT_TYPE);
    return c.body(o.renderMetrics ? await o.renderMetrics() : c.get("metrics").render(), 200) as never;
  });

  app.openapi(docs, (c) => {
    // The documentation page may be cached briefly; it holds nothing private.
    c.header("Cache-Control", "public, max-age=300");
    return c.html(DOCS_HTML, 200) as never;
  });

  const asset = o.asset;
  app.openapi(xsd, async (c) => {
    const bytes = asset ? await asset(XSD_PATH) : null;
    if (!bytes) throw new ApiError("NOT_FOUND", `${XSD_PATH} is missing from public/.`);
    c.header("Content-Type", "application/xml; charset=utf-8");
    c.header("Cache-Control", "public, max-age=3600");
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200) as never;
  });
  if (asset) {
    for (const [path, type] of Object.entries(DOCS_ASSETS)) {
      app.get(path, async (c) => {
        const bytes = await asset(path);
        if (!bytes) throw new ApiError("NOT_FOUND", `${path} is missing from public/.`);
        c.header("Content-Type", type);
        c.header("Cache-Control", "public, max-age=3600");
        return c.body(bytes as Uint8Array<ArrayBuffer>, 200);
      });
    }
  }
}
