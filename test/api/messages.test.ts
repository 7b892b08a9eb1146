/**
 * POST /v1/messages: the T-VAN envelope as accounting software sends it. 200 → 202 or 204,
 * 300 (04/SS-HĐĐT) → 301 with cancellations applied, malformed → 999; repeated MTDiep → the same
 * reply; every notice signed by the authority.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorityRules, readInvoiceDocument, readSellerSignature } from "../../src/xml/invoice-document.js";
import { focus, parseXml } from "../../src/xml/parse.js";
import { readSignature, verifyProfile } from "../../src/xml/verify.js";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { todayGmt7 } from "../helpers/invoice.js";
import { issueSellerCert } from "../helpers/pki.js";
import { errorNotice, messageId, type NoticeEntry, readReply, signNotice, tdiep, verifyNoticeSignature } from "../helpers/tvan.js";

let h: Harness;
let s: TestSeller;

beforeAll(async () => {
  h = await startHarness();
  s = await h.seller();
});
afterAll(async () => h?.close());

const post = (xml: string | Uint8Array, key = s.apiKey, headers: Record<string, string> = {}) =>
  h.app.request("/v1/messages", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/xml", ...headers }, body: xml as BodyInit });

async function send(xml: string, key = s.apiKey) {
  const res = await post(xml, key);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/xml/);
  return readReply(text);
}

interface Invoice {
  code: string;
  status: string;
  number: number;
  symbol: string;
  issueDate: string;
  history: { event: string; reason?: string; by: string }[];
}
const invoice = async (code: string, key = s.apiKey) => (await (await h.call("GET", `/v1/invoices/${code}`, undefined, key)).json()) as Invoice;

/** Verifies the CQT signature of the HDon inside a 202, and the seller's signature beside it. */
function verifyStampedHdon(xml: string): void {
  const parsed = parseXml(xml, "TDiep");
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.faults));
  const doc = readInvoiceDocument(focus(parsed.value, parsed.value.root.getElementsByTagName("HDon")[0]!));
  if (!doc.ok) throw new Error(JSON.stringify(doc.faults));
  const cqt = readSignature(doc.value.authoritySignatures[0]!, doc.value.parsed, authorityRules(doc.value, false));
  if (!cqt.ok) throw new Error(JSON.stringify(cqt.faults));
  expect(verifyProfile(cqt.value).ok).toBe(true);
  expect(cqt.value.certificates[0]!.toString("base64")).toBe(h.authorityCertPem.replace(/-----[A-Z ]+-----|\s/g, ""));
  const seller = readSellerSignature(doc.value, false);
  if (!seller.ok) throw new Error(JSON.stringify(seller.faults));
  expect(verifyProfile(seller.value).ok).toBe(true);
}

function expectHead(r: ReturnType<typeof readReply>, type: string, sent: { id: string; sender: string }, mst = s.taxCode) {
  expect(r.ttchung).toMatchObject({ PBan: "2.0.0", MNGui: "TCT", MNNhan: sent.sender, MLTDiep: type, MTDTChieu: sent.id, MST: mst, SLuong: "1" });
  expect(r.ttchung.MTDiep).toMatch(/^TCT[0-9A-F]{32}$/);
}

