/**
 * The invoice lifecycle through the routes: replacement and adjustment (TTHDLQuan), cancellation,
 * the history on both sides, the seller's status and stopped certificates, and that each
 * transition writes its status, events and amounts together or not at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../src/storage/db.js";
import type { PgStore } from "../../src/storage/pg-store.js";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { type BuildInvoiceOptions, buildInvoice, nextNumber, type RelatedInvoice } from "../helpers/invoice.js";
import { issueSellerCert } from "../helpers/pki.js";
import { signInvoice } from "../helpers/sign.js";

let h: Harness;
let officer: string;

beforeAll(async () => {
  h = await startHarness();
  officer = ((await (await h.call("POST", "/v1/officers", { name: "Phạm Thị Thu" })).json()) as { token: string }).token;
});
afterAll(async () => h?.close());

interface Issued {
  code: string;
  status: string;
  number: number;
  symbol: string;
  issueDate: string;
  totalBeforeTax: string;
  totalTax: string;
  totalPayable: string;
}
interface Event {
  event: string;
  at: string;
  by: string;
  reason?: string;
  relatedCode?: string;
}
interface Detail extends Issued {
  history: Event[];
}
interface ErrorBody {
  error: { code: string; message: string; details: { code: string; message: string; path?: string }[] };
}

async function issue(s: TestSeller, opts: BuildInvoiceOptions = {}): Promise<Issued> {
  const res = await h.submit(s.invoice(opts), s.apiKey);
  const body = (await res.json()) as Issued;
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

/** TTHDLQuan naming `original`: kind 1 replaces, 2 adjusts. */
const relatedTo = (original: Issued, kind: 1 | 2, note?: string): RelatedInvoice => ({
  kind,
  form: "1",
  symbol: original.symbol,
  number: original.number,
  issueDate: original.issueDate,
  ...(note === undefined ? {} : { note }),
});

async function detail(code: string, token = officer): Promise<Detail> {
  const res = await h.call("GET", `/v1/invoices/${code}`, undefined, token);
  expect(res.status).toBe(200);
  return (await res.json()) as Detail;
}

/** Submits and expects a refusal with `code`, checking that no row was written anywhere. */
async function expectRefused(xml: string, key: string, code: string, status: number): Promise<ErrorBody> {
  const before = await h.store.countRows();
  const res = await h.submit(xml, key);
  const body = (await res.json()) as ErrorBody;
  expect(body.error?.code, JSON.stringify(body)).toBe(code);
  expect(res.status).toBe(status);
  expect(await h.store.countRows()).toEqual(before);
  return body;
}

const cancel = (code: string, reason: unknown, token: string) => h.call("POST", `/v1/invoices/${code}/cancellation`, { reason }, token);

/** The per-rate amounts stored for an invoice (what reports will sum). */
async function rates(code: string): Promise<Record<string, { before: string; tax: string }>> {
  const rows = await (h.store as PgStore).db.query<{ tax_rate: string; b: string; t: string }>(
    sql`select tax_rate, trim_scale(amount_before_tax)::text as b, trim_scale(tax)::text as t from invoice_tax_rates where invoice_code = ${code}`,
  );
  return Object.fromEntries(rows.map((r) => [r.tax_rate, { before: r.b, tax: r.t }]));
}

