/**
 * T-VAN 203 (invoices without a code) → 204 (01/TB-KTDL, LTBao 2, 3 or 9), tvan.md §7 and §10:
 * packages of invoices signed by the tests' own signer and by xmlsec1, each judged by the gate,
 * stored as uncoded invoices (found by officer search), the answer signed by the authority and
 * replayed byte for byte; on PGlite, and on PostgreSQL when DATABASE_URL is set.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeEntry } from "../../src/tlog/entry.js";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { buildInvoice, todayGmt7 } from "../helpers/invoice.js";
import { signWithXmlsec1, verifyWithXmlsec1, xmlsec1Available } from "../helpers/sign.js";
import { messageId, packageTdiep, type Reply, readReply, registrationForm, signForm, tdiep, verifyNoticeSignature } from "../helpers/tvan.js";

let h: Harness;
let officer: string;
let authorityPem: string;
const YY = todayGmt7().slice(2, 4);
const K = `K${YY}TAA`;

beforeAll(async () => {
  h = await startHarness();
  officer = await h.officer("Trần Văn Tra", "Cục Thuế TP Hà Nội");
  authorityPem = join(mkdtempSync(join(tmpdir(), "hoadon-203-")), "authority.pem");
  writeFileSync(authorityPem, h.authorityCertPem);
}, 180_000);
afterAll(async () => h?.close());

const post = (s: { apiKey: string }, xml: string): Promise<string> => h.message(xml, s.apiKey);

/** A seller whose accepted registration says: invoices without a code, each sent in full (KCMa 1, CDDu 1). */
async function uncodedSeller(): Promise<TestSeller> {
  const s = await h.seller();
  const form = registrationForm({ mst: s.taxCode, flags: { CMa: "0", KCMa: "1", CDLQTCTN: "1", CDDu: "1" }, certificates: [{ serial: s.serial, action: "1" }] });
  const reply = readReply(await post(s, tdiep("100", signForm(form, s), { mst: s.taxCode }).xml));
  expect(reply.one("TBao/DLTBao/THop")).toBe("1");
  return s;
}

async function search(q: string): Promise<{ code: string; source: string; symbol: string; number: number; registerCode: string | null }[]> {
  const res = await h.call("GET", `/v1/invoices?${q}`, undefined, officer);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: { code: string; source: string; symbol: string; number: number; registerCode: string | null }[] }).items;
}

const header = (r: Reply) => Object.fromEntries(["MSo", "Ten", "DDanh", "MST", "TNNT", "LTBao", "CCu", "MGDDTu", "SLuong"].map((k) => [k, r.one(`TBao/DLTBao/${k}`)]));

