/**
 * Attack corpus, part 3: who signed. Certificates that must not be trusted (untrusted roots,
 * look-alike CAs, attacker certificates in KeyInfo, CA and non-signing certificates, expired,
 * not yet valid, revoked — the signer or its CA — on PEM and DER CRLs, another taxpayer or a
 * branch, unregistered or stopped), submissions that already carry the authority's parts, other
 * signatures that try to cover a forged DLHDon, and the business rules an attacker would probe.
 * Each expects its stable code and that nothing was stored.
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import * as x509 from "@peculiar/x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CERTS, type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { all, ds, dsElement, kids, one, parseDoc, resign, rewrite, sellerSignature, serialize } from "../helpers/attacks.js";
import { buildInvoice, randomTaxCode, todayGmt7 } from "../helpers/invoice.js";
import { issueCertificate as issueAnyCertificate, issueSellerCert as issueAnySellerCert, makeCrl, makeTestCa, pemToDer, type TestCa } from "../helpers/pki.js";
import { expectIssued, expectRefused } from "../helpers/refusal.js";
import { nowGmt7, signInvoice } from "../helpers/sign.js";

const UID = "0.9.2342.19200300.100.1.1";
// EC P-256 unless a test asks for RSA: RSA key generation would dominate this file's time. The
// file's seller `s` signs with RSA, so both key types meet every check.
const issueSellerCert = (p: Parameters<typeof issueAnySellerCert>[0]) => issueAnySellerCert({ keyType: "ec", ...p });
const issueCertificate = (p: Parameters<typeof issueAnyCertificate>[0]) => issueAnyCertificate({ keyType: "ec", ...p });
const DAY = 86_400_000;
let h: Harness;
let s: TestSeller;
/** A second hierarchy the service trusts, so a CA of it can be revoked without touching the others. */
let ca: TestCa;

beforeAll(async () => {
  ca = await makeTestCa({ name: "Hoadon Attack Test" });
  const der = (f: string) => pemToDer(readFileSync(CERTS + f, "utf8"));
  h = await startHarness({
    trust: { anchors: [der("trust-anchors.pem"), ca.root.der], intermediates: [der("intermediates.pem"), ca.issuing.der], crls: [] },
  });
  s = await h.seller();
});
afterAll(async () => h?.close());

const refused = (xml: string | Uint8Array, code: Parameters<typeof expectRefused>[2], key = s.apiKey) => expectRefused(h, xml, code, key);
const sign = (taxCode: string, key: { keyPem: string; certPem: string }, opts: Parameters<typeof signInvoice>[1] extends infer O ? Partial<O> : never = {}, build: Parameters<typeof buildInvoice>[0] = {}) =>
  signInvoice(buildInvoice({ sellerTaxCode: taxCode, ...build }), { ...key, ...opts });
const at = (ms: number) => nowGmt7(new Date(Date.now() + ms));

