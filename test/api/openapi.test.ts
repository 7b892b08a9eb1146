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
import { silentLogger } from "../../src/log.js";
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

let doc: { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };

beforeAll(async () => {
  // The document comes from the route definitions alone: the services are never called.
  const services = createServices({ store: {}, trust: {}, secrets: {}, issuerId: "0A", allowSha1: false } as unknown as ServiceOptions);
  const res = await buildApp(services, { logger: silentLogger }).request("/openapi.json");
  expect(res.status).toBe(200);
  doc = (await res.json()) as typeof doc;
});

const has = (e: Endpoint): boolean => doc.paths[e.path]?.[e.method.toLowerCase()] !== undefined;

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
    if (pending) {
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
});
