/**
 * The stamp without a tree (src/xml/stamp.ts): the canonical forms of MCCQT, the CQT Object and
 * SignedInfo are written from templates and what they inherit where they are inserted. Held here
 * against the canonicalizer over the stamped text, against xmlsec1 where it is installed, and for
 * every DLHDon Id the profile accepts; an Id that would need escaping is refused by the profile.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { authorityKeyFromPem } from "../../src/authority.js";
import { generateDevAuthority } from "../../src/secrets.js";
import { C14N, digestBase64 } from "../../src/xml/algorithms.js";
import { canonicalize } from "../../src/xml/canonical.js";
import { authorityRules, readInvoiceDocument, readSellerSignature } from "../../src/xml/invoice-document.js";
import { parseXml } from "../../src/xml/parse.js";
import { type AuthorityKey, stamp } from "../../src/xml/stamp.js";
import { readSignature, verifyProfile } from "../../src/xml/verify.js";
import { buildInvoice } from "../helpers/invoice.js";
import { signInvoice, xmlsec1Available } from "../helpers/sign.js";

const certs = new URL("../../certs/", import.meta.url);
const read = (f: string) => readFileSync(new URL(f, certs), "utf8");
const RSA = { keyPem: read("seller-0100000010-rsa.key"), certPem: read("seller-0100000010-rsa.pem") };
let authority: AuthorityKey;
let authorityPem: string;

beforeAll(async () => {
  const dev = await generateDevAuthority("ec");
  authority = authorityKeyFromPem(dev.keyPem, dev.certPem);
  authorityPem = dev.certPem;
});

function frame(xml: string) {
  const p = parseXml(xml, "HDon");
  if (!p.ok) throw new Error(JSON.stringify(p.faults));
  return readInvoiceDocument(p.value);
}

function stamped(xml: string): string {
  const doc = frame(xml);
  if (!doc.ok) throw new Error(JSON.stringify(doc.faults));
  return stamp(doc.value, "00AB12CD34EF5678901234567890ABCDEF", new Date("2026-11-20T03:00:00Z"), authority, digestBase64("sha256", canonicalize(doc.value.dlhdon, C14N)), null).xml;
}

/** Our verifier on the CQT signature of a stamped document. */
function cqtVerifies(xml: string): boolean {
  const doc = frame(xml);
  if (!doc.ok) return false;
  const p = readSignature(doc.value.authoritySignatures[0]!, doc.value.parsed, authorityRules(doc.value, false));
  return p.ok && verifyProfile(p.value).ok;
}

function xmlsec1VerifiesCqt(xml: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), "hoadon-stamp-"));
  try {
    writeFileSync(join(dir, "d.xml"), xml);
    writeFileSync(join(dir, "a.pem"), authorityPem);
    const ids = ["--id-attr:Id", "DLHDon", "--id-attr:Id", "MCCQT", "--id-attr:Id", "http://www.w3.org/2000/09/xmldsig#:Object"];
    const xpath = "//*[local-name()='CQT']/*[local-name()='Signature']";
    const r = spawnSync("xmlsec1", ["--verify", "--pubkey-cert-pem", join(dir, "a.pem"), ...ids, "--node-xpath", xpath, join(dir, "d.xml")], { encoding: "utf8" });
    return r.status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("DLHDon Ids", () => {
  for (const id of ["a&b", "a<b", 'a"b', "a b", "1abc", "a:b"]) {
    it(`refuses the Id ${JSON.stringify(id)} in the profile (SIGNATURE_PROFILE), before anything is stamped`, () => {
      const esc = id.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");
      const xml = buildInvoice({ sellerTaxCode: "0100000010", dlhdonId: "PLACEHOLDER" }).replace('Id="PLACEHOLDER"', `Id="${esc}"`);
      const doc = frame(xml);
      expect(doc.ok).toBe(false);
      if (!doc.ok) expect(doc.faults.map((f) => f.code)).toContain("SIGNATURE_PROFILE");
    });
  }
});

describe("the stamp in its context", () => {
  const contexts: [string, (x: string) => string][] = [
    ["a plain HDon", (x) => x],
    [
      "xml:lang and xml:space on HDon, a prefix declared on HDon and on DSCKS",
      (x) => x.replace("<HDon>", `<HDon xml:lang="vi" xmlns:b="urn:b" xml:space="preserve">`).replace("<DSCKS>", `<DSCKS xmlns:a="urn:a" xml:lang="en">`),
    ],
  ];
  for (const id of ["SigningData", "dữLiệu", "_x.y-z"]) {
    for (const [name, edit] of contexts) {
      it(`verifies for the Id ${JSON.stringify(id)}, ${name}: with our verifier${xmlsec1Available() ? " and with xmlsec1" : ""}; the seller's signature still verifies`, () => {
        const signed = signInvoice(edit(buildInvoice({ sellerTaxCode: "0100000010", dlhdonId: id })), RSA);
        const out = stamped(signed);
        expect(cqtVerifies(out)).toBe(true);
        const doc = frame(out);
        if (!doc.ok) throw new Error("stamped document has no frame");
        const seller = readSellerSignature(doc.value, false);
        expect(seller.ok && verifyProfile(seller.value).ok).toBe(true);
        if (xmlsec1Available()) expect(xmlsec1VerifiesCqt(out)).toBe(true);
        // A changed inherited attribute breaks the authority's signature (it is signed through C14N 1.0).
        if (out.includes('xml:lang="vi"')) expect(cqtVerifies(out.replace('xml:lang="vi"', 'xml:lang="fr"'))).toBe(false);
      });
    }
  }
});