describe("200: an invoice sent for a code", () => {
  it("answers 202 with the stamped HDon: TTChung from TCT to the sender, the CQT signature valid, the invoice issued", async () => {
    const sent = tdiep("200", s.invoice(), { mst: s.taxCode });
    const r = await send(sent.xml);
    expectHead(r, "202", sent);
    const code = r.one("HDon/MCCQT");
    expect(code).toMatch(/^0A[0-9A-F]{32}$/);
    verifyStampedHdon(r.xml);
    expect((await invoice(code)).status).toBe("issued");
    // The HDon in the 202 is the stored invoice, byte for byte.
    const stored = await (await h.call("GET", `/v1/invoices/${code}/xml`, undefined, s.apiKey)).text();
    expect(r.xml).toContain(`<DLieu>${stored}</DLieu>`);
  });

  it("answers a repeated MTDiep with the same reply, byte for byte, and stores nothing more", async () => {
    const sent = tdiep("200", s.invoice(), { mst: s.taxCode });
    const first = await (await post(sent.xml)).text();
    const before = await h.store.countRows();
    const again = await (await post(sent.xml)).text();
    expect(again).toBe(first);
    expect(await h.store.countRows()).toEqual(before);
  });

  it("answers concurrent copies of one message with one reply", async () => {
    const sent = tdiep("200", s.invoice(), { mst: s.taxCode });
    const replies = await Promise.all([1, 2, 3].map(async () => (await post(sent.xml)).text()));
    expect(new Set(replies).size).toBe(1);
  });

  it("answers 202 with the original code for an invoice issued before through POST /v1/invoices", async () => {
    const xml = s.invoice();
    const direct = (await (await h.submit(xml, s.apiKey)).json()) as { code: string };
    const r = await send(tdiep("200", xml, { mst: s.taxCode }).xml);
    expect(r.ttchung.MLTDiep).toBe("202");
    expect(r.one("HDon/MCCQT")).toBe(direct.code);
    expect(r.xml).not.toContain("<DLieu><?xml");
  });

  it("replaces an invoice through T-VAN: the original becomes replaced", async () => {
    const original = await invoice(readReply(await (await post(tdiep("200", s.invoice(), { mst: s.taxCode }).xml)).text()).one("HDon/MCCQT"));
    const r = await send(tdiep("200", s.invoice({ related: { kind: 1, form: "1", symbol: original.symbol, number: original.number, issueDate: original.issueDate } }), { mst: s.taxCode }).xml);
    expect(r.ttchung.MLTDiep).toBe("202");
    expect((await invoice(original.code)).status).toBe("replaced");
  });

  it("answers 204 (01/TB-KTDL, LTBao 1) for a refused invoice, with MLoi, MTLoi and HDXLy, signed by the authority", async () => {
    const number = 4_242_424;
    const sent = tdiep("200", s.invoice({ number, overrides: { TgTTTBSo: "1" } }), { mst: s.taxCode });
    const before = await h.store.countRows();
    const r = await send(sent.xml);
    expectHead(r, "204", sent);
    expect(r.one("TBao/DLTBao/MSo")).toBe("01/TB-KTDL");
    expect(r.one("TBao/DLTBao/PBan")).toBe("2.0.0");
    expect(r.one("TBao/DLTBao/LTBao")).toBe("1");
    expect(r.one("TBao/DLTBao/MGDDTu")).toBe(sent.id);
    expect(r.one("TBao/DLTBao/LCMa/KHMSHDon")).toBe("1");
    expect(r.one("TBao/DLTBao/LCMa/KHHDon")).toMatch(/^C\d{2}TAA$/);
    expect(r.one("TBao/DLTBao/LCMa/SHDon")).toBe(String(number));
    expect(r.one("TBao/DLTBao/LCMa/NLap")).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(r.all("TBao/DLTBao/LCMa/DSLDo/LDo/MLoi")).toEqual(["3005"]);
    expect(r.one("TBao/DLTBao/LCMa/DSLDo/LDo/MTLoi")).toMatch(/Số tiền/);
    expect(r.one("TBao/DLTBao/LCMa/DSLDo/LDo/HDXLy")).toMatch(/\S/);
    expect(r.one("TBao/DLTBao/LCMa/DSLDo/LDo/GChu")).toContain("TgTTTBSo");
    const sig = verifyNoticeSignature(r.xml, h.authorityCertPem);
    expect(sig.ok).toBe(true);
    expect(sig.references).toHaveLength(2);
    const after = await h.store.countRows();
    expect(after.invoices).toBe(before.invoices);
    expect(after.tvan_messages).toBe(before.tvan_messages! + 1);
    // The same message again: the same 204.
    expect(await (await post(sent.xml)).text()).toBe(r.xml);
  });

  it("writes production's 204 header (tvan.md §10): So, DDanh, NTBao, TNNT, TGGui, LTBao, CCu, MGDDTu, SLuong, in that order, and signs with Tct-/SigningTime- Ids", async () => {
    const sent = tdiep("200", s.invoice({ overrides: { TgTTTBSo: "1" } }), { mst: s.taxCode });
    const r = await send(sent.xml);
    const dltbao = r.doc.getElementsByTagName("DLTBao")[0]!;
    const names = Array.from(dltbao.childNodes).filter((n) => n.nodeType === 1).map((n) => (n as Element).localName);
    expect(names).toEqual(["PBan", "MSo", "Ten", "So", "DDanh", "NTBao", "MST", "TNNT", "TGGui", "LTBao", "CCu", "MGDDTu", "SLuong", "LCMa"]);
    expect(dltbao.getAttribute("Id")).toMatch(/^Id-[0-9A-F]{32}$/);
    const today = todayGmt7();
    expect(r.one("TBao/DLTBao/So")).toMatch(new RegExp(`^${today.slice(2, 4)}\\d{10}$`));
    expect(r.one("TBao/DLTBao/DDanh")).toBe("Hà Nội");
    expect(r.one("TBao/DLTBao/NTBao")).toBe(today.slice(0, 10));
    const seller = (await (await h.call("GET", `/v1/sellers/${s.taxCode}`)).json()) as { name: string };
    expect(r.one("TBao/DLTBao/TNNT")).toBe(seller.name);
    expect(r.one("TBao/DLTBao/TGGui")).toMatch(new RegExp(`^${today.slice(0, 10)}T\\d{2}:\\d{2}:\\d{2}$`));
    expect(r.one("TBao/DLTBao/CCu")).toBe("Thông điệp chuyển dữ liệu hóa đơn điện tử để được cấp mã đến CQT");
    expect(r.one("TBao/DLTBao/SLuong")).toBe("1");
    expect(r.all("TBao/DLTBao/TGNhan")).toEqual([]);
    const sig = r.doc.getElementsByTagNameNS("http://www.w3.org/2000/09/xmldsig#", "Signature")[0]!;
    expect(sig.getAttribute("Id")).toMatch(/^Tct-[0-9a-f]{32}$/);
    const uris = Array.from(sig.getElementsByTagNameNS("http://www.w3.org/2000/09/xmldsig#", "Reference")).map((e) => e.getAttribute("URI"));
    const object = sig.getElementsByTagNameNS("http://www.w3.org/2000/09/xmldsig#", "Object")[0]!;
    expect(object.getAttribute("Id")).toMatch(/^SigningTime-[0-9a-f]{32}$/);
    expect(uris).toEqual([`#${dltbao.getAttribute("Id")}`, `#${object.getAttribute("Id")}`]);
    expect(object.getElementsByTagNameNS("http://www.w3.org/2000/09/xmldsig#", "SignatureProperty")[0]!.getAttribute("Target")).toBe("signatureProperties");
    expect(verifyNoticeSignature(r.xml, h.authorityCertPem).ok).toBe(true);
    // Each notice has a number of its own.
    const again = await send(tdiep("200", s.invoice({ overrides: { TgTTTBSo: "1" } }), { mst: s.taxCode }).xml);
    expect(again.one("TBao/DLTBao/So")).not.toBe(r.one("TBao/DLTBao/So"));
  });

  it("answers 999 for a 200 whose SLuong is not 1, or whose SLuong does not count DLieu's items", async () => {
    const one = tdiep("200", s.invoice(), { mst: s.taxCode });
    const two = one.xml.replace("<SLuong>1</SLuong>", "<SLuong>2</SLuong>");
    const r = await send(two);
    expect(r.ttchung.MLTDiep).toBe("999");
    expect(r.all("TBao/DSLDo/LDo/MTa").join(" ")).toContain("SLuong of a 200 must be 1");
    for (const bad of ["0", "1001", "x"]) {
      const out = await send(one.xml.replace("<SLuong>1</SLuong>", `<SLuong>${bad}</SLuong>`));
      expect(out.ttchung.MLTDiep, bad).toBe("999");
      expect(out.all("TBao/DSLDo/LDo/MTa").join(" ")).toContain("SLuong");
    }
  });

  it("answers 204 with every fault of the failing stage, and 204 FORBIDDEN (5002) for another seller's invoice", async () => {
    const other = await h.seller();
    const r = await send(tdiep("200", other.invoice(), { mst: s.taxCode }).xml);
    expect(r.ttchung.MLTDiep).toBe("204");
    expect(r.all("TBao/DLTBao/LCMa/DSLDo/LDo/MLoi")).toEqual(["5002"]);
    const unsigned = await send(tdiep("200", s.invoice().replace(/<Signature[\s\S]*<\/Signature>/, ""), { mst: s.taxCode }).xml);
    expect(unsigned.all("TBao/DLTBao/LCMa/DSLDo/LDo/MLoi")).toEqual(["2002"]);
  });

  it("answers 204, not a 5xx, for an invoice whose DLHDon Id holds & (refused by the profile; issue 14, item 1)", async () => {
    const sent = tdiep("200", s.invoice({ dlhdonId: "a&b" }), { mst: s.taxCode });
    const r = await send(sent.xml);
    expectHead(r, "204", sent);
    expect(r.one("TBao/DLTBao/MSo")).toBe("01/TB-KTDL");
    expect(r.all("TBao/DLTBao/LCMa/DSLDo/LDo/MLoi").length).toBeGreaterThan(0);
  });

  it("refuses a suspended seller's invoice with 204 SELLER_SUSPENDED (4002)", async () => {
    const t = await h.seller();
    expect((await h.call("PATCH", `/v1/sellers/${t.taxCode}`, { status: "suspended" })).status).toBe(200);
    const r = await send(tdiep("200", t.invoice(), { mst: t.taxCode }).xml, t.apiKey);
    expect(r.all("TBao/DLTBao/LCMa/DSLDo/LDo/MLoi")).toEqual(["4002"]);
  });
});

