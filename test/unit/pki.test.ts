import "reflect-metadata"; // before @peculiar/x509 is evaluated (its decorators need it)
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as x509 from "@peculiar/x509";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { ErrorCode, Result } from "../../src/errors.js";
import { parseCertificate, parsePemBundle, pemOrDerToDer, tryParseCertificate, UID_OID } from "../../src/pki/certificate.js";
import { type TrustMaterial, TrustStore } from "../../src/pki/trust.js";
import { loadTrust } from "../../src/pki/trust-files.js";
import {
  defaultHierarchy,
  devCaAvailable,
  type IssuedCert,
  issueCertificate,
  issueSellerCert,
  makeCrl,
  makeTestCa,
  pemToDer,
  type TestCa,
} from "../helpers/pki.js";

const DAY = 86_400_000;
const YEAR = 365 * DAY;
const now = () => new Date();
const ago = (ms: number) => new Date(Date.now() - ms);
const ahead = (ms: number) => new Date(Date.now() + ms);

/** A unique valid-looking 10-digit MST per test, so no two tests share a seller. */
let mstCounter = 0;
const mst = () => `01${String(Date.now()).slice(-5)}${String(++mstCounter).padStart(3, "0")}`;

function material(ca: TestCa, extra: Partial<TrustMaterial> = {}): TrustMaterial {
  return {
    anchors: parsePemBundle(ca.anchorsPem),
    intermediates: parsePemBundle(ca.intermediatesPem),
    crls: [],
    ...extra,
  };
}

function codes<T>(r: Result<T>): ErrorCode[] {
  return r.ok ? [] : r.faults.map((f) => f.code);
}

/** The codes of the refusing stage, once each (a stage may report several faults). */
function stage<T>(r: Result<T>): ErrorCode[] {
  return [...new Set(codes(r))];
}

function messages<T>(r: Result<T>): string {
  return r.ok ? "" : r.faults.map((f) => f.message).join(" | ");
}

const quiet = () => vi.fn<(m: string) => void>();

let ec: TestCa; // EC root + issuing CA
let rsa: TestCa; // RSA root + issuing CA
let other: TestCa; // a CA that is not configured anywhere

beforeAll(async () => {
  [ec, rsa, other] = await Promise.all([makeTestCa({ keyType: "ec" }), makeTestCa({ keyType: "rsa" }), makeTestCa({ keyType: "ec" })]);
}, 60_000);

describe("parseCertificate", () => {
  it("reads serial, names, validity, key usage and the UID=MST tax code of a seller certificate", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing });
    const c = parseCertificate(seller.der);
    expect(c.serial).toBe(seller.serialHex);
    expect(c.serial).toMatch(/^[0-9A-F]+$/);
    expect(c.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(c.subject).toBe(`UID=MST:${taxCode},CN=CONG TY TEST ${taxCode},O=Test seller ${taxCode},C=VN`);
    expect(c.issuer).toContain("Issuing CA");
    expect(c.taxCode).toBe(taxCode);
    expect(c.isCA).toBe(false);
    expect(c.keyUsage).toMatchObject({ digitalSignature: true, nonRepudiation: true, keyCertSign: false });
    expect(c.publicKey.asymmetricKeyType).toBe("ec");
    expect(c.notBefore.getTime()).toBeLessThan(Date.now());
    expect(c.pem).toBe(seller.certPem);
    expect(c.problems).toEqual([]);
  });

  it("prints the serial as openssl x509 -serial does, even when the high bit needs a sign byte", async () => {
    const cert = await issueCertificate({ subject: "CN=serial test", keyType: "ec", issuer: ec.issuing, serialHex: "80a1b2c3d4e5f60718293a4b5c6d7e8f" });
    expect(parseCertificate(cert.der).serial).toBe("80A1B2C3D4E5F60718293A4B5C6D7E8F");
    const openssl = opensslSerial(cert.certPem);
    if (openssl !== null) expect(parseCertificate(cert.der).serial).toBe(openssl);
  });

  it.each([
    ["0100000010", "0100000010"],
    ["0100000010-001", "0100000010-001"],
    ["012345678901", "012345678901"],
    ["12345", null],
    ["0100000010 ", null],
    ["0100000010-1", null],
  ])("reads UID=MST:%s as tax code %s", async (value, expected) => {
    const cert = await issueCertificate({ subject: [{ CN: ["x"] }, { [UID_OID]: [`MST:${value}`] }], keyType: "ec", issuer: ec.issuing });
    expect(parseCertificate(cert.der).taxCode).toBe(expected);
  });

  it("gives no tax code when the subject carries two different MSTs", async () => {
    const cert = await issueCertificate({
      subject: [{ CN: ["x"] }, { [UID_OID]: ["MST:0100000010"] }, { [UID_OID]: ["MST:0100000011"] }],
      keyType: "ec",
      issuer: ec.issuing,
    });
    expect(parseCertificate(cert.der).taxCode).toBeNull();
  });

  it("returns the cached object for the same bytes and refuses what is not a certificate", async () => {
    const seller = await issueSellerCert({ taxCode: mst(), keyType: "ec", issuer: ec.issuing });
    expect(parseCertificate(Uint8Array.from(seller.der))).toBe(parseCertificate(seller.der));
    expect(() => parseCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).toThrow();
    expect(tryParseCertificate(new Uint8Array([1, 2, 3]))).toBeNull();
    expect(() => parseCertificate(new Uint8Array([...seller.der, 0]))).toThrow();
  });

  it("converts PEM bundles and PEM-or-DER input to DER", async () => {
    const bundle = ec.anchorsPem + ec.intermediatesPem;
    const ders = parsePemBundle(bundle);
    expect(ders).toHaveLength(2);
    expect(pemOrDerToDer(new TextEncoder().encode(ec.intermediatesPem))).toEqual(ders[1]);
    expect(pemOrDerToDer(ders[0]!)).toEqual(ders[0]);
    expect(() => pemOrDerToDer("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n")).toThrow();
  });
});

