/**
 * The audit log of officers' reads, of searches and reports, and of the issue and revocation of
 * API keys and officer tokens: written by those routes (`audit`, `auditEntry`), read by admins
 * (GET /v1/audit).
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../context.js";
import { gmt7DayStart } from "../domain/gmt7.js";
import { ApiError } from "../errors.js";
import { clientAddress } from "../rate-limit-middleware.js";
import { AUDIT_ACTIONS, type AuditAction, type AuditEntry, type AuditRecord } from "../storage/store.js";
import { auth, bearer, errorResponses, text } from "./common.js";

/**
 * Records who (the caller), what (`action`, the invoice or the validated parameters), when (the
 * service clock) and from where (the client address as the rate limits see it, and the request
 * id). One insert on the primary, awaited before the answer leaves: a read that cannot be
 * recorded is not served. Called only once the request has succeeded (a refused request stores
 * nothing, api.md "Errors").
 */
export async function audit(c: Context<AppEnv>, action: AuditAction, target: string | null, query: Record<string, string | number | undefined> = {}): Promise<void> {
  await c.get("services").store.recordAudit(auditEntry(c, action, target, query));
}

/** The audit entry of this request, for a store method that writes it in the transaction of the change it records. */
export function auditEntry(c: Context<AppEnv>, action: AuditAction, target: string | null, query: Record<string, string | number | undefined> = {}): AuditEntry {
  const p = c.get("principal");
  const s = c.get("services");
  const params = Object.fromEntries(Object.entries(query).filter((e): e is [string, string | number] => e[1] !== undefined));
  return {
    at: s.clock(),
    actorRole: p.role,
    actorId: p.id,
    action,
    target,
    query: params,
    clientAddress: clientAddress(c, s.rateLimiter.settings.trustProxyHops),
    requestId: c.get("requestId"),
  };
}

const Action = z.enum(AUDIT_ACTIONS);

/** A date (the day in GMT+7, Vietnam's time) or an ISO 8601 time with an offset. */
const Instant = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}$/.test(s) || (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s))), {
    message: "a date (YYYY-MM-DD, GMT+7) or an ISO 8601 time with offset",
  })
  .refine((s) => !/^\d{4}-\d{2}-\d{2}$/.test(s) || !Number.isNaN(gmt7DayStart(s)), { message: "not a date" });

/**
 * The instants the database is asked about: 0001-01-01 to 9999-12-31 UTC. postgres.js writes a
 * Date as toISOString, which PostgreSQL cannot read outside them ("0000-12-31T17:00:00.000Z" for
 * `from=0001-01-01` in GMT+7, "+010000-…" past 9999); no record can lie outside them either.
 */
const FIRST_INSTANT = Date.parse("0001-01-01T00:00:00Z");
const LAST_INSTANT = Date.parse("9999-12-31T23:59:59.999Z");

/** The first (or last) millisecond of a date in GMT+7, or the instant given, within the instants the database reads. */
function instant(s: string, end: boolean): Date {
  let t: number;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) t = Date.parse(s);
  else {
    const start = gmt7DayStart(s);
    t = end ? start + 86_400_000 - 1 : start;
  }
  return new Date(Math.min(Math.max(t, FIRST_INSTANT), LAST_INSTANT));
}

/** The largest id a cursor can name (bigint). */
const MAX_ID = 2n ** 63n - 1n;

const AuditQuery = z.object({
  actor: text(100, { trim: false }).optional().openapi({ description: "An officer's id, an API key's id, or `admin`." }),
  action: Action.optional(),
  from: Instant.optional().openapi({ example: "2026-11-01", description: "From this time (a date: its start in GMT+7)." }),
  to: Instant.optional().openapi({ example: "2026-11-30", description: "Up to this time (a date: its end in GMT+7)." }),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/).optional().openapi({ description: "`nextCursor` of the previous page." }),
});

const AuditRecordSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    role: z.enum(["admin", "officer", "seller"]),
    actor: z.string(),
    actorName: z.string().nullable(),
    action: Action,
    target: z.string().nullable().openapi({ description: "The invoice code read; the API key's or officer's id issued or revoked." }),
    query: z.record(z.string(), z.union([z.string(), z.number()])).openapi({ description: "The parameters of a search or report." }),
    clientAddress: z.string(),
    requestId: z.string(),
  })
  .openapi("AuditRecord");

const list = createRoute({
  method: "get",
  path: "/v1/audit",
  tags: ["Audit"],
  summary: "The audit log, newest first: every officer's read of an invoice, every search and every report, every API key and officer token issued or revoked (admins).",
  security: bearer,
  middleware: [auth("admin")] as const,
  request: { query: AuditQuery },
  responses: {
    200: {
      description: "One page; `nextCursor` is null on the last.",
      content: { "application/json": { schema: z.object({ items: z.array(AuditRecordSchema), nextCursor: z.string().nullable() }).openapi("AuditPage") } },
    },
    ...errorResponses("SCHEMA_INVALID", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

const json = (r: AuditRecord) => ({
  id: r.id.toString(),
  at: r.at.toISOString(),
  role: r.actorRole,
  actor: r.actorId,
  actorName: r.actorName,
  action: r.action,
  target: r.target,
  query: r.query,
  clientAddress: r.clientAddress,
  requestId: r.requestId,
});

export function registerAudit(app: OpenAPIHono<AppEnv>): void {
  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    let before: bigint | undefined;
    if (q.cursor !== undefined) {
      const text = Buffer.from(q.cursor, "base64url").toString("utf8");
      if (!/^[1-9]\d{0,18}$/.test(text) || BigInt(text) > MAX_ID) {
        throw new ApiError("SCHEMA_INVALID", "cursor: not a cursor of this list.", [{ code: "SCHEMA_INVALID", message: "not a cursor of this list", path: "cursor" }]);
      }
      before = BigInt(text);
    }
    const page = await c.get("services").store.listAudit({
      limit: q.limit,
      ...(q.actor !== undefined ? { actor: q.actor } : {}),
      ...(q.action !== undefined ? { action: q.action } : {}),
      ...(q.from !== undefined ? { from: instant(q.from, false) } : {}),
      ...(q.to !== undefined ? { to: instant(q.to, true) } : {}),
      ...(before !== undefined ? { before } : {}),
    });
    return c.json({ items: page.items.map(json), nextCursor: page.next === null ? null : Buffer.from(page.next.toString(), "utf8").toString("base64url") }, 200);
  });
}
