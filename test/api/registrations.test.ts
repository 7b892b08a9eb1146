/**
 * T-VAN 100 (registration or change, 01/ĐKTĐ-HĐĐT) → 102 → 103 (tvan.md §4, §6, §13): forms
 * built and signed by the tests' own signer, answered in production's layout, signed by the
 * authority (and the 103 by the head of office too); what an acceptance registers; the officer's
 * pending list and decision; GET /v1/messages/{MTDiep}.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { buildInvoice, randomTaxCode } from "../helpers/invoice.js";
import { issueSellerCert } from "../helpers/pki.js";
import { signInvoice, verifyWithXmlsec1 } from "../helpers/sign.js";
import { type FormOptions, type Reply, readReply, registrationForm, signForm, signFormWithXmlsec1, tdiep, verifyNoticeSignature } from "../helpers/tvan.js";

let h: Harness;
let officer: string;
let pems: { authority: string; official: string };

beforeAll(async () => {
  h = await startHarness();
  const r = await h.call("POST", "/v1/officers", { name: "Lê Thị Duyệt", taxOffice: "Cục Thuế TP Hà Nội" });
  officer = ((await r.json()) as { token: string }).token;
  const dir = mkdtempSync(join(tmpdir(), "hoadon-reg-"));
  pems = { authority: join(dir, "authority.pem"), official: join(dir, "official.pem") };
  writeFileSync(pems.authority, h.authorityCertPem);
  writeFileSync(pems.official, h.officialCertPem);
  // PGlite starts in seconds, minutes on a loaded machine.
}, 180_000);
afterAll(async () => h?.close());

async function send(s: TestSeller, form: Partial<FormOptions> = {}, sign: ((x: string) => string) | null = (x) => signForm(x, s)): Promise<{ r: Reply; id: string; xml: string }> {
  const tkhai = registrationForm({ mst: s.taxCode, certificates: [{ serial: s.serial, action: "1" }], ...form });
  const sent = tdiep("100", sign ? sign(tkhai) : tkhai, { mst: s.taxCode });
  const res = await h.app.request("/v1/messages", { method: "POST", headers: { authorization: `Bearer ${s.apiKey}`, "content-type": "application/xml" }, body: sent.xml });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return { r: readReply(text), id: sent.id, xml: sent.xml };
}

async function answers(s: TestSeller, id: string): Promise<{ type: string; xml: string; messageId: string }[]> {
  const res = await h.call("GET", `/v1/messages/${id}`, undefined, s.apiKey);
  expect(res.status).toBe(200);
  return ((await res.json()) as { answers: { type: string; xml: string; messageId: string }[] }).answers;
}

const CQT = "//*[local-name()='CQT']/*[local-name()='Signature']";
const TTCQT = "//*[local-name()='TTCQT']/*[local-name()='Signature']";

describe("100 → 102 → 103", () => {
  it("accepts a new registration at once: 102 THop 1 (signed), then 103 TTXNCQT 1 signed by the head of office and the office; the seller gets its tax office", async () => {
    const s = await h.seller();
    const { r, id } = await send(s);
    expect(r.ttchung).toMatchObject({ MLTDiep: "102", MNGui: "TCT", MTDTChieu: id, MST: s.taxCode, SLuong: "1" });
    expect(r.one("TBao/DLTBao/MSo")).toBe("01/TB-TNĐT");
    expect(r.one("TBao/DLTBao/THop")).toBe("1");
    expect(r.one("TBao/DLTBao/So")).toMatch(/^10101\d{12}$/);
    expect(r.one("TBao/DLTBao/MGDDTu")).toBe(id);
    expect(r.all("TBao/DLTBao/DSLDKCNhan")).toEqual([]);
    expect(verifyNoticeSignature(r.xml, h.authorityCertPem).ok).toBe(true);
    const list = await answers(s, id);
    expect(list.map((a) => a.type)).toEqual(["102", "103"]);
    expect(list[0]!.xml).toBe(r.xml);
    const n = readReply(list[1]!.xml);
    expect(n.ttchung).toMatchObject({ MLTDiep: "103", MTDTChieu: id, MST: s.taxCode });
    expect(n.one("TBao/DLTBao/MSo")).toBe("01/TB-ĐKĐT");
    expect(n.one("TBao/DLTBao/TTXNCQT")).toBe("1");
    expect(n.one("TBao/DLTBao/TCQT")).toBe("Chi cục Thuế khu vực Ba Đình");
    expect(n.one("TBao/STBao/So")).toMatch(/^\d+$/);
    // Both signatures verify with xmlsec1 against the right certificates, and not the other way round.
    for (const [xpath, pem] of [[TTCQT, pems.official], [CQT, pems.authority]] as const) {
      const v = verifyWithXmlsec1(list[1]!.xml, { nodeXpath: xpath, trustedPem: pem, idAttrs: ["DLTBao", "STBao"] });
      expect(v.ok, v.output).toBe(true);
    }
    expect(verifyWithXmlsec1(list[1]!.xml, { nodeXpath: TTCQT, trustedPem: pems.authority, idAttrs: ["DLTBao", "STBao"] }).ok).toBe(false);
    // The seller had a tax office already (the admin API's): kept (tvan.md §4.5, "if it has none").
    const seller = (await (await h.call("GET", `/v1/sellers/${s.taxCode}`)).json()) as { taxOffice: string | null };
    expect(seller.taxOffice).toBe("Cục Thuế TP Hà Nội");
  });

  it("accepts a form signed by xmlsec1 (an independent signer) the same way, and refuses it once changed (1011)", async () => {
    const s = await h.seller();
    const { r, id } = await send(s, {}, (x) => signFormWithXmlsec1(x, s));
    expect(r.one("TBao/DLTBao/THop")).toBe("1");
    expect((await answers(s, id)).map((a) => a.type)).toEqual(["102", "103"]);
    const other = await h.seller();
    const changed = await send(other, {}, (x) => {
      const signed = signFormWithXmlsec1(x, other);
      const out = signed.replace("ketoan@example.vn", "ketoan@example.com");
      expect(out).not.toBe(signed);
      return out;
    });
    expect(changed.r.all("TBao/DLTBao/DSLDKCNhan/LDo/MLoi")).toEqual(["1011"]);
  });

  it("answers a repeated MTDiep with the same 102 and records one registration", async () => {
    const s = await h.seller();
    const tkhai = signForm(registrationForm({ mst: s.taxCode, certificates: [{ serial: s.serial, action: "1" }] }), s);
    const sent = tdiep("100", tkhai, { mst: s.taxCode });
    const post = () => h.app.request("/v1/messages", { method: "POST", headers: { authorization: `Bearer ${s.apiKey}`, "content-type": "application/xml" }, body: sent.xml });
    const [a, b] = await Promise.all([post(), post()]);
    expect(await a.text()).toBe(await b.text());
    const regs = (await (await h.call("GET", `/v1/registrations?seller=${s.taxCode}`, undefined, officer)).json()) as { items: unknown[] };
    expect(regs.items).toHaveLength(1);
  });

  it("registers the certificate that signed the form (listed in DSCTSSDung): an invoice signed with it is then issued", async () => {
    const s = await h.seller();
    const fresh = await issueSellerCert({ taxCode: s.taxCode });
    const { r } = await send(s, { certificates: [{ serial: fresh.serialHex, action: "1" }] }, (x) => signForm(x, fresh));
    expect(r.one("TBao/DLTBao/THop")).toBe("1");
    const invoice = signInvoice(buildInvoice({ sellerTaxCode: s.taxCode }), { keyPem: fresh.keyPem, certPem: fresh.certPem });
    expect((await h.submit(invoice, s.apiKey)).status).toBe(201);
  });

  it("stops a certificate listed with HThuc 3 in an accepted change, as DELETE …/certificates/{serial} does", async () => {
    const s = await h.seller();
    const other = await issueSellerCert({ taxCode: s.taxCode });
    await send(s, { certificates: [{ serial: s.serial, action: "1" }, { serial: other.serialHex, action: "1" }] });
    // `other` signed nothing: it is listed, not registered; register it as the admin API does, then stop it by a change.
    expect((await h.call("POST", `/v1/sellers/${s.taxCode}/certificates`, { pem: other.certPem })).status).toBe(201);
    const { r } = await send(s, { hthuc: "2", certificates: [{ serial: other.serialHex.toLowerCase(), action: "3" }] });
    expect(r.one("TBao/DLTBao/THop")).toBe("3");
    const signed = signInvoice(buildInvoice({ sellerTaxCode: s.taxCode }), { keyPem: other.keyPem, certPem: other.certPem });
    const refused = await h.submit(signed, s.apiKey);
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("CERT_NOT_REGISTERED");
  });
});

describe("102 THop 2 / 4: not received, with production's reasons", () => {
  const reasons = (r: Reply) => r.all("TBao/DLTBao/DSLDKCNhan/LDo/MLoi");

  it("1011 for an unsigned form and for one changed after signing", async () => {
    const s = await h.seller();
    const unsigned = await send(s, {}, null);
    expect(unsigned.r.one("TBao/DLTBao/THop")).toBe("2");
    expect(reasons(unsigned.r)).toEqual(["1011"]);
    expect(unsigned.r.one("TBao/DLTBao/Ten")).toContain("không tiếp nhận");
    const changed = await send(s, {}, (x) => signForm(x, s).replace("Nguyễn Văn A", "Nguyễn Văn B"));
    expect(reasons(changed.r)).toEqual(["1011"]);
    expect(changed.r.one("TBao/DLTBao/DSLDKCNhan/LDo/MTa")).toBe("Dữ liệu trong thẻ có Id = SigningData đã bị thay đổi trên đường truyền");
    expect(verifyNoticeSignature(changed.r.xml, h.authorityCertPem).ok).toBe(true);
    expect((await answers(s, changed.id)).map((a) => a.type)).toEqual(["102"]);
  });

  it("1011 for a certificate neither registered nor listed; 1012 for a missing field; 1013 for another MST; 1014 for no invoice form chosen", async () => {
    const s = await h.seller();
    const stranger = await issueSellerCert({ taxCode: s.taxCode });
    expect(reasons((await send(s, {}, (x) => signForm(x, stranger))).r)).toEqual(["1011"]);
    const missing = await send(s, {}, (x) => signForm(x.replace(/<MCQTQLy>\d+<\/MCQTQLy>/, ""), s));
    expect(reasons(missing.r)).toEqual(["1012"]);
    expect(missing.r.one("TBao/DLTBao/DSLDKCNhan/LDo/MTa")).toBe("Sai định dạng dữ liệu: TKhai/DLTKhai/TTChung/MCQTQLy: thiếu");
    expect(missing.r.one("TBao/DLTBao/So")).toMatch(/^00000\d{12}$/);
    expect(reasons((await send(s, {}, (x) => signForm(x.replace(`<MST>${s.taxCode}</MST>`, `<MST>${randomTaxCode()}</MST>`), s))).r)).toEqual(["1013"]);
    expect(reasons((await send(s, { flags: { CMa: "0" } })).r)).toEqual(["1014"]);
  });

  it("1010 for a change before any accepted registration (THop 4), 9992 for a second new one, 1009 for another tax office", async () => {
    const s = await h.seller();
    const change = await send(s, { hthuc: "2" });
    expect(change.r.one("TBao/DLTBao/THop")).toBe("4");
    expect(reasons(change.r)).toEqual(["1010"]);
    expect(change.r.one("TBao/DLTBao/Ten")).toContain("không tiếp nhận tờ khai thay đổi");
    await send(s);
    expect(reasons((await send(s)).r)).toEqual(["9992"]);
    expect(reasons((await send(s, { hthuc: "2", officeCode: "79101" })).r)).toEqual(["1009"]);
  });
});

describe("pending for an officer", () => {
  it("holds a form with summary tables (2004): 102 only; the officer lists it, accepts it (103, audited), and cannot decide twice (409)", async () => {
    const s = await h.seller();
    const { r, id } = await send(s, { flags: { CBTHop: "1" } });
    expect(r.one("TBao/DLTBao/THop")).toBe("1");
    expect((await answers(s, id)).map((a) => a.type)).toEqual(["102"]);
    // A second form meanwhile: 9991.
    expect((await send(s)).r.all("TBao/DLTBao/DSLDKCNhan/LDo/MLoi")).toEqual(["9991"]);
    type Pending = { items: { id: string; holdReasons: { mloi: string }[]; overdue: boolean; kind: string }[] };
    const list = (await (await h.call("GET", `/v1/registrations?status=pending&seller=${s.taxCode}`, undefined, officer)).json()) as Pending;
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ kind: "new", overdue: false });
    expect(list.items[0]!.holdReasons.map((x) => x.mloi)).toEqual(["2004"]);
    const regId = list.items[0]!.id;
    expect((await h.call("POST", `/v1/registrations/${regId}/decision`, { decision: "accept" }, s.apiKey)).status).toBe(403);
    const done = await h.call("POST", `/v1/registrations/${regId}/decision`, { decision: "accept" }, officer);
    expect(done.status).toBe(200);
    const body = (await done.json()) as { registration: { status: string; decidedBy: string }; notice: { type: string; messageId: string } };
    expect(body.registration.status).toBe("accepted");
    const all = await answers(s, id);
    expect(all.map((a) => a.type)).toEqual(["102", "103"]);
    expect(all[1]!.messageId).toBe(body.notice.messageId);
    expect(readReply(all[1]!.xml).one("TBao/DLTBao/TTXNCQT")).toBe("1");
    expect((await h.call("POST", `/v1/registrations/${regId}/decision`, { decision: "refuse", reasons: [{ mloi: "2004" }] }, officer)).status).toBe(409);
    const audit = await h.store.listAudit({ action: "registration.decision", limit: 10 });
    expect(audit.items.some((a: { target: string | null }) => a.target === regId)).toBe(true);
  });

  it("refuses with production's fixed text (2003) or the officer's own (2007); an unknown MLoi or 2007 without text is SCHEMA_INVALID", async () => {
    const s = await h.seller();
    const { id } = await send(s, { flags: { NNTDBKKhan: "1" } });
    const list = (await (await h.call("GET", `/v1/registrations?status=pending&seller=${s.taxCode}`, undefined, officer)).json()) as { items: { id: string }[] };
    const regId = list.items[0]!.id;
    for (const reasons of [[], [{ mloi: "9999" }], [{ mloi: "2007" }]]) {
      expect((await h.call("POST", `/v1/registrations/${regId}/decision`, { decision: "refuse", reasons }, officer)).status).toBe(422);
    }
    const done = await h.call("POST", `/v1/registrations/${regId}/decision`, { decision: "refuse", reasons: [{ mloi: "2003" }, { mloi: "2007", text: "Hồ sơ chưa đủ" }] }, officer);
    expect(done.status).toBe(200);
    const n = readReply((await answers(s, id))[1]!.xml);
    expect(n.one("TBao/DLTBao/TTXNCQT")).toBe("2");
    expect(n.one("TBao/DLTBao/Ten")).toContain("không chấp nhận");
    expect(n.all("TBao/DLTBao/DSLDKCNhan/LDo/MTa")).toEqual(["NNT không thuộc trường hợp sử dụng HĐĐT có mã không phải trả tiền dịch vụ", "Hồ sơ chưa đủ"]);
    expect((await h.call("GET", `/v1/registrations/x`, undefined, officer)).status).toBe(404);
  });
});

describe("GET /v1/messages/{MTDiep}", () => {
  it("is the message's seller's or an officer's; another seller gets 404", async () => {
    const s = await h.seller();
    const other = await h.seller();
    const { id } = await send(s);
    expect((await h.call("GET", `/v1/messages/${id}`, undefined, officer)).status).toBe(200);
    expect((await h.call("GET", `/v1/messages/${id}`, undefined, other.apiKey)).status).toBe(404);
    expect((await h.call("GET", `/v1/messages/${id}`)).status).toBe(403);
  });
});