const INTEROP = fileURLToPath(new URL("../../../shared/interop/", import.meta.url));
const interop03 = join(INTEROP, "03_msg202_invoice_with_MCCQT_and_CQT_signature.xml");

describe.skipIf(!existsSync(interop03))("a real 2021 seller certificate (shared/interop/03)", () => {
  const der = () => {
    const b64 = /<X509Certificate>([^<]+)<\/X509Certificate>/.exec(readFileSync(interop03, "utf8"))![1]!;
    return new Uint8Array(Buffer.from(b64.replace(/\s+/g, ""), "base64"));
  };

  it("reads its serial, UID=MST tax code and Vietnamese subject", () => {
    const c = parseCertificate(der());
    expect(c.serial).toBe("5401010931E8B54C16B56C00E7083FD3");
    expect(c.taxCode).toBe("0202029650");
    expect(c.subject).toBe("UID=MST:0202029650,CN=CÔNG TY CỔ PHẦN PHÁT TRIỂN VÀ ỨNG DỤNG PHẦN MỀM BÁCH KHOA,C=VN");
    expect(c.keyUsage).toMatchObject({ digitalSignature: true, nonRepudiation: true });
  });

  it("is not trusted when its CA (NEWTEL-CA v2) is not configured", () => {
    expect(codes(new TrustStore(material(ec)).verifySigner(der(), [], new Date("2021-06-01T00:00:00Z"), "0202029650"))).toEqual(["CERT_UNTRUSTED"]);
  });
});

