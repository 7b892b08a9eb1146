/**
 * POST /v1/invoices/batch through the routes: each item judged on its own by the same gate,
 * results in input order, items under one natural key resolved as sequential submissions, and
 * the limits of the body.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { nextNumber } from "../helpers/invoice.js";

let h: Harness;
let s: TestSeller;

beforeAll(async () => {
  h = await startHarness();
  s = await h.seller();
});
afterAll(async () => h?.close());

interface ItemResult {
  index: number;
  status: number;
  code?: string;
  error?: { code: string; message: string; details: { code: string; message: string; path?: string }[] };
}

const send = (body: unknown, key = s.apiKey, headers: Record<string, string> = {}) =>
  h.app.request("/v1/invoices/batch", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

async function batch(invoices: string[], key = s.apiKey): Promise<ItemResult[]> {
  const res = await send({ invoices }, key);
  const body = (await res.json()) as { results: ItemResult[] };
  expect(res.status, JSON.stringify(body)).toBe(200);
  expect(body.results.map((r) => r.index)).toEqual(invoices.map((_, i) => i));
  return body.results;
}

async function status(code: string): Promise<string> {
  return ((await (await h.call("GET", `/v1/invoices/${code}`, undefined, s.apiKey)).json()) as { status: string }).status;
}

describe("a batch", () => {
  it("issues every valid invoice and answers in input order with index, 201 and the code", async () => {
    const numbers = [nextNumber(), nextNumber(), nextNumber(), nextNumber(), nextNumber()];
    const results = await batch(numbers.map((number) => s.invoice({ number })));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(results.map((r) => r.code)).size).toBe(5);
    for (const [i, r] of results.entries()) {
      const res = await h.call("GET", `/v1/invoices/${r.code}`, undefined, s.apiKey);
      expect(((await res.json()) as { number: number }).number).toBe(numbers[i]);
      const xml = await (await h.call("GET", `/v1/invoices/${r.code}/xml`, undefined, s.apiKey)).text();
      expect(xml).toContain(`>${r.code}</MCCQT>`);
    }
  });

  it("judges each item on its own: refused items carry their error and write nothing, the others are issued", async () => {
    const good = s.invoice();
    const tampered = s.invoice({ lines: [{ name: "Hàng", quantity: 1, unitPrice: 1_000_000, taxRate: "10%" }] }).replace("<TgTTTBSo>1100000</TgTTTBSo>", "<TgTTTBSo>1100001</TgTTTBSo>");
    const other = await h.seller();
    const before = await h.store.countRows();
    const results = await batch(["<HDon><DLHDon></HDon>", good, tampered, other.invoice(), s.invoice({ overrides: { TgTTTBSo: "1" } }), `<HDon>${" ".repeat(2 * 1024 * 1024)}</HDon>`]);
    expect(results.map((r) => [r.status, r.error?.code ?? null])).toEqual([
      [400, "XML_MALFORMED"],
      [201, null],
      [422, "SIGNATURE_INVALID"],
      [403, "FORBIDDEN"],
      [422, "TOTALS_MISMATCH"],
      [413, "PAYLOAD_TOO_LARGE"],
    ]);
    expect(results[4]!.error!.details[0]!.path).toBe("NDHDon/TToan/TgTTTBSo");
    expect(results[1]!.code).toMatch(/^[0-9A-F]{34}$/);
    const after = await h.store.countRows();
    expect(after.invoices).toBe(before.invoices! + 1);
  });

  it("refuses an item whose DLHDon Id would need escaping (SIGNATURE_PROFILE) and issues the others (issue 14, item 1)", async () => {
    const good = s.invoice();
    const odd = ["a&b", "a<b", 'a"b'].map((dlhdonId) => s.invoice({ dlhdonId }));
    for (const x of odd) expect(x).toMatch(/<DLHDon Id="a(&amp;|&lt;|&quot;)b"/);
    const results = await batch([odd[0]!, good, odd[1]!, odd[2]!]);
    expect(results.map((r) => [r.status, r.error?.code ?? null])).toEqual([
      [422, "SIGNATURE_PROFILE"],
      [201, null],
      [422, "SIGNATURE_PROFILE"],
      [422, "SIGNATURE_PROFILE"],
    ]);
    const xml = await (await h.call("GET", `/v1/invoices/${results[1]!.code}/xml`, undefined, s.apiKey)).text();
    expect(xml).toContain(`>${results[1]!.code}</MCCQT>`);
  });

  it("answers invoices issued before with 200 and their code", async () => {
    const xml = s.invoice();
    const first = (await (await h.submit(xml, s.apiKey)).json()) as { code: string };
    const before = await h.store.countRows();
    const results = await batch([xml, xml]);
    expect(results).toEqual([
      { index: 0, status: 200, code: first.code },
      { index: 1, status: 200, code: first.code },
    ]);
    expect(await h.store.countRows()).toEqual(before);
  });

  it("resolves items under one natural key as sequential submissions: the first issued, the same again 200, another DUPLICATE_INVOICE", async () => {
    const number = nextNumber();
    const a = s.invoice({ number });
    const b = s.invoice({ number, lines: [{ name: "Khác", quantity: 1, unitPrice: 7_000, taxRate: "8%" }] });
    const results = await batch([a, b, a, s.invoice()]);
    expect(results.map((r) => r.status)).toEqual([201, 409, 200, 201]);
    expect(results[2]!.code).toBe(results[0]!.code);
    expect(results[1]!.error!.code).toBe("DUPLICATE_INVOICE");
    expect(results[1]!.error!.details[0]!.path).toBe(results[0]!.code);
  });

  it("replaces and adjusts inside one batch, in order: an invoice of the batch, and one issued before", async () => {
    const earlier = (await (await h.submit(s.invoice(), s.apiKey)).json()) as { code: string; number: number; symbol: string; issueDate: string };
    const n = nextNumber();
    const original = s.invoice({ number: n });
    const issueDate = earlier.issueDate;
    const results = await batch([
      s.invoice({ related: { kind: 1, form: "1", symbol: earlier.symbol, number: n, issueDate } }), // names an invoice that comes later: not found yet
      original,
      s.invoice({ related: { kind: 2, form: "1", symbol: earlier.symbol, number: n, issueDate }, lines: [{ name: "Giảm", quantity: 1, unitPrice: -100_000, taxRate: "10%" }] }),
      s.invoice({ related: { kind: 1, form: "1", symbol: earlier.symbol, number: earlier.number, issueDate } }),
      s.invoice({ related: { kind: 1, form: "1", symbol: earlier.symbol, number: earlier.number, issueDate } }),
    ]);
    expect(results.map((r) => [r.status, r.error?.code ?? null])).toEqual([
      [422, "RELATED_INVOICE_NOT_FOUND"],
      [201, null],
      [201, null],
      [201, null],
      [409, "RELATED_INVOICE_STATE"],
    ]);
    expect(await status(results[1]!.code!)).toBe("adjusted");
    expect(await status(earlier.code)).toBe("replaced");
  });

  it("writes nothing but answers every item when all are refused", async () => {
    const before = await h.store.countRows();
    const results = await batch(["<x/>", "not xml at all", s.invoice({ overrides: { TgTCThue: "5" } })]);
    expect(results.map((r) => r.status)).toEqual([400, 400, 422]);
    expect(await h.store.countRows()).toEqual(before);
  });

  it("answers a suspended seller's batch item by item (SELLER_SUSPENDED)", async () => {
    const t = await h.seller();
    expect((await h.call("PATCH", `/v1/sellers/${t.taxCode}`, { status: "suspended" })).status).toBe(200);
    const results = await batch([t.invoice(), t.invoice()], t.apiKey);
    expect(results.map((r) => r.error?.code)).toEqual(["SELLER_SUSPENDED", "SELLER_SUSPENDED"]);
  });
});

describe("the batch request", () => {
  const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; details: { path?: string }[] } }).error;

  it("refuses an empty list and more than 1,000 invoices (SCHEMA_INVALID)", async () => {
    for (const invoices of [[], Array.from({ length: 1001 }, () => "<HDon/>")]) {
      const res = await send({ invoices });
      expect(res.status).toBe(422);
      const e = await errorOf(res);
      expect(e.code).toBe("SCHEMA_INVALID");
      expect(e.details[0]!.path).toBe("invoices");
    }
    const res = await send({ invoices: [1, 2] });
    expect(res.status).toBe(422);
  });

  it("refuses a body over 32 MiB (PAYLOAD_TOO_LARGE), whatever Content-Length says", async () => {
    const big = JSON.stringify({ invoices: ["x".repeat(32 * 1024 * 1024)] });
    const res = await send(big);
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe("PAYLOAD_TOO_LARGE");
    const lying = await send(big, s.apiKey, { "content-length": "100" });
    expect(lying.status).toBe(413);
  });

  it("refuses a body that is not JSON (UNSUPPORTED_MEDIA_TYPE, BAD_REQUEST)", async () => {
    const xml = await send(s.invoice(), s.apiKey, { "content-type": "application/xml" });
    expect(xml.status).toBe(415);
    expect((await errorOf(xml)).code).toBe("UNSUPPORTED_MEDIA_TYPE");
    const broken = await send("{\"invoices\": [", s.apiKey);
    expect(broken.status).toBe(400);
    expect((await errorOf(broken)).code).toBe("BAD_REQUEST");
  });

  it("is for sellers only (UNAUTHENTICATED, FORBIDDEN)", async () => {
    const officer = ((await (await h.call("POST", "/v1/officers", { name: "Vũ Văn Đức" })).json()) as { token: string }).token;
    expect((await send({ invoices: [s.invoice()] }, officer)).status).toBe(403);
    expect((await send({ invoices: [s.invoice()] }, "hdk_unknown")).status).toBe(401);
  });
});
