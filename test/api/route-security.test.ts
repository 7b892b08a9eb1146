/**
 * Who may call each route, generated from one description: the "who" column of api.md's
 * endpoint table. For every endpoint there, every kind of caller is tried — none, a credential
 * that is no one's, the admin, an officer, the seller that owns the resource, another seller —
 * and the answer must be what the column says: 401 without a valid credential, 403 for a role
 * the column leaves out, never 401/403 (and never a 5xx) for one it names, and another seller
 * never reads or changes what is not its own (403 or 404). A route added to api.md is covered
 * by adding its row there; the document's per-operation `security` must say the same.
 *
 * (In the manner of Unkey's runCommonRouteTests: one table of routes and roles, the same
 * checks for every row.)
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { tdiep } from "../helpers/tvan.js";

const API_MD = new URL("../../docs/spec/api.md", import.meta.url);

type Caller = "none" | "nobody" | "admin" | "officer" | "owner" | "otherSeller";
type Who = { public: boolean; admin: boolean; officer: boolean; seller: "no" | "own" | "any" };

interface Row {
  method: string;
  path: string;
  who: Who;
  text: string;
}

/** The endpoint table of api.md with its "who" cell read into roles. */
function apiMdRows(md: string): Row[] {
  const start = md.indexOf("## Endpoints");
  const section = md.slice(start, md.indexOf("\n## ", start + 1));
  const rows: Row[] = [];
  for (const line of section.split("\n")) {
    const cells = /^\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|/.exec(line);
    if (!cells || !/^(GET|POST|PUT|PATCH|DELETE) /.test(cells[1]!)) continue;
    const text = cells[2]!;
    const roles = text.split(",").map((s) => s.trim());
    const who: Who = { public: false, admin: false, officer: false, seller: "no" };
    for (const r of roles) {
      if (r === "public" || r === "public or token") who.public = true;
      else if (r === "admin") who.admin = true;
      else if (r === "officer" || r === "officer (token login)") who.officer = true;
      else if (r === "that seller" || r === "seller (own only)") who.seller = "own";
      else if (r === "seller") who.seller = "any";
      else throw new Error(`api.md: a "who" of "${r}" in "${line}" that this test does not know`);
    }
    for (const part of cells[1]!.split(/,\s*(?=(?:GET|POST|PUT|PATCH|DELETE) )/)) {
      const m = /^(GET|POST|PUT|PATCH|DELETE) (\/[^\s?]*)/.exec(part.trim());
      if (m) rows.push({ method: m[1]!, path: m[2]!, who, text });
    }
  }
  return rows;
}

// Pages (their own sign-in) and api.md's shorthand for the tile family are covered elsewhere
// (test/api/pages.test.ts, officer-pages.test.ts, transparency-log.test.ts).
const NOT_API = new Set(["GET /", "GET /officer", "GET /docs", "GET /tile/…"]);
const ROWS = apiMdRows(readFileSync(API_MD, "utf8")).filter((r) => !NOT_API.has(`${r.method} ${r.path}`));

let h: Harness;
let owner: TestSeller;
let other: TestSeller;
let officerToken: string;
let ownerCode: string;
let ownerMessage: string;
const DOC_SECURITY = new Map<string, string[]>();

beforeAll(async () => {
  h = await startHarness({ rateLimits: { publicPerMinute: 100_000, refusalLimit: 0 } });
  [owner, other] = await Promise.all([h.seller(), h.seller()]);
  const officer = await h.call("POST", "/v1/officers", { name: "Route security officer" });
  expect(officer.status).toBe(201);
  officerToken = ((await officer.json()) as { token: string }).token;
  const issued = await h.submit(owner.invoice(), owner.apiKey);
  expect(issued.status).toBe(201);
  ownerCode = ((await issued.json()) as { code: string }).code;
  const message = tdiep("200", owner.invoice(), { mst: owner.taxCode });
  const sent = await h.app.request("/v1/messages", { method: "POST", body: message.xml, headers: { authorization: `Bearer ${owner.apiKey}`, "content-type": "application/xml" } });
  expect(sent.status).toBeLessThan(300);
  ownerMessage = message.id;
  await h.services.log!.sequence(); // a signed checkpoint exists, so the log's routes answer 200
  const doc = (await (await h.app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, { security?: Array<Record<string, unknown>> }>> };
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) DOC_SECURITY.set(`${method.toUpperCase()} ${path}`, (op.security ?? []).flatMap((s) => Object.keys(s)).sort());
  }
}, 60_000);
afterAll(async () => h?.close());

/** The path with its parameters naming the owner's resources (or ids that exist nowhere). */
function fill(path: string): string {
  return path
    .replace("{taxCode}", owner.taxCode)
    .replace("{code}", ownerCode)
    .replace("{MTDiep}", ownerMessage)
    .replace("{serial}", "0DEADBEEF0")
    .replace("{id}", randomUUID());
}