describe("TrustStore.verifySigner: chain (CERT_UNTRUSTED)", () => {
  it("trusts an RSA seller certificate issued by the configured EC issuing CA", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "rsa", issuer: ec.issuing });
    const r = new TrustStore(material(ec)).verifySigner(seller.der, [seller.der], now(), taxCode);
    expect(r).toMatchObject({ ok: true, value: { taxCode, serial: seller.serialHex } });
  });

  it("trusts an EC seller certificate issued by a configured RSA issuing CA", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: rsa.issuing });
    const r = new TrustStore(material(rsa)).verifySigner(seller.der, [], now(), taxCode);
    expect(r.ok).toBe(true);
  });

  it("builds the chain through an intermediate supplied only in KeyInfo", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing });
    const store = new TrustStore(material(ec, { intermediates: [] }));
    expect(store.verifySigner(seller.der, [seller.der, pemToDer(ec.issuing.certPem)], now(), taxCode).ok).toBe(true);
  });

  it("refuses a chain whose intermediate is neither configured nor in KeyInfo", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing });
    const r = new TrustStore(material(ec, { intermediates: [] })).verifySigner(seller.der, [seller.der], now(), taxCode);
    expect(codes(r)).toEqual(["CERT_UNTRUSTED"]);
    expect(messages(r)).toMatch(/No issuer certificate/);
  });

  it("refuses a certificate whose root is not a trust anchor, even with its whole chain in KeyInfo", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: other.issuing });
    const keyInfo = [seller.der, pemToDer(other.issuing.certPem), pemToDer(other.root.certPem)];
    const r = new TrustStore(material(ec)).verifySigner(seller.der, keyInfo, now(), taxCode);
    expect(codes(r)).toContain("CERT_UNTRUSTED");
    expect(messages(r)).toMatch(/self-signed and is not a configured trust anchor/);
  });

  it("never trusts a KeyInfo self-signed certificate that copies the subject of the configured issuing CA", async () => {
    const taxCode = mst();
    const realIssuing = parseCertificate(pemToDer(ec.issuing.certPem));
    const fakeIssuing = await issueCertificate({ subject: nameOf(ec.issuing), keyType: "ec", ca: true });
    expect(parseCertificate(fakeIssuing.der).subject).toBe(realIssuing.subject);
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: fakeIssuing });
    const r = new TrustStore(material(ec)).verifySigner(seller.der, [seller.der, fakeIssuing.der], now(), taxCode);
    expect(codes(r)).toContain("CERT_UNTRUSTED");
    expect(r.ok).toBe(false);
  });

  it("never trusts a forged root with the anchor's subject and a forged intermediate under it", async () => {
    const taxCode = mst();
    const fakeRoot = await issueCertificate({ subject: nameOf(ec.root), keyType: "ec", ca: true });
    const fakeIssuing = await issueCertificate({ subject: nameOf(ec.issuing), keyType: "ec", ca: true, issuer: fakeRoot });
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: fakeIssuing });
    const r = new TrustStore(material(ec)).verifySigner(seller.der, [seller.der, fakeIssuing.der, fakeRoot.der], now(), taxCode);
    expect(codes(r)).toContain("CERT_UNTRUSTED");
    expect(messages(r)).toMatch(/does not verify with the key of/);
  });

  it("refuses a self-signed seller certificate", async () => {
    const taxCode = mst();
    const selfSigned = await issueCertificate({ subject: [{ CN: ["me"] }, { [UID_OID]: [`MST:${taxCode}`] }], keyType: "ec" });
    const r = new TrustStore(material(ec)).verifySigner(selfSigned.der, [selfSigned.der], now(), taxCode);
    expect(codes(r)).toEqual(["CERT_UNTRUSTED"]);
  });

  it("refuses a chain through an end-entity certificate posing as an intermediate", async () => {
    const taxCode = mst();
    const notCa = await issueCertificate({ subject: "CN=Not a CA", keyType: "ec", issuer: ec.issuing, keyUsage: ["digitalSignature", "keyCertSign"] });
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: notCa });
    const r = new TrustStore(material(ec)).verifySigner(seller.der, [notCa.der], now(), taxCode);
    expect(codes(r)).toEqual(["CERT_UNTRUSTED"]);
    expect(messages(r)).toMatch(/is not a CA certificate/);
  });

  it("refuses a chain through a CA without keyCertSign", async () => {
    const taxCode = mst();
    const sub = await issueCertificate({ subject: "CN=No certsign CA", keyType: "ec", issuer: ec.root, ca: true, keyUsage: ["cRLSign"] });
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: sub });
    const r = new TrustStore(material(ec)).verifySigner(seller.der, [sub.der], now(), taxCode);
    expect(messages(r)).toMatch(/no keyCertSign/);
  });

  it("refuses a chain longer than the issuing CA's path length allows", async () => {
    const taxCode = mst();
    const sub = await issueCertificate({ subject: "CN=Sub CA under pathlen 0", keyType: "ec", issuer: ec.issuing, ca: true });
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: sub });
    const r = new TrustStore(material(ec)).verifySigner(seller.der, [sub.der], now(), taxCode);
    expect(codes(r)).toEqual(["CERT_UNTRUSTED"]);
    expect(messages(r)).toMatch(/allows 0 intermediate/);
  });

  it("refuses a chain deeper than the depth limit", async () => {
    const taxCode = mst();
    const root = await issueCertificate({ subject: "CN=Deep root", keyType: "ec", ca: true });
    let issuer: IssuedCert = root;
    const chain: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) {
      issuer = await issueCertificate({ subject: `CN=Deep ${i}`, keyType: "ec", ca: true, issuer });
      chain.push(issuer.der);
    }
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer });
    const store = new TrustStore({ anchors: [root.der], intermediates: [], crls: [] }, { maxDepth: 4 });
    expect(messages(store.verifySigner(seller.der, chain, now(), taxCode))).toMatch(/longer than 4/);
    const roomy = new TrustStore({ anchors: [root.der], intermediates: [], crls: [] });
    expect(roomy.verifySigner(seller.der, chain, now(), taxCode).ok).toBe(true);
  });

  it("refuses a signing certificate with an unhandled critical extension", async () => {
    const taxCode = mst();
    const seller = await issueCertificate({
      subject: [{ CN: ["x"] }, { [UID_OID]: [`MST:${taxCode}`] }],
      keyType: "ec",
      issuer: ec.issuing,
      extensions: [new x509.Extension("1.2.3.4.5", true, new Uint8Array([0x05, 0x00]))],
    });
    const r = new TrustStore(material(ec)).verifySigner(seller.der, [], now(), taxCode);
    expect(codes(r)).toEqual(["CERT_UNTRUSTED"]);
    expect(messages(r)).toMatch(/unhandled critical extension 1\.2\.3\.4\.5/);
  });

  it("refuses bytes that are not a certificate", () => {
    const r = new TrustStore(material(ec)).verifySigner(new Uint8Array([1, 2, 3]), [], now(), "0100000010");
    expect(codes(r)).toEqual(["CERT_UNTRUSTED"]);
  });
});

