/**
 * POST /v1/invoices through the routes: what a seller's accounting software sees, accepted and
 * refused, and that a refusal stores nothing.
 */
import { readFileSync } from "node:fs";
import { DOMParser } from "@xmldom/xmldom";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignedXml } from "xml-crypto";
import { groupCommitOf, submitInvoice } from "../../src/domain/submit.js";
import type { ErrorCode } from "../../src/errors.js";
import { XML_CRYPTO_ECDSA } from "../../src/xml/algorithms.js";
import { authorityRules, readInvoiceDocument, readSellerSignature } from "../../src/xml/invoice-document.js";
import { parseXml } from "../../src/xml/parse.js";
import { readSignature, verifyProfile } from "../../src/xml/verify.js";
import { cert, type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { buildInvoice, nextNumber, randomTaxCode, todayGmt7 } from "../helpers/invoice.js";
import { issueSellerCert } from "../helpers/pki.js";
import { type ErrorBody, expectRefused as expectRefusedBy } from "../helpers/refusal.js";
import { signInvoice } from "../helpers/sign.js";

let h: Harness;
let s: TestSeller;
/** The service's clock when set; else the real one. */
let clock: Date | null = null;

beforeAll(async () => {
  h = await startHarness({ clock: () => clock ?? new Date() });
  s = await h.seller();
});
afterAll(async () => h?.close());

/** Submits and expects a refusal with `code`, checking that no row was written anywhere (test/helpers/refusal.ts). */
function expectRefused(xml: string | Uint8Array, code: ErrorCode, key = s.apiKey, headers: Record<string, string> = {}): Promise<ErrorBody> {
  return expectRefusedBy(h, xml, code, key, headers);
}

interface Issued {
  code: string;
  status: string;
  sellerTaxCode: string;
  form: string;
  symbol: string;
  number: number;
  issueDate: string;
  currency: string;
  totalBeforeTax: string;
  totalTax: string;
  totalPayable: string;
  issuedAt: string;
  digest: string;
  xml: string;
}

/** Verifies the CQT signature of a stamped invoice with our verifier and with xml-crypto's SignedXml. */
function verifyAuthoritySignature(xml: string, authorityCertPem: string): void {
  const parsed = parseXml(xml, "HDon");
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.faults));
  const doc = readInvoiceDocument(parsed.value);
  if (!doc.ok) throw new Error(JSON.stringify(doc.faults));
  expect(doc.value.authoritySignatures).toHaveLength(1);
  const profile = readSignature(doc.value.authoritySignatures[0]!, parsed.value, authorityRules(doc.value, false));
  if (!profile.ok) throw new Error(JSON.stringify(profile.faults));
  const verified = verifyProfile(profile.value);
  expect(verified.ok, JSON.stringify(!verified.ok && verified.faults)).toBe(true);
  expect(profile.value.certificates[0]!.toString("base64")).toBe(
    authorityCertPem.replace(/-----[A-Z ]+-----|\s/g, ""),
  );

  // The oracle: xml-crypto's generic SignedXml on its own parse of the bytes.
  const dom = new DOMParser().parseFromString(xml, "application/xml");
  const sigNode = dom.getElementsByTagName("CQT")[0]!.getElementsByTagNameNS("http://www.w3.org/2000/09/xmldsig#", "Signature")[0]!;
  const sx = new SignedXml({ publicCert: authorityCertPem });
  Object.assign(sx.SignatureAlgorithms, XML_CRYPTO_ECDSA);
  sx.loadSignature(sigNode as never);
  expect(sx.checkSignature(xml)).toBe(true);
}

