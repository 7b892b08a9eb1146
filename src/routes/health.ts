/** Liveness, readiness and the authority's certificate: public. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context.js";
import { ApiError } from "../errors.js";
import { errorResponses } from "./common.js";

const healthz = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["Operations"],
  summary: "Liveness: the process answers.",
  responses: { 200: { description: "Alive.", content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } } } },
});

const readyz = createRoute({
  method: "get",
  path: "/readyz",
  tags: ["Operations"],
  summary: "Readiness: the database is reachable.",
  responses: {
    200: { description: "Ready.", content: { "application/json": { schema: z.object({ status: z.literal("ready") }) } } },
    ...errorResponses(),
  },
});

const authorityCertificate = createRoute({
  method: "get",
  path: "/v1/authority/certificate",
  tags: ["Verification"],
  summary: "The tax authority's signing certificate (PEM), to verify the CQT signature of stamped invoices.",
  responses: { 200: { description: "PEM certificate.", content: { "application/x-pem-file": { schema: z.string() } } } },
});

export function registerHealth(app: OpenAPIHono<AppEnv>): void {
  app.openapi(healthz, (c) => c.json({ status: "ok" as const }, 200));
  app.openapi(readyz, async (c) => {
    try {
      await c.get("services").store.ping();
    } catch {
      throw new ApiError("UNAVAILABLE", "The database is not reachable.", [], { "Retry-After": "1" });
    }
    return c.json({ status: "ready" as const }, 200);
  });
  app.openapi(authorityCertificate, (c) => {
    c.header("Content-Type", "application/x-pem-file");
    return c.body(c.get("services").authority.certPem, 200) as never;
  });
}
