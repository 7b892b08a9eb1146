/**
 * The load tests' invoice builder (load-tests/lib/invoice.js, the plain ES module k6 imports):
 * its encoders against Node's, its DLHDon already canonical, and its signed invoices accepted by
 * the gate and verified by xmlsec1, before and after the authority's stamp.
 */
import { webcrypto } from "node:crypto";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { C14N } from "../../src/xml/algorithms.js";
import { canonicalize } from "../../src/xml/c14n.js";
import { childElements, parseXml } from "../../src/xml/parse.js";
import { LOAD_SELLERS, base64, buildDlhdon, fromBase64, importSellerKey, runSymbol, signedInvoice, utf8 } from "../../load-tests/lib/invoice.js";
import { fuzzParams } from "../fuzz/arbitraries.js";
import { CERTS, cert, startHarness, type Harness } from "../helpers/app.js";
import { SELLER_SIGNATURE_XPATH, verifyWithXmlsec1, xmlsec1Available } from "../helpers/sign.js";

const subtle = webcrypto.subtle as unknown as SubtleCrypto;

describe("the builder's encoders", () => {
  it("utf8 is Node's UTF-8 (property, whole Unicode)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 60 }), (s) => {
        expect(Buffer.from(utf8(s)).equals(Buffer.from(s, "utf8"))).toBe(true);
      }),
      fuzzParams(),
    );
  });
  it("base64 and fromBase64 are Node's base64 (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(base64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
        expect(Buffer.from(fromBase64(Buffer.from(bytes).toString("base64"))).equals(Buffer.from(bytes))).toBe(true);
      }),
      fuzzParams(),
    );
  });
  it("runSymbol names a symbol of this year that the schema accepts", () => {
    for (const r of [0, 0.5, 0.999999]) expect(runSymbol(r, "2026-11-20")).toMatch(/^C26[TDLMNBGHX][A-Z]{2}$/);
  });
});

describe("the builder's invoices", () => {
  let h: Harness;
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    h = await startHarness();
    for (const s of LOAD_SELLERS) {
      const created = await h.call("POST", "/v1/sellers", { taxCode: s.taxCode, name: `Công ty TNHH Thử tải ${s.taxCode}`, address: "1 Tràng Tiền, Hà Nội", taxOffice: "Cục Thuế TP Hà Nội", province: "Hà Nội" });
      expect(created.status).toBe(201);
      expect((await h.call("POST", `/v1/sellers/${s.taxCode}/certificates`, { pem: cert(s.cert) })).status).toBe(201);
      const k = await h.call("POST", `/v1/sellers/${s.taxCode}/api-keys`);
      keys[s.taxCode] = ((await k.json()) as { key: string }).key;
    }
  }, 60_000);
  afterAll(() => h?.close());

  it("writes DLHDon in canonical form: xml-crypto's C14N of it is the text itself", () => {
    const { dlhdon } = buildDlhdon({ sellerTaxCode: "0100000010", number: 7 });
    const parsed = parseXml(`<HDon>${dlhdon}</HDon>`, "HDon");
    if (!parsed.ok) throw new Error(parsed.faults[0]!.message);
    expect(canonicalize(childElements(parsed.value.root)[0]!, C14N)).toBe(dlhdon);
    expect(Buffer.byteLength(dlhdon)).toBeGreaterThan(8_000);
  });

  for (const s of LOAD_SELLERS) {
    it(`signs as ${s.taxCode} (${s.kind}): the gate issues it, and xmlsec1 verifies the seller's and the authority's signatures`, async () => {
      const key = await importSellerKey(subtle, cert(s.key), cert(s.cert), s.kind);
      const symbol = runSymbol(Math.random());
      const xml = await signedInvoice(subtle, key, { sellerTaxCode: s.taxCode, buyerTaxCode: s.buyer, symbol, number: 1 });
      const res = await h.submit(xml, keys[s.taxCode]!, { accept: "application/xml" });
      expect(res.status, await res.clone().text()).toBe(201);
      const stamped = await res.text();
      // A second, different invoice is distinct (a new number), the same one again a replay.
      const second = await signedInvoice(subtle, key, { sellerTaxCode: s.taxCode, buyerTaxCode: s.buyer, symbol, number: 2 });
      expect((await h.submit(second, keys[s.taxCode]!)).status).toBe(201);
      expect((await h.submit(xml, keys[s.taxCode]!)).status).toBe(200);
      if (!xmlsec1Available()) return;
      const seller = verifyWithXmlsec1(xml, { nodeXpath: SELLER_SIGNATURE_XPATH, trustedPem: CERTS + "root-ca.pem", untrustedPem: CERTS + "issuing-ca.pem", idAttrs: ["DLHDon"] });
      expect(seller.ok, seller.output).toBe(true);
      const dir = mkdtempSync(join(tmpdir(), "hoadon-load-"));
      try {
        writeFileSync(join(dir, "authority.pem"), h.authorityCertPem);
        const cqt = verifyWithXmlsec1(stamped, { nodeXpath: "//*[local-name()='CQT']/*[local-name()='Signature']", trustedPem: join(dir, "authority.pem"), idAttrs: ["DLHDon", "MCCQT", "Object"] });
        expect(cqt.ok, cqt.output).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 30_000);
  }
});
