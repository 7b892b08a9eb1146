/**
 * Officers' search, reports and audit log through the routes (api.md GET /v1/invoices, GET
 * /v1/reports/totals; GET /v1/audit): who may call them, keyset paging under concurrent
 * inserts, report figures against sums computed by hand after every kind of transition, CSV.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSecret } from "../../src/auth.js";
import type { NewInvoice } from "../../src/storage/store.js";
import { ADMIN_TOKEN, type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { newInvoice, type ReadySeller, rate } from "../helpers/ledger.js";

let h: Harness;
let officer: string;
let officerId: string;
/** The service's clock when set; else the real one. */
let clock: Date | null = null;

beforeAll(async () => {
  h = await startHarness({ clock: () => clock ?? new Date() });
  const o = (await (await h.call("POST", "/v1/officers", { name: "Lê Văn Báo Cáo", taxOffice: "Cục Thuế TP Hà Nội" })).json()) as { id: string; token: string };
  officer = o.token;
  officerId = o.id;
});
afterAll(async () => h?.close());

interface Page {
  items: { code: string; issueDate: string; sellerTaxCode: string; buyerTaxCode: string | null; status: string; symbol: string; form: string }[];
  nextCursor: string | null;
}
interface Report {
  rows: { key: string; invoices: number; revenue: string; tax: string }[];
  total: { invoices: number; revenue: string; tax: string };
}
interface ErrorBody {
  error: { code: string; message: string };
}

async function json<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect(res.status, text.slice(0, 500)).toBe(status);
  return JSON.parse(text) as T;
}

const get = (path: string, token = officer, headers: Record<string, string> = {}) => h.call("GET", path, undefined, token, headers);
const qs = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]) => [k, String(v)])).toString();

/** The store-level identity of a harness seller, to put many invoices in fast (no signing). */
async function ready(s: TestSeller): Promise<ReadySeller> {
  const [cert] = await h.store.listCertificates(s.taxCode);
  const key = await h.store.findPrincipal(hashSecret(s.apiKey));
  return { taxCode: s.taxCode, fingerprint: cert!.fingerprint, keyId: key!.id, taxOffice: "Cục Thuế TP Hà Nội", province: "Hà Nội" };
}

async function put(invs: NewInvoice[]): Promise<void> {
  const out = await h.store.issueInvoices(invs);
  expect(out.every((o) => o.kind === "stored")).toBe(true);
}

/** Every page of a search, with `between` run after each page. */
async function allPages(params: Record<string, string | number | undefined>, token = officer, between?: (page: number) => Promise<void>): Promise<Page["items"]> {
  const items: Page["items"] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const p = await json<Page>(await get(`/v1/invoices?${qs({ ...params, cursor })}`, token));
    items.push(...p.items);
    if (!p.nextCursor) return items;
    cursor = p.nextCursor;
    await between?.(page);
  }
  throw new Error("no last page");
}

