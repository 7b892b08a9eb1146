/** Pieces every route file shares: the error envelope schema, error responses from the one error table, authentication. */
import { z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { authenticate, requireRole, type Principal, type Role } from "../auth.js";
import type { AppEnv } from "../context.js";
import { ERRORS, type ErrorCode } from "../errors.js";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "SIGNATURE_INVALID" }),
      message: z.string(),
      details: z.array(z.object({ code: z.string(), message: z.string(), path: z.string().optional() })),
      requestId: z.string(),
    }),
  })
  .openapi("Error");

/** OpenAPI responses for these error codes, grouped by HTTP status, read from the error table. */
export function errorResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...codes, "INTERNAL", "UNAVAILABLE"] as ErrorCode[]) {
    const s = ERRORS[code].status;
    byStatus.set(s, [...new Set([...(byStatus.get(s) ?? []), code])]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, cs]) => [
      status,
      { description: cs.map((c) => `\`${c}\`: ${ERRORS[c].message}`).join(" "), content: { "application/json": { schema: ErrorSchema } } },
    ]),
  ) as Record<number, { description: string; content: { "application/json": { schema: typeof ErrorSchema } } }>;
}

export const bearer = [{ bearerAuth: [] }];

/** The caller, authenticated from its bearer credential. */
export async function principalOf(c: Context<AppEnv>): Promise<Principal> {
  const known = c.get("principal");
  if (known) return known;
  const s = c.get("services");
  const p = await authenticate(c.req.header("authorization"), s.adminTokenHash, s.store);
  c.set("principal", p);
  return p;
}

export const TaxCodeParam = z.string().regex(/^\d{10}(-\d{3})?$|^\d{12}$/).openapi({ param: { name: "taxCode", in: "path" }, example: "0100000010" });
export const Money = z.string().regex(/^-?\d+(\.\d+)?$/).openapi({ example: "1234500" });

/** Route middleware: authenticates the caller and requires one of the roles, before the body is even validated. */
export function auth(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    requireRole(await principalOf(c), ...roles);
    await next();
  };
}
