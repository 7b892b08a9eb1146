/**
 * GET /v1/messages/{MTDiep}: a T-VAN message's answers in order (tvan.md §13); GET
 * /v1/registrations and POST /v1/registrations/{id}/decision: the registrations (T-VAN 100)
 * officers see and decide, audited.
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context.js";
import { gmt7NextWorkingDayEnd } from "../domain/gmt7.js";
import { applyAcceptance, DECISION_REASONS, decisionNotice, headOfRegistration } from "../domain/registration.js";
import { TAX_CODE_FORM } from "../domain/taxcode.js";
import { ApiError } from "../errors.js";
import type { RegistrationRecord } from "../storage/tvan-store.js";
import { audit } from "./audit.js";
import { auth, bearer, errorResponses, text } from "./common.js";

const Answer = z.object({ type: z.string().openapi({ example: "102" }), messageId: z.string(), at: z.string().openapi({ format: "date-time" }), xml: z.string() });
const MessageOut = z
  .object({ messageId: z.string(), type: z.string().openapi({ example: "100" }), sellerTaxCode: z.string(), receivedAt: z.string().openapi({ format: "date-time" }), answers: z.array(Answer) })
  .openapi("TvanMessage");

const messageRoute = createRoute({
  method: "get",
  path: "/v1/messages/{MTDiep}",
  tags: ["T-VAN"],
  summary: "The authority's answers to a T-VAN message, in order (a 100's 102, then its 103).",
  description: "For the message's seller (its key), or an officer (`?seller=` when two sellers used the same MTDiep). 404 when no such message was answered.",
  security: bearer,
  middleware: [auth("seller", "officer")] as const,
  request: { params: z.object({ MTDiep: z.string().regex(/^[0-9A-Za-z-]{1,46}$/) }), query: z.object({ seller: z.string().regex(TAX_CODE_FORM).optional() }) },
  responses: {
    200: { description: "The message and its answers.", content: { "application/json": { schema: MessageOut } } },
    ...errorResponses("SCHEMA_INVALID", "NOT_FOUND", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

const Reason = z.object({ mloi: z.string(), text: z.string() });
const Registration = z
  .object({
    id: z.string(),
    sellerTaxCode: z.string(),
    messageId: z.string(),
    kind: z.enum(["new", "change"]),
    receivedAt: z.string().openapi({ format: "date-time" }),
    status: z.enum(["notReceived", "pending", "accepted", "refused"]),
    holdReasons: z.array(Reason),
    overdue: z.boolean(),
    decidedAt: z.string().optional(),
    decidedBy: z.string().optional(),
    decisionReasons: z.array(Reason).optional(),
  })
  .openapi("Registration");

const listRoute = createRoute({
  method: "get",
  path: "/v1/registrations",
  tags: ["T-VAN"],
  summary: "Registrations received by T-VAN 100 (01/ĐKTĐ-HĐĐT), oldest first; `status=pending` lists what awaits an officer.",
  security: bearer,
  middleware: [auth("officer")] as const,
  request: {
    query: z.object({
      status: z.enum(["notReceived", "pending", "accepted", "refused"]).optional(),
      seller: z.string().regex(TAX_CODE_FORM).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      cursor: z.string().max(200).optional(),
    }),
  },
  responses: {
    200: { description: "A page of registrations.", content: { "application/json": { schema: z.object({ items: z.array(Registration), nextCursor: z.string().nullable() }) } } },
    ...errorResponses("SCHEMA_INVALID", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

const decisionRoute = createRoute({
  method: "post",
  path: "/v1/registrations/{id}/decision",
  tags: ["T-VAN"],
  summary: "An officer accepts or refuses a pending registration: the 103 (01/TB-ĐKĐT) is issued, signed by the head of office and the office.",
  description: 'Refusal reasons among 2003, 2004, 2005 (production\'s fixed texts) and 2007 (with the officer\'s `text`). Once only: 409 CONFLICT unless pending. Audited.',
  security: bearer,
  middleware: [auth("officer")] as const,
  request: {
    params: z.object({ id: z.string().uuid() }),
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({ decision: z.enum(["accept", "refuse"]), reasons: z.array(z.object({ mloi: text(4, { trim: false }), text: text(255).optional() })).max(10).optional() }),
        },
      },
    },
  },
  responses: {
    200: { description: "The registration and its notice.", content: { "application/json": { schema: z.object({ registration: Registration, notice: z.object({ type: z.literal("103"), messageId: z.string() }) }) } } },
    ...errorResponses("SCHEMA_INVALID", "NOT_FOUND", "CONFLICT", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

/** Pending for more than one working day (Mon–Fri, GMT+7): past the end of the first working day after the day of receipt. */
export function isOverdue(receivedAt: Date, now: Date): boolean {
  return now.getTime() >= gmt7NextWorkingDayEnd(receivedAt);
}

function out(r: RegistrationRecord, now: Date) {
  return {
    id: r.id,
    sellerTaxCode: r.sellerTaxCode,
    messageId: r.messageId,
    kind: r.kind,
    receivedAt: r.receivedAt.toISOString(),
    status: r.status,
    holdReasons: r.holdReasons,
    overdue: r.status === "pending" && isOverdue(r.receivedAt, now),
    ...(r.decidedAt ? { decidedAt: r.decidedAt.toISOString() } : {}),
    ...(r.decidedBy ? { decidedBy: r.decidedBy } : {}),
    ...(r.decisionReasons ? { decisionReasons: r.decisionReasons } : {}),
  };
}

