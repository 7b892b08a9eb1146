/**
 * The T-VAN replies checked by an independent XMLDSig implementation (xmlsec1), live: the 202's
 * HDon verifies exactly as a direct submission's stamped invoice does, and the authority's
 * signatures of 204, 301 and 999 verify against the authority's certificate.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseXml } from "../../src/xml/parse.js";
import { readSignature, verifyProfile } from "../../src/xml/verify.js";
import { CERTS, type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { buildInvoice } from "../helpers/invoice.js";
import { SELLER_SIGNATURE_XPATH, signWithXmlsec1, verifyWithXmlsec1 } from "../helpers/sign.js";
import { errorNotice, readReply, registrationForm, signForm, signNotice, tdiep } from "../helpers/tvan.js";

const CQT_XPATH = "//*[local-name()='CQT']/*[local-name()='Signature']";

if (spawnSync("xmlsec1", ["--version"]).status !== 0) throw new Error("xmlsec1 is required for the interop suite (apt-get install xmlsec1)");

let h: Harness;
let s: TestSeller;
let work: string;
let authorityPem: string;

beforeAll(async () => {
  h = await startHarness();
  s = await h.seller();
  work = mkdtempSync(join(tmpdir(), "hoadon-tvan-"));
  authorityPem = join(work, "authority.pem");
  writeFileSync(authorityPem, h.authorityCertPem);
});
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await h?.close();
});

async function send(xml: string): Promise<string> {
  const res = await h.app.request("/v1/messages", { method: "POST", headers: { authorization: `Bearer ${s.apiKey}`, "content-type": "application/xml" }, body: xml });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return text;
}

/** The command of docs/integration.md and docs/lifecycle.md for a direct submission's stamped invoice, run on the 202. */
const verifyInvoiceCqt = (xml: string) => verifyWithXmlsec1(xml, { nodeXpath: CQT_XPATH, trustedPem: authorityPem, idAttrs: ["DLHDon", "MCCQT", "Object"] });
/** The command of docs/integration.md and docs/lifecycle.md for a notice (204, 301) or a 999. */
const verifyNotice = (xml: string) => verifyWithXmlsec1(xml, { nodeXpath: CQT_XPATH, trustedPem: authorityPem, idAttrs: ["DLTBao", "TBao", "Object"] });

describe("T-VAN replies verified by xmlsec1", () => {
  it("202: the authority's and the seller's signatures of an xmlsec1-signed invoice verify inside the envelope", async () => {
    const signed = signWithXmlsec1(buildInvoice({ sellerTaxCode: s.taxCode, declaration: true }), { keyPem: s.keyPem, certPem: s.certPem });
    const reply = await send(tdiep("200", signed, { mst: s.taxCode }).xml);
    expect(readReply(reply).ttchung.MLTDiep).toBe("202");
    const cqt = verifyInvoiceCqt(reply);
    expect(cqt.ok, cqt.output).toBe(true);
    const seller = verifyWithXmlsec1(reply, { nodeXpath: SELLER_SIGNATURE_XPATH, trustedPem: CERTS + "root-ca.pem", untrustedPem: CERTS + "issuing-ca.pem", idAttrs: ["DLHDon", "Object"] });
    expect(seller.ok, seller.output).toBe(true);
    const forged = reply.replace(/(<MCCQT [^>]*>[0-9A-F]{33})([0-9A-F])/, (_, a: string, b: string) => a + (b === "0" ? "1" : "0"));
    expect(verifyInvoiceCqt(forged).ok).toBe(false);
  });

  it("204: the notice of a refused invoice verifies, and fails once a reason is changed", async () => {
    const reply = await send(tdiep("200", s.invoice({ overrides: { TgTTTBSo: "1" } }), { mst: s.taxCode }).xml);
    expect(readReply(reply).ttchung.MLTDiep).toBe("204");
    const v = verifyNotice(reply);
    expect(v.ok, v.output).toBe(true);
    expect(verifyNotice(reply.replace("<MLoi>3005</MLoi>", "<MLoi>3004</MLoi>")).ok).toBe(false);
  });

  it("301: the answer to an error notice verifies", async () => {
    const issued = readReply(await send(tdiep("200", s.invoice(), { mst: s.taxCode }).xml));
    const code = issued.one("HDon/MCCQT");
    const inv = (await (await h.call("GET", `/v1/invoices/${code}`, undefined, s.apiKey)).json()) as { symbol: string; number: number; issueDate: string };
    const tbao = signNotice(errorNotice(s.taxCode, [{ code, symbol: inv.symbol, number: inv.number, issueDate: inv.issueDate, action: "1", reason: "Hủy" }]), s);
    const reply = await send(tdiep("300", tbao, { mst: s.taxCode }).xml);
    expect(readReply(reply).ttchung.MLTDiep).toBe("301");
    const v = verifyNotice(reply);
    expect(v.ok, v.output).toBe(true);
  });

  it("999: the acknowledgement of a malformed envelope verifies", async () => {
    const reply = await send("<TDiep><TTChung/></TDiep>");
    expect(readReply(reply).ttchung.MLTDiep).toBe("999");
    const v = verifyNotice(reply);
    expect(v.ok, v.output).toBe(true);
  });
});

