/** Builds the Hono app: request ids, routes, the one error handler, /openapi.json. No I/O at build time. */
import { randomUUID } from "node:crypto";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { routePath } from "hono/route";
import type { Role } from "./auth.js";
import type { AppEnv, Services } from "./context.js";
import { localizedMessage, localizeError } from "./error-i18n.js";
import { ApiError, ERRORS, type ErrorCode, type Fault, RefusalError } from "./errors.js";
import { consoleLogger, errorFields, type Logger } from "./log.js";
import { Metrics } from "./metrics.js";
import { finishDocument } from "./openapi.js";
import { PUBLIC_PATHS, publicRateLimit } from "./rate-limit-middleware.js";
import { registerApiKeys } from "./routes/api-keys.js";
import { registerAudit } from "./routes/audit.js";
import { registerCertificates } from "./routes/certificates.js";
import { answerLanguage, authRoles } from "./routes/common.js";
import { registerHealth } from "./routes/health.js";
import { registerInvoices } from "./routes/invoices.js";
import { registerLog } from "./routes/log.js";
import { registerMessages } from "./routes/messages.js";
import { registerOfficer } from "./routes/officer.js";
import { registerOfficers } from "./routes/officers.js";
import { type OpsOptions, registerOps } from "./routes/ops.js";
import { registerPages } from "./routes/pages.js";
import { registerRegistrations } from "./routes/registrations.js";
import { registerReports } from "./routes/reports.js";
import { registerSearch } from "./routes/search.js";
import { registerSellers } from "./routes/sellers.js";
import { registerVerify } from "./routes/verify.js";
import { DatabaseUnavailableError } from "./storage/db.js";

export interface AppOptions extends OpsOptions {
  /** Where unexpected errors go (their details never reach the client). Default: `logger.error`. */
  logError?: (err: unknown, requestId: string) => void;
  /** One JSON line per request and per error (default: console). */
  logger?: Logger;
  /** The /metrics registry (default: a new one). */
  metrics?: Metrics;
}

/** The route pattern of the answered request ("/v1/invoices/:code"), never the raw path: metric labels stay bounded. */
function routeLabel(c: Context<AppEnv>): string {
  const r = routePath(c);
  return r === "*" || r === "/*" || r === "" ? "(unmatched)" : r;
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** Probes and scrapes that answer 2xx are not logged: they would drown the requests that matter. */
const QUIET_ROUTES = new Set(["/healthz", "/readyz", "/metrics"]);

/** The error envelope of api.md. */
export function errorBody(code: ErrorCode, message: string, details: Fault[], requestId: string) {
  return { error: { code, message, details, requestId } };
}

/**
 * `services` is built once (Node), or per request from the context (Workers, where the database
 * client belongs to one request).
 */
export function buildApp(services: Services | ((c: Context<AppEnv>) => Services), opts: AppOptions = {}): OpenAPIHono<AppEnv> {
  const logger = opts.logger ?? consoleLogger({ service: "hoadon" });
  const metrics = opts.metrics ?? new Metrics();
  const logError = opts.logError ?? ((err, id) => logger.error({ requestId: id, ...errorFields(err) }, "unexpected error"));
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const details: Fault[] = result.error.issues.map((i) => ({ code: "SCHEMA_INVALID", message: i.message, path: i.path.join("/") }));
        throw new ApiError("SCHEMA_INVALID", "The request body or parameters are invalid.", details);
      }
    },
  });

  app.use("*", async (c, next) => {
    const start = performance.now();
    const given = c.req.header("x-request-id");
    const id = given && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    c.set("requestId", id);
    c.set("metrics", metrics);
    c.set("services", typeof services === "function" ? services(c) : services);
    c.header("X-Request-Id", id);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Cache-Control", "no-store");
    await next();
    // Errors were turned into answers by onError already: c.res is what the client gets.
    const seconds = (performance.now() - start) / 1000;
    const route = routeLabel(c);
    const method = METHODS.has(c.req.method) ? c.req.method : "OTHER";
    const status = c.res.status;
    metrics.observeRequest(method, route, status, seconds);
    if (status < 300 && QUIET_ROUTES.has(route)) return;
    const p = c.get("principal");
    const code = c.get("errorCode");
    logger.info(
      {
        requestId: id,
        method,
        route,
        status,
        ...(code ? { code } : {}),
        ms: Math.round(seconds * 10_000) / 10,
        ...(p ? { role: p.role, principal: p.id, ...(p.role === "seller" ? { seller: p.sellerTaxCode } : {}) } : {}),
      },
      "request",
    );
  });

  // Public endpoints are limited per client address (429 RATE_LIMITED with Retry-After).
  for (const path of PUBLIC_PATHS) app.use(path, publicRateLimit);

  registerHealth(app);
  registerOfficers(app);
  registerSellers(app);
  registerCertificates(app);
  registerApiKeys(app);
  registerInvoices(app);
  registerSearch(app);
  registerReports(app);
  registerAudit(app);
  registerMessages(app);
  registerRegistrations(app);
  registerVerify(app);
  registerLog(app);
  registerPages(app);
  registerOfficer(app);
  registerOps(app, opts);

  const docConfig = {
    openapi: "3.1.0",
    info: {
      title: "Hoadon: e-invoice authentication",
      version: "1.0.0",
      description:
        "Issues the tax authority's code (MCCQT) for seller-signed invoices and counter-signs them. The invoice XML is described by " +
        "[/schemas/invoice.xsd](/schemas/invoice.xsd). Error codes: " + Object.keys(ERRORS).join(", ") + ".",
    },
  };
  // Built once, on the first request: from the route definitions and the roles their `auth` middleware accepts.
  let document: unknown;
  app.get("/openapi.json", (c) => {
    document ??= finishDocument(app.getOpenAPI31Document(docConfig) as unknown as Record<string, unknown>, routeRoles(app));
    return c.json(document as Record<string, unknown>);
  });
  // The document lists itself.
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/openapi.json",
    tags: ["Operations"],
    summary: "This OpenAPI 3.1 document.",
    responses: { 200: { description: "The OpenAPI document.", content: { "application/json": { schema: { type: "object" } } } } },
  });

  app.notFound((c) => {
    metrics.refusals.inc({ code: "NOT_FOUND" });
    c.set("errorCode", "NOT_FOUND");
    return c.json(errorBody("NOT_FOUND", localizedErrorMessage(c, "NOT_FOUND", "No such endpoint."), [], c.get("requestId") ?? ""), 404);
  });
  app.onError((err, c) => errorResponse(c, err, logError, logger, metrics));
  return app;
}

