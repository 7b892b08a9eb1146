import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DOMParser, type Document as XmlDocument, type Element as XmlElement } from "@xmldom/xmldom";
import { describe, expect, it } from "vitest";
import { SignedXml } from "xml-crypto";
import { buildInvoice, computeTotals, type InvoiceLine, nextNumber, randomTaxCode, todayGmt7 } from "../helpers/invoice.js";
import {
  registerAlgorithms,
  SELLER_SIGNATURE_XPATH,
  type SignOptions,
  signInvoice,
  signWithXmlsec1,
  verifyWithXmlsec1,
  xmlsec1Available,
} from "../helpers/sign.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const read = (p: string) => readFileSync(join(ROOT, p), "utf8");

const RSA: SignOptions = { keyPem: read("certs/seller-0100000010-rsa.key"), certPem: read("certs/seller-0100000010-rsa.pem") };
const EC: SignOptions = { keyPem: read("certs/seller-0310000024-ec.key"), certPem: read("certs/seller-0310000024-ec.pem") };
const TRUST = { trustedPem: join(ROOT, "certs/root-ca.pem"), untrustedPem: join(ROOT, "certs/issuing-ca.pem"), idAttrs: ["DLHDon", "Object"] };

const parse = (xml: string): XmlDocument => new DOMParser().parseFromString(xml, "text/xml");
const all = (doc: XmlDocument | XmlElement, name: string): XmlElement[] => Array.from(doc.getElementsByTagName("*")).filter((e) => e.localName === name);
const text = (doc: XmlDocument | XmlElement, name: string): string | undefined => all(doc, name)[0]?.textContent ?? undefined;
const childText = (e: XmlElement, name: string): string | undefined =>
  Array.from(e.childNodes).find((n): n is XmlElement => n.nodeType === 1 && (n as XmlElement).localName === name)?.textContent ?? undefined;

/** The MST check digit formula of invoice-format.md §2, written out again on purpose. */
function taxCodeIsValid(mst: string): boolean {
  if (!/^\d{10}$/.test(mst)) return false;
  const n = [...mst].map(Number);
  const sum = 31 * n[0]! + 29 * n[1]! + 23 * n[2]! + 19 * n[3]! + 17 * n[4]! + 13 * n[5]! + 7 * n[6]! + 5 * n[7]! + 3 * n[8]!;
  const check = 10 - (sum % 11);
  return check !== 10 && check === n[9];
}

/** Verifies the seller signature with xml-crypto against the given certificate (not KeyInfo's). */
function xmlCryptoVerifies(xml: string, certPem: string): boolean {
  const doc = parse(xml);
  const signature = all(doc, "Signature")[0];
  if (!signature) return false;
  const sig = registerAlgorithms(new SignedXml({ publicCert: certPem }));
  sig.loadSignature(signature as unknown as Node);
  try {
    return sig.checkSignature(xml);
  } catch {
    return false;
  }
}

const MULTI_RATE: InvoiceLine[] = [
  { name: "Máy tính xách tay", unit: "Chiếc", quantity: 2, unitPrice: 15_990_000, taxRate: "10%" },
  { name: "Sách tham khảo", unit: "Cuốn", quantity: 2, unitPrice: "68245", taxRate: "5%" },
  { name: "Dịch vụ lắp đặt", unit: "Giờ", quantity: "1.5", unitPrice: "333335", taxRate: "8%" },
  { name: "Chiết khấu thương mại", quantity: 1, unitPrice: 980_000, taxRate: "10%", kind: 3 },
  { name: "Phí bảo hiểm", quantity: 1, unitPrice: 2_000_000, taxRate: "KCT" },
  { name: "Hàng xuất khẩu", unit: "Thùng", quantity: 10, unitPrice: 123_457, taxRate: "0%" },
  { name: "Dịch vụ thuế suất khác", quantity: 1, unitPrice: 1_000_005, taxRate: "KHAC:5.26" },
];

