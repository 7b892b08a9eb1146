/**
 * /openapi.json as client generators want it. The routes describe themselves (zod schemas,
 * summaries, error responses from the error table); this module adds what is the same for every
 * operation, in one place:
 * - an operationId per operation (OPERATIONS: a new route fails test/api/openapi.test.ts until
 *   it has its row) and global tags with descriptions;
 * - security per role, read from the `auth(...)` middleware that actually guards each route
 *   (never written twice), as one bearer scheme per kind of credential;
 * - `X-Request-Id` on every answer (and as an optional request header), `Retry-After` on 429 and 503;
 * - `format: date` / `date-time` on the date fields;
 * - an example on every request body and success response that has none (built from the
 *   schema's own examples, enums and formats);
 * - the HTML pages and /docs left out (they are not an API), `servers`, the XSD referenced.
 */
import type { Role } from "./auth.js";
import { ERRORS } from "./errors.js";
import { PUBLIC_PATHS } from "./rate-limit-middleware.js";

type Json = Record<string, unknown>;
type Schema = Json & {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
  example?: unknown;
  format?: string;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};

/** "METHOD /path" (OpenAPI path) → operationId. */
export const OPERATIONS: Record<string, string> = {
  "GET /healthz": "getHealth",
  "GET /readyz": "getReadiness",
  "GET /metrics": "getMetrics",
  "GET /openapi.json": "getOpenApi",
  "GET /schemas/invoice.xsd": "getInvoiceXsd",
  "GET /v1/authority/certificate": "getAuthorityCertificate",
  "POST /v1/officers": "createOfficer",
  "GET /v1/officers": "listOfficers",
  "DELETE /v1/officers/{id}": "revokeOfficer",
  "POST /v1/sellers": "createSeller",
  "GET /v1/sellers/{taxCode}": "getSeller",
  "PATCH /v1/sellers/{taxCode}": "updateSeller",
  "POST /v1/sellers/{taxCode}/certificates": "registerCertificate",
  "DELETE /v1/sellers/{taxCode}/certificates/{serial}": "stopCertificate",
  "POST /v1/sellers/{taxCode}/api-keys": "createApiKey",
  "GET /v1/sellers/{taxCode}/api-keys": "listApiKeys",
  "DELETE /v1/sellers/{taxCode}/api-keys/{id}": "revokeApiKey",
  "POST /v1/invoices": "submitInvoice",
  "GET /v1/invoices": "searchInvoices",
  "POST /v1/invoices/batch": "submitInvoiceBatch",
  "GET /v1/invoices/{code}": "getInvoice",
  "GET /v1/invoices/{code}/xml": "getInvoiceXml",
  "POST /v1/invoices/{code}/cancellation": "cancelInvoice",
  "GET /v1/reports/totals": "getReportTotals",
  "GET /v1/audit": "getAuditLog",
  "POST /v1/messages": "submitMessage",
  "GET /v1/messages/{MTDiep}": "getMessageReplies",
  "GET /v1/registrations": "listRegistrations",
  "POST /v1/registrations/{id}/decision": "decideRegistration",
  "GET /v1/verify/{code}": "verifyByCode",
  "GET /v1/verify": "verifyByKey",
  "POST /v1/verify": "verifyDocument",
  "GET /v1/authority/log-key": "getLogKey",
  "GET /v1/log/checkpoint": "getLogCheckpoint",
  "POST /v1/log/checkpoint": "signLogCheckpoint",
  "GET /v1/log/tile/{path}": "getLogTile",
  "GET /tile/{path}": "getTile",
  "GET /v1/log/proof/inclusion": "getLogInclusionProof",
  "GET /v1/log/proof/consistency": "getLogConsistencyProof",
};

/** Paths that are pages for people, not API: served, never documented. */
export const HIDDEN_PATHS = ["/", "/officer", "/docs"];

export const TAGS = [
  { name: "Invoices", description: "Sellers submit signed invoices (one, or up to 1,000 at once) and get them stamped; cancel, read and search them." },
  { name: "T-VAN", description: "T-VAN envelopes (TDiep) in and the authority's replies out." },
  { name: "Verification", description: "Public: check that an invoice was issued by the authority; the authority's certificate." },
  { name: "Administration", description: "Admins and officers register officers, sellers, certificates and API keys; list and revoke keys and officer tokens." },
  { name: "Reports", description: "Officers' totals by period, seller, rate, tax office or province." },
  { name: "Audit", description: "Admins read the log of officers' reads, searches and reports." },
  { name: "Transparency log", description: "Public: the append-only log of every code and status change, its signed checkpoints, tiles and proofs (docs/transparency-log.md)." },
  { name: "Operations", description: "Probes, metrics, this document and the invoice XSD." },
];