describe("TrustStore.verifySigner: may the certificate sign (CERT_UNTRUSTED)", () => {
  it("refuses a CA certificate as signer, saying it is a CA", async () => {
    const taxCode = mst();
    const caSigner = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.root, ca: true });
    const r = new TrustStore(material(ec)).verifySigner(caSigner.der, [], now(), taxCode);
    expect(stage(r)).toEqual(["CERT_UNTRUSTED"]);
    expect(messages(r)).toMatch(/is a CA certificate/);
    // keyCertSign + cRLSign only: the same stage also says the key usage does not allow signatures.
    expect(messages(r)).toMatch(/neither digitalSignature nor nonRepudiation/);
  });

  it("refuses the issuing CA's own certificate and a trust anchor as signer", () => {
    const store = new TrustStore(material(ec));
    expect(messages(store.verifySigner(pemToDer(ec.issuing.certPem), [], now(), "0100000010"))).toMatch(/is a CA certificate/);
    expect(messages(store.verifySigner(pemToDer(ec.root.certPem), [], now(), "0100000010"))).toMatch(/is a trust anchor/);
  });

  it("refuses an end-entity certificate whose key usage allows neither digitalSignature nor nonRepudiation", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "rsa", issuer: ec.issuing, keyUsage: ["keyEncipherment", "dataEncipherment"] });
    const r = new TrustStore(material(ec)).verifySigner(seller.der, [], now(), taxCode);
    expect(codes(r)).toEqual(["CERT_UNTRUSTED"]);
    expect(messages(r)).toMatch(/neither digitalSignature nor nonRepudiation/);
  });

  it("accepts nonRepudiation alone, and refuses a certificate without a keyUsage extension (issue 14)", async () => {
    const taxCode = mst();
    const store = new TrustStore(material(ec));
    const nr = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing, keyUsage: ["nonRepudiation"] });
    const none = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing, keyUsage: null });
    expect(store.verifySigner(nr.der, [], now(), taxCode).ok).toBe(true);
    const r = store.verifySigner(none.der, [], now(), taxCode);
    expect(codes(r)).toEqual(["CERT_UNTRUSTED"]);
    expect(messages(r)).toMatch(/no keyUsage extension/);
  });
});

describe("TrustStore.verifySigner: validity at the signing time (CERT_EXPIRED)", () => {
  it("refuses a certificate valid now that was not yet valid at the signing time", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing, notBefore: ago(DAY) });
    const store = new TrustStore(material(ec));
    expect(store.verifySigner(seller.der, [], now(), taxCode).ok).toBe(true);
    const r = store.verifySigner(seller.der, [], ago(2 * DAY), taxCode);
    expect(codes(r)).toEqual(["CERT_EXPIRED"]);
    expect(messages(r)).toMatch(/not valid before/);
  });

  it("refuses a certificate valid now that will have expired at a later signing time", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing, notAfter: ahead(DAY) });
    const r = new TrustStore(material(ec)).verifySigner(seller.der, [], ahead(2 * DAY), taxCode);
    expect(codes(r)).toEqual(["CERT_EXPIRED"]);
    expect(messages(r)).toMatch(/expired on/);
  });

  it("accepts a certificate expired now that was valid at the signing time", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing, notBefore: ago(30 * DAY), notAfter: ago(DAY) });
    const store = new TrustStore(material(ec));
    expect(codes(store.verifySigner(seller.der, [], now(), taxCode))).toEqual(["CERT_EXPIRED"]);
    expect(store.verifySigner(seller.der, [], ago(10 * DAY), taxCode).ok).toBe(true);
  });

  it("accepts a certificate not yet valid now that is valid at the signing time", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing, notBefore: ahead(DAY), notAfter: ahead(30 * DAY) });
    const store = new TrustStore(material(ec));
    expect(codes(store.verifySigner(seller.der, [], now(), taxCode))).toEqual(["CERT_EXPIRED"]);
    expect(store.verifySigner(seller.der, [], ahead(2 * DAY), taxCode).ok).toBe(true);
  });

  it("checks every CA certificate of the chain too, reporting all that are out of validity", async () => {
    const taxCode = mst();
    const shortCa = await issueCertificate({ subject: "CN=Short-lived CA", keyType: "ec", ca: true, issuer: ec.root, notBefore: ago(10 * DAY), notAfter: ago(DAY) });
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: shortCa, notBefore: ago(5 * DAY), notAfter: ago(2 * DAY) });
    const r = new TrustStore(material(ec)).verifySigner(seller.der, [shortCa.der], now(), taxCode);
    expect(codes(r)).toEqual(["CERT_EXPIRED", "CERT_EXPIRED"]);
    expect(messages(r)).toMatch(/The CA certificate 'CN=Short-lived CA' expired/);
    expect(new TrustStore(material(ec)).verifySigner(seller.der, [shortCa.der], ago(3 * DAY), taxCode).ok).toBe(true);
  });

  it("reports an untrusted chain before an expired certificate", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: other.issuing, notBefore: ago(30 * DAY), notAfter: ago(DAY) });
    expect(codes(new TrustStore(material(ec)).verifySigner(seller.der, [], now(), taxCode))).toEqual(["CERT_UNTRUSTED"]);
  });
});