describe("issuing", () => {
  it("issues a seller-signed invoice: 201 with Location, a 34-hex code and the stamped XML", async () => {
    const number = nextNumber();
    const xml = s.invoice({ number, lines: [{ name: "Phần mềm kế toán", quantity: 2, unitPrice: 1_500_000, taxRate: "8%" }, { name: "Đào tạo", quantity: 1, unitPrice: 500_000, taxRate: "10%" }] });
    const res = await h.submit(xml, s.apiKey);
    expect(res.status).toBe(201);
    const body = (await res.json()) as Issued;
    expect(body.code).toMatch(/^0A[0-9A-F]{32}$/);
    expect(res.headers.get("location")).toBe(`/v1/invoices/${body.code}`);
    expect(body).toMatchObject({
      status: "issued",
      sellerTaxCode: s.taxCode,
      form: "1",
      number,
      issueDate: todayGmt7(),
      currency: "VND",
      totalBeforeTax: "3500000",
      totalTax: "290000",
      totalPayable: "3790000",
    });
    expect(body.xml).toContain(`<MCCQT Id="Id-`);
    expect(body.xml).toContain(`>${body.code}</MCCQT>`);
    // Emitted in the order DLHDon, MCCQT, DSCKS, with the seller's signature bytes untouched.
    expect(body.xml.indexOf("<DLHDon")).toBeLessThan(body.xml.indexOf("<MCCQT"));
    expect(body.xml.indexOf("<MCCQT")).toBeLessThan(body.xml.indexOf("<DSCKS"));
    const sellerSig = xml.slice(xml.indexOf("<NBan><Signature"), xml.indexOf("</NBan></DSCKS>"));
    expect(body.xml).toContain(sellerSig);
    verifyAuthoritySignature(body.xml, h.authorityCertPem);
  });

  it("keeps the seller's signature valid in the stamped invoice", async () => {
    const res = await h.submit(s.invoice(), s.apiKey);
    const body = (await res.json()) as Issued;
    const parsed = parseXml(body.xml, "HDon");
    if (!parsed.ok) throw new Error("stamped XML does not parse");
    const doc = readInvoiceDocument(parsed.value);
    if (!doc.ok) throw new Error("stamped XML has no frame");
    const profile = readSellerSignature(doc.value, false);
    if (!profile.ok) throw new Error(JSON.stringify(profile.faults));
    expect(verifyProfile(profile.value).ok).toBe(true);
  });

  it("answers with the stamped XML itself when asked for application/xml", async () => {
    const res = await h.submit(s.invoice(), s.apiKey, { accept: "application/xml" });
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toMatch(/^application\/xml/);
    const xml = await res.text();
    expect(xml).toMatch(/^<HDon>/);
    verifyAuthoritySignature(xml, h.authorityCertPem);
  });

  it("accepts an EC P-256 seller certificate with ecdsa-sha256", async () => {
    const ec = await h.seller({ keyType: "ec" });
    const xml = ec.invoice({}, { algorithm: "ecdsa-sha256" });
    expect(xml).toContain("ecdsa-sha256");
    const res = await h.submit(xml, ec.apiKey);
    expect(res.status, await res.clone().text()).toBe(201);
  });

  it("accepts exclusive canonicalization, the ds: prefix, and no SigningTime", async () => {
    for (const opts of [{ c14n: "exclusive" as const }, { prefix: "ds" as const }, { signingTime: null }]) {
      const res = await h.submit(s.invoice({}, opts), s.apiKey);
      expect(res.status, `${JSON.stringify(opts)}: ${await res.clone().text()}`).toBe(201);
    }
  });

  it("accepts CRLF line ends and an XML declaration", async () => {
    // Whitespace text between every element (inside DLHDon too), then CRLF line ends on the wire:
    // XML parsing turns CRLF into LF, so the signature made over the LF form holds for the CRLF bytes.
    const lf = signInvoice(buildInvoice({ sellerTaxCode: s.taxCode, declaration: true }).replace(/></g, ">\n<"), { keyPem: s.keyPem, certPem: s.certPem });
    const xml = lf.replace(/\r?\n/g, "\r\n");
    expect(xml.split("\r\n").length).toBeGreaterThan(20);
    const res = await h.submit(xml, s.apiKey);
    expect(res.status, await res.clone().text()).toBe(201);
    verifyAuthoritySignature(((await res.json()) as Issued).xml, h.authorityCertPem);
  });

  it("converts a foreign-currency invoice's totals to VND with TGia", async () => {
    const xml = s.invoice({ currency: "USD", exchangeRate: "25000", lines: [{ name: "Consulting", quantity: 1, unitPrice: "100.50", taxRate: "10%" }] });
    const res = await h.submit(xml, s.apiKey);
    const body = (await res.json()) as Issued;
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body.currency).toBe("USD");
    expect(body.totalBeforeTax).toBe("2512500");
  });
});