/** One bearer scheme per kind of credential; an operation lists the ones its roles accept. */
const SCHEMES: Record<Role | "metrics", { scheme: string; description: string }> = {
  seller: { scheme: "sellerApiKey", description: "A seller's API key (`hdk_…`), from POST /v1/sellers/{taxCode}/api-keys: acts for that seller only." },
  officer: { scheme: "officerToken", description: "A tax officer's token (`hdo_…`), from POST /v1/officers." },
  admin: { scheme: "adminToken", description: "The bootstrap admin token (`hda_…`): printed once on the first start, or HOADON_ADMIN_TOKEN." },
  metrics: { scheme: "metricsToken", description: "HOADON_METRICS_TOKEN, when the operator set one (otherwise /metrics is public)." },
};

/** Property names whose string values are dates (YYYY-MM-DD) or instants (ISO 8601). */
const DATE_FIELDS = new Set(["issueDate"]);
const DATE_TIME_FIELDS = new Set(["issuedAt", "createdAt", "updatedAt", "lastUsedAt", "notBefore", "notAfter", "at", "stoppedAt", "expiresAt", "signingTime", "revokedAt"]);
/** Query parameters that are issue dates. */
const DATE_PARAMS = new Set(["from", "to"]);

/** Operations whose XML body is an invoice: their schema references the XSD. */
const XSD_BODIES = new Set(["POST /v1/invoices", "POST /v1/verify"]);

const REQUEST_ID = { $ref: "#/components/headers/X-Request-Id" };
const RETRY_AFTER = { $ref: "#/components/headers/Retry-After" };

const toHonoPath = (p: string) => p.replace(/\{([^}]+)\}/g, ":$1");

/**
 * Finishes the generated document. `roles` maps "METHOD /hono/:path" to the roles its `auth`
 * middleware accepts (from the app's routes).
 */
export function finishDocument(doc: Json, roles: Map<string, readonly Role[]>): Json {
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const components = (doc.components ??= {}) as Json & { schemas?: Record<string, Schema>; securitySchemes?: Json; headers?: Json; parameters?: Json };
  const schemas = components.schemas ?? {};
  for (const p of HIDDEN_PATHS) delete paths[p];

  doc.servers = [{ url: "/", description: "This service (the document is served by the API it describes)." }];
  doc.tags = TAGS;
  (doc.info as Json).license = { name: "Proprietary: the operating tax authority", url: "/docs" };
  components.headers = {
    "X-Request-Id": { description: "The request's id (yours when you sent a well-formed one): quote it to support; it is in the service's logs.", schema: { type: "string", pattern: "^[\\w.-]{1,64}$" } },
    "Retry-After": { description: "Seconds to wait before sending the same request again.", schema: { type: "integer", minimum: 0 } },
  };
  components.parameters = {
    ...(components.parameters as Json),
    RequestId: {
      name: "X-Request-Id",
      in: "header",
      required: false,
      description: "Your id for this request (1–64 of `A-Za-z0-9_.-`), echoed in the answer and the logs.",
      schema: { type: "string", pattern: "^[\\w.-]{1,64}$" },
    },
  };
  components.securitySchemes = Object.fromEntries(Object.values(SCHEMES).map((s) => [s.scheme, { type: "http", scheme: "bearer", description: s.description }]));

  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const key = `${method.toUpperCase()} ${path}`;
      const id = OPERATIONS[key];
      if (id) op.operationId = id;
      const r = roles.get(`${method.toUpperCase()} ${toHonoPath(path)}`);
      if (r) op.security = r.map((role) => ({ [SCHEMES[role].scheme]: [] }));
      else if (path === "/metrics") op.security = [{}, { [SCHEMES.metrics.scheme]: [] }];
      else op.security = []; // public: no credential
      op.parameters = [...((op.parameters as Json[] | undefined) ?? []), { $ref: "#/components/parameters/RequestId" }];
      for (const prm of op.parameters as Array<Json & { schema?: Schema }>) {
        if (prm.in === "query" && DATE_PARAMS.has(prm.name as string) && prm.schema && path !== "/v1/audit" && path !== "/v1/log/proof/consistency") prm.schema.format = "date";
      }
      const body = op.requestBody as { content?: Record<string, Json & { schema?: Schema }> } | undefined;
      const xml = body?.content?.["application/xml"]?.schema;
      if (xml && XSD_BODIES.has(key)) {
        xml.description ??= "An HDon (or a TDiep carrying one), UTF-8, as described by /schemas/invoice.xsd.";
        xml.externalDocs = { description: "The invoice XSD", url: "/schemas/invoice.xsd" };
      }
      for (const media of Object.values(body?.content ?? {})) addExample(media, schemas);
      const responses = op.responses as Record<string, Json>;
      if (!responses["429"] && rateLimited(path)) responses["429"] = rateLimitedResponse();
      for (const [status, res] of Object.entries(responses)) {
        const headers = (res.headers ??= {}) as Json;
        headers["X-Request-Id"] = REQUEST_ID;
        if (status === "429" || status === "503") headers["Retry-After"] = RETRY_AFTER;
        if (status.startsWith("2")) for (const media of Object.values((res.content as Record<string, Json & { schema?: Schema }> | undefined) ?? {})) addExample(media, schemas);
      }
    }
  }
  for (const s of Object.values(schemas)) addFormats(s);
  return doc;
}