describe("GET /v1/invoices", () => {
  it("pages through a seller's invoices newest first, each exactly once, while invoices are issued between pages", async () => {
    const s = await ready(await h.seller());
    const dates = Array.from({ length: 10 }, (_, i) => `2026-10-${String(10 + i).padStart(2, "0")}`);
    const originals = Array.from({ length: 230 }, (_, i) => newInvoice(s, dates[i % dates.length]!, [rate("10%", "1000", "100")]));
    await put(originals);
    const added: string[] = [];
    const items = await allPages({ seller: s.taxCode, limit: 37 }, officer, async (page) => {
      // New invoices on dates behind and ahead of the cursor, and on the cursor's own date.
      const more = [newInvoice(s, "2026-10-01", []), newInvoice(s, "2026-10-30", []), newInvoice(s, dates[9 - (page % 10)]!, [])];
      await put(more);
      added.push(...more.map((m) => m.code));
    });
    const codes = items.map((i) => i.code);
    expect(new Set(codes).size).toBe(codes.length);
    const seen = new Set(codes);
    expect(originals.filter((o) => !seen.has(o.code))).toEqual([]);
    expect(codes.filter((c) => !added.includes(c) && !originals.some((o) => o.code === c))).toEqual([]);
    // The order is (issue date, code) descending throughout.
    for (let i = 1; i < items.length; i++) {
      const [a, b] = [items[i - 1]!, items[i]!];
      expect(a.issueDate > b.issueDate || (a.issueDate === b.issueDate && a.code > b.code), `${a.issueDate} ${a.code} before ${b.issueDate} ${b.code}`).toBe(true);
    }
  });

  it("filters by buyer, period, status, form and symbol, combined", async () => {
    const s = await ready(await h.seller());
    const invs = [
      newInvoice(s, "2026-09-01", [], { buyerTaxCode: "0310000024" }),
      newInvoice(s, "2026-09-02", [], { buyerTaxCode: "0310000024", form: "2" }),
      newInvoice(s, "2026-09-03", [], { buyerTaxCode: "0310000024", symbol: "C26TBB" }),
      newInvoice(s, "2026-09-04", [], { buyerTaxCode: null }),
      newInvoice(s, "2026-08-31", [], { buyerTaxCode: "0310000024" }),
    ];
    await put(invs);
    await h.store.cancelInvoice({ code: invs[2]!.code, at: new Date(), by: "test", reason: "Hủy" });
    const codes = async (p: Record<string, string>) => (await allPages({ seller: s.taxCode, ...p })).map((i) => i.code);
    const c = invs.map((i) => i.code);
    expect(await codes({ buyer: "0310000024", from: "2026-09-01", to: "2026-09-30" })).toEqual([c[2], c[1], c[0]]);
    expect(await codes({ status: "cancelled" })).toEqual([c[2]]);
    expect(await codes({ form: "2" })).toEqual([c[1]]);
    expect(await codes({ symbol: "C26TBB", status: "issued" })).toEqual([]);
    expect(await codes({ to: "2026-08-31" })).toEqual([c[4]]);
    // A buyer's invoices across sellers.
    const byBuyer = await allPages({ buyer: "0310000024", from: "2026-08-31", to: "2026-09-04" });
    expect(byBuyer.map((i) => i.code)).toEqual(expect.arrayContaining([c[0], c[1], c[2], c[4]]));
    expect(byBuyer.every((i) => i.buyerTaxCode === "0310000024")).toBe(true);
  });

  it("shows a seller's key only its own invoices, with or without seller=, and refuses another seller (403)", async () => {
    const a = await h.seller();
    const b = await h.seller();
    await put([newInvoice(await ready(a), "2026-09-15", []), newInvoice(await ready(b), "2026-09-15", [])]);
    const own = await allPages({ from: "2026-09-15", to: "2026-09-15" }, a.apiKey);
    expect(own.length).toBe(1);
    expect(own[0]!.sellerTaxCode).toBe(a.taxCode);
    expect(await allPages({ seller: a.taxCode }, a.apiKey)).toHaveLength(1);
    expect((await json<ErrorBody>(await get(`/v1/invoices?seller=${b.taxCode}`, a.apiKey), 403)).error.code).toBe("FORBIDDEN");
  });

  it("refuses the public (401) and admins (403), and malformed parameters (422)", async () => {
    expect((await json<ErrorBody>(await h.app.request("/v1/invoices"), 401)).error.code).toBe("UNAUTHENTICATED");
    expect((await json<ErrorBody>(await get("/v1/invoices", "hdo_unknown-token"), 401)).error.code).toBe("UNAUTHENTICATED");
    expect((await json<ErrorBody>(await get("/v1/invoices", ADMIN_TOKEN), 403)).error.code).toBe("FORBIDDEN");
    for (const bad of ["limit=0", "limit=1001", "from=2026-02-30", "to=26-01-01", "status=lost", "symbol=X26TAA", "cursor=bm90LWEtY3Vyc29y", "from=2026-05-02&to=2026-05-01", "seller=123"]) {
      expect((await json<ErrorBody>(await get(`/v1/invoices?${bad}`), 422)).error.code, bad).toBe("SCHEMA_INVALID");
    }
  });
});