describe("buildInvoice", () => {
  it("computes line amounts, per-rate groups and totals of a multi-rate invoice exactly as hand-computed", () => {
    const doc = parse(buildInvoice({ lines: MULTI_RATE, issueDate: "2026-11-20", number: 42 }));
    expect(all(doc, "HHDVu").map((l) => childText(l, "ThTien"))).toEqual(["31980000", "136490", "500003", "980000", "2000000", "1234570", "1000005"]);
    expect(all(doc, "HHDVu").map((l) => childText(l, "TChat"))).toEqual(["1", "1", "1", "3", "1", "1", "1"]);
    const groups = all(doc, "LTSuat").map((g) => [childText(g, "TSuat"), childText(g, "ThTien"), childText(g, "TThue")]);
    expect(groups).toEqual([
      ["10%", "31000000", "3100000"], // 31,980,000 − 980,000 discount
      ["5%", "136490", "6825"], // 6,824.5 rounds half-up
      ["8%", "500003", "40000"], // line 1.5 × 333,335 = 500,002.5 rounds half-up
      ["KCT", "2000000", "0"],
      ["0%", "1234570", "0"],
      ["KHAC:5.26", "1000005", "52600"], // 52,600.263
    ]);
    expect(text(doc, "TgTCThue")).toBe("35871068");
    expect(text(doc, "TgTThue")).toBe("3199425");
    expect(text(doc, "TTCKTMai")).toBe("0");
    expect(text(doc, "TgTTTBSo")).toBe("39070493");
    expect(text(doc, "TgTTTBChu")).toMatch(/\p{L}/u);
  });

  it("writes the tree of invoice-format.md with the defaults", () => {
    const xml = buildInvoice({ issueDate: "2027-01-05", number: 7 });
    expect(xml.startsWith("<HDon><DLHDon Id=\"SigningData\"><TTChung><PBan>2.0.0</PBan>")).toBe(true);
    expect(xml.endsWith("</DLHDon><DSCKS><NBan/></DSCKS></HDon>")).toBe(true);
    const doc = parse(xml);
    expect(text(doc, "KHMSHDon")).toBe("1");
    expect(text(doc, "KHHDon")).toBe("C27TAA");
    expect(text(doc, "SHDon")).toBe("7");
    expect(text(doc, "NLap")).toBe("2027-01-05");
    expect(text(doc, "DVTTe")).toBe("VND");
    expect(text(doc, "TGia")).toBe("1");
    expect(all(doc, "MST").map((e) => e.textContent)).toEqual(["0100000010", "0310000024"]);
    expect(all(doc, "TTHDLQuan")).toHaveLength(0);
    expect(buildInvoice({ declaration: true }).startsWith('<?xml version="1.0" encoding="UTF-8"?><HDon>')).toBe(true);
    expect(text(parse(buildInvoice()), "NLap")).toBe(todayGmt7());
  });

  it("escapes &, < and > in text and writes a consumer buyer without MST", () => {
    const name = 'Công ty "A & B" <Thử>';
    const xml = buildInvoice({ sellerName: name, buyer: null, lines: [{ name: "x < y & z > w", quantity: 1, unitPrice: 1000, taxRate: "10%" }] });
    expect(xml).toContain("Công ty &quot;A &amp; B&quot; &lt;Thử&gt;");
    const doc = parse(xml);
    expect(text(doc, "Ten")).toBe(name);
    expect(text(doc, "THHDVu")).toBe("x < y & z > w");
    expect(all(all(doc, "NMua")[0]!, "MST")).toHaveLength(0);
  });

  it("writes TTHDLQuan for a replacement and applies overrides", () => {
    const xml = buildInvoice({
      related: { kind: 1, form: "1", symbol: "C26TAA", number: 12, issueDate: "2026-03-01", note: "Thay thế" },
      overrides: { TgTTTBSo: 1, groups: { "10%": { TThue: "999" } } },
    });
    const doc = parse(xml);
    const rel = all(doc, "TTHDLQuan")[0]!;
    expect(rel.parentNode && (rel.parentNode as XmlElement).localName).toBe("TTChung");
    expect([childText(rel, "TCHDon"), childText(rel, "KHMSHDCLQuan"), childText(rel, "KHHDCLQuan"), childText(rel, "SHDCLQuan"), childText(rel, "NLHDCLQuan"), childText(rel, "GChu")]).toEqual([
      "1", "1", "C26TAA", "12", "2026-03-01", "Thay thế",
    ]);
    expect(text(doc, "TgTTTBSo")).toBe("1");
    expect(childText(all(doc, "LTSuat")[0]!, "TThue")).toBe("999");
    expect(text(doc, "TgTThue")).toBe("320000"); // not overridden
  });

  it("keeps foreign-currency amounts in decimals and requires an exchange rate", () => {
    const lines: InvoiceLine[] = [{ name: "Consulting", quantity: 3, unitPrice: "19.99", taxRate: "10%" }];
    const doc = parse(buildInvoice({ currency: "USD", exchangeRate: "25400.5", lines }));
    expect(text(doc, "TGia")).toBe("25400.5");
    expect(text(doc, "ThTien")).toBe("59.97");
    expect(text(doc, "TgTThue")).toBe("6"); // 5.997 → 6.00
    expect(text(doc, "TgTTTBSo")).toBe("65.97");
    expect(() => buildInvoice({ currency: "USD", lines })).toThrow(/exchangeRate/);
    expect(computeTotals([{ name: "refund", quantity: -1, unitPrice: "10.5", taxRate: "10%" }]).groups[0]).toEqual({ TSuat: "10%", ThTien: "-11", TThue: "-1" });
  });

  it("refuses floats for money and unknown rates", () => {
    expect(() => buildInvoice({ lines: [{ name: "x", quantity: 1, unitPrice: 0.1, taxRate: "10%" }] })).toThrow(/string/);
    expect(() => buildInvoice({ lines: [{ name: "x", quantity: 1, unitPrice: 1, taxRate: "7" as "10%" }] })).toThrow(/tax rate/);
  });
});

