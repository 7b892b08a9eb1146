/** Pieces every route file shares: the error envelope schema, error responses from the one error table, authentication. */
import { z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { authenticate, type Principal, type Role, requireRole } from "../auth.js";
import type { AppEnv } from "../context.js";
import { TAX_CODE_FORM } from "../domain/taxcode.js";
import { type Lang, pickLanguage } from "../error-i18n.js";
import { ApiError, ERRORS, type ErrorCode, type Outcome } from "../errors.js";

/** Every stable error code (api.md "Errors"), as an enum for client generators. */
export const ErrorCodeSchema = z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]).openapi("ErrorCode", { example: "SIGNATURE_INVALID" });

export const ErrorSchema = z
  .object({
    error: z.object({
      code: ErrorCodeSchema,
      message: z.string(),
      details: z.array(z.object({ code: ErrorCodeSchema, message: z.string(), path: z.string().optional().openapi({ example: "NDHDon/TToan/TgTTTBSo" }) })),
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

/** A domain outcome's fields, or its refusal thrown as the API's error (status and envelope from the one table, errors.ts). */
export function answered<T extends object>(out: Outcome<T>): { ok: true } & T {
  if (!out.ok) throw ApiError.of(out.error);
  return out;
}

/** The caller, authenticated from its bearer credential. */
export async function principalOf(c: Context<AppEnv>): Promise<Principal> {
  const known = c.get("principal");
  if (known) return known;
  const s = c.get("services");
  const p = await authenticate(c.req.header("authorization"), s.adminTokenHash, s.store);
  // The bootstrap admin token is configuration, not a stored credential: no last use to keep.
  if (p.role !== "admin") s.credentialUse.note(p.id, s.clock());
  c.set("principal", p);
  return p;
}

/** C0 controls and DEL: PostgreSQL cannot store NUL in text, and none of them belongs in a name, an address or a reason. */
const SINGLE_LINE = /^[^\x00-\x1f\x7f]*$/;
/** The same, with tab and line breaks (a reason, a PEM). */
const MULTI_LINE = /^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$/;
/** A UTF-16 half of a pair standing alone: no UTF-8 form, so it cannot be stored as written. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Every text field of every JSON body (and free-text query parameter) is this schema: trimmed,
 * 1–`max` characters, no control characters (tab and line breaks only when `multiline`), no
 * lone surrogate. A request with one is 422 SCHEMA_INVALID naming the field, never a 500 from
 * the database (test/api/json-text.test.ts walks the OpenAPI document to keep it so).
 */
export function text(max: number, opts: { multiline?: boolean; trim?: boolean } = {}) {
  const base = opts.trim === false ? z.string() : z.string().trim();
  return base
    .min(1)
    .max(max)
    .regex(opts.multiline ? MULTI_LINE : SINGLE_LINE, opts.multiline ? "control characters other than tab and line breaks are not allowed" : "control characters (NUL, line breaks, …) are not allowed")
    .refine((s) => !LONE_SURROGATE.test(s), { message: "not valid Unicode text (a lone surrogate)" });
}

export const TaxCodeParam = z.string().regex(TAX_CODE_FORM).openapi({ param: { name: "taxCode", in: "path" }, example: "0100000010" });

/** The ids the service issues (UUIDs: API keys, officers); anything else names nothing. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id of a key or officer: any text, so that one naming nothing is 404 like an unknown id, not 422. */
export const IdParam = (name: string, description: string) =>
  z.string().openapi({ param: { name, in: "path", description }, format: "uuid", example: "0b7e3c52-8a0e-4d4f-9a51-3f5f2d8c1e77" });

export const Money = z.string().regex(/^-?\d+(\.\d+)?$/).openapi({ example: "1234500" });

/** Where `auth` keeps its roles on the middleware: /openapi.json describes each route's security from them. */
export const AUTH_ROLES = Symbol("hoadon.authRoles");

/** Route middleware: authenticates the caller and requires one of the roles, before the body is even validated. */
export function auth(...roles: Role[]): MiddlewareHandler<AppEnv> {
  const mw: MiddlewareHandler<AppEnv> = async (c, next) => {
    requireRole(await principalOf(c), ...roles);
    await next();
  };
  return Object.assign(mw, { [AUTH_ROLES]: roles as readonly Role[] });
}

/** The roles of the `auth` middleware of a route handler, if it is one. */
export function authRoles(handler: unknown): readonly Role[] | undefined {
  return typeof handler === "function" ? (handler as { [AUTH_ROLES]?: readonly Role[] })[AUTH_ROLES] : undefined;
}

/**
 * Reads the body, refusing (413) as soon as it passes the limit, whatever Content-Length claimed.
 * On Node the body comes straight from node:http's request stream as one Buffer; the web
 * ReadableStream of `c.req.raw` (a whole undici Request, an AbortController and a stream adapter
 * built for each request by @hono/node-server) is only for runtimes without one (Workers, tests
 * through app.request).
 */
export async function readLimited(c: Context<AppEnv>, max: number): Promise<Uint8Array> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > max) throw tooLarge(max);
  const incoming = nodeIncoming(c);
  if (incoming) return readIncoming(incoming, max);
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
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

const tooLarge = (max: number) => new ApiError("PAYLOAD_TOO_LARGE", `The body is over ${max} bytes.`);

/** What readLimited needs of node:http's IncomingMessage (duck-typed: this module also runs on Workers, without node:stream). */
interface NodeIncoming {
  readonly readableDidRead: boolean;
  on(event: string, f: (...a: never[]) => void): unknown;
  off(event: string, f: (...a: never[]) => void): unknown;
  pause(): unknown;
}

/** @hono/node-server's IncomingMessage of this request, when nothing has read its body yet. */
function nodeIncoming(c: Context<AppEnv>): NodeIncoming | null {
  const incoming = (c.env as { incoming?: Partial<NodeIncoming> } | undefined)?.incoming;
  return incoming && incoming.readableDidRead === false && typeof incoming.on === "function" && typeof incoming.pause === "function" ? (incoming as NodeIncoming) : null;
}

/**
 * The body of a node:http request as one fresh Buffer. Past `max` bytes it stops reading and
 * pauses the stream (the 413 is answered; @hono/node-server drains or closes the rest when the
 * answer is finished, as it does for a body a handler left unread).
 */
function readIncoming(incoming: NodeIncoming, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (f: () => void) => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
      incoming.off("close", onClose);
      f();
    };
    const onData = (chunk: Buffer | string) => {
      const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += b.byteLength;
      if (size > max) {
        settle(() => {
          incoming.pause();
          reject(tooLarge(max));
        });
        return;
      }
      chunks.push(b);
    };
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks, size)));
    const onError = (e: Error) => settle(() => reject(e));
    const onClose = () => settle(() => reject(new Error("the client closed the connection before the end of the body")));
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onError);
    incoming.on("close", onClose);
  });
}

/** Accept-Language → vi (default) or en for the messages of an error answer; says which in Content-Language. */
export function answerLanguage(c: Context<AppEnv>): Lang {
  const lang = pickLanguage(c.req.header("accept-language"));
  c.header("Content-Language", lang);
  c.header("Vary", "Accept-Language");
  return lang;
}
