/**
 * POST /v1/invoices?dryRun=true: the whole gate, duplicates and the related invoice included;
 * 200 {dryRun, wouldIssue} or the very refusal a submission gets; nothing issued or stored (no
 * table gains a row) and no code drawn (the next real invoice's transaction number follows the
 * previous one's).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCode } from "../../src/domain/code.js";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";

const SECRET = Buffer.alloc(32, 7); // the harness's code secret
let h: Harness;
let s: TestSeller;
beforeAll(async () => {
  h = await startHarness();
  s = await h.seller();
});
afterAll(async () => h?.close());

const dry = (xml: string, key = s.apiKey, lang = "en") =>
  h.app.request("/v1/invoices?dryRun=true", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/xml", "accept-language": lang }, body: xml });
const txn = (code: string) => openCode(SECRET, code)!.transaction;

describe("dry run", () => {
  it("answers wouldIssue for a good invoice, stores nothing and draws no code", async () => {
    const first = (await (await h.submit(s.invoice(), s.apiKey)).json()) as { code: string };
    const before = await h.store.countRows();
    for (let i = 0; i < 3; i++) {
      const res = await dry(s.invoice());
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ dryRun: true, wouldIssue: true });
    }
    expect(await h.store.countRows()).toEqual(before);
    const next = (await (await h.submit(s.invoice(), s.apiKey)).json()) as { code: string };
    expect(txn(next.code)).toBe(txn(first.code) + 1n);
  });

  it("gives the same refusal as a submission: a bad signature, a duplicate, an unknown related invoice", async () => {
    const tampered = s.invoice().replace(/<SHDon>(\d+)<\/SHDon>/, (_, n: string) => `<SHDon>${Number(n) + 900}</SHDon>`);
    const issuedXml = s.invoice();
    const issued = (await (await h.submit(issuedXml, s.apiKey)).json()) as { code: string; number: number };
    const duplicate = s.invoice({ number: issued.number, lines: [{ name: "Khác", quantity: 2, unitPrice: 1000, taxRate: "8%" }] });
    const orphan = s.invoice({ related: { kind: 1, form: "1", symbol: "C26TAA", number: 99_999_999, issueDate: "2026-01-02" } });
    const codes: string[] = [];
    for (const xml of [tampered, duplicate, orphan]) {
      const before = await h.store.countRows();
      const d = await dry(xml);
      const dBody = (await d.json()) as { error: { code: string; message: string; details: unknown[] } };
      expect(await h.store.countRows()).toEqual(before);
      const real = await h.submit(xml, s.apiKey, { "accept-language": "en" });
      const rBody = (await real.json()) as { error: { code: string; message: string; details: unknown[] } };
      expect(d.status).toBe(real.status);
      expect(d.status).toBeGreaterThanOrEqual(400);
      expect({ code: dBody.error.code, message: dBody.error.message, details: dBody.error.details }).toEqual({ code: rBody.error.code, message: rBody.error.message, details: rBody.error.details });
      codes.push(dBody.error.code);
    }
    expect(codes).toEqual(["SIGNATURE_INVALID", "DUPLICATE_INVOICE", "RELATED_INVOICE_NOT_FOUND"]);
  });

  it("says a resubmission would be a replay of the invoice issued before", async () => {
    const xml = s.invoice();
    const issued = (await (await h.submit(xml, s.apiKey)).json()) as { code: string };
    const res = await dry(xml);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ dryRun: true, wouldIssue: false, replayOf: { code: issued.code, status: "issued" } });
  });

  it("is for sellers, and dryRun must be true or false", async () => {
    expect((await h.app.request("/v1/invoices?dryRun=true", { method: "POST", headers: { "content-type": "application/xml" }, body: s.invoice() })).status).toBe(401);
    const bad = await h.app.request("/v1/invoices?dryRun=yes", { method: "POST", headers: { authorization: `Bearer ${s.apiKey}`, "content-type": "application/xml" }, body: s.invoice() });
    expect(bad.status).toBe(422);
  });
});