const cursorOf = (r: RegistrationRecord) => Buffer.from(JSON.stringify([r.receivedAt.toISOString(), r.id])).toString("base64url");
function readCursor(c: string): { receivedAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(c, "base64url").toString("utf8")) as [string, string];
    const d = new Date(at);
    if (Number.isNaN(d.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) throw new Error("cursor");
    return { receivedAt: d, id };
  } catch {
    throw new ApiError("SCHEMA_INVALID", "The cursor is not one this service gave.", [{ code: "SCHEMA_INVALID", message: "not a cursor", path: "cursor" }]);
  }
}

export function registerRegistrations(app: OpenAPIHono<AppEnv>): void {
  app.openapi(messageRoute, async (c) => {
    const p = c.get("principal");
    const { MTDiep: messageId } = c.req.valid("param");
    const { seller } = c.req.valid("query");
    const s = c.get("services");
    const sellerTaxCode = p.role === "seller" ? p.sellerTaxCode : (seller ?? null);
    if (p.role === "seller" && seller && seller !== p.sellerTaxCode) throw new ApiError("FORBIDDEN");
    const m = await s.store.tvan.message(sellerTaxCode, messageId);
    if (!m) throw new ApiError("NOT_FOUND", `No answered message ${messageId}.`);
    if (p.role === "officer") await audit(c, "message.read", messageId);
    const answers = m.answers.map((a) => ({ type: a.type, messageId: a.messageId, at: a.at.toISOString(), xml: a.xml }));
    return c.json({ messageId: m.messageId, type: m.type, sellerTaxCode: m.sellerTaxCode, receivedAt: m.receivedAt.toISOString(), answers }, 200);
  });

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    const s = c.get("services");
    const items = await s.store.tvan.listRegistrations({ limit: q.limit + 1, ...(q.status ? { status: q.status } : {}), ...(q.seller ? { seller: q.seller } : {}), ...(q.cursor ? { after: readCursor(q.cursor) } : {}) });
    const page = items.slice(0, q.limit);
    await audit(c, "registration.list", null, { status: q.status, seller: q.seller, limit: q.limit, cursor: q.cursor });
    const now = s.clock();
    return c.json({ items: page.map((r) => out(r, now)), nextCursor: items.length > q.limit ? cursorOf(page[page.length - 1]!) : null }, 200);
  });

  app.openapi(decisionRoute, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const s = c.get("services");
    const p = c.get("principal");
    const official = s.official;
    if (!official) throw new Error("no head-of-office key (HOADON_OFFICIAL_KEY) configured");
    const reasons = body.decision === "refuse" ? refusalReasons(body.reasons) : [];
    const at = s.clock();
    const result = await s.store.tvan.withRegistration(id, async (reg, work) => {
      if (reg.status !== "pending" || !reg.content) throw new ApiError("CONFLICT", `Registration ${id} is ${reg.status}, not pending.`);
      const accepted = body.decision === "accept";
      await work.decide(accepted ? "accepted" : "refused", at, p.id, accepted ? null : reasons);
      if (accepted) await applyAcceptance(work, reg.sellerTaxCode, reg.content, at);
      const seller = await work.sellerProvince(reg.sellerTaxCode);
      // The 103 goes to whoever sent the 100: its MTDiep is MNGui + 32 hex.
      const sender = reg.messageId.slice(0, -32);
      const notice = await decisionNotice(work, headOfRegistration(reg, sender), reg.content, seller, accepted, reasons, at, official, s.authority);
      await work.addAnswer(reg.sellerTaxCode, reg.messageId, { type: "103", messageId: notice.messageId, at, xml: notice.xml });
      return { reg: { ...reg, status: accepted ? ("accepted" as const) : ("refused" as const), decidedAt: at, decidedBy: p.id, decisionReasons: accepted ? null : reasons }, messageId: notice.messageId };
    });
    if (!result) throw new ApiError("NOT_FOUND", `No registration ${id}.`);
    await audit(c, "registration.decision", id, { decision: body.decision });
    return c.json({ registration: out(result.reg, at), notice: { type: "103" as const, messageId: result.messageId } }, 200);
  });
}

/** The refusal's reasons: known MLoi, 2007 with the officer's text; at least one. */
function refusalReasons(given: { mloi: string; text?: string | undefined }[] | undefined): { mloi: string; text: string }[] {
  const bad = (message: string) => new ApiError("SCHEMA_INVALID", message, [{ code: "SCHEMA_INVALID", message, path: "reasons" }]);
  if (!given?.length) throw bad("A refusal needs at least one reason.");
  return given.map((r) => {
    if (!(r.mloi in DECISION_REASONS)) throw bad(`MLoi ${r.mloi} is not one of 2003, 2004, 2005, 2007.`);
    const fixed = DECISION_REASONS[r.mloi];
    if (fixed) return { mloi: r.mloi, text: fixed };
    if (!r.text?.trim()) throw bad("Reason 2007 needs the officer's text.");
    return { mloi: r.mloi, text: r.text.trim() };
  });
}