describe("replays and duplicates", () => {
  it("answers a replay of the same signed invoice with 200 and the original answer", async () => {
    const xml = s.invoice();
    const first = await h.submit(xml, s.apiKey);
    expect(first.status).toBe(201);
    const a = (await first.json()) as Issued;
    const before = await h.store.countRows();
    const again = await h.submit(xml, s.apiKey);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(a);
    expect(await h.store.countRows()).toEqual(before);
  });

  it("treats the same invoice signed again (new signature, same DLHDon) as a replay", async () => {
    const number = nextNumber();
    const earlier = (hours: number) => new Date(Date.now() + (7 - hours) * 3600_000).toISOString().slice(0, 19);
    const a = (await (await h.submit(s.invoice({ number }, { signingTime: earlier(3) }), s.apiKey)).json()) as Issued;
    expect(a.code).toBeDefined();
    const res = await h.submit(s.invoice({ number }, { signingTime: earlier(1) }), s.apiKey);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Issued).code).toBe(a.code);
  });

  it("refuses another invoice under the same seller, form, symbol and number, naming the existing code (DUPLICATE_INVOICE)", async () => {
    const number = nextNumber();
    const first = (await (await h.submit(s.invoice({ number }), s.apiKey)).json()) as Issued;
    const body = await expectRefused(s.invoice({ number, lines: [{ name: "Khác", quantity: 1, unitPrice: 999, taxRate: "10%" }] }), "DUPLICATE_INVOICE");
    expect(body.error.details[0]!.path).toBe(first.code);
    expect(body.error.message).toContain(first.code);
  });

  it("reads nothing before the insert of a group without a related invoice, and answers replays and duplicates the same", async () => {
    const store = h.services.submit.store;
    const find = store.findInvoicesByKeys;
    let reads = 0;
    Object.defineProperty(store, "findInvoicesByKeys", { configurable: true, writable: true, value: (keys: Parameters<typeof find>[0]) => (reads++, find.call(store, keys)) });
    try {
      const number = nextNumber();
      const xml = s.invoice({ number });
      const first = await h.submit(xml, s.apiKey);
      expect(first.status).toBe(201);
      const issued = (await first.json()) as Issued;
      const again = await h.submit(xml, s.apiKey);
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual(issued);
      const body = await expectRefused(s.invoice({ number, lines: [{ name: "Khác", quantity: 1, unitPrice: 999, taxRate: "10%" }] }), "DUPLICATE_INVOICE");
      expect(body.error.details[0]!.path).toBe(issued.code);
      expect(reads).toBe(0);
    } finally {
      Object.defineProperty(store, "findInvoicesByKeys", { configurable: true, writable: true, value: find });
    }
  });

  it("gives exactly one code when the same invoice arrives concurrently", async () => {
    const xml = s.invoice();
    const results = await Promise.all([1, 2, 3, 4].map(() => h.submit(xml, s.apiKey)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 201]);
    const codes = new Set(await Promise.all(results.map(async (r) => ((await r.json()) as Issued).code)));
    expect(codes.size).toBe(1);
  });
});

