/**
 * Control characters in JSON text fields (issue 14, item 4): a NUL in a seller's name, an
 * officer's name or a cancellation reason was a 500 (PostgreSQL cannot store NUL in text). Every
 * text field of every JSON body is the one shared schema (routes/common.ts `text`): 422
 * SCHEMA_INVALID naming the field, nothing stored.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { randomTaxCode } from "../helpers/invoice.js";
import type { ErrorBody } from "../helpers/refusal.js";

let h: Harness;
let officer: string;
let seller: TestSeller;
let code: string;

beforeAll(async () => {
  h = await startHarness();
  officer = ((await (await h.call("POST", "/v1/officers", { name: "Đỗ Minh Châu" })).json()) as { token: string }).token;
  seller = await h.seller();
  const issued = await h.submit(seller.invoice(), seller.apiKey);
  expect(issued.status).toBe(201);
  code = ((await issued.json()) as { code: string }).code;
});
afterAll(async () => h?.close());

/** The shared patterns (routes/common.ts), as the OpenAPI document shows them. */
const SINGLE_LINE = "^[^\\x00-\\x1f\\x7f]*$";
const MULTI_LINE = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$";

/** Every text field of every JSON body: a valid body, and the field to spoil. */
function cases(): { name: string; method: string; path: () => string; body: () => Record<string, unknown>; field: string; token?: () => string }[] {
  const newSeller = () => ({ taxCode: randomTaxCode(), name: "Công ty Cổ phần Sao Mai", address: "5 Lê Lợi, Huế", taxOffice: "Cục Thuế Thừa Thiên Huế", province: "Thừa Thiên Huế" });
  return [
    { name: "officer name", method: "POST", path: () => "/v1/officers", body: () => ({ name: "Lê Văn Tám", taxOffice: "Chi cục Thuế Ba Đình" }), field: "name" },
    { name: "officer tax office", method: "POST", path: () => "/v1/officers", body: () => ({ name: "Lê Văn Tám", taxOffice: "Chi cục Thuế Ba Đình" }), field: "taxOffice" },
    ...(["taxCode", "name", "address", "taxOffice", "province"] as const).map((field) => ({ name: `seller ${field} on create`, method: "POST", path: () => "/v1/sellers", body: newSeller, field })),
    ...(["name", "address", "taxOffice", "province"] as const).map((field) => ({
      name: `seller ${field} on patch`,
      method: "PATCH",
      path: () => `/v1/sellers/${seller.taxCode}`,
      body: () => ({ name: "Công ty TNHH Mới", address: "9 Hàng Bài, Hà Nội", taxOffice: "Cục Thuế TP Hà Nội", province: "Hà Nội" }),
      field,
    })),
    { name: "certificate PEM", method: "POST", path: () => `/v1/sellers/${seller.taxCode}/certificates`, body: () => ({ pem: seller.certPem }), field: "pem" },
    { name: "cancellation reason (officer)", method: "POST", path: () => `/v1/invoices/${code}/cancellation`, body: () => ({ reason: "Sai thông tin người mua" }), field: "reason", token: () => officer },
    { name: "cancellation reason (seller)", method: "POST", path: () => `/v1/invoices/${code}/cancellation`, body: () => ({ reason: "Sai thông tin người mua" }), field: "reason", token: () => seller.apiKey },
  ];
}

/** Puts `bad` in the middle of the field's valid value. */
function spoil(body: Record<string, unknown>, field: string, bad: string): Record<string, unknown> {
  const v = String(body[field]);
  const mid = Math.floor(v.length / 2);
  return { ...body, [field]: v.slice(0, mid) + bad + v.slice(mid) };
}