/** Whether the public per-address limit applies to the path (rate-limit-middleware.ts's PUBLIC_PATHS, `*` a suffix). */
function rateLimited(path: string): boolean {
  const p = toHonoPath(path);
  return PUBLIC_PATHS.some((x) => (x.endsWith("/*") ? p.startsWith(x.slice(0, -1)) : p === x));
}

function rateLimitedResponse(): Json {
  const { message } = ERRORS.RATE_LIMITED;
  return {
    description: `\`RATE_LIMITED\`: ${message}`,
    content: {
      "application/json": {
        schema: { $ref: "#/components/schemas/Error" },
        examples: { RATE_LIMITED: { summary: message, value: { error: { code: "RATE_LIMITED", message, details: [], requestId: "5f0c6f1e-8d3a-4a5e-9c1b-2f4e6a7b8c9d" } } } },
      },
    },
  };
}

function addFormats(s: Schema | undefined): void {
  if (!s || typeof s !== "object") return;
  for (const [name, p] of Object.entries(s.properties ?? {})) {
    if (p.type === "string" || (Array.isArray(p.type) && p.type.includes("string"))) {
      if (DATE_FIELDS.has(name)) p.format ??= "date";
      else if (DATE_TIME_FIELDS.has(name)) p.format ??= "date-time";
    }
    for (const alt of [...(p.anyOf ?? []), ...(p.oneOf ?? [])]) if (alt.type === "string" && DATE_TIME_FIELDS.has(name)) alt.format ??= "date-time";
    addFormats(p);
  }
  addFormats(s.items);
  for (const alt of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) addFormats(alt);
}

function addExample(media: Json & { schema?: Schema }, schemas: Record<string, Schema>): void {
  if (media.example !== undefined || media.examples !== undefined || !media.schema) return;
  const value = sample(media.schema, schemas, "", 0);
  if (value !== undefined) media.example = value;
}

/** Example strings by property name, for schemas that carry none of their own. */
const NAME_EXAMPLES: Record<string, string> = {
  id: "5f0c6f1e-8d3a-4a5e-9c1b-2f4e6a7b8c9d",
  requestId: "5f0c6f1e-8d3a-4a5e-9c1b-2f4e6a7b8c9d",
  taxCode: "0100000010",
  sellerTaxCode: "0100000010",
  buyerTaxCode: "0310000024",
  currency: "VND",
  name: "Công ty TNHH Phát triển Hóa đơn Mẫu",
  sellerName: "Công ty TNHH Phát triển Hóa đơn Mẫu",
  address: "1 Tràng Tiền, Hà Nội",
  taxOffice: "Cục Thuế TP Hà Nội",
  province: "Hà Nội",
  xml: "<HDon><DLHDon Id=\"SigningData\">…</DLHDon><DLQRCode>…</DLQRCode><MCCQT Id=\"MCCQT\">…</MCCQT><DSCKS>…</DSCKS></HDon>",
  digest: "8oG/r0EUR60GtDBQ+FYD8GTk8LFVyGWWavXPJ6PtsQE=",
  serial: "2827F8D0E8D9654042A71D5CE9445BFDD7742027",
  reason: "Sai thông tin người mua",
  message: "…",
};

/** A value of the schema: its own example, else one built from its parts. */
function sample(s: Schema, schemas: Record<string, Schema>, name: string, depth: number): unknown {
  if (depth > 8) return undefined;
  if (s.$ref) return sample(schemas[s.$ref.replace("#/components/schemas/", "")] ?? {}, schemas, name, depth + 1);
  if (s.example !== undefined) return s.example;
  if (s.enum?.length) return s.enum[0];
  const alt = s.anyOf ?? s.oneOf ?? s.allOf;
  if (alt) return sample(alt.find((a) => a.type !== "null") ?? alt[0]!, schemas, name, depth + 1);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  switch (type) {
    case "object": {
      const out: Json = {};
      for (const [k, p] of Object.entries(s.properties ?? {})) {
        const v = sample(p, schemas, k, depth + 1);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
    case "array": {
      const v = s.items ? sample(s.items, schemas, name, depth + 1) : undefined;
      return v === undefined ? [] : [v];
    }
    case "integer":
    case "number":
      return typeof s.minimum === "number" ? s.minimum : 1;
    case "boolean":
      return true;
    case "string":
      if (s.format === "date" || DATE_FIELDS.has(name)) return "2026-11-20";
      if (s.format === "date-time" || DATE_TIME_FIELDS.has(name)) return "2026-11-20T09:00:00.000Z";
      return NAME_EXAMPLES[name] ?? "…";
    default:
      return undefined;
  }
}