/** Runs `f` with the service's clock at noon of `day` in GMT+7: invoices of a past day are received on it (NLap and SigningTime are bounded against the receipt). */
async function asOf<T>(day: string, f: () => Promise<T>): Promise<T> {
  clock = new Date(Date.parse(`${day}T12:00:00+07:00`));
  try {
    return await f();
  } finally {
    clock = null;
  }
}

describe("GET /v1/reports/totals", () => {
  /** Submits through the gate and expects 201. */
  async function submit(s: TestSeller, opts: Parameters<TestSeller["invoice"]>[0] & { issueDate: string }): Promise<{ code: string; number: number; symbol: string; issueDate: string }> {
    return json(await asOf(opts.issueDate, () => h.submit(s.invoice(opts, { signingTime: `${opts.issueDate}T11:00:00` }), s.apiKey)), 201);
  }
  const totals = async (params: Record<string, string | undefined>) => json<Report>(await get(`/v1/reports/totals?${qs(params)}`));
  const related = (o: { number: number; symbol: string; issueDate: string }, kind: 1 | 2) => ({ kind, form: "1", symbol: o.symbol, number: o.number, issueDate: o.issueDate });

  it("equals sums computed by hand after issue, adjustment, replacement and cancellation; foreign currency converted with TGia", async () => {
    const s = await h.seller({ notBefore: new Date("2026-01-01T00:00:00Z") });
    const period = { from: "2026-06-01", to: "2026-06-30" };
    const month = async () => totals({ ...period, groupBy: "month", seller: s.taxCode });

    // 2 × 500,000 at 10% and 1,000,000 at 8%: TgTCThue 2,000,000, TgTThue 180,000.
    const first = await submit(s, {
      issueDate: "2026-06-10",
      lines: [
        { name: "Bàn", quantity: 2, unitPrice: 500000, taxRate: "10%" },
        { name: "Ghế", quantity: 1, unitPrice: 1000000, taxRate: "8%" },
      ],
    });
    // 100 USD at 10% with TGia 25,000: 2,500,000 and 250,000 đồng.
    const dollars = await submit(s, { issueDate: "2026-06-12", currency: "USD", exchangeRate: "25000", lines: [{ name: "Dịch vụ", quantity: 1, unitPrice: "100", taxRate: "10%" }] });
    expect(await month()).toEqual({ rows: [{ key: "2026-06", invoices: 2, revenue: "4500000", tax: "430000" }], total: { invoices: 2, revenue: "4500000", tax: "430000" } });
    expect(await totals({ ...period, groupBy: "taxRate", seller: s.taxCode })).toEqual({
      rows: [
        { key: "10%", invoices: 2, revenue: "3500000", tax: "350000" },
        { key: "8%", invoices: 1, revenue: "1000000", tax: "80000" },
      ],
      total: { invoices: 2, revenue: "4500000", tax: "430000" },
    });
    expect((await totals({ ...period, groupBy: "day", seller: s.taxCode })).rows).toEqual([
      { key: "2026-06-10", invoices: 1, revenue: "2000000", tax: "180000" },
      { key: "2026-06-12", invoices: 1, revenue: "2500000", tax: "250000" },
    ]);

    // A decrease adjustment of the first: −100,000 at 10% (−10,000 tax), counted as an invoice.
    await submit(s, { issueDate: "2026-06-15", related: related(first, 2), lines: [{ name: "Giảm giá Bàn", quantity: 1, unitPrice: "-100000", taxRate: "10%" }] });
    expect((await month()).total).toEqual({ invoices: 3, revenue: "4400000", tax: "420000" });

    // Replacing the dollar invoice by one of 120 USD: 3,000,000 and 300,000 instead of 2,500,000 and 250,000.
    await submit(s, { issueDate: "2026-06-20", currency: "USD", exchangeRate: "25000", related: related(dollars, 1), lines: [{ name: "Dịch vụ", quantity: 1, unitPrice: "120", taxRate: "10%" }] });
    expect((await month()).total).toEqual({ invoices: 3, revenue: "4900000", tax: "470000" });
    expect((await totals({ ...period, groupBy: "taxRate", seller: s.taxCode })).rows).toEqual([
      { key: "10%", invoices: 3, revenue: "3900000", tax: "390000" },
      { key: "8%", invoices: 1, revenue: "1000000", tax: "80000" },
    ]);

    // Cancelling the first (now adjusted): it leaves; its adjustment stays.
    expect((await h.call("POST", `/v1/invoices/${first.code}/cancellation`, { reason: "Hủy theo yêu cầu" }, officer)).status).toBe(200);
    expect(await month()).toEqual({ rows: [{ key: "2026-06", invoices: 2, revenue: "2900000", tax: "290000" }], total: { invoices: 2, revenue: "2900000", tax: "290000" } });
    expect((await totals({ ...period, groupBy: "seller" })).rows).toEqual([{ key: s.taxCode, invoices: 2, revenue: "2900000", tax: "290000" }]);
    expect((await totals({ ...period, groupBy: "taxOffice" })).rows).toEqual([{ key: "Cục Thuế TP Hà Nội", invoices: 2, revenue: "2900000", tax: "290000" }]);
    expect((await totals({ ...period, groupBy: "province" })).rows).toEqual([{ key: "Hà Nội", invoices: 2, revenue: "2900000", tax: "290000" }]);
    expect(await totals(period)).toEqual({ rows: [], total: { invoices: 2, revenue: "2900000", tax: "290000" } });
    expect(await h.store.checkRollups()).toEqual([]);
  });

  it("answers CSV for Accept: text/csv: header, rows, a total line, RFC 4180 quoting, formulas kept as text", async () => {
    const s = await h.seller({ notBefore: new Date("2026-01-01T00:00:00Z") });
    await h.call("PATCH", `/v1/sellers/${s.taxCode}`, { taxOffice: 'Chi cục Thuế "Quận 1", TP HCM', province: "=HYPERLINK(\"http://x\")" });
    await submit(s, { issueDate: "2026-07-04", lines: [{ name: "Sách", quantity: 3, unitPrice: 100000, taxRate: "5%" }] });
    const csv = async (groupBy: string) => {
      const res = await get(`/v1/reports/totals?from=2026-07-01&to=2026-07-31&groupBy=${groupBy}`, officer, { accept: "text/csv" });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
      return res.text();
    };
    expect(await csv("month")).toBe("key,invoices,revenue,tax\r\n2026-07,1,300000,15000\r\ntotal,1,300000,15000\r\n");
    expect(await csv("taxOffice")).toBe('key,invoices,revenue,tax\r\n"Chi cục Thuế ""Quận 1"", TP HCM",1,300000,15000\r\ntotal,1,300000,15000\r\n');
    expect(await csv("province")).toBe(`key,invoices,revenue,tax\r\n"'=HYPERLINK(""http://x"")",1,300000,15000\r\ntotal,1,300000,15000\r\n`);
  });

  it("gives revenue and tax by source (with a code, without a code, cash register) and in all, for one source, by day, seller and rate, and as CSV", async () => {
    const s = await h.seller({ notBefore: new Date("2026-01-01T00:00:00Z") });
    const r = await ready(s);
    const period = { from: "2026-08-01", to: "2026-08-31", seller: s.taxCode };
    await put([
      newInvoice(r, "2026-08-03", [rate("10%", "1000000", "100000")]),
      newInvoice(r, "2026-08-03", [rate("8%", "500000", "40000")], { source: "uncoded", messageId: "U1" }),
      newInvoice(r, "2026-08-04", [rate("10%", "200000", "20000"), rate("KCT", "50000", "0")], { source: "cashRegister", messageId: "C1", registerCode: `M1-26-ABCDE-${String(Date.now()).slice(-11)}` }),
    ]);
    expect(await totals({ ...period, groupBy: "source" })).toEqual({
      rows: [
        { key: "cashRegister", invoices: 1, revenue: "250000", tax: "20000" },
        { key: "coded", invoices: 1, revenue: "1000000", tax: "100000" },
        { key: "uncoded", invoices: 1, revenue: "500000", tax: "40000" },
      ],
      total: { invoices: 3, revenue: "1750000", tax: "160000" },
    });
    expect(await totals(period)).toEqual({ rows: [], total: { invoices: 3, revenue: "1750000", tax: "160000" } });
    expect(await totals({ ...period, groupBy: "day", source: "uncoded" })).toEqual({
      rows: [{ key: "2026-08-03", invoices: 1, revenue: "500000", tax: "40000" }],
      total: { invoices: 1, revenue: "500000", tax: "40000" },
    });
    expect(await totals({ ...period, groupBy: "taxRate", source: "cashRegister" })).toEqual({
      rows: [
        { key: "10%", invoices: 1, revenue: "200000", tax: "20000" },
        { key: "KCT", invoices: 1, revenue: "50000", tax: "0" },
      ],
      total: { invoices: 1, revenue: "250000", tax: "20000" },
    });
    expect((await totals({ ...period, seller: undefined, groupBy: "seller", source: "coded" })).rows.find((x) => x.key === s.taxCode)).toEqual({ key: s.taxCode, invoices: 1, revenue: "1000000", tax: "100000" });
    expect(await totals({ ...period, groupBy: "month", source: "summary" })).toEqual({ rows: [], total: { invoices: 0, revenue: "0", tax: "0" } });
    const res = await get(`/v1/reports/totals?${qs({ ...period, groupBy: "source" })}`, officer, { accept: "text/csv" });
    expect(await res.text()).toBe("key,invoices,revenue,tax\r\ncashRegister,1,250000,20000\r\ncoded,1,1000000,100000\r\nuncoded,1,500000,40000\r\ntotal,3,1750000,160000\r\n");
    expect(await h.store.checkRollups()).toEqual([]);
  });

  it("is for officers: sellers and admins are refused (403), the public (401); a bad period is 422", async () => {
    const s = await h.seller();
    const q = "/v1/reports/totals?from=2025-01-01&to=2025-12-31&groupBy=month";
    expect((await json<ErrorBody>(await h.app.request(q), 401)).error.code).toBe("UNAUTHENTICATED");
    expect((await json<ErrorBody>(await get(q, s.apiKey), 403)).error.code).toBe("FORBIDDEN");
    expect((await json<ErrorBody>(await get(`${q}&seller=${s.taxCode}`, s.apiKey), 403)).error.code).toBe("FORBIDDEN");
    expect((await json<ErrorBody>(await get(q, ADMIN_TOKEN), 403)).error.code).toBe("FORBIDDEN");
    const range = "from=2025-01-01&to=2025-01-31";
    for (const bad of ["from=2025-01-01", "from=2025-12-31&to=2025-01-01", "from=2025-01-01&to=2025-13-01", `${range}&groupBy=week`, `${range}&source=all`, `${range}&source=Coded`]) {
      expect((await json<ErrorBody>(await get(`/v1/reports/totals?${bad}`), 422)).error.code, bad).toBe("SCHEMA_INVALID");
    }
  });
});

