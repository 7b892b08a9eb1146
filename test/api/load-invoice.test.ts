/**
 * The load tests' invoice builder (load-tests/lib/invoice.js, the plain ES module k6 imports):
 * its encoders against Node's, its DLHDon already canonical, and its signed invoices accepted by
 * the gate and verified by xmlsec1, before and after the authority's stamp. The generator of the
 * k6 scripts (invoiceFactory) writes signedInvoice's very bytes, in Node and in k6 with k6's
 * native encoders, and its P-256 invoices are issued by the gate and verified by xmlsec1.
 */
import { spawnSync } from "node:child_process";
import { webcrypto } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { base64, buildDlhdon, fromBase64, importSellerKey, invoiceFactory, K6_SELLERS, LOAD_SELLERS, runSymbol, signedInvoice, utf8 } from "../../load-tests/lib/invoice.js";
import { C14N } from "../../src/xml/algorithms.js";
import { canonicalize } from "../../src/xml/canonical.js";
import { childElements, parseXml } from "../../src/xml/parse.js";
import { fuzzParams } from "../fuzz/arbitraries.js";
import { CERTS, cert, type Harness, startHarness } from "../helpers/app.js";
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
    // Seller 0100000010's P-256 certificate, which the k6 scripts sign with.
    expect((await h.call("POST", "/v1/sellers/0100000010/certificates", { pem: cert("seller-0100000010-ec.pem") })).status).toBe(201);
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

  it("invoiceFactory writes signedInvoice's bytes (RSA: deterministic signatures), whatever the number's digits", async () => {
    const s = LOAD_SELLERS[0]!;
    const key = await importSellerKey(subtle, cert(s.key), cert(s.cert), s.kind);
    const p = { sellerTaxCode: s.taxCode, buyerTaxCode: s.buyer, symbol: runSymbol(0.3), lines: 12 };
    const factory = await invoiceFactory(subtle, key, p);
    for (const n of [1, 9, 10, 12_345, 99_999_999]) {
      const bytes = await factory.invoice(n);
      expect(bytes.byteLength).toBe(bytes.buffer.byteLength); // the whole buffer is the invoice
      expect(Buffer.from(bytes).toString("utf8")).toBe(await signedInvoice(subtle, key, { ...p, number: n, seed: 1 }));
    }
  });

  for (const s of K6_SELLERS) {
    it(`k6's sellers: ${s.taxCode} (P-256) through invoiceFactory, issued by the gate and verified by xmlsec1`, async () => {
      const key = await importSellerKey(subtle, cert(s.key), cert(s.cert), s.kind);
      const factory = await invoiceFactory(subtle, key, { sellerTaxCode: s.taxCode, buyerTaxCode: s.buyer, symbol: runSymbol(Math.random()), lines: 12 });
      const [one, two] = await Promise.all([factory.invoice(1), factory.invoice(2)]); // concurrent calls share the factory
      const xml = Buffer.from(one!).toString("utf8");
      expect(xml).toContain("<SHDon>1</SHDon>");
      expect((await h.submit(one!, keys[s.taxCode]!)).status).toBe(201);
      expect((await h.submit(two!, keys[s.taxCode]!)).status).toBe(201);
      // A byte changed in DLHDon breaks its digest: the gate refuses it.
      const tampered = xml.replace("<SHDon>1</SHDon>", "<SHDon>3</SHDon>");
      expect((await h.submit(tampered, keys[s.taxCode]!)).status).toBe(422);
      if (!xmlsec1Available()) return;
      const seller = verifyWithXmlsec1(xml, { nodeXpath: SELLER_SIGNATURE_XPATH, trustedPem: CERTS + "root-ca.pem", untrustedPem: CERTS + "issuing-ca.pem", idAttrs: ["DLHDon"] });
      expect(seller.ok, seller.output).toBe(true);
      expect(verifyWithXmlsec1(tampered, { nodeXpath: SELLER_SIGNATURE_XPATH, trustedPem: CERTS + "root-ca.pem", untrustedPem: CERTS + "issuing-ca.pem", idAttrs: ["DLHDon"] }).ok).toBe(false);
    }, 30_000);
  }
});

const k6Available = spawnSync("k6", ["version"], { encoding: "utf8" }).status === 0;

describe.skipIf(!k6Available)("the generator in k6 (load-tests/lib/k6-setup.js's natives)", () => {
  it("writes the same bytes as signedInvoice in Node (RSA), and its P-256 invoices verify", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hoadon-k6-"));
    try {
      const lib = new URL("../../load-tests/lib/", import.meta.url).pathname;
      const rsa = LOAD_SELLERS[0]!;
      const ec = K6_SELLERS[1]!;
      const p = { sellerTaxCode: rsa.taxCode, buyerTaxCode: rsa.buyer, symbol: "C26TAB", lines: 12 };
      writeFileSync(
        join(dir, "gen.js"),
        `import encoding from "k6/encoding";
import { importSellerKey, invoiceFactory } from "${lib}invoice.js";
import { K6_NATIVES } from "${lib}k6-setup.js";
const read = (f) => open("${CERTS}" + f);
const rsa = [read("${rsa.key}"), read("${rsa.cert}")];
const ec = [read("${ec.key}"), read("${ec.cert}")];
export const options = { vus: 1, iterations: 1 };
export default async function () {
  const p = ${JSON.stringify(p)};
  const f = await invoiceFactory(crypto.subtle, await importSellerKey(crypto.subtle, rsa[0], rsa[1], "rsa"), p, K6_NATIVES);
  const g = await invoiceFactory(crypto.subtle, await importSellerKey(crypto.subtle, ec[0], ec[1], "ec"), { ...p, sellerTaxCode: "${ec.taxCode}", buyerTaxCode: "${ec.buyer}" }, K6_NATIVES);
  for (const n of [7, 1234567]) console.log("rsa " + n + " " + encoding.b64encode((await f.invoice(n)).buffer, "std"));
  console.log("ec 8 " + encoding.b64encode((await g.invoice(8)).buffer, "std"));
}
`,
      );
      const run = spawnSync("k6", ["run", "--quiet", "--no-summary", "--address", "127.0.0.1:0", "--console-output", join(dir, "out.txt"), join(dir, "gen.js")], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      const lines = readFileSync(join(dir, "out.txt"), "utf8").trim().split("\n");
      const out = new Map(lines.map((l) => { const m = /(rsa|ec) (\d+) ([A-Za-z0-9+/=]+)/.exec(l)!; return [`${m[1]} ${m[2]}`, Buffer.from(m[3]!, "base64").toString("utf8")]; }));
      const key = await importSellerKey(subtle, cert(rsa.key), cert(rsa.cert), "rsa");
      for (const n of [7, 1234567]) expect(out.get(`rsa ${n}`)).toBe(await signedInvoice(subtle, key, { ...p, number: n, seed: 1 }));
      const ecXml = out.get("ec 8")!;
      expect(ecXml).toContain("<SHDon>8</SHDon>");
      if (!xmlsec1Available()) return;
      const v = verifyWithXmlsec1(ecXml, { nodeXpath: SELLER_SIGNATURE_XPATH, trustedPem: CERTS + "root-ca.pem", untrustedPem: CERTS + "issuing-ca.pem", idAttrs: ["DLHDon"] });
      expect(v.ok, v.output).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
