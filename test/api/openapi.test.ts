/**
 * /openapi.json against the contract: every endpoint of api.md's table (read from
 * ../shared/spec/api.md itself) is in the document with its method, and every error code of
 * api.md's error table is shown with an example.
 *
 * Endpoints and codes that other issues are still building are listed in PENDING below. A
 * listed one that appears in the document fails the test until it is removed from the list, and
 * an api.md endpoint missing from the document that is not listed fails too.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { readPublicAsset } from "../../src/assets-node.js";
import { ERRORS } from "../../src/errors.js";
import { STAGES } from "../../src/gate/stages.js";
import { silentLogger } from "../../src/log.js";
import { HIDDEN_PATHS, OPERATIONS, TAGS } from "../../src/openapi.js";
import { createServices, type ServiceOptions } from "../../src/services.js";

const API_MD = new URL("../../../shared/spec/api.md", import.meta.url);

/** api.md endpoints not implemented yet, with the issue that brings each. Shrink it as they land. */
const PENDING_ENDPOINTS: Record<string, string> = {};

/** api.md error codes that no route can answer yet. */
const PENDING_ERRORS: Record<string, string> = {
  RELATED_INVOICE_NOT_FOUND: "issue 4 (replacement and adjustment invoices)",
};

interface Endpoint {
  method: string;
  path: string;
}

/** The rows of the table under "## Endpoints": "GET /healthz, GET /readyz" gives two endpoints; a query string is dropped. */
function apiMdEndpoints(md: string): Endpoint[] {
  const section = md.slice(md.indexOf("## Endpoints"), md.indexOf("\n## ", md.indexOf("## Endpoints") + 1));
  const out: Endpoint[] = [];
  for (const line of section.split("\n")) {
    const cell = /^\|\s*([^|]+?)\s*\|/.exec(line)?.[1];
    if (!cell || !/^(GET|POST|PUT|PATCH|DELETE) /.test(cell)) continue;
    for (const part of cell.split(/,\s*(?=(?:GET|POST|PUT|PATCH|DELETE) )/)) {
      const m = /^(GET|POST|PUT|PATCH|DELETE) (\/[^\s?]*)/.exec(part.trim());
      if (m) out.push({ method: m[1]!, path: m[2]! });
    }
  }
  return out;
}

/** The codes of the table under "## Errors" ("SELLER_NOT_REGISTERED, SELLER_SUSPENDED" gives two). */
function apiMdErrorCodes(md: string): string[] {
  const section = md.slice(md.indexOf("## Errors"));
  const codes: string[] = [];
  for (const line of section.split("\n")) {
    const cell = /^\|\s*\d{3}\s*\|\s*([^|]+?)\s*\|/.exec(line)?.[1];
    if (cell) codes.push(...cell.split(",").map((c) => c.trim()));
  }
  return codes;
}

const md = readFileSync(API_MD, "utf8");
const endpoints = apiMdEndpoints(md);
const errorCodes = apiMdErrorCodes(md);
const key = (e: Endpoint) => `${e.method} ${e.path}`;

type Media = { schema?: Record<string, unknown>; example?: unknown; examples?: Record<string, unknown> };
type Operation = {
  operationId?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: Array<Record<string, unknown>>;
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, Media> }>;
};
let doc: {
  openapi: string;
  servers?: Array<{ url: string }>;
  tags?: Array<{ name: string; description?: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, any>; securitySchemes: Record<string, unknown>; headers: Record<string, unknown> };
};
let app: ReturnType<typeof buildApp>;

beforeAll(async () => {
  // The document comes from the route definitions alone: the services are never called.
  const services = createServices({ store: {}, trust: {}, secrets: {}, issuerId: "0A", allowSha1: false } as unknown as ServiceOptions);
  app = buildApp(services, { logger: silentLogger, asset: readPublicAsset });
  const res = await app.request("/openapi.json");
  expect(res.status).toBe(200);
  doc = (await res.json()) as typeof doc;
});

/**
 * api.md's shorthand for a family of paths, and the document's path that serves it (the tiles are
 * also served under the log's C2SP prefix, /v1/log/tile/…, beside /v1/log/checkpoint).
 */
const ALIASES: Record<string, string> = { "GET /tile/…": "/tile/{path}" };
const has = (e: Endpoint): boolean => doc.paths[ALIASES[key(e)] ?? e.path]?.[e.method.toLowerCase()] !== undefined;