describe("999: a malformed envelope", () => {
  const hdon = () => s.invoice();
  const cases: [string, () => string, string][] = [
    ["not XML", () => "this is not xml", "1001"],
    ["a DOCTYPE", () => `<!DOCTYPE TDiep [<!ENTITY x "y">]><TDiep/>`, "1002"],
    ["another root", () => tdiep("200", hdon(), { mst: s.taxCode }).xml.replace(/TDiep>/g, "TBao>"), "1001"],
    ["no MTDiep", () => tdiep("200", hdon(), { mst: s.taxCode }).xml.replace(/<MTDiep>[^<]*<\/MTDiep>/, ""), "3001"],
    ["an MTDiep not of its sender", () => tdiep("200", hdon(), { mst: s.taxCode, id: messageId("0100109106") }).xml, "3001"],
    ["lower-case hex in MTDiep", () => tdiep("200", hdon(), { mst: s.taxCode, id: "0200784873" + "a".repeat(32) }).xml, "3001"],
    ["a message type not received here", () => tdiep("100", hdon(), { mst: s.taxCode }).xml, "3001"],
    ["two HDon in DLieu", () => tdiep("200", hdon() + hdon(), { mst: s.taxCode }).xml, "3001"],
    ["a namespace on TDiep", () => tdiep("200", hdon(), { mst: s.taxCode }).xml.replace("<TDiep>", '<TDiep xmlns:x="urn:x">'), "3001"],
    ["an unknown element in TTChung", () => tdiep("200", hdon(), { mst: s.taxCode }).xml.replace("<SLuong>", "<Khac>1</Khac><SLuong>"), "3001"],
    ["SLuong 2", () => tdiep("200", hdon(), { mst: s.taxCode }).xml.replace("<SLuong>1<", "<SLuong>2<"), "3001"],
  ];
  for (const [what, xml, mloi] of cases) {
    it(`answers 999 with TTTNhan 1 for ${what} (MLoi ${mloi}), signed, and stores nothing`, async () => {
      const before = await h.store.countRows();
      const r = await send(xml());
      expect(r.ttchung.MLTDiep).toBe("999");
      expect(r.ttchung.MNGui).toBe("TCT");
      expect(r.ttchung.MTDiep).toMatch(/^TCT[0-9A-F]{32}$/);
      expect(r.one("TBao/TTTNhan")).toBe("1");
      expect(r.all("TBao/DSLDo/LDo/MLoi")[0]).toBe(mloi);
      expect(r.all("TBao/DSLDo/LDo/MTa")[0]).toMatch(/\S/);
      expect(verifyNoticeSignature(r.xml, h.authorityCertPem).ok).toBe(true);
      expect(await h.store.countRows()).toEqual(before);
    });
  }

  it("answers the envelope's sender and message when they can be read", async () => {
    const sent = tdiep("100", s.invoice(), { mst: s.taxCode, sender: "K0100109106" });
    const r = await send(sent.xml);
    expect(r.ttchung).toMatchObject({ MLTDiep: "999", MNNhan: "K0100109106", MTDTChieu: sent.id, MST: s.taxCode });
    expect(r.one("TBao/MTDiep")).toBe(sent.id);
    expect(r.one("TBao/MNGui")).toBe("K0100109106");
  });

  it("answers 999 FORBIDDEN (5002) for an envelope about another seller", async () => {
    const other = await h.seller();
    const r = await send(tdiep("200", other.invoice(), { mst: other.taxCode }).xml);
    expect(r.ttchung.MLTDiep).toBe("999");
    expect(r.all("TBao/DSLDo/LDo/MLoi")).toEqual(["5002"]);
  });
});