describe("TrustStore.verifySigner: revocation (CERT_REVOKED)", () => {
  it("refuses a certificate listed on the issuing CA's CRL given as PEM", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing });
    const crl = await makeCrl(ec.issuing, ["0A0B", seller.serialHex]);
    const r = new TrustStore(material(ec, { crls: [new TextEncoder().encode(crl)] })).verifySigner(seller.der, [], now(), taxCode);
    expect(codes(r)).toEqual(["CERT_REVOKED"]);
    expect(messages(r)).toContain(seller.serialHex);
  });

  it("refuses a certificate listed on a CRL given as DER, from loadTrust files", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "rsa", issuer: rsa.issuing });
    const dir = mkdtempSync(join(tmpdir(), "hoadon-pki-"));
    writeFileSync(join(dir, "anchors.pem"), rsa.anchorsPem);
    writeFileSync(join(dir, "intermediates.pem"), rsa.intermediatesPem);
    writeFileSync(join(dir, "issuing.crl"), pemToDer(await makeCrl(rsa.issuing, [seller.serialHex.toLowerCase()])));
    const trust = loadTrust({ anchorsPath: join(dir, "anchors.pem"), intermediatesPath: join(dir, "intermediates.pem"), crlPaths: [join(dir, "issuing.crl")] });
    expect(trust.crls).toHaveLength(1);
    expect(codes(new TrustStore(trust).verifySigner(seller.der, [], now(), taxCode))).toEqual(["CERT_REVOKED"]);
  });

  it("refuses a certificate whose intermediate is revoked on the root's CRL", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing });
    const rootCrl = new TextEncoder().encode(await makeCrl(ec.root, [ec.issuing.serialHex]));
    const r = new TrustStore(material(ec, { crls: [rootCrl] })).verifySigner(seller.der, [], now(), taxCode);
    expect(codes(r)).toEqual(["CERT_REVOKED"]);
    expect(messages(r)).toMatch(/The CA certificate/);
  });

  it("ignores, with a warning, a CRL in the issuing CA's name that its key did not sign", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing });
    const forged = await makeCrl({ certPem: ec.issuing.certPem, keyPem: other.issuing.keyPem }, [seller.serialHex]);
    const warn = quiet();
    const store = new TrustStore(material(ec, { crls: [new TextEncoder().encode(forged)] }), { warn });
    expect(store.verifySigner(seller.der, [], now(), taxCode).ok).toBe(true);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/signature does not verify/));
    store.verifySigner(seller.der, [], now(), taxCode);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it("ignores a genuine CRL whose signature bytes were altered", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: rsa.issuing });
    const der = pemToDer(await makeCrl(rsa.issuing, [seller.serialHex]));
    der[der.length - 5] = der.at(-5)! ^ 0x01;
    const warn = quiet();
    expect(new TrustStore(material(rsa, { crls: [der] }), { warn }).verifySigner(seller.der, [], now(), taxCode).ok).toBe(true);
    expect(warn).toHaveBeenCalled();
  });

  it("does not apply another CA's CRL that lists the same serial", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing });
    const foreign = new TextEncoder().encode(await makeCrl(other.issuing, [seller.serialHex]));
    expect(new TrustStore(material(ec, { crls: [foreign] }), { warn: quiet() }).verifySigner(seller.der, [], now(), taxCode).ok).toBe(true);
  });

  it("reports an expired certificate before a revoked one", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing, notBefore: ago(30 * DAY), notAfter: ago(DAY) });
    const crl = new TextEncoder().encode(await makeCrl(ec.issuing, [seller.serialHex]));
    expect(codes(new TrustStore(material(ec, { crls: [crl] })).verifySigner(seller.der, [], now(), taxCode))).toEqual(["CERT_EXPIRED"]);
  });

  it("applies CRLs given to reloadCrls from then on, invalidating the chain cache", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing });
    const store = new TrustStore(material(ec));
    expect(store.verifySigner(seller.der, [], now(), taxCode).ok).toBe(true);
    const fingerprint = parseCertificate(seller.der).fingerprint;
    expect(store.hasCachedChain(fingerprint)).toBe(true);
    const generation = store.generation;
    store.reloadCrls([new TextEncoder().encode(await makeCrl(ec.issuing, [seller.serialHex]))]);
    expect(store.generation).toBe(generation + 1);
    expect(store.hasCachedChain(fingerprint)).toBe(false);
    expect(codes(store.verifySigner(seller.der, [], now(), taxCode))).toEqual(["CERT_REVOKED"]);
    expect(() => store.reloadCrls([new Uint8Array([1, 2, 3])])).toThrow();
    expect(codes(store.verifySigner(seller.der, [], now(), taxCode))).toEqual(["CERT_REVOKED"]);
  });
});