describe("/openapi.json and api.md", () => {
  it("reads the endpoint and error tables of api.md", () => {
    expect(endpoints.length).toBeGreaterThanOrEqual(25);
    expect(endpoints).toContainEqual({ method: "GET", path: "/readyz" });
    expect(endpoints).toContainEqual({ method: "GET", path: "/v1/verify" });
    expect(errorCodes).toContain("SELLER_SUSPENDED");
    expect(errorCodes).toContain("UNAVAILABLE");
  });

  it("is OpenAPI 3.1", () => {
    expect(doc.openapi).toBe("3.1.0");
  });

  it("lists only pending endpoints that api.md has", () => {
    const all = new Set(endpoints.map(key));
    expect(Object.keys(PENDING_ENDPOINTS).filter((k) => !all.has(k))).toEqual([]);
  });

  for (const e of endpoints) {
    const pending = PENDING_ENDPOINTS[key(e)];
    if (HIDDEN_PATHS.includes(e.path)) {
      it(`serves ${key(e)} but leaves it out of the document (a page, not API)`, async () => {
        expect(has(e)).toBe(false);
        expect((await app.request(e.path)).status).toBe(200);
      });
    } else if (pending) {
      it(`still misses ${key(e)}, pending in ${pending}; when it lands, remove it from PENDING_ENDPOINTS`, () => {
        expect(has(e), `${key(e)} is in /openapi.json now: remove it from PENDING_ENDPOINTS in test/api/openapi.test.ts`).toBe(false);
      });
      it.todo(`lists ${key(e)} (${pending})`);
    } else {
      it(`lists ${key(e)}`, () => {
        expect(has(e), `${key(e)} of api.md is missing from /openapi.json (a new endpoint still being built goes in PENDING_ENDPOINTS)`).toBe(true);
      });
    }
  }

  it("shows every error code of api.md with an example of its envelope", () => {
    const examples = new Map<string, unknown>();
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) {
        for (const r of Object.values(op.responses) as { content?: Record<string, { examples?: Record<string, { value: unknown }> }> }[]) {
          for (const [code, ex] of Object.entries(r.content?.["application/json"]?.examples ?? {})) examples.set(code, ex.value);
        }
      }
    }
    const missing = errorCodes.filter((c) => !examples.has(c) && !PENDING_ERRORS[c]);
    expect(missing, "error codes of api.md without an example in /openapi.json").toEqual([]);
    const landed = Object.keys(PENDING_ERRORS).filter((c) => examples.has(c));
    expect(landed, "now in /openapi.json: remove from PENDING_ERRORS").toEqual([]);
    expect(examples.get("SIGNATURE_INVALID")).toMatchObject({ error: { code: "SIGNATURE_INVALID", details: [], requestId: expect.any(String) } });
  });

  it("answers 503 UNAVAILABLE and 500 INTERNAL in the document of every operation that reaches the database", () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (["/healthz", "/docs", "/openapi.json", "/metrics", "/v1/authority/certificate"].includes(path)) continue;
        expect(Object.keys(op.responses), `${method.toUpperCase()} ${path}`).toEqual(expect.arrayContaining(["500", "503"]));
      }
    }
  });

  const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, path, op })));

  it("gives every operation its operationId from OPERATIONS (unique) and a tag of the global list", () => {
    const ids = operations().map(({ key, op }) => [key, op.operationId] as const);
    expect(ids.filter(([, id]) => !id).map(([k]) => k), "operations without a row in OPERATIONS (src/openapi.ts)").toEqual([]);
    expect(new Set(ids.map(([, id]) => id)).size).toBe(ids.length);
    for (const [k, id] of ids) expect(id).toBe(OPERATIONS[k]);
    const tags = new Set(TAGS.map((t) => t.name));
    expect(doc.tags?.every((t) => t.description)).toBe(true);
    for (const { key, op } of operations()) expect(op.tags?.length && op.tags.every((t) => tags.has(t)), key).toBe(true);
  });

  it("has servers and hides the pages and /docs", () => {
    expect(doc.servers?.length).toBeGreaterThan(0);
    for (const p of ["/", "/officer", "/docs"]) expect(doc.paths[p]).toBeUndefined();
  });

  it("describes security per role, from the middleware that enforces it", () => {
    const sec = (k: string) => operations().find((o) => o.key === k)!.op.security;
    expect(sec("POST /v1/invoices")).toEqual([{ sellerApiKey: [] }]);
    expect(sec("POST /v1/officers")).toEqual([{ adminToken: [] }]);
    expect(sec("GET /v1/reports/totals")).toEqual([{ officerToken: [] }]);
    expect(sec("GET /v1/sellers/{taxCode}")).toEqual([{ adminToken: [] }, { officerToken: [] }, { sellerApiKey: [] }]);
    expect(sec("GET /v1/verify/{code}")).toEqual([]);
    expect(sec("GET /metrics")).toEqual([{}, { metricsToken: [] }]);
    for (const { key, op } of operations()) {
      expect(op.security, key).toBeDefined();
      for (const req of op.security!) for (const name of Object.keys(req)) expect(doc.components.securitySchemes[name], `${key}: ${name}`).toBeDefined();
    }
  });

  it("gives the error code as an enum of every code", () => {
    expect(doc.components.schemas.ErrorCode.enum).toEqual(Object.keys(ERRORS));
    expect(doc.components.schemas.Error.properties.error.properties.code).toEqual({ $ref: "#/components/schemas/ErrorCode" });
  });

  it("has an example on every request body and every success response", () => {
    const missing: string[] = [];
    for (const { key, op } of operations()) {
      for (const [type, m] of Object.entries(op.requestBody?.content ?? {})) if (m.example === undefined && !m.examples) missing.push(`${key} request ${type}`);
      for (const [status, r] of Object.entries(op.responses)) {
        if (!status.startsWith("2")) continue;
        for (const [type, m] of Object.entries(r.content ?? {})) if (m.example === undefined && !m.examples) missing.push(`${key} ${status} ${type}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("declares X-Request-Id on every answer and Retry-After on 429 and 503", () => {
    expect(Object.keys(doc.components.headers).sort()).toEqual(["Retry-After", "X-Request-Id"]);
    for (const { key, op } of operations()) {
      for (const [status, r] of Object.entries(op.responses)) {
        expect(r.headers?.["X-Request-Id"], `${key} ${status}`).toEqual({ $ref: "#/components/headers/X-Request-Id" });
        if (status === "429" || status === "503") expect(r.headers?.["Retry-After"], `${key} ${status}`).toEqual({ $ref: "#/components/headers/Retry-After" });
      }
      expect(op.parameters).toContainEqual({ $ref: "#/components/parameters/RequestId" });
    }
  });

  it("describes POST /v1/invoices with the gate's stages in order and the codes of each, from the table the gate runs", () => {
    const description = (doc.paths["/v1/invoices"]!.post as Operation & { description?: string }).description ?? "";
    let at = 0;
    for (const [i, stage] of STAGES.entries()) {
      const line = `${i + 1}. **${stage.name}**: ${stage.checks}`;
      const found = description.indexOf(line, at);
      expect(found, stage.name).toBeGreaterThan(at - 1);
      at = found + line.length;
      for (const code of stage.codes) expect(description.slice(found).split("\n")[0], stage.name).toContain(`\`${code}\``);
    }
  });

  it("formats the dates", () => {
    const s = doc.components.schemas;
    expect(s.IssuedInvoice.properties.issueDate.format).toBe("date");
    expect(s.IssuedInvoice.properties.issuedAt.format).toBe("date-time");
    expect(s.Certificate.properties.notAfter.format).toBe("date-time");
    const from = operations().find((o) => o.key === "GET /v1/reports/totals")!.op.parameters!.find((p) => p.name === "from") as { schema: { format?: string } };
    expect(from.schema.format).toBe("date");
  });

  it("serves the XSD at /schemas/invoice.xsd, byte for byte schemas/invoice.xsd, and references it from the invoice bodies", async () => {
    const res = await app.request("/schemas/invoice.xsd");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/xml/);
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(new URL("../../schemas/invoice.xsd", import.meta.url)))).toBe(true);
    const body = operations().find((o) => o.key === "POST /v1/invoices")!.op.requestBody!.content["application/xml"]!.schema!;
    expect(body.externalDocs).toEqual({ description: "The invoice XSD", url: "/schemas/invoice.xsd" });
  });
});