describe("replacement", () => {
  it("replaces an issued invoice: the original becomes replaced and each history names the other", async () => {
    const s = await h.seller();
    const original = await issue(s);
    const replacement = await issue(s, { related: relatedTo(original, 1, "Sai địa chỉ người mua") });
    expect(replacement.status).toBe("issued");

    const o = await detail(original.code);
    expect(o.status).toBe("replaced");
    expect(o.history.map((e) => e.event)).toEqual(["issued", "replaced"]);
    expect(o.history[1]).toMatchObject({ relatedCode: replacement.code, reason: "Sai địa chỉ người mua" });

    const r = await detail(replacement.code, s.apiKey);
    expect(r.status).toBe("issued");
    expect(r.history.map((e) => e.event)).toEqual(["issued", "replaces"]);
    expect(r.history[1]).toMatchObject({ relatedCode: original.code });
    expect(r.history[1]!.by).toBe(o.history[1]!.by);
  });

  it("answers a replay of a replacing invoice with 200 although its original is now replaced", async () => {
    const s = await h.seller();
    const original = await issue(s);
    const xml = s.invoice({ related: relatedTo(original, 1) });
    const first = await h.submit(xml, s.apiKey);
    expect(first.status).toBe(201);
    const before = await h.store.countRows();
    const again = await h.submit(xml, s.apiKey);
    expect(again.status).toBe(200);
    expect(((await again.json()) as Issued).code).toBe(((await first.json()) as Issued).code);
    expect(await h.store.countRows()).toEqual(before);
  });

  it("refuses replacing an invoice already replaced (RELATED_INVOICE_STATE), naming its code", async () => {
    const s = await h.seller();
    const original = await issue(s);
    await issue(s, { related: relatedTo(original, 1) });
    const body = await expectRefused(s.invoice({ related: relatedTo(original, 1) }), s.apiKey, "RELATED_INVOICE_STATE", 409);
    expect(body.error.message).toContain(original.code);
    expect(body.error.message).toContain("đã bị thay thế"); // Vietnamese by default (Accept-Language)
  });

  it("lets only one of two concurrent replacements of one original win; the other is RELATED_INVOICE_STATE", async () => {
    const s = await h.seller();
    const original = await issue(s);
    const before = await h.store.countRows();
    const [a, b] = await Promise.all([1, 2].map(() => h.submit(s.invoice({ related: relatedTo(original, 1) }), s.apiKey)));
    const statuses = [a!.status, b!.status].sort();
    expect(statuses).toEqual([201, 409]);
    const loser = (await (a!.status === 409 ? a! : b!).json()) as ErrorBody;
    expect(loser.error.code).toBe("RELATED_INVOICE_STATE");
    const o = await detail(original.code);
    expect(o.history.filter((e) => e.event === "replaced")).toHaveLength(1);
    const after = await h.store.countRows();
    expect(after.invoices).toBe(before.invoices! + 1);
    expect(after.invoice_events).toBe(before.invoice_events! + 3);
  });

  it("refuses a TTHDLQuan that names no invoice of this seller (RELATED_INVOICE_NOT_FOUND)", async () => {
    const s = await h.seller();
    const other = await h.seller();
    const mine = await issue(s);
    const theirs = await issue(other);
    const cases: [string, RelatedInvoice][] = [
      ["an unknown number", { ...relatedTo(mine, 1), number: nextNumber() }],
      ["another seller's invoice", relatedTo(theirs, 1)],
      ["another issue date", { ...relatedTo(mine, 2), issueDate: "2020-01-01" }],
      ["another form", { ...relatedTo(mine, 2), form: "2" }],
      ["a paper invoice (LHDCLQuan 3)", { ...relatedTo(mine, 1), relatedType: 3 }],
      ["a number that is not one", { ...relatedTo(mine, 1), number: "AB12" }],
    ];
    for (const [what, related] of cases) {
      const body = await expectRefused(s.invoice({ related }), s.apiKey, "RELATED_INVOICE_NOT_FOUND", 422);
      expect(body.error.details[0]!.path, what).toBe("TTChung/TTHDLQuan");
    }
    expect((await detail(mine.code)).status).toBe("issued");
    expect((await detail(theirs.code)).status).toBe("issued");
  });

  it("refuses a replacement from a suspended seller (SELLER_SUSPENDED) and leaves the original issued", async () => {
    const s = await h.seller();
    const original = await issue(s);
    expect((await h.call("PATCH", `/v1/sellers/${s.taxCode}`, { status: "suspended" })).status).toBe(200);
    await expectRefused(s.invoice({ related: relatedTo(original, 1) }), s.apiKey, "SELLER_SUSPENDED", 422);
    expect((await detail(original.code)).status).toBe("issued");
  });

  it("stops a certificate from that moment: invoices it signed stay issued and can be replaced under a new certificate", async () => {
    const s = await h.seller();
    const original = await issue(s);
    expect((await h.call("DELETE", `/v1/sellers/${s.taxCode}/certificates/${s.serial}`)).status).toBe(200);
    await expectRefused(s.invoice({ related: relatedTo(original, 1) }), s.apiKey, "CERT_NOT_REGISTERED", 422);
    expect((await detail(original.code)).status).toBe("issued");

    const fresh = await issueSellerCert({ taxCode: s.taxCode });
    expect((await h.call("POST", `/v1/sellers/${s.taxCode}/certificates`, { pem: fresh.certPem })).status).toBe(201);
    const xml = signInvoice(buildInvoice({ sellerTaxCode: s.taxCode, related: relatedTo(original, 1) }), { keyPem: fresh.keyPem, certPem: fresh.certPem });
    expect((await h.submit(xml, s.apiKey)).status).toBe(201);
    expect((await detail(original.code)).status).toBe("replaced");
  });
});

