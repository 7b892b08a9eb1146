/** Pieces every route file shares: the error envelope schema, error responses from the one error table, authentication. */
import { z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { authenticate, requireRole, type Principal, type Role } from "../auth.js";
import type { AppEnv } from "../context.js";
import { ApiError, ERRORS, type ErrorCode } from "../errors.js";

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
      {
        description: cs.map((c) => `\`${c}\`: ${ERRORS[c].message}`).join(" "),
        // One example per code, so that the documentation shows each refusal as a client sees it.
        content: { "application/json": { schema: ErrorSchema, examples: Object.fromEntries(cs.map((c) => [c, errorExample(c)])) } },
      },
    ]),
  ) as Record<number, { description: string; content: { "application/json": { schema: typeof ErrorSchema; examples: Record<string, { summary: string; value: unknown }> } } }>;
}

function errorExample(code: ErrorCode): { summary: string; value: unknown } {
  const message = ERRORS[code].message;
  const details = code === "SCHEMA_INVALID" ? [{ code, message: "Required", path: "DLHDon/NDHDon/NBan/MST" }] : [];
  return { summary: message, value: { error: { code, message, details, requestId: "5f0c6f1e-8d3a-4a5e-9c1b-2f4e6a7b8c9d" } } };
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

/** Reads the body, refusing (413) as soon as it passes the limit, whatever Content-Length claimed. */
export async function readLimited(c: Context<AppEnv>, max: number): Promise<Uint8Array> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > max) throw new ApiError("PAYLOAD_TOO_LARGE", `The body is over ${max} bytes.`);
  const stream = c.req.raw.body;
  if (!stream) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new ApiError("PAYLOAD_TOO_LARGE", `The body is over ${max} bytes.`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