describe("TrustStore.verifySigner: UID=MST binding (CERT_TAX_CODE_MISMATCH)", () => {
  it("refuses a certificate issued to another tax code", async () => {
    const seller = await issueSellerCert({ taxCode: "0100000011", keyType: "ec", issuer: ec.issuing });
    const r = new TrustStore(material(ec)).verifySigner(seller.der, [], now(), "0100000010");
    expect(codes(r)).toEqual(["CERT_TAX_CODE_MISMATCH"]);
    expect(messages(r)).toMatch(/issued to MST 0100000011, not to 0100000010/);
  });

  it("keeps a branch 0100000010-001 and its head office 0100000010 apart, both ways", async () => {
    const store = new TrustStore(material(ec));
    const branch = await issueSellerCert({ taxCode: "0100000010-001", keyType: "ec", issuer: ec.issuing });
    const head = await issueSellerCert({ taxCode: "0100000010", keyType: "ec", issuer: ec.issuing });
    expect(codes(store.verifySigner(branch.der, [], now(), "0100000010"))).toEqual(["CERT_TAX_CODE_MISMATCH"]);
    expect(codes(store.verifySigner(head.der, [], now(), "0100000010-001"))).toEqual(["CERT_TAX_CODE_MISMATCH"]);
    expect(store.verifySigner(branch.der, [], now(), "0100000010-001").ok).toBe(true);
    expect(store.verifySigner(head.der, [], now(), "0100000010").ok).toBe(true);
  });

  it("accepts a 12-digit personal tax code", async () => {
    const seller = await issueSellerCert({ taxCode: "001085012345", keyType: "ec", issuer: ec.issuing });
    expect(new TrustStore(material(ec)).verifySigner(seller.der, [], now(), "001085012345").ok).toBe(true);
  });

  it("refuses a certificate whose subject carries no UID=MST", async () => {
    const seller = await issueSellerCert({ taxCode: "0100000010", keyType: "ec", issuer: ec.issuing, subject: "CN=No MST here, C=VN" });
    const r = new TrustStore(material(ec)).verifySigner(seller.der, [], now(), "0100000010");
    expect(codes(r)).toEqual(["CERT_TAX_CODE_MISMATCH"]);
    expect(messages(r)).toMatch(/carries no UID=MST/);
  });

  it("reports a revoked certificate before a tax code mismatch", async () => {
    const seller = await issueSellerCert({ taxCode: "0100000011", keyType: "ec", issuer: ec.issuing });
    const crl = new TextEncoder().encode(await makeCrl(ec.issuing, [seller.serialHex]));
    expect(codes(new TrustStore(material(ec, { crls: [crl] })).verifySigner(seller.der, [], now(), "0100000010"))).toEqual(["CERT_REVOKED"]);
  });
});