describe("group commit of concurrent submissions", () => {
  it("answers each of many concurrent submissions of two sellers as if sent alone, sharing transactions", async () => {
    const other = await h.seller();
    const stats = groupCommitOf(h.services.submit).stats;
    const before = { ...stats };
    const taken = nextNumber();
    const first = (await (await h.submit(s.invoice({ number: taken }), s.apiKey)).json()) as Issued;
    const replayed = s.invoice();
    const sends: { xml: string; key: string; want: number }[] = [
      ...Array.from({ length: 12 }, () => ({ xml: s.invoice(), key: s.apiKey, want: 201 })),
      ...Array.from({ length: 12 }, () => ({ xml: other.invoice(), key: other.apiKey, want: 201 })),
      { xml: replayed, key: s.apiKey, want: 201 },
      { xml: replayed, key: s.apiKey, want: 200 },
      { xml: s.invoice({ number: taken, lines: [{ name: "Khác", quantity: 1, unitPrice: 5, taxRate: "10%" }] }), key: s.apiKey, want: 409 },
      { xml: other.invoice(), key: s.apiKey, want: 403 },
    ];
    const results = await Promise.all(sends.map((x) => h.submit(x.xml, x.key)));
    const bodies = (await Promise.all(results.map((r) => r.json()))) as (Issued & { error?: { code: string; message: string } })[];
    // The two sends of one invoice: whichever reached the commit first is issued, the other is its replay.
    const statuses = results.map((r) => r.status);
    expect([statuses[24], statuses[25]].sort()).toEqual([200, 201]);
    statuses[24] = 201;
    statuses[25] = 200;
    expect(statuses).toEqual(sends.map((x) => x.want));
    expect(bodies[24]).toEqual(bodies[25]);
    expect(bodies[26]!.error!.code).toBe("DUPLICATE_INVOICE");
    expect(bodies[26]!.error!.message).toContain(first.code);
    expect(bodies[27]!.error!.code).toBe("FORBIDDEN");
    // Each issued invoice is stored as answered, under its own seller.
    for (const [i, b] of bodies.entries()) {
      if (sends[i]!.want !== 201) continue;
      const got = await h.call("GET", `/v1/invoices/${b.code}`, undefined, sends[i]!.key);
      expect(got.status).toBe(200);
      const { history: _h, ...stored } = (await got.json()) as Issued & { history: unknown };
      expect(stored).toMatchObject({ code: b.code, sellerTaxCode: b.sellerTaxCode, digest: b.digest, number: b.number });
      expect(b.sellerTaxCode).toBe(sends[i]!.key === s.apiKey ? s.taxCode : other.taxCode);
    }
    const codes = bodies.filter((_, i) => sends[i]!.want === 201).map((b) => b.code);
    expect(new Set(codes).size).toBe(codes.length);
    // 27 invoices reached the commit stage (the FORBIDDEN one did not) in fewer transactions.
    expect(stats.items - before.items).toBe(28);
    expect(stats.groups - before.groups).toBeLessThan(28);
  });
});