describe("certificates", () => {
  it("refuses a certificate from an untrusted root, even with the whole chain in KeyInfo (CERT_UNTRUSTED)", async () => {
    const other = await makeTestCa();
    const c = await issueSellerCert({ taxCode: s.taxCode, issuer: other.issuing });
    await refused(sign(s.taxCode, { keyPem: c.keyPem, certPem: c.certPem + other.issuing.certPem + other.root.certPem }), "CERT_UNTRUSTED");
  });

  it("refuses the committed untrusted-root certificate of certs/ (CERT_UNTRUSTED)", async () => {
    const t = await h.seller({ taxCode: randomTaxCode(), keyType: "ec" });
    const key = { keyPem: readFileSync(CERTS + "untrusted-seller-0100000010.key", "utf8"), certPem: readFileSync(CERTS + "untrusted-seller-0100000010.pem", "utf8") };
    // It names 0100000010; the chain is judged before the tax code, so any seller shows the refusal.
    await refused(sign(t.taxCode, key), "CERT_UNTRUSTED", t.apiKey);
  });

  it("refuses an attacker's self-signed certificate carrying the seller's UID=MST in KeyInfo (CERT_UNTRUSTED)", async () => {
    const self = await issueCertificate({ subject: [{ C: ["VN"] }, { CN: ["Kẻ tấn công"] }, { [UID]: [`MST:${s.taxCode}`] }], keyUsage: ["digitalSignature"] });
    await refused(sign(s.taxCode, self), "CERT_UNTRUSTED");
  });

  it("refuses a look-alike CA whose names copy the trusted root's and issuing CA's (anchors match by fingerprint, not by name) (CERT_UNTRUSTED)", async () => {
    const name = (f: string) => new x509.X509Certificate(readFileSync(CERTS + f, "utf8")).subject;
    const fakeRoot = await issueCertificate({ subject: name("root-ca.pem"), ca: true });
    const fakeIssuing = await issueCertificate({ subject: name("issuing-ca.pem"), ca: true, pathLength: 0, issuer: fakeRoot });
    const c = await issueSellerCert({ taxCode: s.taxCode, issuer: fakeIssuing });
    await refused(sign(s.taxCode, { keyPem: c.keyPem, certPem: c.certPem + fakeIssuing.certPem + fakeRoot.certPem }), "CERT_UNTRUSTED");
  });

  it("refuses the registered certificate in KeyInfo with the signature made by another key (SIGNATURE_INVALID)", async () => {
    const attacker = await issueSellerCert({ taxCode: s.taxCode });
    await refused(sign(s.taxCode, { keyPem: attacker.keyPem, certPem: s.certPem }), "SIGNATURE_INVALID");
  });

  it("judges the certificate that made the signature, not the first in KeyInfo: registered first, attacker's self-signed second (CERT_UNTRUSTED)", async () => {
    const self = await issueCertificate({ subject: [{ C: ["VN"] }, { [UID]: [`MST:${s.taxCode}`] }] });
    await refused(sign(s.taxCode, { keyPem: self.keyPem, certPem: s.certPem + self.certPem }), "CERT_UNTRUSTED");
  });

  it("judges the certificate that made the signature: registered first, a trusted but unregistered one of the same seller second (CERT_NOT_REGISTERED)", async () => {
    const other = await issueSellerCert({ taxCode: s.taxCode });
    await refused(sign(s.taxCode, { keyPem: other.keyPem, certPem: s.certPem + other.certPem }), "CERT_NOT_REGISTERED");
  });

  it("refuses a certificate not yet valid at the signing time (CERT_EXPIRED)", async () => {
    const c = await issueSellerCert({ taxCode: s.taxCode, notBefore: new Date(Date.now() + 2 * DAY), notAfter: new Date(Date.now() + 400 * DAY) });
    await refused(sign(s.taxCode, c), "CERT_EXPIRED");
  });

  it("refuses the committed not-yet-valid certificate (valid from 2035) signed now (CERT_EXPIRED)", async () => {
    const t = await h.seller({ taxCode: randomTaxCode(), keyType: "ec" });
    const key = { keyPem: readFileSync(CERTS + "seller-0100000010-notyet.key", "utf8"), certPem: readFileSync(CERTS + "seller-0100000010-notyet.pem", "utf8") };
    await refused(sign(t.taxCode, key), "CERT_EXPIRED", t.apiKey);
  });

  it("refuses a certificate expired at the signing time (CERT_EXPIRED)", async () => {
    const c = await issueSellerCert({ taxCode: s.taxCode, notBefore: new Date("2026-02-01T00:00:00Z"), notAfter: new Date("2026-03-01T00:00:00Z") });
    await refused(sign(s.taxCode, c), "CERT_EXPIRED");
  });

  it("believes a SigningTime only when a verified Reference covers it: an uncovered one inside an expired certificate's validity changes nothing (CERT_EXPIRED)", async () => {
    const c = await issueSellerCert({ taxCode: s.taxCode, notBefore: new Date("2026-02-01T00:00:00Z"), notAfter: new Date("2026-03-01T00:00:00Z") });
    const xml = rewrite(sign(s.taxCode, c, { signingTime: null }), (doc) => {
      const sig = sellerSignature(doc);
      const obj = dsElement(doc, sig, "Object", { Id: "uncovered" });
      const props = dsElement(doc, sig, "SignatureProperties");
      const prop = dsElement(doc, sig, "SignatureProperty", { Target: `#${sig.getAttribute("Id")}` });
      prop.appendChild(dsElement(doc, sig, "SigningTime", {}, "2026-02-15T10:00:00"));
      props.appendChild(prop);
      obj.appendChild(props);
      sig.appendChild(obj);
    });
    await refused(xml, "CERT_EXPIRED");
  });

  it("refuses a SigningTime in the future beyond the allowed clock skew (SIGNING_TIME_OUT_OF_RANGE), and accepts one a minute ahead", async () => {
    await refused(s.invoice({}, { signingTime: at(3600_000) }), "SIGNING_TIME_OUT_OF_RANGE");
    await refused(s.invoice({}, { signingTime: at(400 * DAY) }), "SIGNING_TIME_OUT_OF_RANGE");
    await expectIssued(h, s.invoice({}, { signingTime: at(60_000) }), s.apiKey);
  });

  it("refuses a SigningTime that is not a date-time, and two SigningTimes (SIGNATURE_PROFILE)", async () => {
    await refused(s.invoice({}, { signingTime: "not-a-date" }), "SIGNATURE_PROFILE");
    // XML's white space around it is collapsed, as xsd:dateTime says; no other Unicode space is.
    await refused(s.invoice({}, { signingTime: `\u00A0${at(0)}` }), "SIGNATURE_PROFILE");
    await refused(s.invoice({}, { signingTime: `${at(0)}\u3000` }), "SIGNATURE_PROFILE");
    await expectIssued(h, s.invoice({}, { signingTime: `\n    ${at(0)}\t\r\n` }), s.apiKey);
    const two = resign(s.invoice(), s.keyPem, ({ doc }) => {
      const prop = all(doc, "SignatureProperty")[0]!;
      prop.appendChild(all(doc, "SigningTime")[0]!.cloneNode(true));
    });
    await refused(two, "SIGNATURE_PROFILE");
  });

  it("refuses a certificate once it is on a configured CRL, in PEM and in DER, and accepts it again when the CRL no longer lists it (CERT_REVOKED)", async () => {
    const t = await h.seller({ keyType: "ec" });
    const issuing = { certPem: readFileSync(CERTS + "issuing-ca.pem", "utf8"), keyPem: readFileSync(CERTS + "issuing-ca.key", "utf8") };
    await expectIssued(h, t.invoice(), t.apiKey);
    const pem = await makeCrl(issuing, [t.serial]);
    try {
      h.services.trust.reloadCrls([Buffer.from(pem)]);
      await refused(t.invoice(), "CERT_REVOKED", t.apiKey);
      h.services.trust.reloadCrls([pemToDer(pem)]);
      await refused(t.invoice(), "CERT_REVOKED", t.apiKey);
      h.services.trust.reloadCrls([Buffer.from(await makeCrl(issuing, []))]);
      await expectIssued(h, t.invoice(), t.apiKey);
    } finally {
      h.services.trust.reloadCrls([]);
    }
  });

  it("refuses the committed revoked certificate with the committed CRL of certs/ (PEM and DER) (CERT_REVOKED)", async () => {
    const t = await h.seller({ taxCode: randomTaxCode(), keyType: "ec" });
    const key = { keyPem: readFileSync(CERTS + "seller-0100000010-revoked.key", "utf8"), certPem: readFileSync(CERTS + "seller-0100000010-revoked.pem", "utf8") };
    try {
      for (const file of ["issuing-ca.crl.pem", "issuing-ca.crl.der"]) {
        h.services.trust.reloadCrls([readFileSync(CERTS + file)]);
        // Revocation is judged before the tax code binding, so any seller shows it.
        await refused(sign(t.taxCode, key), "CERT_REVOKED", t.apiKey);
      }
    } finally {
      h.services.trust.reloadCrls([]);
    }
  });

  it("refuses every certificate below a revoked issuing CA (its root's CRL lists the CA) (CERT_REVOKED)", async () => {
    const t = await h.seller({ taxCode: randomTaxCode(), keyType: "ec" });
    const c = await issueSellerCert({ taxCode: t.taxCode, issuer: ca.issuing, keyType: "ec" });
    const reg = await h.call("POST", `/v1/sellers/${t.taxCode}/certificates`, { pem: c.certPem });
    expect(reg.status).toBe(201);
    await expectIssued(h, sign(t.taxCode, c), t.apiKey);
    try {
      h.services.trust.reloadCrls([Buffer.from(await makeCrl(ca.root, [ca.issuing.serialHex]))]);
      await refused(sign(t.taxCode, c), "CERT_REVOKED", t.apiKey);
    } finally {
      h.services.trust.reloadCrls([]);
    }
  });

  it("ignores a CRL forged with another key (it cannot revoke, and it cannot un-revoke either)", async () => {
    const t = await h.seller({ keyType: "ec" });
    const issuing = { certPem: readFileSync(CERTS + "issuing-ca.pem", "utf8"), keyPem: readFileSync(CERTS + "issuing-ca.key", "utf8") };
    const forger = await issueSellerCert({ taxCode: randomTaxCode() });
    try {
      h.services.trust.reloadCrls([Buffer.from(await makeCrl({ certPem: issuing.certPem, keyPem: forger.keyPem }, [t.serial]))]);
      await expectIssued(h, t.invoice(), t.apiKey);
      h.services.trust.reloadCrls([Buffer.from(await makeCrl(issuing, [t.serial])), Buffer.from(await makeCrl({ certPem: issuing.certPem, keyPem: forger.keyPem }, []))]);
      await refused(t.invoice(), "CERT_REVOKED", t.apiKey);
    } finally {
      h.services.trust.reloadCrls([]);
    }
  });

  it("refuses a CA certificate as the signer (CERT_UNTRUSTED)", async () => {
    const c = await issueSellerCert({ taxCode: s.taxCode, ca: true });
    await refused(sign(s.taxCode, c), "CERT_UNTRUSTED");
  });

  it("refuses a trust anchor itself as the signer (CERT_UNTRUSTED)", async () => {
    await refused(sign(s.taxCode, ca.root), "CERT_UNTRUSTED");
  });

  it("refuses a certificate whose key usage allows neither digitalSignature nor nonRepudiation (CERT_UNTRUSTED)", async () => {
    for (const keyUsage of [["keyEncipherment"], ["keyCertSign"], ["dataEncipherment", "keyAgreement"]] as const) {
      const c = await issueSellerCert({ taxCode: s.taxCode, keyUsage: [...keyUsage] });
      await refused(sign(s.taxCode, c), "CERT_UNTRUSTED");
    }
  });

  it("refuses a certificate of the seller's branch (UID=MST:<mst>-001) for the head office's invoice (CERT_TAX_CODE_MISMATCH)", async () => {
    const branch = await issueSellerCert({ taxCode: `${s.taxCode}-001` });
    await refused(sign(s.taxCode, branch), "CERT_TAX_CODE_MISMATCH");
  });

  it("refuses the head office's certificate for a registered branch's invoice (CERT_TAX_CODE_MISMATCH)", async () => {
    const head = randomTaxCode();
    const branch = await h.seller({ taxCode: `${head}-002`, keyType: "ec" });
    const headCert = await issueSellerCert({ taxCode: head });
    await refused(sign(branch.taxCode, headCert), "CERT_TAX_CODE_MISMATCH", branch.apiKey);
  });

  it("refuses a certificate of another taxpayer, one without UID, and one naming two tax codes (CERT_TAX_CODE_MISMATCH)", async () => {
    const other = await issueSellerCert({ taxCode: randomTaxCode() });
    const none = await issueSellerCert({ taxCode: s.taxCode, subject: [{ C: ["VN"] }, { CN: [`MST:${s.taxCode}`] }] });
    const two = await issueSellerCert({ taxCode: s.taxCode, subject: [{ C: ["VN"] }, { [UID]: [`MST:${s.taxCode}`] }, { [UID]: [`MST:${randomTaxCode()}`] }] });
    const padded = await issueSellerCert({ taxCode: s.taxCode, subject: [{ C: ["VN"] }, { [UID]: [`MST:${s.taxCode} `] }] });
    for (const c of [other, none, two, padded]) await refused(sign(s.taxCode, c), "CERT_TAX_CODE_MISMATCH");
  });

  it("refuses a trusted certificate of the seller that was never registered (CERT_NOT_REGISTERED)", async () => {
    await refused(sign(s.taxCode, await issueSellerCert({ taxCode: s.taxCode })), "CERT_NOT_REGISTERED");
  });

  it("refuses a registered certificate once it is stopped (CERT_NOT_REGISTERED)", async () => {
    const t = await h.seller({ keyType: "ec" });
    await expectIssued(h, t.invoice(), t.apiKey);
    expect((await h.call("DELETE", `/v1/sellers/${t.taxCode}/certificates/${t.serial}`)).status).toBe(200);
    await refused(t.invoice(), "CERT_NOT_REGISTERED", t.apiKey);
  });
});