describe("TrustStore chain cache", () => {
  it("caches a chain by leaf fingerprint, so a later signature without KeyInfo intermediates still chains", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing });
    const store = new TrustStore(material(ec, { intermediates: [] }));
    const fingerprint = parseCertificate(seller.der).fingerprint;
    expect(store.hasCachedChain(fingerprint)).toBe(false);
    expect(store.verifySigner(seller.der, [pemToDer(ec.issuing.certPem)], now(), taxCode).ok).toBe(true);
    expect(store.hasCachedChain(fingerprint)).toBe(true);
    expect(store.verifySigner(seller.der, [], now(), taxCode).ok).toBe(true);
  });

  it("does not cache a failed chain, so the same leaf chains once KeyInfo supplies the intermediate", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing });
    const store = new TrustStore(material(ec, { intermediates: [] }));
    expect(codes(store.verifySigner(seller.der, [], now(), taxCode))).toEqual(["CERT_UNTRUSTED"]);
    expect(store.hasCachedChain(parseCertificate(seller.der).fingerprint)).toBe(false);
    expect(store.verifySigner(seller.der, [pemToDer(ec.issuing.certPem)], now(), taxCode).ok).toBe(true);
  });

  it("keeps time and revocation out of the cache: a cached chain is re-checked at each signing time", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing, notBefore: ago(DAY), notAfter: ahead(DAY) });
    const store = new TrustStore(material(ec));
    expect(store.verifySigner(seller.der, [], now(), taxCode).ok).toBe(true);
    expect(codes(store.verifySigner(seller.der, [], ahead(2 * DAY), taxCode))).toEqual(["CERT_EXPIRED"]);
  });
});

describe("TrustStore.checkForRegistration", () => {
  it("accepts a PEM certificate that chains, may sign, is valid now and names the seller", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "rsa", issuer: ec.issuing });
    const r = new TrustStore(material(ec)).checkForRegistration(new TextEncoder().encode(seller.certPem), taxCode, now());
    expect(r).toMatchObject({ ok: true, value: { serial: seller.serialHex, taxCode } });
  });

  it("refuses an expired certificate (CERT_EXPIRED)", async () => {
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing, notBefore: ago(YEAR), notAfter: ago(DAY) });
    const r = new TrustStore(material(ec)).checkForRegistration(seller.der, taxCode, now());
    expect(codes(r)).toEqual(["CERT_EXPIRED"]);
    expect(messages(r)).toMatch(/registration time/);
  });

  it("refuses a certificate from an untrusted CA, one that may not sign, a revoked one and another seller's", async () => {
    const taxCode = mst();
    const crlTarget = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing });
    const store = new TrustStore(material(ec, { crls: [new TextEncoder().encode(await makeCrl(ec.issuing, [crlTarget.serialHex]))] }));
    const untrusted = await issueSellerCert({ taxCode, keyType: "ec", issuer: other.issuing });
    const noSign = await issueSellerCert({ taxCode, keyType: "ec", issuer: ec.issuing, keyUsage: ["keyAgreement"] });
    const otherSeller = await issueSellerCert({ taxCode: "0100000012", keyType: "ec", issuer: ec.issuing });
    expect(codes(store.checkForRegistration(untrusted.der, taxCode, now()))).toEqual(["CERT_UNTRUSTED"]);
    expect(codes(store.checkForRegistration(noSign.der, taxCode, now()))).toEqual(["CERT_UNTRUSTED"]);
    expect(codes(store.checkForRegistration(crlTarget.der, taxCode, now()))).toEqual(["CERT_REVOKED"]);
    expect(codes(store.checkForRegistration(otherSeller.der, taxCode, now()))).toEqual(["CERT_TAX_CODE_MISMATCH"]);
    expect(codes(store.checkForRegistration(new TextEncoder().encode("not a certificate"), taxCode, now()))).toEqual(["CERT_UNTRUSTED"]);
  });
});

