/**
 * The invoice's digest (api.md: `digest`, the SHA-256 of the signed DLHDon, base64; the code binds
 * it, invoice-format.md §5) is SHA-256 over DLHDon's C14N 1.0 octets whatever the seller signed
 * with: the gate reuses the seller's own octets and their digest when its Reference used exactly
 * C14N 1.0 and SHA-256, and computes them afresh otherwise. The oracle is xml-crypto's C14N 1.0
 * over an @xmldom DOM and node:crypto's SHA-256.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { DOMParser } from "@xmldom/xmldom";
import { describe, expect, it } from "vitest";
import { C14nCanonicalization } from "xml-crypto";
import { signedDataDigest } from "../../src/domain/submit.js";
import { buildInvoice } from "../helpers/invoice.js";
import { verifiedSeller } from "../helpers/oracle.js";
import { type SignOptions, signInvoice } from "../helpers/sign.js";

const certs = new URL("../../certs/", import.meta.url);
const read = (f: string) => readFileSync(new URL(f, certs), "utf8");
const RSA = { keyPem: read("seller-0100000010-rsa.key"), certPem: read("seller-0100000010-rsa.pem") };
const EC = { keyPem: read("seller-0310000024-ec.key"), certPem: read("seller-0310000024-ec.pem") };

function gateDigest(xml: string): string {
  const v = verifiedSeller(xml, false);
  if (!v.ok) throw new Error(`not verified: ${JSON.stringify(v.faults)}`);
  return signedDataDigest(v.value.verified, v.value.doc.dlhdon);
}

function oracleDigest(xml: string): string {
  const dom = new DOMParser().parseFromString(xml, "application/xml");
  const dlhdon = dom.getElementsByTagName("DLHDon")[0];
  if (!dlhdon) throw new Error("no DLHDon");
  // C14N 1.0 of a subset renders the namespaces its ancestors declare (xml-crypto's SignedXml passes them the same way).
  const root = dom.documentElement!;
  const ancestorNamespaces = Array.from(root.attributes)
    .filter((a) => a.prefix === "xmlns")
    .map((a) => ({ prefix: a.localName!, namespaceURI: a.value }));
  const canonical = new C14nCanonicalization().process(dlhdon as never, { ancestorNamespaces });
  return createHash("sha256").update(canonical, "utf8").digest("base64");
}

describe("the invoice's digest", () => {
  const unsigned = buildInvoice({ sellerTaxCode: "0100000010", buyer: { name: "Công ty TNHH Ánh Dương & Cộng sự <HN>", address: "Số 1 \"Tràng Tiền\", Hà Nội" } });
  const variants: [string, Omit<SignOptions, "keyPem" | "certPem">, typeof RSA][] = [
    ["C14N 1.0 and SHA-256 (the seller's digest reused)", {}, RSA],
    ["C14N 1.0 and SHA-256 under ECDSA", {}, EC],
    ["C14N 1.0 and SHA-512 (the octets reused, SHA-256 computed)", { digest: "http://www.w3.org/2001/04/xmlenc#sha512" }, RSA],
    ["exclusive C14N and SHA-256 (C14N 1.0 computed)", { c14n: "exclusive" }, RSA],
    ["C14N 1.0 with comments (C14N 1.0 computed)", { c14n: "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments" }, RSA],
  ];

  it.each(variants)("is SHA-256 of DLHDon's C14N 1.0 octets when the seller signed with %s", (_label, opts, key) => {
    const signed = signInvoice(unsigned, { ...key, ...opts });
    expect(gateDigest(signed)).toBe(oracleDigest(signed));
  });

  // A namespace declared on HDon is in DLHDon's C14N 1.0 octets and not in its exclusive ones:
  // the digest is of the former, whichever the seller signed.
  const namespaced = unsigned.replace("<HDon>", '<HDon xmlns:inv="urn:hoadon:test">');
  it.each([["C14N 1.0", "inclusive"], ["exclusive C14N", "exclusive"]] as const)("takes the namespaces HDon declares into the digest when the seller signed with %s", (_label, c14n) => {
    expect(namespaced).not.toBe(unsigned);
    const signed = signInvoice(namespaced, { ...RSA, c14n });
    const digest = gateDigest(signed);
    expect(digest).toBe(oracleDigest(signed));
    expect(digest).not.toBe(gateDigest(signInvoice(unsigned, RSA)));
  });

  it("does not depend on how the seller signed the same DLHDon", () => {
    const digests = new Set(variants.map(([, opts, key]) => gateDigest(signInvoice(unsigned, { ...key, ...opts }))));
    expect(digests.size).toBe(1);
  });
});
