/**
 * Interoperability with an independent XMLDSig implementation (xmlsec1, libxml2) and the XSD
 * (xmllint), live. Needs `xmlsec1` and `xmllint` on the PATH: `npm run test:interop`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CERTS, type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { buildInvoice } from "../helpers/invoice.js";
import { SELLER_SIGNATURE_XPATH, signWithXmlsec1, verifyWithXmlsec1 } from "../helpers/sign.js";

const CQT_XPATH = "//*[local-name()='CQT']/*[local-name()='Signature']";
const XSD = new URL("../../schemas/invoice.xsd", import.meta.url).pathname;
const FIXTURES = new URL("../fixtures/xmlsec1/", import.meta.url).pathname;

for (const tool of ["xmlsec1", "xmllint"]) {
  if (spawnSync(tool, ["--version"]).status !== 0) throw new Error(`${tool} is required for the interop suite (apt-get install xmlsec1 libxml2-utils)`);
}

let h: Harness;
let rsa: TestSeller;
let ec: TestSeller;
let work: string;
let authorityPem: string;

beforeAll(async () => {
  h = await startHarness();
  rsa = await h.seller({ keyType: "rsa" });
  ec = await h.seller({ keyType: "ec" });
  work = mkdtempSync(join(tmpdir(), "hoadon-interop-"));
  authorityPem = join(work, "authority.pem");
  writeFileSync(authorityPem, h.authorityCertPem);
});
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await h?.close();
});

/** The exact check of the issue: the CQT signature verifies with xmlsec1 against the authority certificate. */
function xmlsecVerifiesAuthority(xml: string) {
  return verifyWithXmlsec1(xml, { nodeXpath: CQT_XPATH, trustedPem: authorityPem, idAttrs: ["DLHDon", "MCCQT", "Object"] });
}
function xmlsecVerifiesSeller(xml: string) {
  return verifyWithXmlsec1(xml, { nodeXpath: SELLER_SIGNATURE_XPATH, trustedPem: CERTS + "root-ca.pem", untrustedPem: CERTS + "issuing-ca.pem", idAttrs: ["DLHDon", "Object"] });
}
function xmllint(xml: string) {
  const file = join(work, `doc-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  const run = spawnSync("xmllint", ["--noout", "--schema", XSD, file], { encoding: "utf8" });
  return { ok: run.status === 0, output: run.stderr };
}

async function stamp(xml: string, key: string): Promise<string> {
  const res = await h.submit(xml, key, { accept: "application/xml" });
  const body = await res.text();
  expect(res.status, body).toBe(201);
  return body;
}

describe("invoices signed live by xmlsec1", () => {
  for (const [name, c14n] of [
    ["inclusive", "inclusive"],
    ["exclusive", "exclusive"],
  ] as const) {
    for (const kind of ["rsa", "ec"] as const) {
      it(`accepts an xmlsec1-signed ${kind.toUpperCase()} invoice (${name} C14N), and xmlsec1 verifies both signatures of the stamped answer`, async () => {
        const seller = kind === "rsa" ? rsa : ec;
        const signed = signWithXmlsec1(buildInvoice({ sellerTaxCode: seller.taxCode }), { keyPem: seller.keyPem, certPem: seller.certPem, c14n });
        const stamped = await stamp(signed, seller.apiKey);
        const cqt = xmlsecVerifiesAuthority(stamped);
        expect(cqt.ok, cqt.output).toBe(true);
        const sel = xmlsecVerifiesSeller(stamped);
        expect(sel.ok, sel.output).toBe(true);
        const xsd = xmllint(stamped);
        expect(xsd.ok, xsd.output).toBe(true);
      });
    }
  }
});

describe("invoices signed by the project's own signer", () => {
  it("stamps them so that xmlsec1 verifies the authority's and the seller's signature", async () => {
    for (const seller of [rsa, ec]) {
      const stamped = await stamp(seller.invoice(), seller.apiKey);
      expect(xmlsecVerifiesAuthority(stamped).ok).toBe(true);
      expect(xmlsecVerifiesSeller(stamped).ok).toBe(true);
    }
  });

  it("xmlsec1 refuses a stamped invoice whose code was changed afterwards (the check can fail)", async () => {
    const stamped = await stamp(rsa.invoice(), rsa.apiKey);
    const code = /<MCCQT [^>]*>([0-9A-F]{34})</.exec(stamped)![1]!;
    const forged = stamped.replace(`>${code}<`, `>${code.slice(0, 33)}${code.endsWith("0") ? "1" : "0"}<`);
    expect(xmlsecVerifiesAuthority(forged).ok).toBe(false);
    expect(xmlsecVerifiesSeller(forged).ok).toBe(true);
  });
});

describe("the XSD", () => {
  it("accepts every committed xmlsec1 fixture with xmllint", () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".xml"));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const r = xmllint(readFileSync(join(FIXTURES, f), "utf8"));
      expect(r.ok, `${f}: ${r.output}`).toBe(true);
    }
  });

  it("refuses an invoice without a required field with xmllint too", () => {
    const r = xmllint(buildInvoice({ sellerTaxCode: rsa.taxCode }).replace(/<NLap>[^<]*<\/NLap>/, ""));
    expect(r.ok).toBe(false);
  });
});