describe("loadTrust", () => {
  it("names the file that cannot be read or holds no certificate", () => {
    const dir = mkdtempSync(join(tmpdir(), "hoadon-pki-"));
    writeFileSync(join(dir, "empty.pem"), "nothing here\n");
    expect(() => loadTrust({ anchorsPath: join(dir, "missing.pem") })).toThrow(/missing\.pem/);
    expect(() => loadTrust({ anchorsPath: join(dir, "empty.pem") })).toThrow(/empty\.pem/);
    writeFileSync(join(dir, "anchors.pem"), ec.anchorsPem);
    writeFileSync(join(dir, "bad.crl"), "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
    expect(() => loadTrust({ anchorsPath: join(dir, "anchors.pem"), crlPaths: [join(dir, "bad.crl")] })).toThrow(/bad\.crl/);
  });
});

// --- the development CA under certs/, once certs/make-certs.sh has made it ---

const CERTS = fileURLToPath(new URL("../../certs/", import.meta.url));

describe.skipIf(!devCaAvailable())("the development CA under certs/ (certs/make-certs.sh)", () => {
  const cert = (f: string) => pemOrDerToDer(readFileSync(join(CERTS, f)));
  const store = (crl: "pem" | "der" = "der") =>
    new TrustStore(
      loadTrust({
        anchorsPath: join(CERTS, "trust-anchors.pem"),
        intermediatesPath: join(CERTS, "intermediates.pem"),
        crlPaths: [join(CERTS, `issuing-ca.crl.${crl}`)],
      }),
    );

  it("trusts the RSA and EC seller certificates for their own tax codes", () => {
    const s = store();
    expect(s.verifySigner(cert("seller-0100000010-rsa.pem"), [], now(), "0100000010")).toMatchObject({ ok: true, value: { taxCode: "0100000010" } });
    expect(s.verifySigner(cert("seller-0310000024-ec.pem"), [], now(), "0310000024")).toMatchObject({ ok: true, value: { taxCode: "0310000024" } });
  });

  it("reads serials as openssl prints them and subjects with their Vietnamese names", () => {
    const c = parseCertificate(cert("seller-0100000010-rsa.pem"));
    const openssl = opensslSerial(readFileSync(join(CERTS, "seller-0100000010-rsa.pem"), "utf8"));
    if (openssl !== null) expect(c.serial).toBe(openssl);
    expect(c.subject).toBe("UID=MST:0100000010,CN=CÔNG TY TNHH THỬ NGHIỆM HÓA ĐƠN HÀ NỘI,O=CÔNG TY TNHH THỬ NGHIỆM HÓA ĐƠN HÀ NỘI,C=VN");
  });

  it("chains through the intermediate from KeyInfo when only trust-anchors.pem is configured", () => {
    const s = new TrustStore(loadTrust({ anchorsPath: join(CERTS, "trust-anchors.pem") }));
    expect(codes(s.verifySigner(cert("seller-0100000010-rsa.pem"), [], now(), "0100000010"))).toEqual(["CERT_UNTRUSTED"]);
    expect(s.verifySigner(cert("seller-0100000010-rsa.pem"), [cert("intermediates.pem")], now(), "0100000010").ok).toBe(true);
  });

  it.each([
    ["seller-0100000010-expired.pem", "CERT_EXPIRED"],
    ["seller-0100000010-notyet.pem", "CERT_EXPIRED"],
    ["seller-0100000010-nokeyusage.pem", "CERT_UNTRUSTED"],
    ["seller-0100000010-ca.pem", "CERT_UNTRUSTED"],
    ["seller-0100000010-branch.pem", "CERT_TAX_CODE_MISMATCH"],
    ["untrusted-seller-0100000010.pem", "CERT_UNTRUSTED"],
  ] as const)("refuses %s for seller 0100000010 (%s)", (file, code) => {
    expect(stage(store().verifySigner(cert(file), [cert("untrusted-root-ca.pem")], now(), "0100000010"))).toEqual([code]);
  });

  it("refuses the revoked seller certificate with the CRL as PEM and as DER, and takes it at its signing time only when no CRL is set", () => {
    const revoked = cert("seller-0100000010-revoked.pem");
    expect(codes(store("pem").verifySigner(revoked, [], now(), "0100000010"))).toEqual(["CERT_REVOKED"]);
    expect(codes(store("der").verifySigner(revoked, [], now(), "0100000010"))).toEqual(["CERT_REVOKED"]);
    const noCrl = new TrustStore(loadTrust({ anchorsPath: join(CERTS, "trust-anchors.pem"), intermediatesPath: join(CERTS, "intermediates.pem") }));
    expect(noCrl.verifySigner(revoked, [], now(), "0100000010").ok).toBe(true);
  });

  it("accepts the branch certificate for the branch 0100000010-001", () => {
    expect(store().verifySigner(cert("seller-0100000010-branch.pem"), [], now(), "0100000010-001").ok).toBe(true);
  });

  it("trusts a seller certificate issued at run time by certs/issuing-ca (the helpers' default issuer)", async () => {
    expect((await defaultHierarchy()).source).toBe("certs");
    const taxCode = mst();
    const seller = await issueSellerCert({ taxCode, keyType: "ec" });
    expect(store().verifySigner(seller.der, [], now(), taxCode).ok).toBe(true);
    expect(codes(store().checkForRegistration(seller.der, "0100000010", now()))).toEqual(["CERT_TAX_CODE_MISMATCH"]);
  });
});

function nameOf(cert: IssuedCert): string {
  return new x509.X509Certificate(cert.certPem).subject;
}

function opensslSerial(pem: string): string | null {
  try {
    const out = execFileSync("openssl", ["x509", "-noout", "-serial"], { input: pem, encoding: "utf8" });
    return out.trim().replace(/^serial=/, "");
  } catch {
    return null;
  }
}