describe("control characters in JSON text fields", () => {
  for (const c of cases()) {
    it(`refuses a NUL, another C0 control, DEL and a lone surrogate in the ${c.name} (422 SCHEMA_INVALID naming the field, nothing stored)`, async () => {
      const before = await h.store.countRows();
      for (const bad of ["\u0000", "\u0001", "\u001b", "\u007f", "\ud800"]) {
        const res = await h.call(c.method, c.path(), spoil(c.body(), c.field, bad), c.token?.());
        const text = await res.text();
        expect(res.status, `${JSON.stringify(bad)}: ${text}`).toBe(422);
        const body = JSON.parse(text) as ErrorBody;
        expect(body.error.code).toBe("SCHEMA_INVALID");
        expect(body.error.details.map((d) => d.path)).toContain(c.field);
      }
      expect(await h.store.countRows(), "a refused request stores nothing").toEqual(before);
    });
  }

  it("refuses a line break in a one-line field (a seller's name) but keeps them in a reason", async () => {
    const res = await h.call("PATCH", `/v1/sellers/${seller.taxCode}`, { name: "Công ty\nTNHH" });
    expect(res.status).toBe(422);
    expect(((await res.json()) as ErrorBody).error.code).toBe("SCHEMA_INVALID");

    const other = await h.seller();
    const issued = await h.submit(other.invoice(), other.apiKey);
    const c = ((await issued.json()) as { code: string }).code;
    const reason = "Sai địa chỉ người mua:\n\tđã lập biên bản 😀";
    const cancelled = await h.call("POST", `/v1/invoices/${c}/cancellation`, { reason }, other.apiKey);
    expect(cancelled.status, await cancelled.clone().text()).toBe(200);
    const history = ((await cancelled.json()) as { history: { event: string; reason?: string }[] }).history;
    expect(history.find((e) => e.event === "cancelled")?.reason).toBe(reason);
  });

  it("refuses a NUL in the audit log's actor filter (422, not a database error)", async () => {
    const res = await h.call("GET", `/v1/audit?actor=${encodeURIComponent("admin\u0000")}`);
    expect(res.status).toBe(422);
    expect(((await res.json()) as ErrorBody).error.code).toBe("SCHEMA_INVALID");
  });

  it("judges a batch item with a NUL as the XML it is (XML_MALFORMED for that item, the others issued)", async () => {
    const good = seller.invoice();
    const bad = seller.invoice().replace("<TTChung>", "<TTChung>\u0000");
    const res = await h.call("POST", "/v1/invoices/batch", { invoices: [bad, good] }, seller.apiKey);
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: { index: number; status: number; error?: { code: string } }[] };
    expect(results[0]).toMatchObject({ index: 0, status: 400, error: { code: "XML_MALFORMED" } });
    expect(results[1]).toMatchObject({ index: 1, status: 201 });
  });

  it("uses the shared text schema for every string of every JSON request body in the OpenAPI document", async () => {
    const doc = (await (await h.app.request("/openapi.json")).json()) as OpenApi;
    const strings: { where: string; pattern: string | undefined }[] = [];
    const walk = (schema: Schema | undefined, where: string) => {
      if (!schema) return;
      if (schema.$ref) return walk(doc.components?.schemas?.[schema.$ref.replace("#/components/schemas/", "")], where);
      for (const s of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) walk(s, where);
      if (schema.type === "string" && !schema.enum) strings.push({ where, pattern: schema.pattern });
      for (const [k, v] of Object.entries(schema.properties ?? {})) walk(v, `${where}.${k}`);
      if (schema.items) walk(schema.items, `${where}[]`);
    };
    let bodies = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const schema = op.requestBody?.content?.["application/json"]?.schema;
        if (!schema) continue;
        bodies++;
        walk(schema, `${method.toUpperCase()} ${path} `);
      }
    }
    expect(bodies).toBeGreaterThanOrEqual(6);
    // The batch's items are XML documents, each judged on its own by the XML parser (above).
    const others = strings.filter((s) => s.where !== "POST /v1/invoices/batch .invoices[]");
    expect(others.length).toBeGreaterThanOrEqual(12);
    for (const s of others) expect([SINGLE_LINE, MULTI_LINE], `${s.where}: use text() of routes/common.ts`).toContain(s.pattern);
  });
});

interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  pattern?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}
interface OpenApi {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> } }>>;
  components?: { schemas?: Record<string, Schema> };
}