describe("300: an error notice 04/SS-HĐĐT", () => {
  async function issue(t: TestSeller = s) {
    const r = await send(tdiep("200", t.invoice(), { mst: t.taxCode }).xml, t.apiKey);
    return invoice(r.one("HDon/MCCQT"), t.apiKey);
  }
  const entry = (inv: Invoice, action: string, reason = "Sai thông tin người mua"): NoticeEntry => ({
    code: inv.code,
    symbol: inv.symbol,
    number: inv.number,
    issueDate: inv.issueDate,
    action,
    reason,
  });
  const notice = (entries: NoticeEntry[], t: TestSeller = s) => tdiep("300", signNotice(errorNotice(t.taxCode, entries), t), { mst: t.taxCode });

  it("cancels the invoices it lists (TCTBao 1) and answers 301 with TTTNCCQT 1 for each, signed", async () => {
    const a = await issue();
    const b = await issue();
    const sent = notice([entry(a, "1", "Hủy theo thỏa thuận"), entry(b, "1")]);
    const r = await send(sent.xml);
    expectHead(r, "301", sent);
    expect(r.one("TBao/DLTBao/MSo")).toBe("01/TB-HĐSS");
    expect(r.one("TBao/DLTBao/MGDDTu")).toBe(sent.id);
    expect(r.all("TBao/DLTBao/DSHDon/HDon/MCQTCap")).toEqual([a.code, b.code]);
    expect(r.all("TBao/DLTBao/DSHDon/HDon/TTTNCCQT")).toEqual(["1", "1"]);
    expect(r.all("TBao/DLTBao/DSHDon/HDon/TCTBao")).toEqual(["1", "1"]);
    expect(verifyNoticeSignature(r.xml, h.authorityCertPem).ok).toBe(true);
    const ca = await invoice(a.code);
    expect(ca.status).toBe("cancelled");
    expect(ca.history.at(-1)).toMatchObject({ event: "cancelled", reason: "Hủy theo thỏa thuận" });
    expect((await invoice(b.code)).status).toBe("cancelled");
  });

  it("answers a repeated 300 with the same 301, cancelling nothing twice", async () => {
    const a = await issue();
    const sent = notice([entry(a, "1")]);
    const first = await (await post(sent.xml)).text();
    const before = await h.store.countRows();
    expect(await (await post(sent.xml)).text()).toBe(first);
    expect(await h.store.countRows()).toEqual(before);
    expect(readReply(first).all("TBao/DLTBao/DSHDon/HDon/TTTNCCQT")).toEqual(["1"]);
  });

  it("answers concurrent copies of one 300 with one 301, cancelling once", async () => {
    const a = await issue();
    const sent = notice([entry(a, "1")]);
    const replies = await Promise.all([1, 2, 3].map(async () => (await post(sent.xml)).text()));
    expect(new Set(replies).size).toBe(1);
    expect(readReply(replies[0]!).all("TBao/DLTBao/DSHDon/HDon/TTTNCCQT")).toEqual(["1"]);
    expect((await invoice(a.code)).history.filter((e) => e.event === "cancelled")).toHaveLength(1);
  });

  it("judges each invoice on its own: not found, already cancelled, adjust and explain notices, other kinds", async () => {
    const ok = await issue();
    const cancelled = await issue();
    expect((await h.call("POST", `/v1/invoices/${cancelled.code}/cancellation`, { reason: "Trước" }, s.apiKey)).status).toBe(200);
    const adjust = await issue();
    const other = await h.seller();
    const theirs = await issue(other);
    const entries: NoticeEntry[] = [
      entry(ok, "1"),
      { ...entry(ok, "4"), number: ok.number + 1 },
      entry(cancelled, "1"),
      entry(cancelled, "3"),
      entry(adjust, "2"),
      entry(adjust, "4"),
      { ...entry(adjust, "1"), kind: "2" },
      entry(theirs, "1"),
      { ...entry(adjust, "1"), code: "00" + "F".repeat(32) },
      { ...entry(adjust, "1"), reason: "" },
    ];
    const r = await send(notice(entries).xml);
    expect(r.all("TBao/DLTBao/DSHDon/HDon/TTTNCCQT")).toEqual(["1", "2", "2", "2", "1", "1", "2", "2", "2", "2"]);
    const reasons = r.all("TBao/DLTBao/DSHDon/HDon/DSLDKTNhan/LDo/MLoi");
    expect(reasons).toEqual(["4004", "4005", "4005", "4004", "4004", "4004", "3001"]);
    expect((await invoice(ok.code)).status).toBe("cancelled");
    expect((await invoice(adjust.code)).status).toBe("issued");
    expect((await invoice(theirs.code, other.apiKey)).status).toBe("issued");
  });

  it("accepts none of an unsigned notice's invoices (SIGNATURE_MISSING in DLTBao/DSLDKTNhan) and cancels nothing", async () => {
    const a = await issue();
    const r = await send(tdiep("300", errorNotice(s.taxCode, [entry(a, "1")]), { mst: s.taxCode }).xml);
    expect(r.ttchung.MLTDiep).toBe("301");
    expect(r.all("TBao/DLTBao/DSLDKTNhan/LDo/MLoi")).toEqual(["2002"]);
    expect(r.all("TBao/DLTBao/DSHDon/HDon/TTTNCCQT")).toEqual(["2"]);
    expect((await invoice(a.code)).status).toBe("issued");
  });

  it("accepts none when the notice was changed after signing (SIGNATURE_INVALID) or signed by an unregistered certificate (CERT_NOT_REGISTERED)", async () => {
    const a = await issue();
    const tampered = signNotice(errorNotice(s.taxCode, [entry(a, "1", "Lý do gốc")]), s).replace("Lý do gốc", "Lý do khác");
    const r1 = await send(tdiep("300", tampered, { mst: s.taxCode }).xml);
    expect(r1.all("TBao/DLTBao/DSLDKTNhan/LDo/MLoi")).toEqual(["2005"]);
    const stranger = await issueSellerCert({ taxCode: s.taxCode });
    const r2 = await send(tdiep("300", signNotice(errorNotice(s.taxCode, [entry(a, "1")]), stranger), { mst: s.taxCode }).xml);
    expect(r2.all("TBao/DLTBao/DSLDKTNhan/LDo/MLoi")).toEqual(["2105"]);
    expect((await invoice(a.code)).status).toBe("issued");
  });

  it("answers 999 for a TBao that is not form 04/SS-HĐĐT, storing nothing", async () => {
    const a = await issue();
    const before = await h.store.countRows();
    const r = await send(tdiep("300", signNotice(errorNotice(s.taxCode, [entry(a, "1")], { mso: "01/TB-KTDL" }), s), { mst: s.taxCode }).xml);
    expect(r.ttchung.MLTDiep).toBe("999");
    expect(r.all("TBao/DSLDo/LDo/MLoi")).toEqual(["3001"]);
    expect(await h.store.countRows()).toEqual(before);
  });
});

describe("the request", () => {
  it("is for sellers, as application/xml, at most 2 MB", async () => {
    const sent = tdiep("200", s.invoice(), { mst: s.taxCode }).xml;
    expect((await h.app.request("/v1/messages", { method: "POST", headers: { "content-type": "application/xml" }, body: sent })).status).toBe(401);
    const officer = ((await (await h.call("POST", "/v1/officers", { name: "Đỗ Thị Lan" })).json()) as { token: string }).token;
    expect((await post(sent, officer)).status).toBe(403);
    expect((await post(sent, s.apiKey, { "content-type": "application/json" })).status).toBe(415);
    const big = await post(`<TDiep>${" ".repeat(2 * 1024 * 1024)}</TDiep>`);
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
  });
});
