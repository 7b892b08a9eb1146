/**
 * The real production messages of 2021 (../shared/interop): both the seller's and the tax
 * authority's signatures verify cryptographically through our verifier (trust is out of scope:
 * their certificates chain to Vietnamese CAs and have expired), and a one-byte change breaks them.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { authorityRules, readInvoiceDocument, readSellerSignature } from "../../src/xml/invoice-document.js";
import { focus, parseXml } from "../../src/xml/parse.js";
import { readSignature, verifyProfile } from "../../src/xml/verify.js";

const sample = (name: string) => readFileSync(new URL(`../../../shared/interop/${name}`, import.meta.url));

function hdonOf(bytes: Uint8Array) {
  const parsed = parseXml(bytes, "TDiep");
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.faults));
  const hdon = parsed.value.root.getElementsByTagName("HDon")[0]!;
  const doc = readInvoiceDocument(focus(parsed.value, hdon));
  if (!doc.ok) throw new Error(JSON.stringify(doc.faults));
  return doc.value;
}

function verifySeller(bytes: Uint8Array) {
  const profile = readSellerSignature(hdonOf(bytes), true);
  if (!profile.ok) return profile;
  return verifyProfile(profile.value);
}

function verifyAuthority(bytes: Uint8Array) {
  const doc = hdonOf(bytes);
  const profile = readSignature(doc.authoritySignatures[0]!, doc.parsed, authorityRules(doc, false));
  if (!profile.ok) return profile;
  return verifyProfile(profile.value);
}

describe("real 2021 messages", () => {
  it("verifies the seller's rsa-sha1 signature of message 01 (exclusive C14N, SigningTime reference)", () => {
    const v = verifySeller(sample("01_msg200_invoice_sent_for_code_seller_signed.xml"));
    expect(v.ok, JSON.stringify(!v.ok && v.faults)).toBe(true);
    if (v.ok) expect(v.value.signingTime?.toISOString()).toBe("2021-11-26T23:43:19.000Z");
  });

  it("verifies both the seller's and the authority's signature of message 03", () => {
    const bytes = sample("03_msg202_invoice_with_MCCQT_and_CQT_signature.xml");
    const seller = verifySeller(bytes);
    expect(seller.ok, JSON.stringify(!seller.ok && seller.faults)).toBe(true);
    const cqt = verifyAuthority(bytes);
    expect(cqt.ok, JSON.stringify(!cqt.ok && cqt.faults)).toBe(true);
    if (cqt.ok) expect(cqt.value.profile.references).toHaveLength(3);
  });

  it("refuses message 01's seller signature while legacy SHA-1 is off (ALGORITHM_NOT_ALLOWED)", () => {
    const profile = readSellerSignature(hdonOf(sample("01_msg200_invoice_sent_for_code_seller_signed.xml")), false);
    expect(profile.ok).toBe(false);
    if (!profile.ok) expect(profile.faults[0]!.code).toBe("ALGORITHM_NOT_ALLOWED");
  });

  it("catches a changed amount in message 03: both signatures fail (SIGNATURE_INVALID)", () => {
    const text = sample("03_msg202_invoice_with_MCCQT_and_CQT_signature.xml").toString("utf8");
    const forged = Buffer.from(text.replace("<TgTTTBSo>3200000.0000</TgTTTBSo>", "<TgTTTBSo>3200001.0000</TgTTTBSo>"));
    for (const v of [verifySeller(forged), verifyAuthority(forged)]) {
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.faults[0]!.code).toBe("SIGNATURE_INVALID");
    }
  });

  it("catches a changed MCCQT in message 03 (SIGNATURE_INVALID on the authority's signature only)", () => {
    const text = sample("03_msg202_invoice_with_MCCQT_and_CQT_signature.xml").toString("utf8");
    const forged = Buffer.from(text.replace("00B7ED1EE40D31479DAE6D8235E8549FB3", "00B7ED1EE40D31479DAE6D8235E8549FB4"));
    expect(verifySeller(forged).ok).toBe(true);
    const cqt = verifyAuthority(forged);
    expect(cqt.ok).toBe(false);
  });
});
