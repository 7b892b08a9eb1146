/**
 * A seller's API keys (admins and officers): issue one (shown once, stored as a hash), list them
 * (id, created, last used, revoked; never the key nor its hash), revoke one. A revoked key is
 * refused (401) at once by every instance: the revocation is announced by the database to every
 * instance's registry cache (storage/registry-cache.ts). Issue and revocation are audited.
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { hashSecret, newId, newSecret } from "../auth.js";
import type { AppEnv } from "../context.js";
import { ApiError } from "../errors.js";
import type { ApiKeyRecord } from "../storage/store.js";
import { auditEntry } from "./audit.js";
import { auth, bearer, errorResponses, IdParam, TaxCodeParam, UUID } from "./common.js";
import { loadSeller } from "./sellers.js";

const ApiKeySchema = z
  .object({
    id: z.string().openapi({ format: "uuid", example: "0b7e3c52-8a0e-4d4f-9a51-3f5f2d8c1e77" }),
    sellerTaxCode: z.string().openapi({ example: "0100000010" }),
    createdAt: z.string().openapi({ example: "2026-11-02T03:04:05.000Z" }),
    lastUsedAt: z
      .string()
      .nullable()
      .openapi({ example: "2026-11-22T08:15:00.000Z", description: "The last request made with the key, to about a minute (docs/integration.md); null: not used (yet)." }),
    revokedAt: z.string().nullable().openapi({ example: null, description: "When the key was revoked; null while it is in use." }),
  })
  .openapi("ApiKey");

const apiKeyJson = (k: ApiKeyRecord) => ({
  id: k.id,
  sellerTaxCode: k.sellerTaxCode,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

const create = createRoute({
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

const list = createRoute({
  method: "get",
  path: "/v1/sellers/{taxCode}/api-keys",
  tags: ["Administration"],
  summary: "List a seller's API keys, newest first, revoked ones included: id, created, last used, revoked. Never the key.",
  security: bearer,
  middleware: [auth("admin", "officer")] as const,
  request: { params: z.object({ taxCode: TaxCodeParam }) },
  responses: {
    200: { description: "The seller's keys.", content: { "application/json": { schema: z.object({ items: z.array(ApiKeySchema) }).openapi("ApiKeyList") } } },
    ...errorResponses("NOT_FOUND", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

const revoke = createRoute({
  method: "delete",
  path: "/v1/sellers/{taxCode}/api-keys/{id}",
  tags: ["Administration"],
  summary:
    "Revoke an API key: from now on every instance answers it 401. Idempotent: a key revoked already answers 200 with its first revocation time.",
  security: bearer,
  middleware: [auth("admin", "officer")] as const,
  request: { params: z.object({ taxCode: TaxCodeParam, id: IdParam("id", "The key's id, as issued and listed.") }) },
  responses: {
    200: { description: "The revoked key.", content: { "application/json": { schema: ApiKeySchema } } },
    ...errorResponses("NOT_FOUND", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

export function registerApiKeys(app: OpenAPIHono<AppEnv>): void {
  app.openapi(create, async (c) => {
    const { taxCode } = c.req.valid("param");
    await loadSeller(c, taxCode);
    const key = newSecret("hdk");
    const id = newId();
    await c.get("services").store.createApiKey({ id, sellerTaxCode: taxCode, keyHash: hashSecret(key) }, auditEntry(c, "api-key.issue", id, { sellerTaxCode: taxCode }));
    return c.json({ id, sellerTaxCode: taxCode, key }, 201);
  });

  app.openapi(list, async (c) => {
    const { taxCode } = c.req.valid("param");
    await loadSeller(c, taxCode);
    const keys = await c.get("services").store.listApiKeys(taxCode);
    return c.json({ items: keys.map(apiKeyJson) }, 200);
  });

  app.openapi(revoke, async (c) => {
    const { taxCode, id } = c.req.valid("param");
    const s = c.get("services");
    await loadSeller(c, taxCode);
    const key = UUID.test(id) ? await s.store.revokeApiKey(taxCode, id.toLowerCase(), s.clock(), auditEntry(c, "api-key.revoke", id.toLowerCase(), { sellerTaxCode: taxCode })) : null;
    if (!key) throw new ApiError("NOT_FOUND", `Seller ${taxCode} has no API key ${id}.`);
    return c.json(apiKeyJson(key), 200);
  });
}
