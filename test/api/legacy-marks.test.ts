/**
 * Invoices accepted under a legacy allowance are marked (api.md: HOADON_ALLOW_SHA1,
 * HOADON_ALLOW_RSA1024; issue 14, item 6): SHA-1 in the seller's signature, an RSA key under 2048
 * bits. The mark is stored with the invoice (migration 0008), shown in every JSON answer about it
 * (the issue answer, GET /v1/invoices/{code}, the search) and searchable by officers
 * (GET /v1/invoices?legacy=true|sha1|rsa1024|false). An invoice signed as today's policy wants
 * carries no mark, whichever switches are on. Through POST /v1/invoices, the batch and T-VAN 200.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { expectIssued } from "../helpers/refusal.js";
import { tdiep } from "../helpers/tvan.js";

const SHA1 = { algorithm: "rsa-sha1", digest: "http://www.w3.org/2000/09/xmldsig#sha1" } as const;

let h: Harness;
let officer: string;
/** A seller with a 2048-bit RSA key, and one with a 1024-bit RSA key. */
let modern: TestSeller;
let old: TestSeller;

beforeAll(async () => {
  h = await startHarness({ allowSha1: true, allowRsa1024: true });
  officer = ((await (await h.call("POST", "/v1/officers", { name: "Trần Thị Kiểm Tra" })).json()) as { token: string }).token;
  modern = await h.seller();
  old = await h.seller({ nodeKey: { type: "rsa", bits: 1024 } });
});
afterAll(async () => {
  await h?.close();
});

interface Item {
  code: string;
  legacy: string[];
}