describe("adjustment", () => {
  it("adjusts an invoice with negative amounts: the original becomes adjusted, the amounts keep their sign per rate", async () => {
    const s = await h.seller();
    const original = await issue(s, { lines: [{ name: "Máy in", quantity: 2, unitPrice: 5_000_000, taxRate: "10%" }, { name: "Mực in", quantity: 10, unitPrice: 200_000, taxRate: "8%" }] });
    const adjusting = await issue(s, {
      related: relatedTo(original, 2, "Giảm giá sau bán hàng"),
      lines: [
        { name: "Giảm giá máy in", quantity: 1, unitPrice: -1_000_000, taxRate: "10%" },
        { name: "Giảm giá mực in", quantity: 1, unitPrice: -150_000, taxRate: "8%" },
      ],
    });
    expect(adjusting).toMatchObject({ totalBeforeTax: "-1150000", totalTax: "-112000", totalPayable: "-1262000" });
    expect(await rates(adjusting.code)).toEqual({ "10%": { before: "-1000000", tax: "-100000" }, "8%": { before: "-150000", tax: "-12000" } });
    expect(await rates(original.code)).toEqual({ "10%": { before: "10000000", tax: "1000000" }, "8%": { before: "2000000", tax: "160000" } });

    const o = await detail(original.code);
    expect(o.status).toBe("adjusted");
    expect(o.history.map((e) => [e.event, e.relatedCode ?? null])).toEqual([
      ["issued", null],
      ["adjusted", adjusting.code],
    ]);
    expect(o.history[1]!.reason).toBe("Giảm giá sau bán hàng");
    const a = await detail(adjusting.code);
    expect(a.history.map((e) => [e.event, e.relatedCode ?? null])).toEqual([
      ["issued", null],
      ["adjusts", original.code],
    ]);
  });

  it("adjusts an adjusted invoice again, then replaces it; after that it accepts nothing more", async () => {
    const s = await h.seller();
    const original = await issue(s);
    await issue(s, { related: relatedTo(original, 2), lines: [{ name: "Tăng", quantity: 1, unitPrice: 100_000, taxRate: "10%" }] });
    await issue(s, { related: relatedTo(original, 2), lines: [{ name: "Giảm", quantity: 1, unitPrice: -50_000, taxRate: "10%" }] });
    expect((await detail(original.code)).status).toBe("adjusted");
    const replacement = await issue(s, { related: relatedTo(original, 1) });
    const o = await detail(original.code);
    expect(o.status).toBe("replaced");
    expect(o.history.map((e) => e.event)).toEqual(["issued", "adjusted", "adjusted", "replaced"]);
    expect(o.history[3]!.relatedCode).toBe(replacement.code);
    await expectRefused(s.invoice({ related: relatedTo(original, 2) }), s.apiKey, "RELATED_INVOICE_STATE", 409);
  });

  it("refuses negative amounts on an invoice that adjusts nothing (TOTALS_MISMATCH)", async () => {
    const s = await h.seller();
    await expectRefused(s.invoice({ lines: [{ name: "Giảm", quantity: 1, unitPrice: -50_000, taxRate: "10%" }] }), s.apiKey, "TOTALS_MISMATCH", 422);
  });

  it("refuses adjusting a cancelled invoice (RELATED_INVOICE_STATE)", async () => {
    const s = await h.seller();
    const original = await issue(s);
    expect((await cancel(original.code, "Hủy do nhập sai", s.apiKey)).status).toBe(200);
    await expectRefused(s.invoice({ related: relatedTo(original, 2) }), s.apiKey, "RELATED_INVOICE_STATE", 409);
  });
});

