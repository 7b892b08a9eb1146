/** Builds the Hono app: request ids, routes, the one error handler, /openapi.json. No I/O at build time. */
import { randomUUID } from "node:crypto";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv, Services } from "./context.js";
import { ApiError, ERRORS, type ErrorCode, type Fault } from "./errors.js";
import { registerApiKeys } from "./routes/api-keys.js";
import { registerCertificates } from "./routes/certificates.js";
import { registerHealth } from "./routes/health.js";
import { registerInvoices } from "./routes/invoices.js";
import { registerOfficers } from "./routes/officers.js";
import { registerSellers } from "./routes/sellers.js";
import { DatabaseUnavailableError } from "./storage/db.js";

export interface AppOptions {
  /** Where unexpected errors go (their details never reach the client). */
  logError?: (err: unknown, requestId: string) => void;
}

/** The error envelope of api.md. */
export function errorBody(code: ErrorCode, message: string, details: Fault[], requestId: string) {
  return { error: { code, message, details, requestId } };
}

export function buildApp(services: Services, opts: AppOptions = {}): OpenAPIHono<AppEnv> {
  const logError = opts.logError ?? ((err, id) => console.error(JSON.stringify({ level: "error", requestId: id, error: String((err as Error)?.stack ?? err) })));
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const details: Fault[] = result.error.issues.map((i) => ({ code: "SCHEMA_INVALID", message: i.message, path: i.path.join("/") }));
        throw new ApiError("SCHEMA_INVALID", "The request body or parameters are invalid.", details);
      }
    },
  });

  app.use("*", async (c, next) => {
    const given = c.req.header("x-request-id");
    const id = given && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    c.set("requestId", id);
    c.set("services", services);
    c.header("X-Request-Id", id);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Cache-Control", "no-store");
    await next();
  });

  registerHealth(app);
  registerOfficers(app);
  registerSellers(app);
  registerCertificates(app);
  registerApiKeys(app);
  registerInvoices(app);

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Hoadon: e-invoice authentication",
      version: "1.0.0",
      description: "Issues the tax authority's code (MCCQT) for seller-signed invoices and counter-signs them. Error codes: " + Object.keys(ERRORS).join(", ") + ".",
    },
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer" });

  app.notFound((c) => c.json(errorBody("NOT_FOUND", "No such endpoint.", [], c.get("requestId") ?? ""), 404));
  app.onError((err, c) => errorResponse(c, err, logError));
  return app;
}

function errorResponse(c: Context<AppEnv>, err: unknown, logError: (err: unknown, id: string) => void) {
  const requestId = c.get("requestId") ?? randomUUID();
  let e: ApiError;
  if (err instanceof ApiError) e = err;
  else if (err instanceof DatabaseUnavailableError) e = new ApiError("UNAVAILABLE", ERRORS.UNAVAILABLE.message, [], { "Retry-After": "1" });
  else if (err instanceof HTTPException && HTTP_CODES[err.status]) e = new ApiError(HTTP_CODES[err.status]!, err.status === 400 ? "The body is not valid JSON." : ERRORS[HTTP_CODES[err.status]!].message);
  else {
    logError(err, requestId);
    e = new ApiError("INTERNAL");
  }
  if (e.code === "UNAVAILABLE" && !e.headers["Retry-After"]) c.header("Retry-After", "1");
  for (const [k, v] of Object.entries(e.headers)) c.header(k, v);
  return c.json(errorBody(e.code, e.message, e.details, requestId), e.status as 400);
}

/** Hono's own refusals (malformed JSON, media-type gate, body limit) in our codes. */
const HTTP_CODES: Partial<Record<number, ErrorCode>> = { 400: "BAD_REQUEST", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE" };

export type { Services };