/** "METHOD /path/:param" → the roles its `auth` middleware accepts. */
function routeRoles(app: OpenAPIHono<AppEnv>): Map<string, readonly Role[]> {
  const out = new Map<string, readonly Role[]>();
  for (const r of app.routes) {
    const roles = authRoles(r.handler);
    if (roles) out.set(`${r.method} ${r.path}`, roles);
  }
  return out;
}

function errorResponse(c: Context<AppEnv>, err: unknown, logError: (err: unknown, id: string) => void, logger: Logger, metrics: Metrics) {
  const requestId = c.get("requestId") ?? randomUUID();
  let e: ApiError;
  if (err instanceof ApiError) e = err;
  // A domain refusal that was thrown rather than returned (the gate's): answered by its code.
  else if (err instanceof RefusalError) e = ApiError.of(err);
  else if (err instanceof DatabaseUnavailableError) {
    // The cause (refused, timed out, shut down) is for operators; the client gets 503 and a retry time.
    logger.warn({ requestId, cause: err.message }, "database unavailable");
    e = new ApiError("UNAVAILABLE", ERRORS.UNAVAILABLE.message, [], { "Retry-After": "1" });
  }
  else if (err instanceof HTTPException && HTTP_CODES[err.status]) e = new ApiError(HTTP_CODES[err.status]!, err.status === 400 ? "The body is not valid JSON." : ERRORS[HTTP_CODES[err.status]!].message);
  else {
    logError(err, requestId);
    e = new ApiError("INTERNAL");
  }
  metrics.refusals.inc({ code: e.code });
  c.set("errorCode", e.code);
  if (e.code === "UNAVAILABLE" && !e.headers["Retry-After"]) c.header("Retry-After", "1");
  for (const [k, v] of Object.entries(e.headers)) c.header(k, v);
  const lang = answerLanguage(c);
  const { message, details } = localizeError({ code: e.code, message: e.message, details: e.details }, lang);
  return c.json(errorBody(e.code, message, details, requestId), e.status as 400);
}

function localizedErrorMessage(c: Context<AppEnv>, code: ErrorCode, english: string): string {
  return localizedMessage(code, english, answerLanguage(c));
}

/** Hono's own refusals (malformed JSON, media-type gate, body limit) in our codes. */
const HTTP_CODES: Partial<Record<number, ErrorCode>> = { 400: "BAD_REQUEST", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE" };

export type { Services };