describe("203 → 204", () => {
  it("stores every invoice of a valid package (signed by the tests' signer and by xmlsec1) as uncoded, answers LTBao 2 signed by the authority, and replays it byte for byte", async () => {
    const s = await uncodedSeller();
    const items = [s.invoice({ symbol: K, number: 1 }), s.invoice({ symbol: K, number: 2, buyer: null })];
    if (xmlsec1Available()) items.push(signWithXmlsec1(buildInvoice({ sellerTaxCode: s.taxCode, symbol: K, number: 3 }), s));
    const sent = packageTdiep("203", items, { mst: s.taxCode });
    const text = await post(s, sent.xml);
    const r = readReply(text);
    expect(r.ttchung).toMatchObject({ MLTDiep: "204", MNGui: "TCT", MNNhan: sent.sender, MTDTChieu: sent.id, MST: s.taxCode, SLuong: String(items.length) });
    expect(header(r)).toEqual({
      MSo: "01/TB-KTDL",
      Ten: "Thông báo về việc kết quả kiểm tra dữ liệu hóa đơn điện tử",
      DDanh: "Hà Nội",
      MST: s.taxCode,
      TNNT: `Công ty TNHH Thử nghiệm ${s.taxCode}`,
      LTBao: "2",
      CCu: "Thông điệp chuyển dữ liệu hóa đơn điện tử không mã đến CQT",
      MGDDTu: sent.id,
      SLuong: String(items.length),
    });
    expect(r.one("TBao/DLTBao/So")).toMatch(/^\d{12}$/);
    expect(r.one("TBao/DLTBao/NTBao")).toBe(todayGmt7());
    expect(r.all("TBao/DLTBao/LHDKMa")).toEqual([]);
    const sig = verifyNoticeSignature(text, h.authorityCertPem);
    expect(sig.ok).toBe(true);
    expect(sig.references[1]).toMatch(/^#SigningTime-[0-9a-f]{32}$/);
    if (xmlsec1Available()) {
      const v = verifyWithXmlsec1(text, { nodeXpath: "//*[local-name()='CQT']/*[local-name()='Signature']", trustedPem: authorityPem, idAttrs: ["DLTBao"] });
      expect(v.ok, v.output).toBe(true);
    }
    const found = await search(`seller=${s.taxCode}&source=uncoded`);
    expect(found.map((i) => i.number).sort()).toEqual(items.map((_, i) => i + 1));
    expect(found.every((i) => i.source === "uncoded" && i.symbol === K && i.registerCode === null)).toBe(true);
    expect(await search(`seller=${s.taxCode}&source=coded`)).toEqual([]);
    // The stored invoice is the HDon as sent, its seller signature intact.
    const xml = await (await h.call("GET", `/v1/invoices/${found[0]!.code}/xml`, undefined, officer)).text();
    expect(sent.xml).toContain(xml);
    // The record id is not an authority code: the public check does not take it.
    expect((await h.call("GET", `/v1/verify/${found[0]!.code}`)).status).toBe(404);
    // The transparency log has a leaf for each invoice received: an "uncoded" entry under its record id.
    await h.services.log!.sequence();
    for (const inv of found) {
      const p = (await (await h.call("GET", `/v1/log/proof/inclusion?code=${inv.code}`)).json()) as { entry: string };
      expect(decodeEntry(Buffer.from(p.entry, "base64"))).toMatchObject({ type: "uncoded", code: inv.code, sellerTaxCode: s.taxCode, symbol: K, number: inv.number, relatedCode: null });
    }

    const before = await h.store.countRows();
    expect(await post(s, sent.xml)).toBe(text);
    expect(await h.store.countRows()).toEqual(before);
    const listed = (await (await h.call("GET", `/v1/messages/${sent.id}`, undefined, s.apiKey)).json()) as { type: string; answers: { type: string; xml: string }[] };
    expect(listed.type).toBe("203");
    expect(listed.answers.map((a) => [a.type, a.xml])).toEqual([["204", text]]);
  });

  it("answers LTBao 3 listing each invalid invoice with its reasons (changed after signing, a code-style symbol, a duplicate, an MCCQT) and stores the valid ones alone", async () => {
    const s = await uncodedSeller();
    const first = readReply(await post(s, packageTdiep("203", [s.invoice({ symbol: K, number: 10 })], { mst: s.taxCode }).xml));
    expect(first.one("TBao/DLTBao/LTBao")).toBe("2");
    const tampered = s.invoice({ symbol: K, number: 11 }).replace("<SLuong>", "<SLuong>1");
    const coded = s.invoice({ number: 12 });
    const again = s.invoice({ symbol: K, number: 10, buyer: null });
    const withCode = s.invoice({ symbol: K, number: 13 }).replace("<DSCKS>", "<MCCQT>00ABCDEF00ABCDEF00ABCDEF00ABCDEF00</MCCQT><DSCKS>");
    const good = s.invoice({ symbol: K, number: 14 });
    const twice = s.invoice({ symbol: K, number: 14, buyer: null });
    const before = await h.store.countRows();
    const sent = packageTdiep("203", [tampered, coded, again, withCode, good, twice], { mst: s.taxCode });
    const r = readReply(await post(s, sent.xml));
    expect(r.one("TBao/DLTBao/LTBao")).toBe("3");
    expect(r.all("TBao/DLTBao/LHDKMa/DSHDon/HDon/STT")).toEqual(["1", "2", "3", "4", "6"]);
    expect(r.all("TBao/DLTBao/LHDKMa/DSHDon/HDon/SHDon")).toEqual(["11", "12", "10", "13", "14"]);
    expect(r.all("TBao/DLTBao/LHDKMa/DSHDon/HDon/KHHDon")).toEqual([K, `C${YY}TAA`, K, K, K]);
    expect(r.all("TBao/DLTBao/LHDKMa/DSHDon/HDon/DSLDo/LDo/MLoi")).toEqual(["2005", "3001", "4003", "2001", "4003"]);
    expect(verifyNoticeSignature(r.xml, h.authorityCertPem).ok).toBe(true);
    const found = await search(`seller=${s.taxCode}`);
    expect(found.map((i) => i.number).sort((a, b) => a - b)).toEqual([10, 14]);
    const after = await h.store.countRows();
    expect(after.invoices! - before.invoices!).toBe(1);
  });

  it("answers LTBao 9 and stores nothing when the seller is not registered for invoices without a code (NOT_REGISTERED_FOR_KIND, 4008) or is suspended (4002)", async () => {
    const s = await h.seller();
    const before = await h.store.countRows();
    const r = readReply(await post(s, packageTdiep("203", [s.invoice({ symbol: K })], { mst: s.taxCode }).xml));
    expect(r.one("TBao/DLTBao/LTBao")).toBe("9");
    expect(r.all("TBao/DLTBao/KHLKhac/DSLDo/LDo/MLoi")).toEqual(["4008"]);
    expect(verifyNoticeSignature(r.xml, h.authorityCertPem).ok).toBe(true);
    const after = await h.store.countRows();
    expect(after.invoices).toBe(before.invoices);
    expect(after.tvan_messages).toBe(before.tvan_messages! + 1);

    const u = await uncodedSeller();
    expect((await h.call("PATCH", `/v1/sellers/${u.taxCode}`, { status: "suspended" })).status).toBe(200);
    const s2 = readReply(await post(u, packageTdiep("203", [u.invoice({ symbol: K })], { mst: u.taxCode }).xml));
    expect(s2.all("TBao/DLTBao/KHLKhac/DSLDo/LDo/MLoi")).toEqual(["4002"]);
    expect(await search(`seller=${u.taxCode}`)).toEqual([]);
  });

  it("refuses an envelope whose SLuong is not the number of HDon, or whose MST is another seller's, with a 999 and records nothing", async () => {
    const s = await uncodedSeller();
    const other = await h.seller();
    const before = await h.store.countRows();
    for (const xml of [
      packageTdiep("203", [s.invoice({ symbol: K }), s.invoice({ symbol: K })], { mst: s.taxCode, count: 3 }).xml,
      packageTdiep("203", [s.invoice({ symbol: K })], { mst: other.taxCode }).xml,
    ]) {
      const r = readReply(await post(s, xml));
      expect(r.ttchung.MLTDiep).toBe("999");
      expect(r.one("TBao/TTTNhan")).toBe("1");
    }
    expect(await h.store.countRows()).toEqual(before);
  });

  it("refuses an invoice of another seller inside the package (FORBIDDEN, 5002) and stores the seller's own", async () => {
    const s = await uncodedSeller();
    const other = await uncodedSeller();
    const r = readReply(await post(s, packageTdiep("203", [other.invoice({ symbol: K }), s.invoice({ symbol: K, number: 5 })], { mst: s.taxCode, id: messageId("V0103930279") }).xml));
    expect(r.one("TBao/DLTBao/LTBao")).toBe("3");
    expect(r.all("TBao/DLTBao/LHDKMa/DSHDon/HDon/DSLDo/LDo/MLoi"), r.all("TBao/DLTBao/LHDKMa/DSHDon/HDon/DSLDo/LDo/GChu").join("\n")).toEqual(["5002"]);
    expect((await search(`seller=${s.taxCode}`)).map((i) => i.number)).toEqual([5]);
    expect(await search(`seller=${other.taxCode}`)).toEqual([]);
  });
});

describe("203 under HOADON_ALLOW_SHA1", () => {
  let g: Harness;
  beforeAll(async () => {
    g = await startHarness({ allowSha1: true });
  }, 180_000);
  afterAll(async () => g?.close());

  it("marks an uncoded invoice accepted under a legacy allowance (rsa-sha1) as such, as a direct submission is", async () => {
    const s = await g.seller();
    const form = registrationForm({ mst: s.taxCode, flags: { CMa: "0", KCMa: "1", CDLQTCTN: "1", CDDu: "1" }, certificates: [{ serial: s.serial, action: "1" }] });
    const send = (xml: string) => g.app.request("/v1/messages", { method: "POST", headers: { authorization: `Bearer ${s.apiKey}`, "content-type": "application/xml" }, body: xml });
    expect(readReply(await (await send(tdiep("100", signForm(form, s), { mst: s.taxCode }).xml)).text()).one("TBao/DLTBao/THop")).toBe("1");
    const r = readReply(await (await send(packageTdiep("203", [s.invoice({ symbol: K, number: 1 }, { algorithm: "rsa-sha1" }), s.invoice({ symbol: K, number: 2 })], { mst: s.taxCode }).xml)).text());
    expect(r.one("TBao/DLTBao/LTBao")).toBe("2");
    const off = ((await (await g.call("POST", "/v1/officers", { name: "Lê Văn Cũ" })).json()) as { token: string }).token;
    const items = ((await (await g.call("GET", `/v1/invoices?seller=${s.taxCode}&source=uncoded`, undefined, off)).json()) as { items: { number: number; legacy: string[] }[] }).items;
    expect(items.map((i) => [i.number, i.legacy]).sort()).toEqual([[1, ["sha1"]], [2, []]]);
  });
});