const INTEROP = join(import.meta.dirname, "..", "..", "..", "shared", "interop");
const sample = (name: string) => readFileSync(join(INTEROP, name), "utf8");
/** The element names below `el`, depth first, as slash paths (the Signature left out): a notice's layout. */
function layout(el: Element, prefix = ""): string[] {
  const out: string[] = [];
  for (const k of Array.from(el.childNodes).filter((n): n is Element => n.nodeType === 1)) {
    if (k.localName === "Signature") continue;
    const path = `${prefix}${k.localName}`;
    out.push(path);
    out.push(...layout(k, `${path}/`));
  }
  return out;
}
const dltbaoOf = (xml: string) => readReply(xml).doc.getElementsByTagName("DLTBao")[0]!;

describe("the authority's own answers, matched field by field", () => {
  it("204 LTBao 1 (sample 08, a 200 refused for its data): the same fields in the same order, the same fixed texts, the same signature layout", async () => {
    const real = sample("08_msg204_LTBao1_not_eligible_for_code_MLoi20001.xml");
    // The corresponding case: an invoice whose data fails the schema (production's 20001 is the catalogue's 3001).
    const ours = await send(tdiep("200", s.invoice({ buyer: { name: "N".repeat(401), taxCode: "0100000010", address: "Hà Nội" } }), { mst: s.taxCode, pban: "2.0.1" }).xml);
    const r = readReply(ours);
    const p = readReply(real);
    expect(r.ttchung.MLTDiep).toBe("204");
    expect(Object.keys(r.ttchung)).toEqual(Object.keys(p.ttchung));
    // Production's LDo has no GChu; the service adds the fault's own words there (tvan.md §10 allows it).
    expect(layout(dltbaoOf(ours)).filter((x) => !x.endsWith("/GChu"))).toEqual(layout(dltbaoOf(real)));
    for (const f of ["MSo", "Ten", "DDanh", "LTBao", "CCu", "SLuong"]) expect(r.one(`TBao/DLTBao/${f}`), f).toBe(p.one(`TBao/DLTBao/${f}`));
    expect(r.one("TBao/DLTBao/PBan")).toBe("2.0.1");
    for (const [f, re] of [["So", /^\d{12}$/], ["NTBao", /^\d{4}-\d{2}-\d{2}$/], ["TGGui", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/]] as const) {
      expect(p.one(`TBao/DLTBao/${f}`)).toMatch(re);
      expect(r.one(`TBao/DLTBao/${f}`)).toMatch(re);
    }
    expect(r.one("TBao/DLTBao/MGDDTu")).toBe(r.ttchung.MTDTChieu);
    expect(p.one("TBao/DLTBao/MGDDTu")).toBe(p.ttchung.MTDTChieu);
    expect(r.one("TBao/DLTBao/LCMa/DSLDo/LDo/MLoi")).toBe("3001");
    // The signature: Id, Reference URIs, Object and SignatureProperty as production writes them.
    const shape = (xml: string) =>
      xml
        .slice(xml.indexOf("<Signature "), xml.indexOf("</Signature>"))
        .replace(/<(SignatureValue|X509Certificate|X509SubjectName|DigestValue|SigningTime)>[^<]*</g, "<$1>…<")
        .replace(/Tct-[0-9a-f]{32}/g, "Tct-…")
        .replace(/SigningTime-[0-9a-f]{32}/g, "SigningTime-…")
        .replace(/Id-[0-9A-F]{32}/g, "Id-…");
    expect(shape(ours)).toBe(shape(real));
    const v = verifyNotice(ours);
    expect(v.ok, v.output).toBe(true);
  });
});