function token(caller: Caller): string | undefined {
  switch (caller) {
    case "none":
      return undefined;
    case "nobody":
      return "hdk_" + randomUUID().replace(/-/g, "");
    case "admin":
      return ADMIN_TOKEN;
    case "officer":
      return officerToken;
    case "owner":
      return owner.apiKey;
    case "otherSeller":
      return other.apiKey;
  }
}

/** A request that no handler would carry out: an empty JSON object, or an XML body that is no invoice. */
async function call(row: Row, caller: Caller): Promise<{ status: number; code?: string }> {
  const t = token(caller);
  const headers: Record<string, string> = t ? { authorization: `Bearer ${t}` } : {};
  const init: RequestInit = { method: row.method, headers };
  if (row.method !== "GET" && row.method !== "DELETE") {
    const xml = row.path === "/v1/invoices" || row.path === "/v1/messages" || row.path === "/v1/verify";
    headers["content-type"] = xml ? "application/xml" : "application/json";
    init.body = xml ? "<x/>" : "{}";
  }
  // GET /v1/invoices: the owner's invoices asked for by name.
  const query = row.method === "GET" && row.path === "/v1/invoices" ? `?seller=${owner.taxCode}` : "";
  const res = await h.app.request(fill(row.path) + query, init);
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    // not JSON (PEM, XML, CSV, metrics)
  }
  if (row.method === "GET" && row.path === "/v1/invoices" && res.status === 200) {
    const items = (JSON.parse(text) as { items: Array<{ sellerTaxCode?: string; seller?: { taxCode?: string } }> }).items;
    const sellers = new Set(items.map((i) => i.sellerTaxCode ?? i.seller?.taxCode));
    if (caller === "otherSeller" && sellers.has(owner.taxCode)) return { status: 200, code: "LEAKED_OTHER_SELLERS_INVOICES" };
  }
  return { status: res.status, ...(code === undefined ? {} : { code }) };
}

describe("api.md's table of who may call what", () => {
  it("is read whole: every row's roles are understood, and the endpoints of every role are there", () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(30);
    expect(ROWS.some((r) => r.who.public)).toBe(true);
    expect(ROWS.some((r) => r.who.admin && !r.who.officer)).toBe(true);
    expect(ROWS.some((r) => r.who.seller === "own")).toBe(true);
    expect(ROWS.some((r) => r.who.seller === "any")).toBe(true);
  });

  it("and the OpenAPI document declare the same security for every operation", () => {
    for (const row of ROWS) {
      const declared = DOC_SECURITY.get(`${row.method} ${row.path}`);
      expect(declared, `${row.method} ${row.path} is in api.md but not in the document`).toBeDefined();
      const expected = [
        ...(row.who.admin ? ["adminToken"] : []),
        ...(row.who.officer ? ["officerToken"] : []),
        ...(row.who.seller !== "no" ? ["sellerApiKey"] : []),
        ...(row.path === "/metrics" ? ["metricsToken"] : []),
      ].sort();
      expect(declared, `${row.method} ${row.path}`).toEqual(expected);
    }
  });
});

describe.each(ROWS.map((r) => [`${r.method} ${r.path} (${r.text})`, r] as const))("%s", (_name, row) => {
  const built = () => DOC_SECURITY.has(`${row.method} ${row.path}`);

  it("without a credential, and with one that is no one's", async () => {
    expect(built(), "in api.md but not served").toBe(true);
    for (const caller of ["none", "nobody"] as const) {
      const r = await call(row, caller);
      if (row.who.public) {
        expect([401, 403], `${caller}: ${JSON.stringify(r)}`).not.toContain(r.status);
      } else {
        expect(r, caller).toEqual({ status: 401, code: "UNAUTHENTICATED" });
      }
      expect(r.status, caller).toBeLessThan(500);
    }
  });

  it("each role: let in where the table names it, 403 FORBIDDEN where it does not", async () => {
    expect(built(), "in api.md but not served").toBe(true);
    if (row.who.public) return;
    const allowed: Record<"admin" | "officer" | "owner", boolean> = { admin: row.who.admin, officer: row.who.officer, owner: row.who.seller !== "no" };
    for (const caller of ["admin", "officer", "owner"] as const) {
      const r = await call(row, caller);
      if (allowed[caller]) expect([401, 403], `${caller}: ${JSON.stringify(r)}`).not.toContain(r.status);
      else expect(r, caller).toEqual({ status: 403, code: "FORBIDDEN" });
      expect(r.status, `${caller}: ${JSON.stringify(r)}`).toBeLessThan(500);
    }
  });

  it("another seller never reads or changes what is the owner's", async () => {
    expect(built(), "in api.md but not served").toBe(true);
    if (row.who.public) return;
    const r = await call(row, "otherSeller");
    if (row.who.seller === "no") expect(r, JSON.stringify(r)).toEqual({ status: 403, code: "FORBIDDEN" });
    else if (row.who.seller === "own") expect([403, 404], JSON.stringify(r)).toContain(r.status);
    else expect([401, 403], JSON.stringify(r)).not.toContain(r.status); // "seller": any seller, for itself
    expect(r.status).toBeLessThan(500);
  });
});
