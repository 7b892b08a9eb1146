/**
 * T-VAN 206 (cash-register invoices with the seller's own codes) → 204 (LTBao 2, 7, 9) or −1,
 * tvan.md §8, §10, §11: the range a 103 assigns, packages signed by the taxpayer (CKSNNT) with
 * the tests' own signer and with xmlsec1, each invoice judged by the gate with its own code,
 * stored as cash-register invoices found by officer search, answers signed (the −1 unsigned, as
 * production) and replayed byte for byte; the real sample 09 read, its signature verified, and
 * answered as the authority would under the tests' trust (its CA is not trusted here: −1, 2101).
 * PGlite, and PostgreSQL when DATABASE_URL is set.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeEntry } from "../../src/tlog/entry.js";
import { DSIG_NS } from "../../src/xml/algorithms.js";
import { parseXml } from "../../src/xml/parse.js";
import { readSignature, verifyProfile } from "../../src/xml/verify.js";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { buildInvoice, todayGmt7 } from "../helpers/invoice.js";
import { issueSellerCert } from "../helpers/pki.js";
import { signInvoice, verifyWithXmlsec1, xmlsec1Available } from "../helpers/sign.js";
import { packageTdiep, readReply, registrationForm, signForm, signPackage, signPackageWithXmlsec1, tdiep, verifyNoticeSignature } from "../helpers/tvan.js";

let h: Harness;
let officer: string;
let authorityPem: string;
/** The service's clock: now, unless a test sets it (the real sample's day). */
let at: (() => Date) | null = null;
const YY = todayGmt7().slice(2, 4);
const SYMBOL = `C${YY}MAA`;
const INTEROP = new URL("../../../shared/interop/", import.meta.url);

beforeAll(async () => {
  h = await startHarness({ clock: () => (at ? at() : new Date()) });
  officer = await h.officer("Phạm Thị Kiểm", "Cục Thuế TP Hà Nội");
  authorityPem = join(mkdtempSync(join(tmpdir(), "hoadon-206-")), "authority.pem");
  writeFileSync(authorityPem, h.authorityCertPem);
}, 180_000);
afterAll(async () => h?.close());

const post = (s: { apiKey: string }, xml: string): Promise<string> => h.message(xml, s.apiKey);

/** A seller registered for cash-register invoices (CMTMTTien 1), with the range its 103 assigned. */
async function cashSeller(): Promise<TestSeller & { range: string }> {
  const s = await h.seller();
  const form = registrationForm({ mst: s.taxCode, flags: { CMTMTTien: "1" }, certificates: [{ serial: s.serial, action: "1" }] });
  const sent = tdiep("100", signForm(form, s), { mst: s.taxCode });
  expect(readReply(await post(s, sent.xml)).one("TBao/DLTBao/THop")).toBe("1");
  const answers = ((await (await h.call("GET", `/v1/messages/${sent.id}`, undefined, s.apiKey)).json()) as { answers: { type: string; xml: string }[] }).answers;
  expect(answers.map((a) => a.type)).toEqual(["102", "103"]);
  const range = readReply(answers[1]!.xml).one("TBao/DLTBao/MCCQT");
  expect(range).toMatch(/^[0-9A-Z]{5}$/);
  return { ...s, range };
}

/** A cash-register HDon: its own MCCQT, `DSCKS` with empty NBan and NMua (signed by the seller when asked). */
function cashInvoice(s: TestSeller & { range: string }, number: number, o: { code?: string; symbol?: string; signed?: boolean; form?: string } = {}): string {
  const code = o.code ?? `M${o.form ?? "1"}-${YY}-${s.range}-${String(900_000 + number).padStart(11, "0")}`;
  const built = buildInvoice({ sellerTaxCode: s.taxCode, symbol: o.symbol ?? SYMBOL, number, buyer: null, ...(o.form ? { form: o.form } : {}) });
  const xml = built.replace("<DSCKS><NBan/></DSCKS>", `<MCCQT>${code}</MCCQT><DSCKS><NBan/><NMua/></DSCKS>`);
  return o.signed ? signInvoice(xml, s) : xml;
}

const codeOf = (s: TestSeller & { range: string }, number: number) => `M1-${YY}-${s.range}-${String(900_000 + number).padStart(11, "0")}`;

