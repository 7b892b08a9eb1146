/**
 * The ends of the calendar (issue 14, item 5): valid extreme dates were 500s. `to=9999-12-31` on
 * reports by seller, tax office and province and on the dashboard (the day after it was written
 * "+010000-01-01"), `from=0001-01-01` on the audit log (its first instant in GMT+7 lies in year
 * 0000 UTC) and a cursor past the largest id. Each answers 200 with the right figures, or 422.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import type { ErrorBody } from "../helpers/refusal.js";

let h: Harness;
let officer: string;
let seller: TestSeller;
let issued: { code: string; issueDate: string; totalBeforeTax: string; totalTax: string };

beforeAll(async () => {
  h = await startHarness();
  officer = ((await (await h.call("POST", "/v1/officers", { name: "Trần Quốc Toản", taxOffice: "Cục Thuế TP Hà Nội" })).json()) as { token: string }).token;
  seller = await h.seller();
  const res = await h.submit(seller.invoice({ lines: [{ name: "Bàn gỗ", quantity: 3, unitPrice: 1_500_000, taxRate: "10%" }] }), seller.apiKey);
  expect(res.status).toBe(201);
  issued = (await res.json()) as typeof issued;
});
afterAll(async () => h?.close());

interface Totals {
  rows: { key: string; invoices: number; revenue: string; tax: string }[];
  total: { invoices: number; revenue: string; tax: string };
}

async function ok<T>(res: Response): Promise<T> {
  const text = await res.text();
  expect(res.status, text.slice(0, 500)).toBe(200);
  return (res.headers.get("content-type") ?? "").includes("json") ? (JSON.parse(text) as T) : (text as T);
}

async function schemaInvalid(res: Response, path: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(422);
  const body = JSON.parse(text) as ErrorBody;
  expect(body.error.code).toBe("SCHEMA_INVALID");
  expect(body.error.details.map((d) => d.path)).toContain(path);
}

describe("reports to the end of the calendar", () => {
  const one = () => ({ invoices: 1, revenue: issued.totalBeforeTax, tax: issued.totalTax });

  for (const [groupBy, key] of [
    ["seller", () => seller.taxCode],
    ["taxOffice", () => "Cục Thuế TP Hà Nội"],
    ["province", () => "Hà Nội"],
    ["month", () => issued.issueDate.slice(0, 7)],
    ["day", () => issued.issueDate],
    ["taxRate", () => "10%"],
  ] as const) {
    it(`totals by ${groupBy} from 0001-01-01 and from this year to 9999-12-31 (200, the invoice counted once)`, async () => {
      for (const from of ["0001-01-01", `${issued.issueDate.slice(0, 4)}-01-01`, issued.issueDate]) {
        for (const to of ["9999-12-31", "9999-12-30"]) {
          const body = await ok<Totals>(await h.call("GET", `/v1/reports/totals?from=${from}&to=${to}&groupBy=${groupBy}`, undefined, officer));
          expect(body.rows, `${from}..${to}`).toEqual([{ key: key(), ...one() }]);
          expect(body.total).toEqual(one());
        }
      }
      const mine = await ok<Totals>(await h.call("GET", `/v1/reports/totals?from=0001-01-01&to=9999-12-31&groupBy=${groupBy}&seller=${seller.taxCode}`, undefined, officer));
      expect(mine.total).toEqual(one());
    });
  }

  it("counts nothing in a period after the invoice that ends on 9999-12-31", async () => {
    const next = `${Number(issued.issueDate.slice(0, 4)) + 1}-01-01`;
    const body = await ok<Totals>(await h.call("GET", `/v1/reports/totals?from=${next}&to=9999-12-31&groupBy=seller`, undefined, officer));
    expect(body).toEqual({ rows: [], total: { invoices: 0, revenue: "0", tax: "0" } });
  });

  it("refuses year 0000, which PostgreSQL has not (422 naming the parameter)", async () => {
    await schemaInvalid(await h.call("GET", "/v1/reports/totals?from=0000-01-01&to=9999-12-31&groupBy=seller", undefined, officer), "from");
    await schemaInvalid(await h.call("GET", "/v1/invoices?from=0000-12-31", undefined, officer), "from");
  });

  it("searches invoices over the whole calendar", async () => {
    const page = await ok<{ items: { code: string }[] }>(await h.call("GET", `/v1/invoices?from=0001-01-01&to=9999-12-31&seller=${seller.taxCode}`, undefined, officer));
    expect(page.items.map((i) => i.code)).toEqual([issued.code]);
  });

  it("draws the dashboard for a period ending 9999-12-31 (200, with the invoice's month)", async () => {
    const login = await h.app.request("/officer/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token: officer }).toString() });
    expect(login.status).toBe(303);
    const cookie = /hoadon_officer=[^;]+/.exec(login.headers.get("set-cookie") ?? "")![0];
    const year = issued.issueDate.slice(0, 4);
    const html = await ok<string>(await h.app.request(`/officer?lang=en&from=${year}-01-01&to=9999-12-31`, { headers: { cookie } }));
    expect(html).toContain(`<th scope="row">${issued.issueDate.slice(0, 7)}</th>`);
    expect(html).toContain(`(${seller.taxCode})`);
    // The default start: the first of January of the year of `to`.
    const late = await ok<string>(await h.app.request("/officer?lang=en&to=9999-12-31", { headers: { cookie } }));
    expect(late).toContain('<input id="from" name="from" type="date" value="9999-01-01"');
    expect(late).toContain("<dt>Invoices</dt><dd>0</dd>");
  });
});

describe("the audit log at the ends of time", () => {
  interface Page {
    items: { id: string; action: string }[];
    nextCursor: string | null;
  }

  it("lists from 0001-01-01 and 0000-01-01, and to 9999-12-31 in any offset (200, the records there)", async () => {
    const all = await ok<Page>(await h.call("GET", "/v1/audit?limit=1000"));
    expect(all.items.length).toBeGreaterThan(0);
    const edges = ["from=0001-01-01", "from=0000-01-01", "to=9999-12-31", "from=0001-01-01&to=9999-12-31"];
    for (const q of [...edges, `to=${encodeURIComponent("9999-12-31T23:59:59-12:00")}`, `from=${encodeURIComponent("0001-01-01T00:00:00+14:00")}`]) {
      const page = await ok<Page>(await h.call("GET", `/v1/audit?limit=1000&${q}`));
      expect(page.items.map((i) => i.id), q).toEqual(all.items.map((i) => i.id));
    }
  });

  it("takes the largest id as a cursor and refuses one past it (422, not a database error)", async () => {
    const cursor = (n: string) => Buffer.from(n, "utf8").toString("base64url");
    const top = await ok<Page>(await h.call("GET", `/v1/audit?cursor=${cursor("9223372036854775807")}&limit=1000`));
    expect(top.items.length).toBeGreaterThan(0);
    for (const n of ["9223372036854775808", "9999999999999999999"]) await schemaInvalid(await h.call("GET", `/v1/audit?cursor=${cursor(n)}`), "cursor");
  });
});