describe("cancellation", () => {
  it("cancels an issued invoice for its seller, with who, when and why in the history", async () => {
    const s = await h.seller();
    const inv = await issue(s);
    const before = Date.now();
    const res = await cancel(inv.code, "Hàng bị trả lại toàn bộ", s.apiKey);
    const body = (await res.json()) as Detail;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe("cancelled");
    const last = body.history.at(-1)!;
    expect(last).toMatchObject({ event: "cancelled", reason: "Hàng bị trả lại toàn bộ" });
    expect(last.by).toBe(body.history[0]!.by); // the same API key that issued it
    expect(Date.parse(last.at)).toBeGreaterThanOrEqual(before - 1000);
    expect((await detail(inv.code)).status).toBe("cancelled");
  });

  it("lets an officer cancel an adjusted invoice, naming the officer", async () => {
    const s = await h.seller();
    const original = await issue(s);
    await issue(s, { related: relatedTo(original, 2), lines: [{ name: "Tăng", quantity: 1, unitPrice: 10_000, taxRate: "10%" }] });
    const res = await cancel(original.code, "Quyết định của cơ quan thuế", officer);
    const body = (await res.json()) as Detail;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.history.map((e) => e.event)).toEqual(["issued", "adjusted", "cancelled"]);
    expect(body.history[2]!.by).not.toBe(body.history[0]!.by);
  });

  it("refuses cancelling a cancelled or replaced invoice (RELATED_INVOICE_STATE) and changes nothing", async () => {
    const s = await h.seller();
    const a = await issue(s);
    expect((await cancel(a.code, "Lần một", s.apiKey)).status).toBe(200);
    const b = await issue(s);
    await issue(s, { related: relatedTo(b, 1) });
    for (const code of [a.code, b.code]) {
      const before = await h.store.countRows();
      const res = await cancel(code, "Lần hai", s.apiKey);
      expect(res.status).toBe(409);
      expect(((await res.json()) as ErrorBody).error.code).toBe("RELATED_INVOICE_STATE");
      expect(await h.store.countRows()).toEqual(before);
    }
    expect((await detail(b.code)).status).toBe("replaced");
  });

  it("refuses another seller's key and an admin (FORBIDDEN), an unknown code (NOT_FOUND), an empty reason (SCHEMA_INVALID)", async () => {
    const s = await h.seller();
    const other = await h.seller();
    const inv = await issue(s);
    const check = async (res: Response, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect(((await res.json()) as ErrorBody).error.code).toBe(code);
    };
    await check(await cancel(inv.code, "Không phải của tôi", other.apiKey), 403, "FORBIDDEN");
    await check(await cancel(inv.code, "Quản trị", undefined as unknown as string), 403, "FORBIDDEN");
    await check(await cancel("0".repeat(34), "Không có", officer), 404, "NOT_FOUND");
    await check(await cancel(inv.code, "   ", s.apiKey), 422, "SCHEMA_INVALID");
    await check(await cancel(inv.code, "x".repeat(256), s.apiKey), 422, "SCHEMA_INVALID");
    expect((await h.app.request(`/v1/invoices/${inv.code}/cancellation`, { method: "POST", body: "{}" })).status).toBe(401);
    expect((await detail(inv.code)).status).toBe("issued");
  });

  it("refuses a suspended seller's own cancellation (SELLER_SUSPENDED) while an officer may cancel", async () => {
    const s = await h.seller();
    const inv = await issue(s);
    expect((await h.call("PATCH", `/v1/sellers/${s.taxCode}`, { status: "ceased" })).status).toBe(200);
    const res = await cancel(inv.code, "Ngừng kinh doanh", s.apiKey);
    expect(res.status).toBe(422);
    expect(((await res.json()) as ErrorBody).error.code).toBe("SELLER_SUSPENDED");
    expect((await cancel(inv.code, "Ngừng kinh doanh", officer)).status).toBe(200);
  });

  it("cancels concurrently exactly once", async () => {
    const s = await h.seller();
    const inv = await issue(s);
    const results = await Promise.all([1, 2, 3].map(() => cancel(inv.code, "Trùng lặp", s.apiKey)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect((await detail(inv.code)).history.filter((e) => e.event === "cancelled")).toHaveLength(1);
  });
});

describe("the history", () => {
  it("shows every event of a chain issued → adjusted → replaced, and the replacement cancelled", async () => {
    const s = await h.seller();
    const a = await issue(s);
    const adj = await issue(s, { related: relatedTo(a, 2), lines: [{ name: "Tăng", quantity: 1, unitPrice: 10_000, taxRate: "10%" }] });
    const b = await issue(s, { related: relatedTo(a, 1) });
    expect((await cancel(b.code, "Hủy hóa đơn thay thế", s.apiKey)).status).toBe(200);
    const ha = await detail(a.code);
    const hb = await detail(b.code);
    expect(ha.history.map((e) => [e.event, e.relatedCode])).toEqual([
      ["issued", undefined],
      ["adjusted", adj.code],
      ["replaced", b.code],
    ]);
    expect(hb.history.map((e) => [e.event, e.relatedCode])).toEqual([
      ["issued", undefined],
      ["replaces", a.code],
      ["cancelled", undefined],
    ]);
    expect(ha.status).toBe("replaced");
    expect(hb.status).toBe("cancelled");
    for (const e of [...ha.history, ...hb.history]) {
      expect(Number.isNaN(Date.parse(e.at))).toBe(false);
      expect(e.by).toMatch(/\S/);
    }
  });
});
