/**
 * Officers (admins only): register one and issue their bearer token (shown once, stored as a
 * hash), list them (with the token's last use; never the token nor its hash), revoke a token. A
 * revoked token is refused (401) at once by every instance, and the officer's dashboard sessions
 * end with it. Issue and revocation are audited.
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { hashSecret, newId, newSecret } from "../auth.js";
import type { AppEnv } from "../context.js";
import { ApiError } from "../errors.js";
import type { Officer } from "../storage/store.js";
import { auditEntry } from "./audit.js";
import { auth, bearer, errorResponses, IdParam, text, UUID } from "./common.js";

const CreateOfficer = z.object({ name: text(200), taxOffice: text(200).optional() }).openapi("CreateOfficer");

const OfficerSchema = z
  .object({
    id: z.string().openapi({ format: "uuid", example: "5d1c9a7e-2f4b-4c1a-8e3d-7b6a5f4e3d2c" }),
    name: z.string().openapi({ example: "Nguyễn Văn A" }),
    taxOffice: z.string().nullable().openapi({ example: "Cục Thuế TP Hà Nội" }),
    createdAt: z.string().openapi({ example: "2026-11-02T03:04:05.000Z" }),
    lastUsedAt: z
      .string()
      .nullable()
      .openapi({ example: "2026-11-22T08:15:00.000Z", description: "The last request or dashboard sign-in with the token, to about a minute (docs/integration.md); null: not used (yet)." }),
    revokedAt: z.string().nullable().openapi({ example: null, description: "When the token was revoked; null while it is in use." }),
  })
  .openapi("Officer");

const officerJson = (o: Officer) => ({
  id: o.id,
  name: o.name,
  taxOffice: o.taxOffice,
  createdAt: o.createdAt.toISOString(),
  lastUsedAt: o.lastUsedAt?.toISOString() ?? null,
  revokedAt: o.revokedAt?.toISOString() ?? null,
});

const create = createRoute({
  method: "post",
  path: "/v1/officers",
  tags: ["Administration"],
  summary: "Register a tax officer and issue their bearer token (shown once, stored as a hash).",
  security: bearer,
  middleware: [auth("admin")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateOfficer } } } },
  responses: {
    201: {
      description: "The officer and their token.",
      content: { "application/json": { schema: z.object({ id: z.string(), name: z.string(), taxOffice: z.string().nullable(), token: z.string() }) } },
    },
    ...errorResponses("SCHEMA_INVALID", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

const list = createRoute({
  method: "get",
  path: "/v1/officers",
  tags: ["Administration"],
  summary: "List the officers, oldest first, revoked ones included: name, office, created, the token's last use, revoked. Never the token.",
  security: bearer,
  middleware: [auth("admin")] as const,
  responses: {
    200: { description: "Every officer.", content: { "application/json": { schema: z.object({ items: z.array(OfficerSchema) }).openapi("OfficerList") } } },
    ...errorResponses("UNAUTHENTICATED", "FORBIDDEN"),
  },
});

const revoke = createRoute({
  method: "delete",
  path: "/v1/officers/{id}",
  tags: ["Administration"],
  summary:
    "Revoke an officer's token: from now on every instance answers it 401, and their dashboard sessions end. Idempotent: a token revoked already answers 200 with its first revocation time.",
  security: bearer,
  middleware: [auth("admin")] as const,
  request: { params: z.object({ id: IdParam("id", "The officer's id, as registered and listed.") }) },
  responses: {
    200: { description: "The officer, with the revocation time.", content: { "application/json": { schema: OfficerSchema } } },
    ...errorResponses("NOT_FOUND", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

export function registerOfficers(app: OpenAPIHono<AppEnv>): void {
  app.openapi(create, async (c) => {
    const body = c.req.valid("json");
    const token = newSecret("hdo");
    const id = newId();
    const officer = await c.get("services").store.createOfficer(
      { id, name: body.name, taxOffice: body.taxOffice ?? null, tokenHash: hashSecret(token) },
      auditEntry(c, "officer.issue", id, { name: body.name, taxOffice: body.taxOffice }),
    );
    return c.json({ id: officer.id, name: officer.name, taxOffice: officer.taxOffice, token }, 201);
  });

  app.openapi(list, async (c) => {
    const officers = await c.get("services").store.listOfficers();
    return c.json({ items: officers.map(officerJson) }, 200);
  });

  app.openapi(revoke, async (c) => {
    const { id } = c.req.valid("param");
    const s = c.get("services");
    const officer = UUID.test(id) ? await s.store.revokeOfficer(id.toLowerCase(), s.clock(), auditEntry(c, "officer.revoke", id.toLowerCase())) : null;
    if (!officer) throw new ApiError("NOT_FOUND", `No officer ${id}.`);
    return c.json(officerJson(officer), 200);
  });
}