describe("the real answers' signatures (06, 08, 11, 13)", () => {
  for (const name of [
    "06_msg102_registration_received_THop1_01TBTNDT.xml",
    "08_msg204_LTBao1_not_eligible_for_code_MLoi20001.xml",
    "11_msg204_LTBao2_cash_register_package_valid.xml",
    "13_msg102_registration_not_received_THop2_MLoi1009.xml",
  ]) {
    it(`${name.slice(0, 2)}: the authority's signature verifies cryptographically with the service's verifier; its certificate is not trusted here (CERT_UNTRUSTED); a changed digit fails`, () => {
      const xml = sample(name);
      const check = (text: string) => {
        const parsed = parseXml(text, "TDiep");
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.faults));
        const dltbao = parsed.value.root.getElementsByTagName("DLTBao")[0]!;
        const cqt = parsed.value.signatures.filter((x) => x.parentNode?.localName === "CQT");
        expect(cqt).toHaveLength(1);
        const profile = readSignature(cqt[0]!, parsed.value, { allowSha1: false, maxReferences: 2, allowedTarget: () => true, requiredTargets: [(e) => e === dltbao] });
        if (!profile.ok) throw new Error(JSON.stringify(profile.faults));
        return { verified: verifyProfile(profile.value), profile: profile.value };
      };
      const { verified } = check(xml);
      expect(verified.ok, verified.ok ? "" : JSON.stringify(verified.faults)).toBe(true);
      if (!verified.ok) return;
      const trust = h.services.trust.verifySigner(verified.value.signer, verified.value.others, verified.value.signingTime ?? new Date(), "0100000010");
      expect(trust.ok).toBe(false);
      if (!trust.ok) expect(trust.faults[0]!.code).toBe("CERT_UNTRUSTED");
      // A digit of the taxpayer's MST inside the signed DLTBao.
      const at = xml.indexOf("<DLTBao");
      const tampered = xml.slice(0, at) + xml.slice(at).replace(/(<MST>\d)(\d)/, (_, a: string, d: string) => a + ((Number(d) + 1) % 10));
      expect(tampered).not.toBe(xml);
      expect(check(tampered).verified.ok).toBe(false);
      // xmlsec1 agrees (the chain skipped: --insecure is what "not trusted here" leaves).
      const x = verifyWithXmlsec1(xml, { nodeXpath: CQT_XPATH, idAttrs: ["DLTBao"], insecure: true, trustedPem: [] });
      expect(x.ok, x.output).toBe(true);
    });
  }
});