describe("the audit log", () => {
  it("records officers' reads, searches and reports (who, what, when, from where), not a seller reading its own; admins page through it", async () => {
    const s = await h.seller();
    const issued = await json<{ code: string }>(await h.submit(s.invoice({}), s.apiKey), 201);
    const since = new Date(Date.now() - 1000).toISOString();
    const other = (await (await h.call("POST", "/v1/officers", { name: "Người Đọc" })).json()) as { id: string; token: string };
    const requestId = "audit-test-1";
    expect((await get(`/v1/invoices/${issued.code}`, other.token, { "x-request-id": requestId })).status).toBe(200);
    expect((await get(`/v1/invoices/${issued.code}/xml`, other.token)).status).toBe(200);
    expect((await get(`/v1/invoices?seller=${s.taxCode}&limit=5`, other.token)).status).toBe(200);
    expect((await get(`/v1/reports/totals?from=2025-01-01&to=2025-01-31&groupBy=day`, other.token)).status).toBe(200);
    expect((await get(`/v1/invoices/${issued.code}`, s.apiKey)).status).toBe(200); // the seller: not recorded
    expect((await get(`/v1/invoices/00000000000000000000000000000000AA`, other.token)).status).toBe(404); // refused: not recorded

    type AuditItem = { id: string; at: string; role: string; actor: string; actorName: string | null; action: string; target: string | null };
    const page = await json<{ items: (AuditItem & { query: Record<string, unknown>; clientAddress: string; requestId: string })[]; nextCursor: string | null }>(
      await get(`/v1/audit?actor=${other.id}&from=${encodeURIComponent(since)}`, ADMIN_TOKEN),
    );
    expect(page.items.map((i) => i.action)).toEqual(["report.totals", "invoice.search", "invoice.xml", "invoice.read"]);
    expect(page.items[3]).toMatchObject({ role: "officer", actor: other.id, actorName: "Người Đọc", target: issued.code, requestId, clientAddress: expect.any(String) });
    expect(page.items[1]!.query).toEqual({ seller: s.taxCode, limit: 5 });
    expect(page.items[0]!.query).toEqual({ from: "2025-01-01", to: "2025-01-31", groupBy: "day" });
    expect(Date.parse(page.items[0]!.at)).toBeGreaterThanOrEqual(Date.parse(since));

    // Paged, newest first, each record once.
    const first = await json<{ items: { id: string }[]; nextCursor: string }>(await get(`/v1/audit?actor=${other.id}&limit=3`, ADMIN_TOKEN));
    const second = await json<{ items: { id: string }[]; nextCursor: string | null }>(await get(`/v1/audit?actor=${other.id}&limit=3&cursor=${first.nextCursor}`, ADMIN_TOKEN));
    expect([...first.items, ...second.items].map((i) => i.id)).toEqual(page.items.map((i) => i.id));
    expect(second.nextCursor).toBeNull();
    expect((await json<{ items: unknown[] }>(await get(`/v1/audit?actor=${other.id}&action=invoice.xml`, ADMIN_TOKEN))).items).toHaveLength(1);
    expect((await json<{ items: unknown[] }>(await get(`/v1/audit?actor=${other.id}&to=2020-01-01`, ADMIN_TOKEN))).items).toHaveLength(0);
    // Everyone's searches are recorded, a seller's too.
    await get(`/v1/invoices?limit=1`, s.apiKey);
    const sellerKey = await h.store.findPrincipal(hashSecret(s.apiKey));
    expect((await json<{ items: { role: string; action: string }[] }>(await get(`/v1/audit?actor=${sellerKey!.id}`, ADMIN_TOKEN))).items).toEqual([expect.objectContaining({ role: "seller", action: "invoice.search" })]);
  });

  it("is for admins: officers and sellers are refused (403), the public (401)", async () => {
    const s = await h.seller();
    expect((await json<ErrorBody>(await h.app.request("/v1/audit"), 401)).error.code).toBe("UNAUTHENTICATED");
    expect((await json<ErrorBody>(await get("/v1/audit"), 403)).error.code).toBe("FORBIDDEN");
    expect((await json<ErrorBody>(await get("/v1/audit", s.apiKey), 403)).error.code).toBe("FORBIDDEN");
    expect((await json<ErrorBody>(await get("/v1/audit?cursor=!!", ADMIN_TOKEN), 422)).error.code).toBe("SCHEMA_INVALID");
    expect(officerId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