/** GET /v1/invoices as the officer with these filters, every page. */
async function search(query: Record<string, string>): Promise<Item[]> {
  const items: Item[] = [];
  let cursor: string | null = null;
  do {
    const qs = new URLSearchParams({ ...query, limit: "2", ...(cursor ? { cursor } : {}) });
    const res = await h.call("GET", `/v1/invoices?${qs}`, undefined, officer);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const page = JSON.parse(text) as { items: Item[]; nextCursor: string | null };
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** The invoice as officers and its seller read it. */
async function read(code: string, s: TestSeller): Promise<{ officer: string[]; seller: string[] }> {
  const [o, k] = await Promise.all([h.call("GET", `/v1/invoices/${code}`, undefined, officer), h.call("GET", `/v1/invoices/${code}`, undefined, s.apiKey)]);
  expect(o.status).toBe(200);
  expect(k.status).toBe(200);
  return { officer: ((await o.json()) as Item).legacy, seller: ((await k.json()) as Item).legacy };
}

const codes = (items: Item[]) => items.map((i) => i.code).sort();

describe("invoices accepted under a legacy allowance", () => {
  it("marks an RSA-1024 invoice rsa1024, an SHA-1 one sha1, both at once both, and a modern one not at all", async () => {
    const cases = [
      { s: old, sign: {}, legacy: ["rsa1024"] },
      { s: modern, sign: SHA1, legacy: ["sha1"] },
      // A sha1 digest under rsa-sha256 needs the SHA-1 switch as well.
      { s: modern, sign: { digest: SHA1.digest }, legacy: ["sha1"] },
      { s: old, sign: SHA1, legacy: ["sha1", "rsa1024"] },
      { s: modern, sign: {}, legacy: [] },
    ];
    for (const c of cases) {
      const issued = await expectIssued(h, c.s.invoice({}, c.sign), c.s.apiKey);
      expect(issued.legacy, JSON.stringify(c.sign)).toEqual(c.legacy);
      expect(await read(issued.code, c.s)).toEqual({ officer: c.legacy, seller: c.legacy });
    }
  });

  it("answers a replay with the mark of the invoice issued first", async () => {
    const xml = old.invoice({}, SHA1);
    const first = await expectIssued(h, xml, old.apiKey);
    const again = await h.submit(xml, old.apiKey);
    expect(again.status).toBe(200);
    expect(((await again.json()) as Item).legacy).toEqual(["sha1", "rsa1024"]);
    expect(first.legacy).toEqual(["sha1", "rsa1024"]);
  });

  it("lets officers find them: legacy=true finds both kinds, legacy=sha1 and legacy=rsa1024 each kind, legacy=false the rest", async () => {
    const s1 = await h.seller();
    const s2 = await h.seller({ nodeKey: { type: "rsa", bits: 1024 } });
    const sha1 = (await expectIssued(h, s1.invoice({}, SHA1), s1.apiKey)).code;
    const plain = (await expectIssued(h, s1.invoice(), s1.apiKey)).code;
    const plain2 = (await expectIssued(h, s1.invoice(), s1.apiKey)).code;
    const rsa = (await expectIssued(h, s2.invoice(), s2.apiKey)).code;
    const both = (await expectIssued(h, s2.invoice({}, SHA1), s2.apiKey)).code;

    const legacyOf = async (seller: string, legacy: string) => codes(await search({ seller, legacy }));
    expect(await legacyOf(s1.taxCode, "true")).toEqual([sha1]);
    expect(await legacyOf(s1.taxCode, "sha1")).toEqual([sha1]);
    expect(await legacyOf(s1.taxCode, "rsa1024")).toEqual([]);
    expect(await legacyOf(s1.taxCode, "false")).toEqual([plain, plain2].sort());
    expect(await legacyOf(s2.taxCode, "true")).toEqual([rsa, both].sort());
    expect(await legacyOf(s2.taxCode, "rsa1024")).toEqual([rsa, both].sort());
    expect(await legacyOf(s2.taxCode, "sha1")).toEqual([both]);
    expect(await legacyOf(s2.taxCode, "false")).toEqual([]);

    // Across every seller: each marked invoice once, no unmarked one, each item with its mark.
    const all = await search({ legacy: "true" });
    expect(all.every((i) => i.legacy.length > 0)).toBe(true);
    expect(codes(all)).toEqual(expect.arrayContaining([sha1, rsa, both]));
    expect(codes(all)).not.toContain(plain);
    expect(new Set(codes(all)).size).toBe(all.length);
    expect(all.find((i) => i.code === both)!.legacy).toEqual(["sha1", "rsa1024"]);
    // The search's items carry the mark without the filter too.
    expect((await search({ seller: s1.taxCode })).map((i) => [i.code, i.legacy]).sort()).toEqual(
      [
        [sha1, ["sha1"]],
        [plain, []],
        [plain2, []],
      ].sort(),
    );
  });

  it("lets a seller filter its own invoices the same way, and refuses an unknown value (SCHEMA_INVALID)", async () => {
    const s = await h.seller();
    const sha1 = (await expectIssued(h, s.invoice({}, SHA1), s.apiKey)).code;
    await expectIssued(h, s.invoice(), s.apiKey);
    const res = await h.call("GET", "/v1/invoices?legacy=sha1", undefined, s.apiKey);
    expect(res.status).toBe(200);
    expect(codes(((await res.json()) as { items: Item[] }).items)).toEqual([sha1]);
    for (const bad of ["yes", "SHA1", "md5", ""]) {
      const r = await h.call("GET", `/v1/invoices?legacy=${bad}`, undefined, officer);
      expect(r.status, bad).toBe(422);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("SCHEMA_INVALID");
    }
  });

  it("shows the mark on the officer's pages and filters their search by it", async () => {
    const t = await h.seller({ nodeKey: { type: "rsa", bits: 1024 } });
    const marked = (await expectIssued(h, t.invoice({}, SHA1), t.apiKey)).code;
    const p = await h.seller();
    const plain = (await expectIssued(h, p.invoice(), p.apiKey)).code;
    const login = await h.app.request("/officer/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token: officer }).toString() });
    const session = /hoadon_officer=([^;]+)/.exec(login.headers.get("set-cookie") ?? "")?.[1];
    expect(session).toBeDefined();
    const page = async (path: string) => {
      const r = await h.app.request(path, { headers: { cookie: `hoadon_officer=${session}` } });
      expect(r.status).toBe(200);
      return r.text();
    };
    const detail = await page(`/officer/invoices/${marked}?lang=en`);
    expect(detail).toContain("<dt>Accepted under a legacy switch</dt><dd>SHA-1 signature, RSA key under 2048 bits</dd>");
    expect(await page(`/officer/invoices/${plain}?lang=en`)).not.toContain("Accepted under a legacy switch</dt>");
    expect(await page(`/officer/invoices/${marked}`)).toContain("<dd>chữ ký SHA-1, khóa RSA dưới 2048 bit</dd>");

    const found = await page(`/officer/invoices?lang=en&legacy=rsa1024&seller=${t.taxCode}`);
    expect(found).toContain(`href="/officer/invoices/${marked}"`);
    expect(found).toContain('<option value="rsa1024" selected="">');
    expect(await page(`/officer/invoices?lang=en&legacy=true&seller=${p.taxCode}`)).not.toContain(`href="/officer/invoices/${plain}"`);
    expect(await page(`/officer/invoices?lang=en&legacy=false&seller=${p.taxCode}`)).toContain(`href="/officer/invoices/${plain}"`);
    const bad = await page("/officer/invoices?lang=en&legacy=md5");
    expect(bad).toContain("The request was not valid. Please try again. Accepted under a legacy switch: md5");
    expect(bad).not.toContain("<table>");
  });

  it("marks the invoices of a batch and of a T-VAN 200 the same way", async () => {
    const res = await h.call("POST", "/v1/invoices/batch", { invoices: [old.invoice(), modern.invoice({}, SHA1), modern.invoice()] }, old.apiKey);
    // The batch is one seller's: the RSA-1024 seller's key submits its own invoice; the others are FORBIDDEN.
    const results = ((await res.json()) as { results: { status: number; code?: string }[] }).results;
    expect(results.map((r) => r.status)).toEqual([201, 403, 403]);
    expect((await read(results[0]!.code!, old)).officer).toEqual(["rsa1024"]);

    const batch = ((await (await h.call("POST", "/v1/invoices/batch", { invoices: [modern.invoice({}, SHA1), modern.invoice()] }, modern.apiKey)).json()) as { results: { status: number; code: string }[] }).results;
    expect(batch.map((r) => r.status)).toEqual([201, 201]);
    expect((await read(batch[0]!.code, modern)).officer).toEqual(["sha1"]);
    expect((await read(batch[1]!.code, modern)).officer).toEqual([]);

    const msg = tdiep("200", old.invoice({}, SHA1), { mst: old.taxCode });
    const reply = await h.app.request("/v1/messages", { method: "POST", headers: { authorization: `Bearer ${old.apiKey}`, "content-type": "application/xml" }, body: msg.xml });
    const xml = await reply.text();
    expect(reply.status).toBe(200);
    const code = /<MCCQT[^>]*>([0-9A-F]{34})<\/MCCQT>/.exec(xml)?.[1];
    expect(code, xml.slice(0, 500)).toBeDefined();
    expect((await read(code!, old)).officer).toEqual(["sha1", "rsa1024"]);
    expect(codes(await search({ seller: old.taxCode, legacy: "sha1" }))).toContain(code);
  });
});
