/**
 * Public verification (api.md /v1/verify…) and the DLQRCode of stamped invoices: what a buyer
 * holding an invoice learns without an account, and that a tampered or forged invoice is called
 * out with the failing check named.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CodeIdentity, makeClearCode, makeCode, openCode } from "../../src/domain/code.js";
import { parseQrPayload } from "../../src/domain/qr.js";
import { authorityKeyFromPem, generateDevAuthority } from "../../src/secrets.js";
import { readInvoiceDocument } from "../../src/xml/invoice-document.js";
import { parseXml } from "../../src/xml/parse.js";
import { stamp } from "../../src/xml/stamp.js";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { nextNumber, todayGmt7 } from "../helpers/invoice.js";
import { expectIssued } from "../helpers/refusal.js";

let h: Harness;
let s: TestSeller;

beforeAll(async () => {
  h = await startHarness();
  s = await h.seller();
});
afterAll(async () => h?.close());

interface Verification {
  valid: boolean;
  code: string | null;
  checks: { sellerSignature: boolean; authoritySignature: boolean; codeAuthentic: boolean; matchesRecord: boolean; status: string | null };
  failures: { check: string; code: string; message: string }[];
  invoice: Record<string, unknown> | null;
}

const get = (path: string) => h.app.request(path);
const postXml = (xml: string | Uint8Array, type = "application/xml") => h.app.request("/v1/verify", { method: "POST", headers: { "content-type": type }, body: xml as BodyInit });
async function verify(xml: string): Promise<Verification> {
  const r = await postXml(xml);
  expect(r.status, await r.clone().text()).toBe(200);
  return (await r.json()) as Verification;
}

/** Issues an invoice of `s` (default lines: 3,200,000 + 10 % VAT = 3,520,000 VND). */
async function issue(number = nextNumber()) {
  const issued = await expectIssued(h, s.invoice({ number }), s.apiKey);
  return { ...issued, number };
}

/** The stamped XML with `from` replaced by `to` once (the replacement must happen). */
function tamper(xml: string, from: string | RegExp, to: string): string {
  const out = xml.replace(from, to);
  expect(out).not.toBe(xml);
  return out;
}

describe("DLQRCode in stamped invoices", () => {
  it("adds the authority's DLQRCode, built from the verified data, between DLHDon and MCCQT", async () => {
    const { xml, number } = await issue();
    const qr = /<DLQRCode>([^<]*)<\/DLQRCode>/.exec(xml)?.[1];
    expect(qr).toBeDefined();
    expect(parseQrPayload(qr!)).toEqual({
      ok: true,
      invoice: { sellerTaxCode: s.taxCode, form: "1", symbol: `C${todayGmt7().slice(2, 4)}TAA`, number, issueDate: todayGmt7(), totalPayable: "3520000" },
    });
    expect(xml.indexOf("</DLHDon>")).toBeLessThan(xml.indexOf("<DLQRCode>"));
    expect(xml.indexOf("</DLQRCode>")).toBeLessThan(xml.indexOf("<MCCQT"));
  });

  it("replaces a DLQRCode the seller sent, and leaves it out of the authority's signature (3 References, as §6)", async () => {
    const signed = s.invoice().replace("<DSCKS>", "<DLQRCode>seller's own QR data</DLQRCode><DSCKS>");
    const { xml } = await expectIssued(h, signed, s.apiKey);
    expect(xml).not.toContain("seller's own QR data");
    expect(xml.match(/<DLQRCode>/g)).toHaveLength(1);
    const cqt = xml.slice(xml.indexOf("<CQT>"));
    expect(cqt.match(/<Reference /g)).toHaveLength(3);
    // An invoice whose DLQRCode was changed afterwards still verifies: the pages never read it.
    const v = await verify(tamper(xml, /<DLQRCode>[^<]*<\/DLQRCode>/, "<DLQRCode>00020101</DLQRCode>"));
    expect(v.valid).toBe(true);
  });
});