describe("randomTaxCode, nextNumber, todayGmt7", () => {
  it("the check-digit oracle itself agrees with the spec's examples", () => {
    expect(taxCodeIsValid("0100000010")).toBe(true);
    expect(taxCodeIsValid("0310000024")).toBe(true);
    expect(taxCodeIsValid("0310000025")).toBe(false);
  });

  it("randomTaxCode returns 10-digit codes that pass the check-digit formula", () => {
    const codes = Array.from({ length: 500 }, randomTaxCode);
    for (const c of codes) expect(taxCodeIsValid(c), c).toBe(true);
    expect(new Set(codes).size).toBeGreaterThan(490);
  });

  it("nextNumber is unique within the process and stays in range", () => {
    const n = Array.from({ length: 1000 }, nextNumber);
    expect(new Set(n).size).toBe(1000);
    for (const x of n) expect(x >= 1 && x < 99_999_999 && Number.isInteger(x)).toBe(true);
  });

  it("todayGmt7 rolls over at 17:00 UTC", () => {
    expect(todayGmt7(new Date("2026-11-22T16:59:59Z"))).toBe("2026-11-22");
    expect(todayGmt7(new Date("2026-11-22T17:00:00Z"))).toBe("2026-11-23");
  });
});

describe("signInvoice (xml-crypto)", () => {
  const cases = [
    ["RSA", RSA, "inclusive", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"],
    ["RSA", RSA, "exclusive", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"],
    ["EC", EC, "inclusive", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"],
    ["EC", EC, "exclusive", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"],
  ] as const;

  for (const [label, keys, c14n, method] of cases) {
    it(`signs with ${label} and ${c14n} C14N in the profile's shape, and xml-crypto verifies it`, () => {
      const xml = signInvoice(buildInvoice(), { ...keys, c14n, signingTime: "2026-11-20T10:15:00" });
      expect(xmlCryptoVerifies(xml, keys.certPem)).toBe(true);
      const doc = parse(xml);
      const signatures = all(doc, "Signature");
      expect(signatures).toHaveLength(1);
      const sig = signatures[0]!;
      expect(sig.namespaceURI).toBe("http://www.w3.org/2000/09/xmldsig#");
      expect((sig.parentNode as XmlElement).localName).toBe("NBan");
      expect(((sig.parentNode as XmlElement).parentNode as XmlElement).localName).toBe("DSCKS");
      expect(all(sig, "SignatureMethod")[0]!.getAttribute("Algorithm")).toBe(method);
      const c14nUri = c14n === "inclusive" ? "http://www.w3.org/TR/2001/REC-xml-c14n-20010315" : "http://www.w3.org/2001/10/xml-exc-c14n#";
      expect(all(sig, "CanonicalizationMethod")[0]!.getAttribute("Algorithm")).toBe(c14nUri);
      const refs = all(sig, "Reference");
      expect(refs.map((r) => r.getAttribute("URI"))).toEqual(["#SigningData", expect.stringMatching(/^#SigningTime-[0-9a-f]{32}$/)]);
      expect(all(refs[0]!, "Transform").map((t) => t.getAttribute("Algorithm"))).toEqual(["http://www.w3.org/2000/09/xmldsig#enveloped-signature", c14nUri]);
      expect(all(refs[1]!, "Transform").map((t) => t.getAttribute("Algorithm"))).toEqual([c14nUri]);
      const object = all(sig, "Object")[0]!;
      expect(`#${object.getAttribute("Id")}`).toBe(refs[1]!.getAttribute("URI"));
      expect(text(object, "SigningTime")).toBe("2026-11-20T10:15:00");
      expect(all(object, "SignatureProperty")[0]!.getAttribute("Target")).toBe(`#${sig.getAttribute("Id")}`);
      expect(text(sig, "X509Certificate")).toBe(new X509Certificate(keys.certPem).raw.toString("base64"));
    });
  }

  it("xml-crypto refuses the signed invoice once an amount is changed", () => {
    const xml = signInvoice(buildInvoice(), RSA);
    const tampered = xml.replace("<TgTTTBSo>3520000</TgTTTBSo>", "<TgTTTBSo>3520001</TgTTTBSo>");
    expect(tampered).not.toBe(xml);
    expect(xmlCryptoVerifies(tampered, RSA.certPem)).toBe(false);
    expect(xmlCryptoVerifies(xml, EC.certPem)).toBe(false); // wrong key
  });

  it("supports no SigningTime, the ds: prefix, rsa-sha1/sha1, rsa-sha384, a custom Id and a declaration", () => {
    const noTime = signInvoice(buildInvoice(), { ...EC, signingTime: null });
    expect(all(parse(noTime), "Reference")).toHaveLength(1);
    expect(all(parse(noTime), "Object")).toHaveLength(0);
    expect(xmlCryptoVerifies(noTime, EC.certPem)).toBe(true);

    const ds = signInvoice(buildInvoice({ declaration: true, dlhdonId: "DuLieuKy" }), { ...RSA, prefix: "ds", c14n: "exclusive" });
    expect(ds).toMatch(/<ds:Signature [^>]*xmlns:ds="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#"/);
    expect(ds.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(all(parse(ds), "Reference")[0]!.getAttribute("URI")).toBe("#DuLieuKy");
    expect(xmlCryptoVerifies(ds, RSA.certPem)).toBe(true);

    const sha1 = signInvoice(buildInvoice(), { ...RSA, algorithm: "rsa-sha1" });
    expect(all(parse(sha1), "DigestMethod").map((d) => d.getAttribute("Algorithm"))).toEqual(["http://www.w3.org/2000/09/xmldsig#sha1", "http://www.w3.org/2000/09/xmldsig#sha1"]);
    expect(xmlCryptoVerifies(sha1, RSA.certPem)).toBe(true);

    const sha384 = signInvoice(buildInvoice(), { ...RSA, algorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" });
    expect(all(parse(sha384), "DigestMethod")[0]!.getAttribute("Algorithm")).toBe("http://www.w3.org/2001/04/xmldsig-more#sha384");
    expect(xmlCryptoVerifies(sha384, RSA.certPem)).toBe(true);
  });
});

describe("xmlsec1 interop", () => {
  const verify = (xml: string) => verifyWithXmlsec1(xml, { nodeXpath: SELLER_SIGNATURE_XPATH, ...TRUST });

  for (const [label, keys] of [["RSA", RSA], ["EC", EC]] as const) {
    for (const c14n of ["inclusive", "exclusive"] as const) {
      it.skipIf(!xmlsec1Available())(`xmlsec1 verifies signInvoice output (${label}, ${c14n}) and chains it to the development root`, () => {
        const r = verify(signInvoice(buildInvoice(), { ...keys, c14n }));
        expect(r.ok, r.output).toBe(true);
      });

      it.skipIf(!xmlsec1Available())(`xml-crypto verifies signWithXmlsec1 output (${label}, ${c14n}, ds prefix)`, () => {
        const xml = signWithXmlsec1(buildInvoice(), { ...keys, c14n, prefix: "ds" });
        expect(xmlCryptoVerifies(xml, keys.certPem)).toBe(true);
        expect(verify(xml).ok).toBe(true);
      });
    }
  }

  it.skipIf(!xmlsec1Available())("xmlsec1 refuses a tampered invoice, an untrusted chain and sample 01's enveloped SigningTime Reference", () => {
    const xml = signInvoice(buildInvoice(), RSA);
    const tampered = verify(xml.replace("<TgTTTBSo>3520000</TgTTTBSo>", "<TgTTTBSo>3520001</TgTTTBSo>"));
    expect(tampered.ok).toBe(false);
    expect(tampered.output).toMatch(/digest/i);
    const untrusted = signInvoice(buildInvoice(), { keyPem: read("certs/untrusted-seller-0100000010.key"), certPem: read("certs/untrusted-seller-0100000010.pem") });
    expect(verify(untrusted).ok).toBe(false);
    expect(verifyWithXmlsec1(untrusted, { nodeXpath: SELLER_SIGNATURE_XPATH, ...TRUST, insecure: true }).ok).toBe(true);
    // xml-crypto applies enveloped-signature only around the Signature; xmlsec1 (per XMLDSig) empties the Object.
    const legacy = signInvoice(buildInvoice(), { ...RSA, objectEnveloped: true });
    expect(xmlCryptoVerifies(legacy, RSA.certPem)).toBe(true);
    expect(verify(legacy).ok).toBe(false);
  });

  it.skipIf(!xmlsec1Available())("both signers put a certificate chain into X509Data, and xmlsec1 builds the chain from it", () => {
    const chain = { ...EC, certPem: EC.certPem + read("certs/issuing-ca.pem") };
    const der = (pem: string) => new X509Certificate(pem).raw.toString("base64");
    for (const xml of [signInvoice(buildInvoice(), chain), signWithXmlsec1(buildInvoice(), chain)]) {
      const certs = all(parse(xml), "X509Certificate").map((c) => c.textContent!.replace(/\s+/g, ""));
      expect(certs.sort()).toEqual([der(EC.certPem), der(read("certs/issuing-ca.pem"))].sort());
      const r = verifyWithXmlsec1(xml, { nodeXpath: SELLER_SIGNATURE_XPATH, trustedPem: TRUST.trustedPem });
      expect(r.ok, r.output).toBe(true);
    }
    expect(all(parse(signInvoice(buildInvoice(), chain)), "X509Certificate")[0]!.textContent).toBe(der(EC.certPem));
  });

  it.skipIf(!xmlsec1Available())("xmlsec1 checks certificate validity now or at verificationTime", () => {
    const expired = signInvoice(buildInvoice(), { keyPem: read("certs/seller-0100000010-expired.key"), certPem: read("certs/seller-0100000010-expired.pem") });
    expect(verify(expired).ok).toBe(false);
    const notYet = signInvoice(buildInvoice(), { keyPem: read("certs/seller-0100000010-notyet.key"), certPem: read("certs/seller-0100000010-notyet.pem") });
    expect(verify(notYet).ok).toBe(false);
    const later = verifyWithXmlsec1(notYet, { nodeXpath: SELLER_SIGNATURE_XPATH, ...TRUST, verificationTime: "2035-07-01 00:00:00" });
    expect(later.ok, later.output).toBe(true);
  });

  const manifest = JSON.parse(read("test/fixtures/xmlsec1/manifest.json")) as {
    files: Array<{ file: string; seller: string; cert: string; algorithm: string; c14n: string; signingTime: string | null; number: number; issueDate: string }>;
  };

  it("the fixture manifest lists 8 distinct fixtures covering both sellers, both C14Ns, with and without SigningTime", () => {
    expect(manifest.files).toHaveLength(8);
    expect(new Set(manifest.files.map((f) => f.number)).size).toBe(8);
    expect(new Set(manifest.files.map((f) => `${f.seller}|${f.c14n}|${f.signingTime !== null}`)).size).toBe(8);
    for (const f of manifest.files) {
      const doc = parse(read(`test/fixtures/xmlsec1/${f.file}`));
      expect(text(doc, "SHDon")).toBe(String(f.number));
      expect(text(doc, "NLap")).toBe(f.issueDate);
      expect(all(all(doc, "NDHDon")[0]!, "MST")[0]!.textContent).toBe(f.seller);
      expect(all(doc, "SignatureMethod")[0]!.getAttribute("Algorithm")).toBe(f.algorithm);
      expect(all(doc, "CanonicalizationMethod")[0]!.getAttribute("Algorithm")).toBe(f.c14n);
      expect(text(doc, "SigningTime")).toBe(f.signingTime ?? undefined);
      expect(xmlCryptoVerifies(read(`test/fixtures/xmlsec1/${f.file}`), read(f.cert)), f.file).toBe(true);
    }
  });

  it.skipIf(!xmlsec1Available())("xmlsec1 verifies every committed fixture", () => {
    for (const f of manifest.files) {
      const r = verify(read(`test/fixtures/xmlsec1/${f.file}`));
      expect(r.ok, `${f.file}: ${r.output}`).toBe(true);
    }
  });
});

describe("development certificates", () => {
  const cert = (name: string) => new X509Certificate(read(`certs/${name}.pem`));
  const root = cert("root-ca");
  const issuing = cert("issuing-ca");

  it("chain root → issuing CA → sellers, with UID=MST in the subject", () => {
    expect(root.verify(root.publicKey)).toBe(true);
    expect(issuing.verify(root.publicKey) && issuing.checkIssued(root)).toBe(true);
    for (const [name, uid] of [
      ["seller-0100000010-rsa", "MST:0100000010"],
      ["seller-0310000024-ec", "MST:0310000024"],
      ["seller-0100000010-branch", "MST:0100000010-001"],
      ["seller-0100000010-revoked", "MST:0100000010"],
      ["seller-0100000010-ca", "MST:0100000010"],
    ] as const) {
      const c = cert(name);
      expect(c.verify(issuing.publicKey), name).toBe(true);
      expect(c.subject.split("\n")).toContain(`UID=${uid}`);
    }
    expect(cert("seller-0310000024-ec").publicKey.asymmetricKeyType).toBe("ec");
    expect(cert("seller-0100000010-ca").ca).toBe(true);
    expect(cert("seller-0100000010-rsa").ca).toBe(false);
    expect(cert("untrusted-seller-0100000010").verify(issuing.publicKey)).toBe(false);
    expect(cert("untrusted-seller-0100000010").verify(cert("untrusted-root-ca").publicKey)).toBe(true);
  });

  it("have the exact validity periods", () => {
    const period = (name: string) => [new Date(cert(name).validFrom).toISOString(), new Date(cert(name).validTo).toISOString()];
    expect(period("seller-0100000010-rsa")).toEqual(["2026-01-01T00:00:00.000Z", "2036-01-01T00:00:00.000Z"]);
    expect(period("seller-0100000010-expired")).toEqual(["2020-01-01T00:00:00.000Z", "2021-01-01T00:00:00.000Z"]);
    expect(period("seller-0100000010-notyet")).toEqual(["2035-06-01T00:00:00.000Z", "2036-01-01T00:00:00.000Z"]);
  });
});