async function search(q: string): Promise<{ code: string; source: string; number: number; registerCode: string | null }[]> {
  const res = await h.call("GET", `/v1/invoices?${q}`, undefined, officer);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: { code: string; source: string; number: number; registerCode: string | null }[] }).items;
}

const childNames = (xml: string, parent: string): string[] => {
  const m = new RegExp(`<${parent}[^>]*>([\\s\\S]*?)</${parent}>`).exec(xml)![1]!;
  const names: string[] = [];
  let depth = 0;
  for (const t of m.matchAll(/<(\/?)([A-Za-z]+)[^>]*?(\/?)>/g)) {
    if (t[1]) depth--;
    else {
      if (depth === 0) names.push(t[2]!);
      if (!t[3]) depth++;
    }
  }
  return names;
};

describe("206 → 204", () => {
  it("assigns a range with the accepting 103 and keeps it: a later accepted change repeats the same one", async () => {
    const s = await cashSeller();
    const change = registrationForm({ mst: s.taxCode, hthuc: "2", flags: { CMTMTTien: "1" }, certificates: [{ serial: s.serial, action: "2" }] });
    const sent = tdiep("100", signForm(change, s), { mst: s.taxCode });
    expect(readReply(await post(s, sent.xml)).one("TBao/DLTBao/THop")).toBe("3");
    const answers = ((await (await h.call("GET", `/v1/messages/${sent.id}`, undefined, s.apiKey)).json()) as { answers: { xml: string }[] }).answers;
    expect(readReply(answers[1]!.xml).one("TBao/DLTBao/MCCQT")).toBe(s.range);
  });

  it("stores a package signed by the taxpayer (tests' signer) as cash-register invoices under their own codes, answers LTBao 2 in production's layout (sample 11), signed, replayed byte for byte", async () => {
    const s = await cashSeller();
    const items = [cashInvoice(s, 1), cashInvoice(s, 2, { signed: true }), cashInvoice(s, 3)];
    const sent = packageTdiep("206", items, { mst: s.taxCode });
    const text = await post(s, signPackage(sent.xml, s));
    const r = readReply(text);
    expect(r.ttchung).toMatchObject({ MLTDiep: "204", MNGui: "TCT", MNNhan: sent.sender, MTDTChieu: sent.id, MST: s.taxCode, SLuong: "3" });
    expect(r.one("TBao/DLTBao/LTBao")).toBe("2");
    expect(r.one("TBao/DLTBao/CCu")).toBe("Thông điệp chuyển dữ liệu hóa đơn điện tử có mã khởi tạo từ máy tính tiền đến CQT");
    // Field by field as the authority's own LTBao 2 (sample 11): the same DLTBao children in the same order.
    const sample = readFileSync(new URL("11_msg204_LTBao2_cash_register_package_valid.xml", INTEROP), "utf8");
    expect(childNames(text, "DLTBao")).toEqual(childNames(sample, "DLTBao"));
    expect(childNames(text, "TTChung")).toEqual(childNames(sample, "TTChung"));
    expect(verifyNoticeSignature(text, h.authorityCertPem).ok).toBe(true);
    if (xmlsec1Available()) {
      const v = verifyWithXmlsec1(text, { nodeXpath: "//*[local-name()='CQT']/*[local-name()='Signature']", trustedPem: authorityPem, idAttrs: ["DLTBao"] });
      expect(v.ok, v.output).toBe(true);
    }
    const found = await search(`seller=${s.taxCode}&source=cashRegister`);
    expect(found.map((i) => [i.number, i.registerCode, i.source]).sort()).toEqual([1, 2, 3].map((n) => [n, codeOf(s, n), "cashRegister"]));
    // The transparency log has a leaf for each: a "cashRegister" entry under the invoice's own code.
    await h.services.log!.sequence();
    for (const n of [1, 2, 3]) {
      const p = (await (await h.call("GET", `/v1/log/proof/inclusion?code=${codeOf(s, n)}`)).json()) as { entry: string };
      expect(decodeEntry(Buffer.from(p.entry, "base64"))).toMatchObject({ type: "cashRegister", code: codeOf(s, n), sellerTaxCode: s.taxCode, number: n });
    }
    const before = await h.store.countRows();
    expect(await post(s, signPackage(sent.xml, s))).toBe(text);
    expect(await h.store.countRows()).toEqual(before);
  });

  it.runIf(xmlsec1Available())("accepts a package whose CKSNNT was made by xmlsec1 (an independent signer)", async () => {
    const s = await cashSeller();
    const signed = signPackageWithXmlsec1(packageTdiep("206", [cashInvoice(s, 7), cashInvoice(s, 8)], { mst: s.taxCode }).xml, s);
    const r = readReply(await post(s, signed));
    expect(r.one("TBao/DLTBao/LTBao"), r.xml).toBe("2");
    expect((await search(`seller=${s.taxCode}`)).map((i) => i.number).sort()).toEqual([7, 8]);
  });

  it("answers LTBao 7 listing each invalid invoice (another seller's range, another year, a code used before, a coded symbol, " +
    "a changed signed invoice, a code twice in the package) in production's layout, and stores the rest", async () => {
    const s = await cashSeller();
    const other = await cashSeller();
    const first = readReply(await post(s, signPackage(packageTdiep("206", [cashInvoice(s, 9)], { mst: s.taxCode }).xml, s)));
    expect(first.one("TBao/DLTBao/LTBao")).toBe("2");
    const items = [
      cashInvoice(s, 10, { code: `M1-${YY}-${other.range}-00000000010` }),
      cashInvoice(s, 11, { code: `M1-${String((Number(YY) + 99) % 100).padStart(2, "0")}-${s.range}-00000000011` }),
      cashInvoice(s, 12, { code: codeOf(other, 1).replace(other.range, s.range) }),
      cashInvoice(s, 13, { code: codeOf(s, 9) }),
      cashInvoice(s, 14, { symbol: `C${YY}TAA` }),
      cashInvoice(s, 15, { signed: true }).replace("<SLuong>", "<SLuong>1"),
      cashInvoice(s, 16),
      cashInvoice(s, 17, { code: codeOf(s, 16) }),
    ];
    const r = readReply(await post(s, signPackage(packageTdiep("206", items, { mst: s.taxCode }).xml, s)));
    expect(r.one("TBao/DLTBao/LTBao")).toBe("7");
    const ldo = (k: string) => r.all(`TBao/DLTBao/LHDMTTien/DSLDo/LDo/${k}`);
    expect(ldo("STT")).toEqual(["1", "2", "4", "5", "6", "8"]);
    expect(ldo("MLoi")).toEqual(["3006", "3006", "4003", "3001", "2005", "4003"]);
    expect(ldo("MTLoi")[0]).toMatch(new RegExp(`^1;C${YY}MAA;10;Mã hóa đơn khởi tạo từ máy tính tiền`));
    expect(verifyNoticeSignature(r.xml, h.authorityCertPem).ok).toBe(true);
    expect((await search(`seller=${s.taxCode}`)).map((i) => i.number).sort((a, b) => a - b)).toEqual([9, 12, 16]);
  });

  it("answers −1 (unsigned, production's layout) and stores nothing when the package signature fails: changed after signing (2005), " +
    "a certificate of another MST (2013), one not registered (2105), none (2002)", async () => {
    const s = await cashSeller();
    const stranger = await h.seller();
    const unregistered = await issueSellerCert({ taxCode: s.taxCode });
    const sample12 = readFileSync(new URL("12_msg-1_invalid_format_reply_MLoi2013.xml", INTEROP), "utf8");
    const cases: [string, string][] = [
      [signPackage(packageTdiep("206", [cashInvoice(s, 20)], { mst: s.taxCode }).xml, s).replace(`<SHDon>20</SHDon>`, `<SHDon>21</SHDon>`), "2005"],
      [signPackage(packageTdiep("206", [cashInvoice(s, 22)], { mst: s.taxCode }).xml, stranger), "2013"],
      [signPackage(packageTdiep("206", [cashInvoice(s, 23)], { mst: s.taxCode }).xml, unregistered), "2105"],
      [packageTdiep("206", [cashInvoice(s, 24)], { mst: s.taxCode }).xml, "2002"],
    ];
    const before = await h.store.countRows();
    for (const [xml, mloi] of cases) {
      const text = await post(s, xml);
      const r = readReply(text);
      expect(r.ttchung.MLTDiep).toBe("-1");
      expect(r.one("MLoi")).toBe(mloi);
      expect(r.one("HSGoc")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(text).not.toContain("<Signature");
      expect(childNames(text, "TTChung")).toEqual(childNames(sample12, "TTChung"));
      expect(childNames(text, "DLieu")).toEqual(childNames(sample12, "DLieu"));
      if (mloi === "2013") expect(r.one("MTa")).toBe("Thông tin mã số thuế không khớp trong chữ ký số");
    }
    const after = await h.store.countRows();
    expect(after.invoices).toBe(before.invoices);
    expect(after.cash_register_codes).toBe(before.cash_register_codes);
    expect(after.tvan_messages).toBe(before.tvan_messages! + cases.length);
  });

  it("verifies a stored cash-register invoice by its own code (GET /v1/verify/{code}) and as a file (POST /v1/verify), signed or not; a changed invoice or a made-up code does not", async () => {
    const s = await cashSeller();
    const items = [cashInvoice(s, 40), cashInvoice(s, 41, { signed: true })];
    expect(readReply(await post(s, signPackage(packageTdiep("206", items, { mst: s.taxCode }).xml, s))).one("TBao/DLTBao/LTBao")).toBe("2");
    for (const n of [40, 41]) {
      const res = await h.call("GET", `/v1/verify/${codeOf(s, n)}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ valid: true, code: codeOf(s, n), source: "cashRegister", status: "issued", sellerTaxCode: s.taxCode, symbol: SYMBOL, number: n, transparency: null });
    }
    // Once under a signed tree head, the answers carry the leaf (the public check and the officer's read).
    await h.services.log!.sequence();
    const logged = (await (await h.call("GET", `/v1/verify/${codeOf(s, 40)}`)).json()) as { transparency: { leafIndex: number } | null };
    expect(logged.transparency?.leafIndex).toBeGreaterThanOrEqual(0);
    const [record] = await search(`seller=${s.taxCode}&source=cashRegister`).then((all) => all.filter((i) => i.number === 40));
    const read = (await (await h.call("GET", `/v1/invoices/${record!.code}`, undefined, s.apiKey)).json()) as { transparency: { leafIndex: number } | null };
    expect(read.transparency?.leafIndex).toBe(logged.transparency!.leafIndex);
    expect((await h.call("GET", `/v1/verify/M1-${YY}-${s.range}-99999999999`)).status).toBe(404);
    const verify = async (xml: string) => {
      const res = await h.app.request("/v1/verify", { method: "POST", headers: { "content-type": "application/xml" }, body: xml });
      expect(res.status).toBe(200);
      return (await res.json()) as { valid: boolean; code: string; checks: Record<string, unknown>; invoice: { source: string } | null };
    };
    for (const [k, n] of [[0, 40], [1, 41]] as const) {
      const v = await verify(items[k]!);
      expect(v, JSON.stringify(v)).toMatchObject({
        valid: true,
        code: codeOf(s, n),
        checks: { sellerSignature: true, authoritySignature: true, codeAuthentic: true, matchesRecord: true, status: "issued" },
        invoice: { source: "cashRegister" },
      });
    }
    const changed = await verify(items[0]!.replace("<TgTTTBSo>", "<TgTTTBSo>1"));
    expect(changed.valid).toBe(false);
    expect(changed.checks.matchesRecord).toBe(false);
    const other = await verify(cashInvoice(s, 42, { code: codeOf(s, 40) }));
    expect(other.valid).toBe(false);
    expect(other.checks.codeAuthentic).toBe(false);
    // The buyer's page takes the code as printed on the receipt too.
    const html = await (await h.app.request(`/?code=${codeOf(s, 40).toLowerCase()}`)).text();
    expect(html).toContain("Hóa đơn thật");
    expect(html).toContain(codeOf(s, 40));
    expect(html).toContain(s.taxCode);
  });

  it("answers LTBao 9 and stores nothing for a seller not registered for cash-register invoices (4008)", async () => {
    const s = await h.seller();
    const fake = { ...s, range: "ZZZZZ" };
    const r = readReply(await post(s, signPackage(packageTdiep("206", [cashInvoice(fake, 30)], { mst: s.taxCode }).xml, s)));
    expect(r.one("TBao/DLTBao/LTBao")).toBe("9");
    expect(r.all("TBao/DLTBao/KHLKhac/DSLDo/LDo/MLoi")).toEqual(["4008"]);
    expect(await search(`seller=${s.taxCode}`)).toEqual([]);
  });
});

describe("the real 206 (sample 09)", () => {
  const sample = () => readFileSync(new URL("09_msg206_cash_register_invoice_CKSNNT_signed.xml", INTEROP), "utf8");
  const TTCHUNG =
    "<TTChung><PBan>2.1.0</PBan><MNGui>V0103930279</MNGui><MNNhan>TCT</MNNhan><MLTDiep>206</MLTDiep>" +
    "<MTDiep>V01039302791D254B50A93D47A0999B752793A138E8</MTDiep><MTDTChieu></MTDTChieu><MST>0301127602</MST><SLuong>1</SLuong></TTChung>";
  const readdressed = () => sample().replace(/<TTChung>[\s\S]*?<\/TTChung>/, TTCHUNG);

  it("is read and its CKSNNT verifies (our verifier; xmlsec1 too), as sent and re-addressed (TTChung is not signed); a changed digit does not", () => {
    for (const xml of [sample(), readdressed()]) {
      const parsed = parseXml(xml, "TDiep");
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) return;
      const dlieu = parsed.value.root.elements.find((e) => e.localName === "DLieu")!;
      const sig = parsed.value.signatures.find((s) => s.parentNode?.localName === "CKSNNT")!;
      const profile = readSignature(sig, parsed.value, {
        allowSha1: false,
        maxReferences: 2,
        allowedTarget: (el, s) => el === dlieu || (el.localName === "Object" && el.namespaceURI === DSIG_NS && el.parentNode === s),
        requiredTargets: [(el) => el === dlieu],
      });
      expect(profile.ok).toBe(true);
      if (!profile.ok) return;
      expect(verifyProfile(profile.value).ok).toBe(true);
      if (xmlsec1Available()) {
        const v = verifyWithXmlsec1(xml, { nodeXpath: "//*[local-name()='CKSNNT']/*[local-name()='Signature']", insecure: true, trustedPem: [], idAttrs: ["DLieu"] });
        expect(v.ok, v.output).toBe(true);
        const changed = xml.replace("<SHDon>122</SHDon>", "<SHDon>123</SHDon>");
        const nodeXpath = "//*[local-name()='CKSNNT']/*[local-name()='Signature']";
        expect(verifyWithXmlsec1(changed, { nodeXpath, insecure: true, trustedPem: [], idAttrs: ["DLieu"] }).ok).toBe(false);
      }
    }
  });

  it("is answered as the authority would here: as sent, a 999 (no PBan, the provider's internal copy); re-addressed, −1 with 2101 (its CA is not trusted by the tests) and nothing stored", async () => {
    at = () => new Date("2025-10-23T10:00:00Z");
    try {
      const created = await h.call("POST", "/v1/sellers", { taxCode: "0301127602", name: "CÔNG TY TNHH THƯƠNG MẠI MÃ HOA", address: "118 Lò Siêu, TP Hồ Chí Minh" });
      expect([201, 409]).toContain(created.status);
      const key = ((await (await h.call("POST", "/v1/sellers/0301127602/api-keys")).json()) as { key: string }).key;
      const before = await h.store.countRows();
      const asSent = readReply(await post({ apiKey: key }, sample()));
      expect(asSent.ttchung.MLTDiep).toBe("999");
      const r = readReply(await post({ apiKey: key }, readdressed()));
      expect(r.ttchung).toMatchObject({ MLTDiep: "-1", MNNhan: "V0103930279", MTDTChieu: "V01039302791D254B50A93D47A0999B752793A138E8" });
      expect(r.one("MLoi")).toBe("2101");
      const after = await h.store.countRows();
      expect(after.invoices).toBe(before.invoices);
    } finally {
      at = null;
    }
  });
});