describe("refusals, in the gate's order", () => {
  it("refuses a body that is not well-formed XML (XML_MALFORMED)", async () => {
    await expectRefused("<HDon><DLHDon></HDon>", "XML_MALFORMED");
  });

  it("refuses a root other than HDon (XML_MALFORMED)", async () => {
    await expectRefused(s.invoice().replace(/^<HDon>/, "<TDiep>").replace(/<\/HDon>$/, "</TDiep>"), "XML_MALFORMED");
  });

  it("refuses invalid UTF-8 (XML_MALFORMED)", async () => {
    const bytes = Buffer.concat([Buffer.from("<HDon><DLHDon Id=\"a\">"), Buffer.from([0xc3, 0x28]), Buffer.from("</DLHDon></HDon>")]);
    await expectRefused(bytes, "XML_MALFORMED");
  });

  it("refuses a DOCTYPE with an entity (XML_FORBIDDEN_CONSTRUCT)", async () => {
    await expectRefused(`<?xml version="1.0"?><!DOCTYPE HDon [<!ENTITY x "y">]>${s.invoice().replace("<THDon>", "<THDon>&x;")}`, "XML_FORBIDDEN_CONSTRUCT");
  });

  it("refuses a comment anywhere (XML_FORBIDDEN_CONSTRUCT)", async () => {
    await expectRefused(s.invoice().replace("</DSCKS>", "<!-- hi --></DSCKS>"), "XML_FORBIDDEN_CONSTRUCT");
  });

  it("refuses a processing instruction (XML_FORBIDDEN_CONSTRUCT)", async () => {
    await expectRefused(s.invoice().replace("<DSCKS>", "<?php echo 1 ?><DSCKS>"), "XML_FORBIDDEN_CONSTRUCT");
  });

  it("refuses nesting deeper than the limit (XML_FORBIDDEN_CONSTRUCT)", async () => {
    await expectRefused(`<HDon>${"<a>".repeat(200)}${"</a>".repeat(200)}</HDon>`, "XML_FORBIDDEN_CONSTRUCT");
  });

  it("refuses a body over 2 MiB (PAYLOAD_TOO_LARGE)", async () => {
    await expectRefused(`<HDon>${" ".repeat(2 * 1024 * 1024)}</HDon>`, "PAYLOAD_TOO_LARGE");
  });

  it("refuses a body that is not application/xml (UNSUPPORTED_MEDIA_TYPE)", async () => {
    await expectRefused(s.invoice(), "UNSUPPORTED_MEDIA_TYPE", s.apiKey, { "content-type": "application/json" });
  });

  it("refuses a submission without a key (UNAUTHENTICATED) and with an unknown key", async () => {
    const res = await h.app.request("/v1/invoices", { method: "POST", headers: { "content-type": "application/xml" }, body: s.invoice() });
    expect(res.status).toBe(401);
    await expectRefused(s.invoice(), "UNAUTHENTICATED", "hdk_not-a-key");
  });

  it("refuses a key of seller A submitting seller B's invoice (FORBIDDEN)", async () => {
    const other = await h.seller();
    await expectRefused(other.invoice(), "FORBIDDEN", s.apiKey);
  });

  it("refuses a submission by an admin or officer token (FORBIDDEN)", async () => {
    const off = (await (await h.call("POST", "/v1/officers", { name: "Nguyễn Văn A" })).json()) as { token: string };
    await expectRefused(s.invoice(), "FORBIDDEN", off.token);
  });

  it("refuses an invoice that already carries an MCCQT (CODE_ALREADY_PRESENT)", async () => {
    const xml = s.invoice().replace("<DSCKS>", "<MCCQT Id=\"m\">00B7ED1EE40D31479DAE6D8235E8549FB3</MCCQT><DSCKS>");
    await expectRefused(xml, "CODE_ALREADY_PRESENT");
  });

  it("refuses a stamped invoice sent back in (CODE_ALREADY_PRESENT)", async () => {
    const stamped = ((await (await h.submit(s.invoice(), s.apiKey)).json()) as Issued).xml;
    await expectRefused(stamped, "CODE_ALREADY_PRESENT");
  });

  it("refuses an unsigned invoice (SIGNATURE_MISSING)", async () => {
    await expectRefused(buildInvoice({ sellerTaxCode: s.taxCode }), "SIGNATURE_MISSING");
  });

  it("refuses a Reference to something other than DLHDon (SIGNATURE_PROFILE)", async () => {
    const xml = s.invoice({ dlhdonId: "data" }).replace('<TTChung>', '<TTChung Id="x">');
    const resigned = xml.replace(/URI="#data"/, 'URI="#x"');
    await expectRefused(resigned, "SIGNATURE_PROFILE");
  });

  it("refuses rsa-sha1 while legacy SHA-1 is off (ALGORITHM_NOT_ALLOWED)", async () => {
    await expectRefused(s.invoice({}, { algorithm: "rsa-sha1", digest: "http://www.w3.org/2000/09/xmldsig#sha1" }), "ALGORITHM_NOT_ALLOWED");
  });

  it("refuses an invoice whose amount was changed after signing (SIGNATURE_INVALID)", async () => {
    const xml = s.invoice({ lines: [{ name: "Hàng", quantity: 1, unitPrice: 1000000, taxRate: "10%" }] });
    await expectRefused(xml.replace(/<TgTTTBSo>1100000<\/TgTTTBSo>/, "<TgTTTBSo>1100001</TgTTTBSo>"), "SIGNATURE_INVALID");
  });

  it("refuses a signature value made with another key than the KeyInfo certificate's (SIGNATURE_INVALID)", async () => {
    const attacker = await issueSellerCert({ taxCode: s.taxCode });
    await expectRefused(s.invoice({}, { keyPem: attacker.keyPem }), "SIGNATURE_INVALID");
  });

  it("refuses a certificate from an untrusted root (CERT_UNTRUSTED)", async () => {
    const xml = signInvoice(buildInvoice({ sellerTaxCode: "0100000010" }), { keyPem: cert("untrusted-seller-0100000010.key"), certPem: cert("untrusted-seller-0100000010.pem") });
    const seller = await sellerWithKey("0100000010");
    await expectRefused(xml, "CERT_UNTRUSTED", seller);
  });

  it("refuses a certificate that had expired at the signing time (CERT_EXPIRED)", async () => {
    const expired = await issueSellerCert({ taxCode: s.taxCode, notBefore: new Date("2024-01-01"), notAfter: new Date("2025-01-01") });
    await expectRefused(s.invoice({}, { keyPem: expired.keyPem, certPem: expired.certPem }), "CERT_EXPIRED");
  });

  it("refuses a certificate naming another tax code (CERT_TAX_CODE_MISMATCH)", async () => {
    const other = await issueSellerCert({ taxCode: "0310000024" });
    await expectRefused(s.invoice({}, { keyPem: other.keyPem, certPem: other.certPem }), "CERT_TAX_CODE_MISMATCH");
  });

  it("refuses a valid certificate that is not registered to the seller (CERT_NOT_REGISTERED)", async () => {
    const fresh = await issueSellerCert({ taxCode: s.taxCode });
    await expectRefused(s.invoice({}, { keyPem: fresh.keyPem, certPem: fresh.certPem }), "CERT_NOT_REGISTERED");
  });

  it("refuses a certificate stopped before the submission (CERT_NOT_REGISTERED), while earlier invoices stay", async () => {
    const t = await h.seller();
    const earlier = (await (await h.submit(t.invoice(), t.apiKey)).json()) as Issued;
    const del = await h.call("DELETE", `/v1/sellers/${t.taxCode}/certificates/${t.serial}`);
    expect(del.status).toBe(200);
    await expectRefused(t.invoice(), "CERT_NOT_REGISTERED", t.apiKey);
    const officer = (await (await h.call("POST", "/v1/officers", { name: "Lê Văn C" })).json()) as { token: string };
    const still = await h.call("GET", `/v1/invoices/${earlier.code}`, undefined, officer.token);
    expect(((await still.json()) as { status: string }).status).toBe("issued");
  });

  it("refuses a seller that is not registered (SELLER_NOT_REGISTERED)", async () => {
    // Through the routes a key always belongs to a registered seller and a key of another seller is
    // FORBIDDEN first, so this stage is reached by the pipeline itself, as a T-VAN relay would.
    const taxCode = randomTaxCode();
    const c = await issueSellerCert({ taxCode });
    const xml = signInvoice(buildInvoice({ sellerTaxCode: taxCode }), { keyPem: c.keyPem, certPem: c.certPem });
    const before = await h.store.countRows();
    const out = await submitInvoice(h.services.submit, Buffer.from(xml), { keyId: crypto.randomUUID(), sellerTaxCode: taxCode });
    // A refusal of the domain: its api.md code, no HTTP status (the route maps it).
    expect(out).toMatchObject({ ok: false, error: { code: "SELLER_NOT_REGISTERED" } });
    expect(out.ok ? null : Object.keys(out.error).sort()).toEqual(["code", "details", "message"]);
    expect(await h.store.countRows()).toEqual(before);
  });

  it("refuses a ceased seller (SELLER_SUSPENDED)", async () => {
    const t = await h.seller();
    expect((await h.call("PATCH", `/v1/sellers/${t.taxCode}`, { status: "ceased" })).status).toBe(200);
    await expectRefused(t.invoice(), "SELLER_SUSPENDED", t.apiKey);
  });

  it("refuses a suspended seller (SELLER_SUSPENDED) and accepts it again once reactivated", async () => {
    const t = await h.seller();
    expect((await h.call("PATCH", `/v1/sellers/${t.taxCode}`, { status: "suspended" })).status).toBe(200);
    await expectRefused(t.invoice(), "SELLER_SUSPENDED", t.apiKey);
    expect((await h.call("PATCH", `/v1/sellers/${t.taxCode}`, { status: "active" })).status).toBe(200);
    expect((await h.submit(t.invoice(), t.apiKey)).status).toBe(201);
  });

  it("refuses a missing required field, naming its path (SCHEMA_INVALID)", async () => {
    const xml = signInvoice(buildInvoice({ sellerTaxCode: s.taxCode }).replace(/<THHDVu>[^<]*<\/THHDVu>/, ""), { keyPem: s.keyPem, certPem: s.certPem });
    const body = await expectRefused(xml, "SCHEMA_INVALID");
    expect(body.error.details.some((d) => d.path?.includes("THHDVu"))).toBe(true);
  });

  it("refuses a buyer tax code with a wrong check digit (TAX_CODE_INVALID)", async () => {
    await expectRefused(s.invoice({ buyer: { taxCode: "0310000025", name: "Công ty B", address: "HCM" } }), "TAX_CODE_INVALID");
  });

  it("refuses a symbol whose year is not the issue date's (SYMBOL_YEAR_MISMATCH)", async () => {
    await expectRefused(s.invoice({ symbol: "C25TAA", issueDate: "2026-11-01" }), "SYMBOL_YEAR_MISMATCH");
  });

  it("refuses an issue date after today in GMT+7 (ISSUE_DATE_IN_FUTURE)", async () => {
    const tomorrow = todayGmt7(new Date(Date.now() + 86_400_000));
    await expectRefused(s.invoice({ issueDate: tomorrow }), "ISSUE_DATE_IN_FUTURE");
  });

  it("refuses totals that do not add up (TOTALS_MISMATCH)", async () => {
    await expectRefused(s.invoice({ overrides: { TgTTTBSo: "999" } }), "TOTALS_MISMATCH");
  });
});