describe("what only the authority adds", () => {
  it("refuses a submission carrying an MCCQT, with or without Id, empty or not (CODE_ALREADY_PRESENT)", async () => {
    for (const m of ['<MCCQT Id="m">00B7ED1EE40D31479DAE6D8235E8549FB3</MCCQT>', "<MCCQT>00B7ED1EE40D31479DAE6D8235E8549FB3</MCCQT>", "<MCCQT/>"]) {
      await refused(s.invoice().replace("<DSCKS>", `${m}<DSCKS>`), "CODE_ALREADY_PRESENT");
    }
  });

  it("refuses a submission carrying a CQT signature, or an empty CQT group (CODE_ALREADY_PRESENT)", async () => {
    const withCqt = rewrite(s.invoice(), (doc) => {
      const cqt = doc.createElement("CQT");
      const copy = sellerSignature(doc).cloneNode(true) as Element;
      for (const e of [copy, ...Array.from(copy.getElementsByTagName("*"))]) if (e.getAttribute("Id")) e.setAttribute("Id", `cqt-${e.getAttribute("Id")}`);
      cqt.appendChild(copy);
      one(doc, "DSCKS").appendChild(cqt);
    });
    await refused(withCqt, "CODE_ALREADY_PRESENT");
    await refused(s.invoice().replace("</DSCKS>", "<CQT/></DSCKS>"), "CODE_ALREADY_PRESENT");
  });

  it("refuses a stamped invoice sent back with its MCCQT removed but the CQT signature kept (CODE_ALREADY_PRESENT)", async () => {
    const stamped = (await expectIssued(h, s.invoice(), s.apiKey)).xml;
    await refused(stamped.replace(/<MCCQT [^>]*>[0-9A-F]{34}<\/MCCQT>/, ""), "CODE_ALREADY_PRESENT");
  });
});