describe("the registration answers, matched field by field (05, 06, 13) and the real 100 (04)", () => {
  const post = async (key: string, xml: string) => {
    const res = await h.app.request("/v1/messages", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/xml" }, body: xml });
    expect(res.status).toBe(200);
    return res.text();
  };
  const shape = (xml: string) =>
    xml
      .slice(xml.indexOf("<Signature "), xml.indexOf("</Signature>"))
      .replace(/<(SignatureValue|X509Certificate|X509SubjectName|DigestValue|SigningTime)>[^<]*</g, "<$1>…<")
      .replace(/Tct-[0-9a-f]{32}/g, "Tct-…")
      .replace(/SigningTime-[0-9a-f]{32}/g, "SigningTime-…")
      .replace(/Id-[0-9A-Fa-f]{32}/g, "Id-…")
      .replace(/ \/>/g, "/>")
      .replace(/ xmlns="http:\/\/www.w3.org\/2000\/09\/xmldsig#"/, "");

  it("102 THop 1 (sample 06) and THop 2 with a reason (sample 13): the same fields in the same order, fixed texts and signature layout", async () => {
    const seller = await h.seller();
    const accepted = await post(seller.apiKey, tdiep("100", signForm(registrationForm({ mst: seller.taxCode, certificates: [{ serial: seller.serial, action: "1" }] }), seller), { mst: seller.taxCode }).xml);
    const real06 = sample("06_msg102_registration_received_THop1_01TBTNDT.xml");
    expect(layout(dltbaoOf(accepted))).toEqual(layout(dltbaoOf(real06)));
    for (const f of ["MSo", "Ten", "TTKhai", "THop"]) expect(readReply(accepted).one(`TBao/DLTBao/${f}`), f).toBe(readReply(real06).one(`TBao/DLTBao/${f}`));
    const sig = (x: string) => shape(x).replace(/<Signature Id="Tct-…"/, "<Signature");
    expect(sig(accepted)).toBe(sig(real06));
    const refused = await post(seller.apiKey, tdiep("100", registrationForm({ mst: seller.taxCode, certificates: [{ serial: seller.serial, action: "1" }] }), { mst: seller.taxCode }).xml);
    const real13 = sample("13_msg102_registration_not_received_THop2_MLoi1009.xml");
    expect(layout(dltbaoOf(refused))).toEqual(layout(dltbaoOf(real13)));
    for (const f of ["MSo", "Ten", "TTKhai", "THop"]) expect(readReply(refused).one(`TBao/DLTBao/${f}`), f).toBe(readReply(real13).one(`TBao/DLTBao/${f}`));
    expect(readReply(refused).one("TBao/DLTBao/DSLDKCNhan/LDo/MLoi")).toBe("1011");
    for (const x of [accepted, refused]) {
      const v = verifyNotice(x);
      expect(v.ok, v.output).toBe(true);
    }
  });

  it("103 accepted (sample 05): the same fields in the same order; TTCQT and CQT signatures laid out as production's, both verify", async () => {
    const seller = await h.seller();
    const sent = tdiep("100", signForm(registrationForm({ mst: seller.taxCode, certificates: [{ serial: seller.serial, action: "1" }] }), seller), { mst: seller.taxCode });
    await post(seller.apiKey, sent.xml);
    const list = (await (await h.call("GET", `/v1/messages/${sent.id}`, undefined, seller.apiKey)).json()) as { answers: { type: string; xml: string }[] };
    const ours = list.answers[1]!.xml;
    const real05 = sample("05_msg103_registration_accepted_01TBDKDT.xml");
    const real = layout(readReply(real05).doc.getElementsByTagName("TBao")[0]!).filter((p) => !p.startsWith("DSCKS/"));
    expect(layout(readReply(ours).doc.getElementsByTagName("TBao")[0]!)).toEqual(real.concat(["DSCKS", "DSCKS/TTCQT", "DSCKS/CQT"]).filter((p, i, a) => a.indexOf(p) === i));
    for (const f of ["MSo", "Ten", "TTXNCQT", "HTDKy"]) expect(readReply(ours).one(`TBao/DLTBao/${f}`), f).toBe(readReply(real05).one(`TBao/DLTBao/${f}`));
    const refs = (xml: string, role: string) => {
      const part = xml.slice(xml.indexOf(`<${role}>`), xml.indexOf(`</${role}>`));
      return [/<Signature[^>]* Id="([^"]+)"/.exec(part)![1]!.replace(/Id-[0-9a-f]{32}/, "Id-…"), ...[...part.matchAll(/URI="#([^"]+)"/g)].map((m) => m[1]!.replace(/Id-[0-9a-f]{32}/g, "Id-…"))];
    };
    for (const role of ["TTCQT", "CQT"]) expect(refs(ours, role), role).toEqual(refs(real05, role));
    const official = join(work, "official.pem");
    writeFileSync(official, h.officialCertPem);
    for (const [role, pem] of [["TTCQT", official], ["CQT", authorityPem]] as const) {
      const v = verifyWithXmlsec1(ours, { nodeXpath: `//*[local-name()='${role}']/*[local-name()='Signature']`, trustedPem: pem, idAttrs: ["DLTBao", "STBao"] });
      expect(v.ok, v.output).toBe(true);
      // The real one's signatures verify too (their chain is not trusted here: --insecure).
      const real = verifyWithXmlsec1(real05, { nodeXpath: `//*[local-name()='${role}']/*[local-name()='Signature']`, trustedPem: [], insecure: true, idAttrs: ["DLTBao", "STBao"] });
      expect(real.ok, real.output).toBe(true);
    }
  });

  it("103 not accepted (sample 07): held for an officer (2003), refused by them: the same fields in the same order, TTXNCQT 2, the reason's code and fixed text as production's; TTCQT and CQT verify", async () => {
    const seller = await h.seller();
    const made = await h.call("POST", "/v1/officers", { name: "Phó Cục trưởng Thử", taxOffice: "Cục Thuế TP Hà Nội" });
    const officer = ((await made.json()) as { token: string }).token;
    const sent = tdiep("100", signForm(registrationForm({ mst: seller.taxCode, flags: { NNTDBKKhan: "1" }, certificates: [{ serial: seller.serial, action: "1" }] }), seller), { mst: seller.taxCode });
    await post(seller.apiKey, sent.xml);
    const pending = (await (await h.call("GET", `/v1/registrations?status=pending&seller=${seller.taxCode}`, undefined, officer)).json()) as { items: { id: string; holdReasons: { mloi: string }[] }[] };
    expect(pending.items[0]!.holdReasons.map((r) => r.mloi)).toContain("2003");
    const decided = await h.call("POST", `/v1/registrations/${pending.items[0]!.id}/decision`, { decision: "refuse", reasons: [{ mloi: "2003" }] }, officer);
    expect(decided.status, await decided.clone().text()).toBe(200);
    const list = (await (await h.call("GET", `/v1/messages/${sent.id}`, undefined, seller.apiKey)).json()) as { answers: { type: string; xml: string }[] };
    const ours = list.answers.find((a) => a.type === "103")!.xml;
    const real07 = sample("07_msg103_registration_not_accepted_MLoi2003_01TBDKDT.xml");
    const tbao = (xml: string) => layout(readReply(xml).doc.getElementsByTagName("TBao")[0]!).filter((p) => !p.startsWith("DSCKS/"));
    expect(tbao(ours)).toEqual(tbao(real07));
    for (const f of ["MSo", "Ten", "TTXNCQT", "HTDKy", "DSLDKCNhan/LDo/MLoi", "DSLDKCNhan/LDo/MTa"]) expect(readReply(ours).one(`TBao/DLTBao/${f}`), f).toBe(readReply(real07).one(`TBao/DLTBao/${f}`));
    const official = join(work, "official-07.pem");
    writeFileSync(official, h.officialCertPem);
    for (const [role, pem] of [["TTCQT", official], ["CQT", authorityPem]] as const) {
      const v = verifyWithXmlsec1(ours, { nodeXpath: `//*[local-name()='${role}']/*[local-name()='Signature']`, trustedPem: pem, idAttrs: ["DLTBao", "STBao"] });
      expect(v.ok, v.output).toBe(true);
      const real = verifyWithXmlsec1(real07, { nodeXpath: `//*[local-name()='${role}']/*[local-name()='Signature']`, trustedPem: [], insecure: true, idAttrs: ["DLTBao", "STBao"] });
      expect(real.ok, real.output).toBe(true);
    }
  });

  it("reads the real TKhai of sample 10 (the 2.1.0 layout of a change, its DSCTSSDung empty, unsigned) inside a 100 and answers as " +
    "tvan.md §4.2 says: 102 THop 4, 1012 for the loose SigningTime and X509SubjectName where only a Signature may stand", async () => {
    const tkhai = sample("10_msg100_TKhai_2.1.0_change_form_unsigned.xml").replace(/^\uFEFF?<\?xml[^>]*\?>\s*/, "");
    const mst = /<MST>([^<]+)<\/MST>/.exec(tkhai)![1]!;
    const seller = await h.seller({ taxCode: mst });
    const reply = readReply(await post(seller.apiKey, tdiep("100", tkhai, { mst }).xml));
    expect(reply.ttchung).toMatchObject({ MLTDiep: "102", MST: mst });
    expect(reply.one("TBao/DLTBao/THop"), reply.xml).toBe("4");
    expect(reply.all("TBao/DLTBao/DSLDKCNhan/LDo/MLoi")).toEqual(["1012", "1012"]);
    expect(reply.all("TBao/DLTBao/DSLDKCNhan/LDo/MTa")).toEqual([
      "Sai định dạng dữ liệu: TKhai/DSCKS/NNT/SigningTime: chỉ chứa chữ ký số (Signature)",
      "Sai định dạng dữ liệu: TKhai/DSCKS/NNT/X509SubjectName: chỉ chứa chữ ký số (Signature)",
    ]);
  });

  it("answers the real 100 of sample 04 (a change, unsigned) as the authority would: 102 THop 4, 1011", async () => {
    const real = sample("04_msg100_registration_01DKTD_with_cert_list.xml");
    const seller = await h.seller({ taxCode: "0202029650" });
    const reply = readReply(await post(seller.apiKey, real));
    expect(reply.ttchung).toMatchObject({ MLTDiep: "102", MNNhan: "0200784873", MTDTChieu: "0200784873AFCA9C4BE500423692257162791E666E", MST: "0202029650" });
    expect(reply.one("TBao/DLTBao/THop")).toBe("4");
    expect(reply.all("TBao/DLTBao/DSLDKCNhan/LDo/MLoi")).toEqual(["1011"]);
    expect(reply.one("TBao/DLTBao/So")).toMatch(/^10304\d{12}$/);
  });
});