describe("GET /v1/verify/{code}", () => {
  it("answers the public facts of a genuine invoice, with no buyer data", async () => {
    const { code, number } = await issue();
    const r = await get(`/v1/verify/${code}`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as Record<string, unknown>;
    expect(body).toEqual({
      valid: true,
      code,
      status: "issued",
      sellerTaxCode: s.taxCode,
      sellerName: `Công ty TNHH Thử nghiệm ${s.taxCode}`,
      form: "1",
      symbol: `C${todayGmt7().slice(2, 4)}TAA`,
      number,
      issueDate: todayGmt7(),
      totalBeforeTax: "3200000",
      totalTax: "320000",
      totalPayable: "3520000",
      currency: "VND",
      source: "coded",
      // Not yet under a signed tree head of the transparency log (the test sequences nothing).
      transparency: null,
    });
    const text = JSON.stringify(body);
    expect(text).not.toContain("0310000024"); // the buyer's tax code
    expect(text).not.toContain("Sài Gòn"); // the buyer's name and address
  });

  it("accepts the code in lower case", async () => {
    const { code } = await issue();
    expect((await get(`/v1/verify/${code.toLowerCase()}`)).status).toBe(200);
  });

  it("answers 404 NOT_FOUND for a made-up code, and for something that is not a code at all", async () => {
    const { code } = await issue();
    const madeUp = code.slice(0, -1) + (code.endsWith("0") ? "1" : "0");
    for (const c of [madeUp, "00B7ED1EE40D31479DAE6D8235E8549FB3", "not-a-code"]) {
      const r = await get(`/v1/verify/${c}`);
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    }
  });

  it("says a cancelled invoice is genuine and cancelled", async () => {
    const { code } = await issue();
    const c = await h.call("POST", `/v1/invoices/${code}/cancellation`, { reason: "Lập sai" }, s.apiKey);
    expect(c.status).toBe(200);
    expect(await (await get(`/v1/verify/${code}`)).json()).toMatchObject({ valid: true, status: "cancelled" });
  });
});

describe("GET /v1/verify?seller&form&symbol&number&total", () => {
  const q = (o: Record<string, string | number>) => `/v1/verify?${new URLSearchParams(Object.entries(o).map(([k, v]) => [k, String(v)]))}`;
  const symbol = `C${todayGmt7().slice(2, 4)}TAA`;

  it("finds the invoice when the total matches, compared as a decimal", async () => {
    const { code, number } = await issue();
    for (const total of ["3520000", "3520000.00", "3520000.000000"]) {
      const r = await get(q({ seller: s.taxCode, form: 1, symbol, number, total }));
      expect(r.status, total).toBe(200);
      expect(await r.json()).toMatchObject({ valid: true, code, status: "issued", totalPayable: "3520000" });
    }
    // A zero-padded number and a lower-case symbol are the same invoice.
    expect((await get(q({ seller: s.taxCode, form: 1, symbol: symbol.toLowerCase(), number: String(number).padStart(8, "0"), total: "3520000" }))).status).toBe(200);
  });

  it("answers 404 when the total differs, exactly as for an invoice that does not exist", async () => {
    const { number } = await issue();
    const wrong = await get(q({ seller: s.taxCode, form: 1, symbol, number, total: "3520001" }));
    const missing = await get(q({ seller: s.taxCode, form: 1, symbol, number: nextNumber(), total: "3520000" }));
    expect(wrong.status).toBe(404);
    expect(missing.status).toBe(404);
    const a = ((await wrong.json()) as { error: { message: string } }).error.message;
    const b = ((await missing.json()) as { error: { message: string } }).error.message;
    expect(a).toBe(b);
  });

  it("refuses a lookup without the total (SCHEMA_INVALID)", async () => {
    const { number } = await issue();
    const r = await get(q({ seller: s.taxCode, form: 1, symbol, number }));
    expect(r.status).toBe(422);
    expect(await r.json()).toMatchObject({ error: { code: "SCHEMA_INVALID" } });
  });
});

describe("POST /v1/verify", () => {
  it("passes every check of a genuine stamped invoice", async () => {
    const { xml, code } = await issue();
    const v = await verify(xml);
    expect(v).toMatchObject({
      valid: true,
      code,
      checks: { sellerSignature: true, authoritySignature: true, codeAuthentic: true, matchesRecord: true, status: "issued" },
      failures: [],
      invoice: { code, status: "issued", totalPayable: "3520000" },
    });
    expect(JSON.stringify(v)).not.toContain("0310000024");
  });

  it("calls out an invoice whose amount was changed after stamping: both signatures, the code and the record fail", async () => {
    const { xml } = await issue();
    const v = await verify(tamper(xml, /<TgTTTBSo>[^<]*<\/TgTTTBSo>/, "<TgTTTBSo>9520000</TgTTTBSo>"));
    expect(v.valid).toBe(false);
    expect(v.checks).toMatchObject({ sellerSignature: false, authoritySignature: false, codeAuthentic: false, matchesRecord: false, status: "issued" });
    expect(v.failures.map((f) => f.check)).toEqual(["sellerSignature", "authoritySignature", "codeAuthentic", "matchesRecord"]);
    expect(v.failures[0]).toMatchObject({ code: "SIGNATURE_INVALID" });
  });

  it("calls out another invoice's genuine code pasted in (the code and the authority's signature fail)", async () => {
    const a = await issue();
    const b = await issue();
    const v = await verify(tamper(a.xml, `>${a.code}</MCCQT>`, `>${b.code}</MCCQT>`));
    expect(v.valid).toBe(false);
    expect(v.checks).toMatchObject({ sellerSignature: true, authoritySignature: false, codeAuthentic: false, matchesRecord: false });
  });

  it("calls out an invoice stamped by someone else with a key and code secret of their own (CERT_UNTRUSTED, not issued)", async () => {
    const signed = s.invoice();
    const parsed = parseXml(signed, "HDon");
    if (!parsed.ok) throw new Error("parse");
    const doc = readInvoiceDocument(parsed.value);
    if (!doc.ok) throw new Error("frame");
    const fake = await generateDevAuthority("rsa");
    const code = makeCode(Buffer.alloc(32, 9), "0A", 123456789n, { sellerTaxCode: s.taxCode, form: "1", symbol: "C26TAA", number: 1, issueDate: todayGmt7(), totalPayable: "3520000", digest: "x" });
    const forged = stamp(doc.value, code, new Date(), authorityKeyFromPem(fake.keyPem, fake.certPem), Buffer.alloc(32).toString("base64")).xml;
    const v = await verify(forged);
    expect(v.valid).toBe(false);
    expect(v.checks).toMatchObject({ sellerSignature: true, authoritySignature: false, codeAuthentic: false, matchesRecord: false, status: null });
    expect(v.failures.find((f) => f.check === "authoritySignature")).toMatchObject({ code: "SIGNATURE_INVALID" });
    expect(v.invoice).toBeNull();
  });

  it("names CERT_UNTRUSTED when a forger's CQT signature verifies mathematically but is not the authority's", async () => {
    // A correct digest this time: the forger stamps with the real DLHDon digest.
    const signed = s.invoice();
    const parsed = parseXml(signed, "HDon");
    if (!parsed.ok) throw new Error("parse");
    const doc = readInvoiceDocument(parsed.value);
    if (!doc.ok) throw new Error("frame");
    const real = await issue();
    const realDoc = parseXml(real.xml, "HDon");
    if (!realDoc.ok) throw new Error("parse");
    const digest = /<Reference URI="#[^"]+"><DigestMethod Algorithm="[^"]+"\/><DigestValue>([^<]+)<\/DigestValue>/.exec(real.xml.slice(real.xml.indexOf("<CQT>")))![1]!;
    const fake = await generateDevAuthority("rsa");
    const realFrame = readInvoiceDocument(realDoc.value);
    if (!realFrame.ok) throw new Error("frame");
    // Strip the real stamp and stamp again with the forger's key over the same DLHDon.
    const unsigned = real.xml.replace(/<MCCQT[^>]*>[^<]*<\/MCCQT>/, "").replace(/<CQT>.*<\/CQT>/s, "").replace(/<DLQRCode>[^<]*<\/DLQRCode>/, "");
    const again = parseXml(unsigned, "HDon");
    if (!again.ok) throw new Error("parse again");
    const againDoc = readInvoiceDocument(again.value);
    if (!againDoc.ok) throw new Error("frame again");
    const forged = stamp(againDoc.value, real.code, new Date(), authorityKeyFromPem(fake.keyPem, fake.certPem), digest).xml;
    const v = await verify(forged);
    expect(v.checks).toMatchObject({ sellerSignature: true, authoritySignature: false, codeAuthentic: true, matchesRecord: true, status: "issued" });
    expect(v.failures).toEqual([expect.objectContaining({ check: "authoritySignature", code: "CERT_UNTRUSTED" })]);
    expect(v.valid).toBe(false);
  });

  it("fails every check of an invoice without MCCQT and CQT signature (never stamped)", async () => {
    const v = await verify(s.invoice());
    expect(v).toMatchObject({ valid: false, code: null, checks: { sellerSignature: true, authoritySignature: false, codeAuthentic: false, matchesRecord: false, status: null } });
  });

  it("fails every check of a document with two DLHDon (wrapping)", async () => {
    const { xml } = await issue();
    const dl = /<DLHDon[\s\S]*<\/DLHDon>/.exec(xml)![0];
    const v = await verify(xml.replace("<DSCKS>", `<DSCKS><CCKSKhac>${dl.replace(/Id="[^"]+"/, 'Id="x"')}</CCKSKhac>`));
    expect(v.valid).toBe(false);
    expect(v.failures.map((f) => f.code)).toContain("SIGNATURE_PROFILE");
  });

  it("refuses a body that is not XML (400), has a DOCTYPE (400), is too large (413) or is not sent as XML (415)", async () => {
    expect((await postXml("not xml")).status).toBe(400);
    const doctype = await postXml('<!DOCTYPE HDon [<!ENTITY a "b">]><HDon>&a;</HDon>');
    expect(doctype.status).toBe(400);
    expect(await doctype.json()).toMatchObject({ error: { code: "XML_FORBIDDEN_CONSTRUCT" } });
    expect((await postXml(new Uint8Array(2 * 1024 * 1024 + 1).fill(0x20))).status).toBe(413);
    expect((await postXml("<HDon/>", "text/plain")).status).toBe(415);
  });

  it("stores nothing", async () => {
    const { xml } = await issue();
    const before = await h.store.countRows();
    await verify(xml);
    await verify(tamper(xml, /<TgTTTBSo>[^<]*<\/TgTTTBSo>/, "<TgTTTBSo>1</TgTTTBSo>"));
    expect(await h.store.countRows()).toEqual(before);
  });
});

describe("codes issued in the earlier clear layout", () => {
  it("keep verifying: an invoice stamped with a code whose transaction number is in clear passes GET and POST /v1/verify", async () => {
    // The harness's code secret; an issuer that makes codes as the service did before (number in clear).
    const codeSecret = h.services.codeSecret;
    const submit = h.services.submit as { codes: { issue(id: CodeIdentity): Promise<string> } };
    const current = submit.codes;
    let txn = 0x19d81n + BigInt(nextNumber());
    submit.codes = { issue: async (id) => makeClearCode(codeSecret, "0A", txn++, id) };
    let old: Awaited<ReturnType<typeof issue>>;
    try {
      old = await issue();
    } finally {
      submit.codes = current;
    }
    expect(old.code.slice(2, 16)).toBe((txn - 1n).toString(16).toUpperCase().padStart(14, "0"));
    const byCode = await get(`/v1/verify/${old.code}`);
    expect(byCode.status).toBe(200);
    expect(await byCode.json()).toMatchObject({ valid: true, code: old.code, status: "issued" });
    const v = await verify(old.xml);
    expect(v.valid).toBe(true);
    expect(v.checks).toMatchObject({ sellerSignature: true, authoritySignature: true, codeAuthentic: true, matchesRecord: true });
    // A code issued now does not show its number: it opens only with the secret.
    const now = await issue();
    expect(openCode(codeSecret, now.code)!.transaction).toBeGreaterThan(0n);
    expect(now.code.slice(2, 8)).not.toBe("000000");
  });
});

describe("rate limits", () => {
  it("limits /v1/verify… per client address (429 RATE_LIMITED with Retry-After)", async () => {
    const limited = await startHarness({ rateLimits: { publicPerMinute: 3 } });
    try {
      const statuses: number[] = [];
      for (const path of ["/v1/verify/00B7ED1EE40D31479DAE6D8235E8549FB3", "/v1/verify?seller=0100000010", "/v1/verify/X", "/v1/verify/Y"]) statuses.push((await limited.app.request(path)).status);
      const post = await limited.app.request("/v1/verify", { method: "POST", headers: { "content-type": "application/xml" }, body: "<HDon/>" });
      expect(statuses.slice(0, 3)).toEqual([404, 422, 404]);
      expect(statuses[3]).toBe(429);
      expect(post.status).toBe(429);
      expect(post.headers.get("retry-after")).toMatch(/^\d+$/);
    } finally {
      await limited.close();
    }
  });
});