describe("other signatures that try to cover a forged DLHDon", () => {
  /** The file seller's invoice with a forged amount in DLHDon, signed by an attacker as the buyer (NMua). */
  async function forgedWithBuyerSignature(sellerSignatureWhere: "NBan" | "CCKSKhac" | "none") {
    const attacker = await issueCertificate({ subject: [{ C: ["VN"] }, { [UID]: [`MST:${s.taxCode}`] }] });
    const genuine = s.invoice({ lines: [{ name: "Hàng", quantity: 1, unitPrice: 1_000_000, taxRate: "10%" }] });
    const genuineDoc = parseDoc(genuine);
    const sellerSig = sellerSignature(genuineDoc);
    // The attacker signs the forged data as "buyer" with its own key.
    const forgedUnsigned = serialize(genuineDoc).replace(/<NBan><Signature[\s\S]*<\/Signature><\/NBan>/, "<NBan/>").replace(/1100000/g, "1");
    const attackerSigned = parseDoc(signInvoice(forgedUnsigned, attacker));
    const attackerSig = sellerSignature(attackerSigned);
    const nban = attackerSig.parentNode as Element;
    nban.removeChild(attackerSig);
    const nmua = attackerSigned.createElement("NMua");
    nmua.appendChild(attackerSig);
    one(attackerSigned, "DSCKS").appendChild(nmua);
    const imported = attackerSigned.importNode(sellerSig, true) as Element;
    if (sellerSignatureWhere === "NBan") nban.appendChild(imported);
    if (sellerSignatureWhere === "CCKSKhac") {
      const other = attackerSigned.createElement("CCKSKhac");
      other.appendChild(imported);
      one(attackerSigned, "DSCKS").appendChild(other);
    }
    return serialize(attackerSigned);
  }

  it("refuses a forged DLHDon covered by a buyer signature while the seller's signature covers the original (SIGNATURE_INVALID)", async () => {
    await refused(await forgedWithBuyerSignature("NBan"), "SIGNATURE_INVALID");
  });

  it("refuses a forged DLHDon covered by a buyer signature with the seller's signature moved to CCKSKhac (SIGNATURE_MISSING)", async () => {
    await refused(await forgedWithBuyerSignature("CCKSKhac"), "SIGNATURE_MISSING");
  });

  it("refuses a forged DLHDon signed by an attacker in the seller's place, the seller's signature moved to NMua (CERT_UNTRUSTED)", async () => {
    const attacker = await issueCertificate({ subject: [{ C: ["VN"] }, { [UID]: [`MST:${s.taxCode}`] }] });
    const genuine = parseDoc(s.invoice());
    const sellerSig = sellerSignature(genuine);
    sellerSig.parentNode!.removeChild(sellerSig);
    const forged = parseDoc(signInvoice(serialize(genuine).replace(/<TgTTTBSo>\d+/, "<TgTTTBSo>1"), attacker));
    const nmua = forged.createElement("NMua");
    nmua.appendChild(forged.importNode(sellerSig, true));
    one(forged, "DSCKS").appendChild(nmua);
    await refused(serialize(forged), "CERT_UNTRUSTED");
  });

  it("refuses a second, forged DLHDon that only a buyer signature covers (SIGNATURE_PROFILE)", async () => {
    const xml = rewrite(s.invoice(), (doc) => {
      const forged = one(doc, "DLHDon").cloneNode(true) as Element;
      forged.setAttribute("Id", "BuyerData");
      const nmua = doc.createElement("NMua");
      const sig = sellerSignature(doc).cloneNode(true) as Element;
      for (const e of [sig, ...Array.from(sig.getElementsByTagName("*"))]) if (e.getAttribute("Id")) e.setAttribute("Id", `b-${e.getAttribute("Id")}`);
      kids(ds(sig, "SignedInfo")).find((k) => k.localName === "Reference")!.setAttribute("URI", "#BuyerData");
      const obj = dsElement(doc, sig, "Object");
      obj.appendChild(forged);
      sig.appendChild(obj);
      nmua.appendChild(sig);
      one(doc, "DSCKS").appendChild(nmua);
    });
    await refused(xml, "SIGNATURE_PROFILE");
  });
});

