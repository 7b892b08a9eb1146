/**
 * ECDSA values as XMLDSig carries them (r‖s) converted here to and from DER, so that Node signs and
 * verifies with the bare KeyObject (src/xml/algorithms.ts): checked against Node's own
 * `dsaEncoding: "ieee-p1363"` in both directions, on every curve the trust policy admits.
 */
import { generateKeyPairSync, randomBytes, sign, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ecdsaDerToP1363, ecdsaP1363ToDer, SIGNATURE_METHODS, signValue, verifySignatureValue } from "../../src/xml/algorithms.js";

const CURVES = [
  ["prime256v1", 32, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"],
  ["secp384r1", 48, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"],
  ["secp521r1", 66, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"],
] as const;

describe.each(CURVES)("ECDSA r‖s on %s", (curve, size, uri) => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
  const method = SIGNATURE_METHODS[uri]!;

  it("what signValue writes, Node verifies as ieee-p1363; what Node writes as ieee-p1363, verifySignatureValue accepts", () => {
    for (let i = 0; i < 120; i++) {
      const data = randomBytes(1 + (i % 97));
      const ours = Buffer.from(signValue(method, privateKey, data), "base64");
      expect(ours.length).toBe(2 * size);
      expect(verify(method.hash, data, { key: publicKey, dsaEncoding: "ieee-p1363" }, ours)).toBe(true);
      const node = sign(method.hash, data, { key: privateKey, dsaEncoding: "ieee-p1363" });
      expect(verifySignatureValue(method, publicKey, data, node)).toBe(true);
      // One bit off anywhere, or another message: refused, as Node refuses it.
      const bad = Buffer.from(node);
      bad[i % bad.length]! ^= 1 << (i % 8);
      expect(verifySignatureValue(method, publicKey, data, bad)).toBe(verify(method.hash, data, { key: publicKey, dsaEncoding: "ieee-p1363" }, bad));
      expect(verifySignatureValue(method, publicKey, Buffer.concat([data, Buffer.of(0)]), node)).toBe(false);
    }
  });

  it("DER and r‖s convert into each other exactly, leading zeros and high bits included", () => {
    const edge = (r: number[], s: number[]) => {
      const v = Buffer.alloc(2 * size);
      v.set(r, size - r.length);
      v.set(s, 2 * size - s.length);
      return v;
    };
    const values = [edge([1], [0x80]), edge([0x7f, 0xff], [0]), edge(Array(size).fill(0xff), [1, 0, 0]), ...Array.from({ length: 300 }, () => randomBytes(2 * size))];
    for (let i = 0; i < 40; i++) values.push(Buffer.concat([Buffer.alloc(i % size), randomBytes(size - (i % size)), Buffer.alloc(i % 3), randomBytes(size - (i % 3))]));
    for (const v of values) {
      const der = ecdsaP1363ToDer(v, size)!;
      expect(ecdsaDerToP1363(der, size).equals(v)).toBe(true);
      // A SEQUENCE whose length says all of it (P-521's needs the long form).
      expect(der[0]).toBe(0x30);
      expect(der.length).toBe(der[1]! & 0x80 ? 3 + der[2]! : 2 + der[1]!);
    }
    // Node's DER signatures (minimal INTEGERs, a 0x00 before a high bit) come out as Node's r‖s would.
    for (let i = 0; i < 100; i++) {
      const data = randomBytes(32);
      const der = sign(method.hash, data, privateKey);
      expect(ecdsaP1363ToDer(ecdsaDerToP1363(der, size), size)!.equals(der)).toBe(true);
    }
  });

  it("an r‖s of another length never verifies; a malformed DER is refused, not misread", () => {
    const data = randomBytes(16);
    const good = sign(method.hash, data, { key: privateKey, dsaEncoding: "ieee-p1363" });
    expect(ecdsaP1363ToDer(good.subarray(1), size)).toBeNull();
    expect(verifySignatureValue(method, publicKey, data, good.subarray(1))).toBe(false);
    expect(verifySignatureValue(method, publicKey, data, Buffer.concat([good, Buffer.of(0)]))).toBe(false);
    const der = sign(method.hash, data, privateKey);
    for (const broken of [der.subarray(0, der.length - 1), Buffer.concat([der, Buffer.of(0)]), Buffer.from([0x31, ...der.subarray(1)]), Buffer.alloc(0)]) {
      expect(() => ecdsaDerToP1363(broken, size)).toThrow(/DER ECDSA/);
    }
  });
});

describe("ECDSA keys outside the curves' table", () => {
  it("verify to false rather than by a guessed size", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "secp256k1" });
    const method = SIGNATURE_METHODS["http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"]!;
    const data = randomBytes(16);
    const sig = sign("sha256", data, { key: privateKey, dsaEncoding: "ieee-p1363" });
    expect(verifySignatureValue(method, publicKey, data, sig)).toBe(false);
    expect(() => signValue(method, privateKey, data)).toThrow(/no r‖s size/);
  });
});
