/** POST /v1/officers: an admin issues an officer token (shown once). */
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { hashSecret, newId, newSecret } from "../auth.js";
import type { AppEnv } from "../context.js";
import { auth, bearer, errorResponses, text } from "./common.js";

const CreateOfficer = z.object({ name: text(200), taxOffice: text(200).optional() }).openapi("CreateOfficer");

const route = createRoute({
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

export function registerOfficers(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const token = newSecret("hdo");
    const officer = await c.get("services").store.createOfficer({ id: newId(), name: body.name, taxOffice: body.taxOffice ?? null, tokenHash: hashSecret(token) });
    return c.json({ id: officer.id, name: officer.name, taxOffice: officer.taxOffice, token }, 201);
  });
}