describe("business rules", () => {
  it("refuses a buyer tax code with a wrong check digit, a never-issued one, and a malformed branch (TAX_CODE_INVALID)", async () => {
    for (const taxCode of ["0310000025", "0000000010", "0310000024-000", "0310000024-01"]) {
      const body = await refused(s.invoice({ buyer: { taxCode, name: "Công ty B", address: "TP HCM" } }), "TAX_CODE_INVALID");
      expect(body.error.details[0]!.path).toBe("NDHDon/NMua/MST");
    }
  });

  it("refuses a symbol whose year is not the issue date's (SYMBOL_YEAR_MISMATCH)", async () => {
    await refused(s.invoice({ symbol: "C25TAA", issueDate: todayGmt7() }), "SYMBOL_YEAR_MISMATCH");
  });

  it("refuses an issue date after today in GMT+7 (ISSUE_DATE_IN_FUTURE)", async () => {
    await refused(s.invoice({ issueDate: todayGmt7(new Date(Date.now() + DAY)) }), "ISSUE_DATE_IN_FUTURE");
  });

  it("refuses a total payable off by 2 đồng and accepts one off by 1 (the tolerance) (TOTALS_MISMATCH)", async () => {
    const lines = [{ name: "Hàng", quantity: 1, unitPrice: 1_000_000, taxRate: "10%" as const }];
    await refused(s.invoice({ lines, overrides: { TgTTTBSo: "1100002" } }), "TOTALS_MISMATCH");
    await refused(s.invoice({ lines, overrides: { TgTTTBSo: "1099998" } }), "TOTALS_MISMATCH");
    await expectIssued(h, s.invoice({ lines, overrides: { TgTTTBSo: "1100001" } }), s.apiKey);
  });

  it("refuses a rate group's tax off by 2, and its amount off by 1 (exact) (TOTALS_MISMATCH)", async () => {
    const lines = [{ name: "Hàng", quantity: 1, unitPrice: 1_000_000, taxRate: "10%" as const }];
    await refused(s.invoice({ lines, overrides: { groups: { "10%": { TThue: "100002" } }, TgTThue: "100002", TgTTTBSo: "1100002" } }), "TOTALS_MISMATCH");
    await refused(s.invoice({ lines, overrides: { groups: { "10%": { ThTien: "1000001" } }, TgTCThue: "1000001", TgTTTBSo: "1100001" } }), "TOTALS_MISMATCH");
  });

  it("accepts 15 integer digits and 6 decimals (number 21,6), refuses 16 integer digits or 7 decimals (SCHEMA_INVALID)", async () => {
    await expectIssued(h, s.invoice({ lines: [{ name: "Lớn", quantity: 1, unitPrice: "999999999999999", taxRate: "KCT" }] }), s.apiKey);
    await expectIssued(h, s.invoice({ lines: [{ name: "Nhỏ", quantity: "0.000001", unitPrice: 1_000_000, taxRate: "KCT" }] }), s.apiKey);
    await refused(s.invoice({ lines: [{ name: "Lớn", quantity: 1, unitPrice: "9999999999999999", taxRate: "KCT" }] }), "SCHEMA_INVALID");
    await refused(s.invoice({ lines: [{ name: "Nhỏ", quantity: "0.0000001", unitPrice: 10_000_000, taxRate: "KCT" }] }), "SCHEMA_INVALID");
  });

  it("refuses negative amounts on an invoice that does not adjust another (TOTALS_MISMATCH)", async () => {
    const body = await refused(s.invoice({ lines: [{ name: "Giảm", quantity: -1, unitPrice: 1_000_000, taxRate: "10%" }] }), "TOTALS_MISMATCH");
    // Vietnamese by default (Accept-Language).
    expect(body.error.details.some((d) => /^số tiền âm -?\d/.test(d.message))).toBe(true);
  });

});
