/**
 * The signer's certificate policy (issue 14, item 6): RSA-1024, an extendedKeyUsage for TLS
 * servers only and a certificate without keyUsage were accepted. Refused now (CERT_UNTRUSTED),
 * with the key allow-list: RSA ≥ 2048 bits with exponent 65537 (RSA-1024 only under
 * HOADON_ALLOW_RSA1024), EC on P-256, P-384 or P-521.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { beforeAll, describe, expect, it } from "vitest";
import { TrustStore } from "../../src/pki/trust.js";
import { randomTaxCode } from "../helpers/invoice.js";
import { issueSellerCert, makeTestCa, type NodeKeySpec, pemToDer, type TestCa } from "../helpers/pki.js";

let ca: TestCa;
let strict: TrustStore;
let legacy: TrustStore;

beforeAll(async () => {
  ca = await makeTestCa({ keyType: "rsa" });
  const material = { anchors: [pemToDer(ca.root.certPem)], intermediates: [pemToDer(ca.issuing.certPem)], crls: [] };
  strict = new TrustStore(material);
  legacy = new TrustStore(material, { allowRsa1024: true });
});

async function signer(o: { nodeKey?: NodeKeySpec; eku?: string[]; keyUsage?: ("digitalSignature" | "nonRepudiation" | "keyEncipherment")[] | null } = {}) {
  const taxCode = randomTaxCode();
  const cert = await issueSellerCert({
    taxCode,
    issuer: ca.issuing,
    ...(o.nodeKey ? { nodeKey: o.nodeKey } : {}),
    ...(o.keyUsage !== undefined ? { keyUsage: o.keyUsage } : {}),
    ...(o.eku ? { extensions: [new x509.ExtendedKeyUsageExtension(o.eku, false)] } : {}),
  });
  return { taxCode, der: cert.der };
}

const verdict = (store: TrustStore, s: { taxCode: string; der: Uint8Array }) => {
  const r = store.verifySigner(s.der, [], new Date(), s.taxCode);
  return r.ok ? "ok" : `${r.faults[0]!.code}: ${r.faults.map((f) => f.message).join(" ")}`;
};

describe("the signer's key", () => {
  it("refuses RSA-1024 (CERT_UNTRUSTED naming HOADON_ALLOW_RSA1024) and accepts it under the legacy switch", async () => {
    const s = await signer({ nodeKey: { type: "rsa", bits: 1024 } });
    expect(verdict(strict, s)).toMatch(/^CERT_UNTRUSTED: .*1024 bits.*HOADON_ALLOW_RSA1024/);
    expect(verdict(legacy, s)).toBe("ok");
  });

  it("refuses RSA keys under 1024 bits even under the switch", async () => {
    const s = await signer({ nodeKey: { type: "rsa", bits: 768 } });
    expect(verdict(legacy, s)).toMatch(/^CERT_UNTRUSTED: .*768 bits/);
  });

  it("accepts RSA 2048 and 3072 with exponent 65537, refuses exponent 3 and 17", async () => {
    expect(verdict(strict, await signer({ nodeKey: { type: "rsa", bits: 2048 } }))).toBe("ok");
    expect(verdict(strict, await signer({ nodeKey: { type: "rsa", bits: 3072 } }))).toBe("ok");
    for (const exponent of [3, 17]) expect(verdict(legacy, await signer({ nodeKey: { type: "rsa", bits: 2048, exponent } }))).toMatch(new RegExp(`^CERT_UNTRUSTED: .*exponent is ${exponent}`));
  });

  it("accepts EC on P-256, P-384 and P-521, refuses secp256k1", async () => {
    for (const curve of ["prime256v1", "secp384r1", "secp521r1"]) expect(verdict(strict, await signer({ nodeKey: { type: "ec", curve } })), curve).toBe("ok");
    expect(verdict(legacy, await signer({ nodeKey: { type: "ec", curve: "secp256k1" } }))).toMatch(/^CERT_UNTRUSTED: .*secp256k1/);
  });
});

describe("the signer's usages", () => {
  it("refuses a certificate without keyUsage, and one whose keyUsage allows neither digitalSignature nor nonRepudiation", async () => {
    expect(verdict(strict, await signer({ keyUsage: null }))).toMatch(/^CERT_UNTRUSTED: .*no keyUsage/);
    expect(verdict(strict, await signer({ keyUsage: ["keyEncipherment"] }))).toMatch(/^CERT_UNTRUSTED: .*neither digitalSignature nor nonRepudiation/);
  });

  it("refuses an extendedKeyUsage for TLS servers (or time stamping, or code signing) only", async () => {
    for (const eku of [["1.3.6.1.5.5.7.3.1"], ["1.3.6.1.5.5.7.3.8"], ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.3"]]) {
      expect(verdict(strict, await signer({ eku })), eku.join()).toMatch(/^CERT_UNTRUSTED: .*does not allow signing documents/);
    }
  });

  it("accepts the extendedKeyUsage of Vietnamese seller certificates, document signing and any purpose", async () => {
    for (const eku of [
      ["1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.4", "1.3.6.1.4.1.311.10.3.12", "1.2.840.113583.1.1.5"],
      ["1.3.6.1.4.1.311.10.3.12", "1.3.6.1.5.5.7.3.4"],
      ["1.3.6.1.5.5.7.3.36"],
      ["2.5.29.37.0"],
      ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"],
    ]) {
      expect(verdict(strict, await signer({ eku })), eku.join()).toBe("ok");
    }
  });
});
