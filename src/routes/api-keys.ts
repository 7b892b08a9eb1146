/** POST /v1/sellers/{taxCode}/api-keys: a key for the seller's accounting software (shown once, stored as a hash). */
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { hashSecret, newId, newSecret } from "../auth.js";
import type { AppEnv } from "../context.js";
import { auth, bearer, errorResponses, TaxCodeParam } from "./common.js";
import { loadSeller } from "./sellers.js";

const route = createRoute({
  method: "post",
  path: "/v1/sellers/{taxCode}/api-keys",
  tags: ["Administration"],
  summary: "Issue an API key for a seller's accounting software. The key is shown once.",
  security: bearer,
  middleware: [auth("admin", "officer")] as const,
  request: { params: z.object({ taxCode: TaxCodeParam }) },
  responses: {
    201: { description: "The key.", content: { "application/json": { schema: z.object({ id: z.string(), sellerTaxCode: z.string(), key: z.string() }) } } },
    ...errorResponses("NOT_FOUND", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

export function registerApiKeys(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { taxCode } = c.req.valid("param");
    await loadSeller(c, taxCode);
    const key = newSecret("hdk");
    const id = newId();
    await c.get("services").store.createApiKey({ id, sellerTaxCode: taxCode, keyHash: hashSecret(key) });
    return c.json({ id, sellerTaxCode: taxCode, key }, 201);
  });
}