describe("xmlsec1-signed fixtures (independent signer, committed bytes)", () => {
  const dir = new URL("../fixtures/xmlsec1/", import.meta.url);
  type Entry = { file: string; seller: string; cert: string; key?: string; issueDate: string };
  const manifest = JSON.parse(readFileSync(new URL("manifest.json", dir), "utf8")) as { files: Entry[] } | Omit<Entry, "key">[];
  const files = Array.isArray(manifest) ? manifest : manifest.files;

  it("accepts every xmlsec1-signed fixture (RSA and EC, inclusive and exclusive C14N)", async () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
    const keys = new Map<string, string>();
    for (const f of files) {
      if (!keys.has(f.seller)) keys.set(f.seller, await registerDevSeller(f.seller, f.cert));
      // Received a quarter of an hour after they were signed (SigningTime and NLap are bounded against the receipt).
      clock = new Date(Date.parse(`${f.issueDate}T10:30:00+07:00`));
      try {
        const res = await h.submit(readFileSync(new URL(f.file, dir)), keys.get(f.seller)!);
        expect(res.status, `${f.file}: ${await res.clone().text()}`).toBe(201);
      } finally {
        clock = null;
      }
    }
  });
});

describe("reading", () => {
  it("shows the owning seller and officers the invoice, its history and XML; refuses others", async () => {
    const issued = (await (await h.submit(s.invoice(), s.apiKey)).json()) as Issued;
    const mine = await h.call("GET", `/v1/invoices/${issued.code}`, undefined, s.apiKey);
    expect(mine.status).toBe(200);
    const body = (await mine.json()) as Record<string, unknown> & { history: { event: string; by: string }[] };
    expect(body).toMatchObject({ code: issued.code, status: "issued", totalPayable: issued.totalPayable, buyerTaxCode: expect.any(String) });
    expect(body.history).toEqual([expect.objectContaining({ event: "issued" })]);
    expect(body).not.toHaveProperty("xml");

    const off = (await (await h.call("POST", "/v1/officers", { name: "Trần Thị B", taxOffice: "Cục Thuế Hà Nội" })).json()) as { token: string };
    expect((await h.call("GET", `/v1/invoices/${issued.code}`, undefined, off.token)).status).toBe(200);
    const xmlRes = await h.call("GET", `/v1/invoices/${issued.code}/xml`, undefined, off.token);
    expect(xmlRes.status).toBe(200);
    expect(await xmlRes.text()).toBe(issued.xml);

    const other = await h.seller();
    expect((await h.call("GET", `/v1/invoices/${issued.code}`, undefined, other.apiKey)).status).toBe(403);
    expect((await h.call("GET", `/v1/invoices/${issued.code}/xml`, undefined, other.apiKey)).status).toBe(403);
    expect((await h.app.request(`/v1/invoices/${issued.code}`)).status).toBe(401);
    expect((await h.call("GET", `/v1/invoices/${"0".repeat(34)}`, undefined, off.token)).status).toBe(404);
  });

  it("publishes the authority certificate as PEM", async () => {
    const res = await h.app.request("/v1/authority/certificate");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(h.services.authority.certPem);
  });
});

/** Registers the committed dev seller certificate for `taxCode` (once per file) and returns an API key. */
const devKeys = new Map<string, string>();
async function registerDevSeller(taxCode: string, certFile: string): Promise<string> {
  const known = devKeys.get(taxCode);
  if (known) return known;
  await h.call("POST", "/v1/sellers", { taxCode, name: `Dev seller ${taxCode}`, address: "Hà Nội" });
  const pem = cert(certFile.replace(/^certs\//, ""));
  const reg = await h.call("POST", `/v1/sellers/${taxCode}/certificates`, { pem });
  if (reg.status !== 201 && reg.status !== 409) throw new Error(`register ${certFile}: ${await reg.text()}`);
  const key = ((await (await h.call("POST", `/v1/sellers/${taxCode}/api-keys`)).json()) as { key: string }).key;
  devKeys.set(taxCode, key);
  return key;
}

async function sellerWithKey(taxCode: string): Promise<string> {
  return registerDevSeller(taxCode, "seller-0100000010-rsa.pem");
}
