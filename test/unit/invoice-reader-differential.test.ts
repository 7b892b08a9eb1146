/**
 * readInvoice (one walk over the elements, src/domain/invoice.ts) against the reader it replaced
 * (a plain tree checked by zod, test/helpers/invoice-zod.ts): for every document generated here,
 * both must give the same Invoice, or the same faults (code, path, message) in the same order.
 *
 * Documents: valid DLHDon seeds (the test builder's invoices, a hand-written one with every
 * optional field, the real interop samples), then 1–4 seeded mutations each — elements removed,
 * duplicated, reordered, moved, renamed (to known, unknown and prototype-ish names), texts
 * replaced by good and bad values of the element's type (amounts, dates, rates, symbols, numbers,
 * lengths at and over each bound, 10,000-character values, uncoded symbols, foreign currencies
 * without TGia, notes without ThTien, a second LTSuat for a rate), attributes and namespace
 * declarations added, DLHDon's Id removed, text and CDATA put into containers, child elements
 * into leaves, elements in a namespace, comments and processing instructions, TTKhac blocks
 * anywhere, chains deeper than the reader looks. Each document is read three ways: as a light
 * tree of plain objects, as the scanner's XElement tree of its serialization (the service's
 * input) and, for some, as an @xmldom DOM.
 *
 * Deterministic: a fixed seed; `INVOICE_DIFF_CASES=100000` runs more.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { DOMParser } from "@xmldom/xmldom";
import { describe, expect, it } from "vitest";
import { readInvoice, type XmlNodeLike } from "../../src/domain/invoice.js";
import { scanXml } from "../../src/xml/scan.js";
import { buildInvoice } from "../helpers/invoice.js";
import { readInvoiceWithZod } from "../helpers/invoice-zod.js";

const XMLNS = "http://www.w3.org/2000/xmlns/";
const XML_NS = "http://www.w3.org/XML/1998/namespace";

// ------------------------------------------------------------------------------ a light mutable tree

interface LAttr {
  name: string;
  localName: string;
  namespaceURI: string | null;
  value: string;
}
interface LElement {
  nodeType: 1;
  prefix: string | null;
  localName: string;
  namespaceURI: string | null;
  attributes: LAttr[];
  childNodes: LNode[];
}
interface LOther {
  /** 3 text, 4 CDATA, 7 processing instruction, 8 comment. */
  nodeType: 3 | 4 | 7 | 8;
  nodeValue: string;
}
type LNode = LElement | LOther;

const isElement = (n: LNode): n is LElement => n.nodeType === 1;
const element = (localName: string, children: LNode[] = [], attributes: LAttr[] = []): LElement => ({ nodeType: 1, prefix: null, localName, namespaceURI: null, attributes, childNodes: children });
const text = (v: string): LOther => ({ nodeType: 3, nodeValue: v });
const leafEl = (name: string, v: string): LElement => element(name, [text(v)]);
const attr = (name: string, value: string, namespaceURI: string | null = null): LAttr => ({ name, localName: name.includes(":") ? name.slice(name.indexOf(":") + 1) : name, namespaceURI, value });

/** Copies any DOM-like tree (the scanner's, @xmldom's) into plain mutable objects. */
function lighten(n: XmlNodeLike & { prefix?: string | null }): LNode | null {
  if (n.nodeType === 3 || n.nodeType === 4 || n.nodeType === 7 || n.nodeType === 8) return { nodeType: n.nodeType, nodeValue: n.nodeValue ?? "" };
  if (n.nodeType !== 1) return null;
  const attrs: LAttr[] = [];
  const a = n.attributes as ArrayLike<{ name: string; localName?: string | null; namespaceURI?: string | null; value: string }> | null | undefined;
  for (let i = 0; a && i < a.length; i++) attrs.push({ name: a[i]!.name, localName: a[i]!.localName ?? a[i]!.name, namespaceURI: a[i]!.namespaceURI || null, value: a[i]!.value });
  const kids: LNode[] = [];
  for (let i = 0; n.childNodes && i < n.childNodes.length; i++) {
    const k = lighten(n.childNodes[i]!);
    if (k) kids.push(k);
  }
  return { nodeType: 1, prefix: n.prefix || null, localName: n.localName ?? "", namespaceURI: n.namespaceURI || null, attributes: attrs, childNodes: kids };
}

function clone<T extends LNode>(n: T): T {
  return (isElement(n) ? { ...n, attributes: n.attributes.map((a) => ({ ...a })), childNodes: n.childNodes.map(clone) } : { ...n }) as T;
}

const escText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r/g, "&#13;");
const escAttr = (s: string) => escText(s).replace(/"/g, "&quot;").replace(/\t/g, "&#9;").replace(/\n/g, "&#10;");

function serialize(n: LNode): string {
  switch (n.nodeType) {
    case 3:
      return escText(n.nodeValue);
    case 4:
      return `<![CDATA[${n.nodeValue}]]>`;
    case 7:
      return `<?pi ${n.nodeValue}?>`;
    case 8:
      return `<!--${n.nodeValue}-->`;
    default: {
      const q = n.prefix ? `${n.prefix}:${n.localName}` : n.localName;
      const attrs = n.attributes.map((a) => ` ${a.name}="${escAttr(a.value)}"`).join("");
      return `<${q}${attrs}>${n.childNodes.map(serialize).join("")}</${q}>`;
    }
  }
}

/** Every element in document order, with its parent (null for DLHDon) and depth. */
function elementsOf(root: LElement): { el: LElement; parent: LElement | null; depth: number }[] {
  const out: { el: LElement; parent: LElement | null; depth: number }[] = [];
  const walk = (el: LElement, parent: LElement | null, depth: number) => {
    out.push({ el, parent, depth });
    for (const k of el.childNodes) if (isElement(k)) walk(k, el, depth + 1);
  };
  walk(root, null, 0);
  return out;
}

// ------------------------------------------------------------------------------ seeds

const INTEROP = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "shared", "interop");

function dlhdonsOf(xml: string): LElement[] {
  const doc = new DOMParser().parseFromString(xml, "text/xml");
  return Array.from(doc.getElementsByTagName("DLHDon")).map((d) => lighten(d as unknown as XmlNodeLike) as LElement);
}

const TTKHAC = '<TTKhac><TTin><TTruong>Fkey</TTruong><KDLieu>string</KDLieu><DLieu>abc</DLieu></TTin><TTin><TTruong>Ghi chú</TTruong><DLieu/></TTin><Foo a="1"><Bar>x</Bar>text</Foo></TTKhac>';
/** Every optional field of the format, filled. */
const FULL =
  '<HDon><DLHDon Id="data">' +
  "<TTChung><PBan>2.1.0</PBan><THDon>Hóa đơn giá trị gia tăng</THDon><KHMSHDon>1</KHMSHDon><KHHDon>C26TAA</KHHDon><SHDon>00000042</SHDon>" +
  "<NLap>2026-03-15</NLap><HDCTTChinh>1</HDCTTChinh><DVTTe>USD</DVTTe><TGia>25450.5</TGia><HTTToan>TM/CK</HTTToan><MSTTCGP>0100000010</MSTTCGP>" +
  "<TTHDLQuan><TCHDon>1</TCHDon><LHDCLQuan>3</LHDCLQuan><KHMSHDCLQuan>01GTKT0/001</KHMSHDCLQuan><KHHDCLQuan>AA/19E</KHHDCLQuan>" +
  "<SHDCLQuan>0000123</SHDCLQuan><NLHDCLQuan>2026-03-01</NLHDCLQuan><GChu>Thay thế</GChu></TTHDLQuan>" +
  `${TTKHAC}</TTChung>` +
  "<NDHDon>" +
  "<NBan><Ten>Công ty A</Ten><MST>0100000010-001</MST><DChi>Hà Nội</DChi><SDThoai>024 0000</SDThoai><DCTDTu>a@example.vn</DCTDTu>" +
  "<STKNHang>0011</STKNHang><TNHang>VCB</TNHang><Fax>024 1111</Fax><Website>a.vn</Website><MCHang>CH01</MCHang><TCHang>Cửa hàng 1</TCHang><TTKhac/></NBan>" +
  "<NMua><Ten>Công ty B</Ten><MST>0310000024</MST><DChi>TP HCM</DChi><MKHang>KH1</MKHang><HVTNMHang>Nguyễn Văn B</HVTNMHang><SDThoai>028</SDThoai>" +
  "<DCTDTu>b@example.vn</DCTDTu><STKNHang>0022</STKNHang><TNHang>BIDV</TNHang><CCCDan>001203012345</CCCDan><SHChieu>B1234567</SHChieu>" +
  "<MDVQHNSach>1234567</MDVQHNSach><TTKhac><TTin><TTruong>x</TTruong></TTin></TTKhac></NMua>" +
  "<DSHHDVu>" +
  "<HHDVu><TChat>1</TChat><STT>1</STT><MHHDVu>M1</MHHDVu><THHDVu>Phần mềm</THHDVu><DVTinh>Gói</DVTinh><SLuong>2</SLuong><DGia>1600000</DGia>" +
  "<TLCKhau>0</TLCKhau><STCKhau>0</STCKhau><ThTien>3200000</ThTien><TSuat>10%</TSuat><TTKhac/></HHDVu>" +
  "<HHDVu><TChat>3</TChat><STT>2</STT><THHDVu>Chiết khấu</THHDVu><ThTien>-200000</ThTien><TSuat>10%</TSuat></HHDVu>" +
  "<HHDVu><TChat>4</TChat><THHDVu>Ghi chú: giao tại kho</THHDVu></HHDVu>" +
  "<HHDVu><TChat>1</TChat><STT>3</STT><THHDVu>Dịch vụ</THHDVu><ThTien>1000000.5</ThTien><TSuat>KHAC:5.26</TSuat></HHDVu>" +
  "</DSHHDVu>" +
  "<TToan><THTTLTSuat>" +
  "<LTSuat><TSuat>10%</TSuat><ThTien>3000000</ThTien><TThue>300000</TThue></LTSuat>" +
  "<LTSuat><TSuat>KHAC:5.26</TSuat><ThTien>1000000.5</ThTien></LTSuat>" +
  "</THTTLTSuat><TgTCThue>4000000.5</TgTCThue><TgTThue>352600</TgTThue><TTCKTMai>200000</TTCKTMai>" +
  "<DSLPhi><LPhi><TLPhi>Phí môi trường</TLPhi><TPhi>50000</TPhi></LPhi><LPhi><TLPhi>Phí khác</TLPhi><TPhi>0</TPhi></LPhi></DSLPhi><TGTKhac>0</TGTKhac>" +
  `<TgTTTBSo>4402600.5</TgTTTBSo><TgTTTBChu>Bốn triệu</TgTTTBChu>${TTKHAC}</TToan>` +
  `</NDHDon>${TTKHAC}</DLHDon><DSCKS><NBan/></DSCKS></HDon>`;

function seeds(): LElement[] {
  const out = dlhdonsOf(FULL);
  const buyer = { taxCode: "0310000024", name: "Công ty B", address: "TP HCM" };
  const built = [
    buildInvoice({ sellerTaxCode: "0100000010", buyer, number: 7, issueDate: "2026-01-05" }),
    buildInvoice({ sellerTaxCode: "0100000010", buyer: null, number: 8, issueDate: "2026-01-05", symbol: "K26TAA" }),
    buildInvoice({ sellerTaxCode: "0100000010", buyer, number: "00000009", issueDate: "2024-02-29", pban: "2.0.0", currency: "EUR", exchangeRate: "27000.25" }),
    buildInvoice({
      sellerTaxCode: "0100000010",
      buyer,
      number: 10,
      issueDate: "2026-01-05",
      related: { kind: 2, form: "1", symbol: "C26TAA", number: 4, issueDate: "2026-01-02", note: "Điều chỉnh" },
      lines: [
        { name: "Giảm giá", quantity: -1, unitPrice: 100000, taxRate: "8%" },
        { name: "Hàng", quantity: "1.5", unitPrice: "2000.25", taxRate: "KCT", code: "H1", unit: "kg" },
        { name: "Chiết khấu", quantity: 1, unitPrice: 500, taxRate: "KCT", kind: 3 },
        { name: "Khác", quantity: 3, unitPrice: 7, taxRate: "KHAC:5.26" },
      ],
    }),
  ];
  for (const xml of built) out.push(...dlhdonsOf(xml));
  for (const name of readdirSync(INTEROP).filter((n) => n.endsWith(".xml"))) out.push(...dlhdonsOf(readFileSync(join(INTEROP, name), "utf8")));
  return out;
}

// ------------------------------------------------------------------------------ values and mutations

/** A small seeded generator (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof rng>;

const CONTAINERS = ["DLHDon", "TTChung", "TTHDLQuan", "NDHDon", "NBan", "NMua", "DSHHDVu", "HHDVu", "TToan", "THTTLTSuat", "LTSuat", "DSLPhi", "LPhi", "TTKhac", "TTin"];
const LEAVES = [
  "PBan", "THDon", "KHMSHDon", "KHHDon", "SHDon", "NLap", "HDCTTChinh", "DVTTe", "TGia", "HTTToan", "MSTTCGP", "TCHDon", "LHDCLQuan", "KHMSHDCLQuan", "KHHDCLQuan",
  "SHDCLQuan", "NLHDCLQuan", "GChu", "Ten", "MST", "DChi", "SDThoai", "DCTDTu", "STKNHang", "TNHang", "Fax", "Website", "MCHang", "TCHang", "MKHang", "HVTNMHang",
  "CCCDan", "SHChieu", "MDVQHNSach", "TChat", "STT", "MHHDVu", "THHDVu", "DVTinh", "SLuong", "DGia", "TLCKhau", "STCKhau", "ThTien", "TSuat", "TThue", "TgTCThue",
  "TgTThue", "TTCKTMai", "TLPhi", "TPhi", "TGTKhac", "TgTTTBSo", "TgTTTBChu", "TTruong", "KDLieu", "DLieu",
];
const STRANGE = ["MHSo", "SBKe", "Extra", "__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "Id", "Signature", "DSCKS", "HDon", "a", "ttchung", "Ten_", "Ｔｅｎ"];
const ALL_NAMES = [...CONTAINERS, ...LEAVES, ...STRANGE];

const AMOUNTS = [
  "0", "1", "-1", "-1.5", "3200000", "0.000001", "999999999999999.999999", "-999999999999999.999999", "1000000000000000", "1.0000001",
  "1e6", "+1", " 1", "1 ", ".5", "5.", "1,000", "", "-", "--1", "0x10", "١٢", "-0", "00000000000000000001", "1".padEnd(24, "0"), "9".repeat(10_000),
];
const DATES = [
  "2026-03-15", "2024-02-29", "2023-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "0000-01-01", "0001-01-01", "9999-12-31",
  "2026-3-15", "2026-03-15Z", "2026-03-15T10:00:00", "15/03/2026", "", "２０２６-03-15",
];
const RATES = ["0%", "5%", "8%", "10%", "KCT", "KKKNT", "KHAC:5.26", "KHAC:5.26%", "KHAC:05.00", "KHAC:5.2", "KHAC:123.45", "7%", "10", "kct", "", " 10%"];
const SYMBOLS = ["C26TAA", "K26TAA", "C21TPM", "C26ZAA", "C26Taa", "C2TAA", "A26TAA", "C26TAAA", "K99XZZ", ""];
const NUMBERS = ["1", "7", "00000007", "99999999", "0", "00000000", "100000000", "000000007", "-1", "1.0", "", "12a"];
const CHOICES: Record<string, string[]> = {
  PBan: ["2.0.0", "2.0.1", "2.1.0", "1.0.0", "2.0", " 2.0.0", ""],
  KHMSHDon: ["1", "9", "0", "12", "a", ""],
  KHHDon: SYMBOLS,
  KHHDCLQuan: SYMBOLS,
  SHDon: NUMBERS,
  SHDCLQuan: NUMBERS,
  HDCTTChinh: ["0", "1", "2", ""],
  DVTTe: ["VND", "USD", "EUR", "vnd", "VN", "", "VNDD"],
  TCHDon: ["1", "2", "3", "0", ""],
  LHDCLQuan: ["1", "2", "3", "4", "5", ""],
  TChat: ["1", "2", "3", "4", "5", "6", "0", "4 ", ""],
  STT: ["1", "9999", "10000", "0", "0001", "-1", ""],
  TGia: ["1", "25450.5", "0", "-1", "0.000000", "1e3", ""],
  NLap: DATES,
  NLHDCLQuan: DATES,
  TSuat: RATES,
};
const AMOUNT_NAMES = new Set(["TGia", "SLuong", "DGia", "TLCKhau", "STCKhau", "ThTien", "TThue", "TgTCThue", "TgTThue", "TTCKTMai", "TPhi", "TGTKhac", "TgTTTBSo"]);
const LIMITS: Record<string, number> = {
  THDon: 100, KHMSHDCLQuan: 11, GChu: 255, Ten: 400, MST: 14, DChi: 400, SDThoai: 20, DCTDTu: 50, STKNHang: 30, TNHang: 400, Fax: 20, Website: 100, MCHang: 50,
  TCHang: 400, MKHang: 50, HVTNMHang: 100, CCCDan: 12, SHChieu: 20, MDVQHNSach: 7, MHHDVu: 50, THHDVu: 500, DVTinh: 50, TLPhi: 100, TgTTTBChu: 255, HTTToan: 50, MSTTCGP: 14,
};

function textFor(g: Rng, name: string): string {
  if (g.chance(0.15)) return g.pick(["", " ", " \n\t", "x", "Công ty", "a & b < c", "😀", "\u00a0", "null", "undefined"]);
  // Own properties only: element names such as "constructor" are generated too.
  if (Object.hasOwn(CHOICES, name)) return g.pick(CHOICES[name]!);
  if (AMOUNT_NAMES.has(name)) return g.pick(AMOUNTS);
  const max = Object.hasOwn(LIMITS, name) ? LIMITS[name]! : g.pick([8, 12, 14, 100, 400]);
  const unit = g.pick(["a", "ă", "😀", " "]);
  const n = g.pick([0, 1, max - 1, max, max + 1, 2 * max, 10_000]);
  return unit.repeat(Math.max(0, n));
}

const OTHER_INFO_BLOCK = dlhdonsOf(`<HDon><DLHDon>${TTKHAC}</DLHDon></HDon>`)[0]!.childNodes[0] as LElement;

/** An element that is not part of the format, or a strange copy of one that is. */
function strangeElement(g: Rng, depth = 0): LElement {
  const kind = g.int(8);
  if (kind === 0) {
    // A chain deeper than the reader looks, with attributes and text somewhere inside.
    const n = g.int(12) + 1;
    let inner: LElement = element(g.pick(ALL_NAMES), [text(g.pick(["", "x", " "]))], g.chance(0.5) ? [attr("deep", "1")] : []);
    for (let i = 0; i < n; i++) inner = element(g.pick(ALL_NAMES), g.chance(0.2) ? [text("t"), inner] : [inner], g.chance(0.2) ? [attr("k", String(i))] : []);
    return inner;
  }
  if (kind === 1) return { ...element(g.pick(ALL_NAMES), g.chance(0.5) ? [text("x")] : [leafEl("TTin", "y")], [attr("xmlns:x", "urn:example", XMLNS)]), prefix: "x", namespaceURI: "urn:example" };
  if (kind === 2) return clone(OTHER_INFO_BLOCK);
  if (kind === 3) {
    return element(
      "TTKhac",
      g.pick([
        [text("free text")],
        [element("TTin", [leafEl("TTruong", "a"), leafEl("TTruong", "b"), leafEl("DLieu", "c")])],
        [{ ...element("TTin"), prefix: "x", namespaceURI: "urn:x", attributes: [attr("xmlns:x", "urn:x", XMLNS)] }],
        [text(" "), { nodeType: 8, nodeValue: "c" }],
        [element("TTin", [text("z")])],
      ]),
    );
  }
  const name = g.pick(ALL_NAMES);
  if (kind === 4 && depth < 3) return element(name, [strangeElement(g, depth + 1), strangeElement(g, depth + 1)]);
  return leafEl(name, textFor(g, name));
}

const ATTRIBUTES: (() => LAttr[])[] = [
  () => [attr("a", "1")],
  () => [attr("lang", "vi")],
  () => [attr("xml:lang", "vi", XML_NS)],
  () => [attr("xmlns:y", "urn:y", XMLNS)],
  () => [attr("xmlns:z", "urn:z", XMLNS), attr("z:q", "1", "urn:z")],
  () => [attr("Id", "other")],
  () => [attr("ID", "x")],
  () => [attr("__proto__", "1")],
];

type Mutation = (g: Rng, root: LElement) => void;
const nonRoot = (g: Rng, root: LElement) => {
  const all = elementsOf(root).filter((e) => e.parent !== null);
  return all.length ? g.pick(all) : null;
};
const anyElement = (g: Rng, root: LElement) => g.pick(elementsOf(root)).el;
const byName = (root: LElement, names: string[]) => elementsOf(root).filter((e) => names.includes(e.el.localName));
const insertAt = (g: Rng, parent: LElement, node: LNode) => parent.childNodes.splice(g.int(parent.childNodes.length + 1), 0, node);

const MUTATIONS: [string, number, Mutation][] = [
  ["remove an element", 6, (g, root) => {
    const e = nonRoot(g, root);
    if (e) e.parent!.childNodes.splice(e.parent!.childNodes.indexOf(e.el), 1);
  }],
  ["duplicate an element", 5, (g, root) => {
    const e = nonRoot(g, root);
    if (e) insertAt(g, e.parent!, clone(e.el));
  }],
  ["reorder children", 3, (g, root) => {
    const el = anyElement(g, root);
    for (let i = el.childNodes.length - 1; i > 0; i--) {
      const j = g.int(i + 1);
      [el.childNodes[i], el.childNodes[j]] = [el.childNodes[j]!, el.childNodes[i]!];
    }
  }],
  ["move an element elsewhere", 3, (g, root) => {
    const e = nonRoot(g, root);
    if (!e) return;
    e.parent!.childNodes.splice(e.parent!.childNodes.indexOf(e.el), 1);
    const targets = elementsOf(root).map((x) => x.el);
    insertAt(g, g.pick(targets), e.el);
  }],
  ["rename an element", 5, (g, root) => {
    const e = nonRoot(g, root);
    if (e) e.el.localName = g.pick(ALL_NAMES);
  }],
  ["replace a leaf's text", 14, (g, root) => {
    const leaves = elementsOf(root).filter((e) => !e.el.childNodes.some(isElement) && e.parent);
    if (!leaves.length) return;
    const el = g.pick(leaves).el;
    const v = textFor(g, el.localName);
    el.childNodes = g.chance(0.1) ? [text(v.slice(0, 1)), { nodeType: 4, nodeValue: v.slice(1) }] : v === "" && g.chance(0.5) ? [] : [text(v)];
  }],
  ["add an attribute", 4, (g, root) => {
    const el = anyElement(g, root);
    for (const a of g.pick(ATTRIBUTES)()) if (!el.attributes.some((b) => b.name === a.name)) el.attributes.push(a);
  }],
  ["remove DLHDon's Id", 1, (_g, root) => {
    root.attributes = root.attributes.filter((a) => a.name !== "Id");
  }],
  ["put text into an element", 4, (g, root) => {
    insertAt(g, anyElement(g, root), g.chance(0.3) ? { nodeType: 4, nodeValue: g.pick([" ", "x"]) } : text(g.pick([" ", "\n  ", "x", "Bên bán", "\t"])));
  }],
  ["add a child element", 6, (g, root) => {
    insertAt(g, anyElement(g, root), strangeElement(g));
  }],
  ["add a comment or processing instruction", 1, (g, root) => {
    insertAt(g, anyElement(g, root), { nodeType: g.pick([7, 8] as const), nodeValue: "x" });
  }],
  ["turn an element into text", 2, (g, root) => {
    const e = nonRoot(g, root);
    if (e) e.el.childNodes = g.pick([[], [text("  ")], [text("x")], [{ nodeType: 4, nodeValue: "" }]]);
  }],
  ["foreign currency without TGia", 2, (g, root) => {
    for (const e of byName(root, ["DVTTe"])) e.el.childNodes = [text(g.pick(["USD", "", "VND", "vnd"]))];
    for (const e of byName(root, ["TGia"])) if (g.chance(0.7)) e.parent!.childNodes.splice(e.parent!.childNodes.indexOf(e.el), 1);
    if (g.chance(0.5)) for (const e of byName(root, ["TTChung"])) insertAt(g, e.el, leafEl("DVTTe", g.pick(["USD", "JPY"])));
  }],
  ["a note, a line without ThTien", 2, (g, root) => {
    const lines = byName(root, ["HHDVu"]);
    if (!lines.length) return;
    const line = g.pick(lines).el;
    for (const k of line.childNodes) if (isElement(k) && k.localName === "TChat" && g.chance(0.5)) k.childNodes = [text(g.pick(["4", "1", "4 "]))];
    line.childNodes = line.childNodes.filter((k) => !(isElement(k) && k.localName === "ThTien"));
  }],
  ["a second LTSuat for a rate", 2, (g, root) => {
    for (const e of byName(root, ["THTTLTSuat"])) {
      const groups = e.el.childNodes.filter(isElement);
      if (groups.length) e.el.childNodes.push(clone(g.pick(groups)));
      e.el.childNodes.push(element("LTSuat", [leafEl("TSuat", g.pick(RATES)), leafEl("ThTien", "1")]));
    }
  }],
  ["many lines", 1, (g, root) => {
    for (const e of byName(root, ["DSHHDVu"])) {
      const lines = e.el.childNodes.filter(isElement);
      if (lines.length) for (let i = g.int(40); i > 0; i--) e.el.childNodes.push(clone(g.pick(lines)));
    }
  }],
];
const WEIGHTED = MUTATIONS.flatMap((m) => Array<(typeof MUTATIONS)[number]>(m[1]).fill(m));

// ------------------------------------------------------------------------------ the comparison

type Outcome = ReturnType<typeof readInvoice>;

function firstDlhdonOfScan(xml: string): XmlNodeLike | null {
  const s = scanXml(`<HDon>${xml}</HDon>`);
  return s.ok ? s.value.root.elements[0]! : null;
}
function firstDlhdonOfDom(xml: string): XmlNodeLike | null {
  let failed = false;
  try {
    const doc = new DOMParser({ onError: () => (failed = true) }).parseFromString(`<HDon>${xml}</HDon>`, "text/xml");
    const first = Array.from(doc.documentElement?.childNodes ?? []).find((n) => n.nodeType === 1);
    return failed || !first ? null : (first as unknown as XmlNodeLike);
  } catch {
    return null;
  }
}

interface Disagreement {
  how: string;
  xml: string;
  uncoded: boolean;
  ours: Outcome;
  oracle: Outcome;
}

interface Run {
  seeds: number;
  disagreements: Disagreement[];
  messages: Set<string>;
  seedFaults: string[];
  tally: { cases: number; accepted: number; refused: number; scanned: number; dom: number };
  applied: Map<string, number>;
}

/** Reads one document both ways, keeps a disagreement (the first five) and the oracle's fault messages. */
function compare(how: string, node: XmlNodeLike, xml: string, uncoded: boolean, run: Run): void {
  const ours = readInvoice(node, { uncoded });
  const oracle = readInvoiceWithZod(node, { uncoded });
  if (!oracle.ok) for (const f of oracle.faults) run.messages.add(f.message);
  if (!isDeepStrictEqual(ours, oracle) && run.disagreements.length < 5) run.disagreements.push({ how, xml, uncoded, ours, oracle });
}

const CASES = Number(process.env.INVOICE_DIFF_CASES ?? 3000);
let memo: Run | undefined;

/** The whole generated corpus, read both ways (once per file run). */
function run(): Run {
  if (memo) return memo;
  const base = seeds();
  const r: Run = { seeds: base.length, disagreements: [], messages: new Set(), seedFaults: [], tally: { cases: CASES, accepted: 0, refused: 0, scanned: 0, dom: 0 }, applied: new Map() };
  for (const root of base) {
    const xml = serialize(root);
    const scanned = firstDlhdonOfScan(xml);
    if (!scanned) r.seedFaults.push(`a seed does not scan: ${xml.slice(0, 200)}`);
    for (const uncoded of [false, true]) {
      compare("light tree", root, xml, uncoded, r);
      if (scanned) compare("scanned", scanned, xml, uncoded, r);
    }
    const alone = readInvoice(root, { uncoded: true });
    if (!alone.ok) r.seedFaults.push(...alone.faults.map((f) => `${f.path}: ${f.message}`));
  }
  const g = rng(20261205);
  for (let i = 0; i < CASES; i++) {
    const root = clone(g.pick(base));
    for (let m = g.int(4) + 1; m > 0; m--) {
      const [name, , mutate] = g.pick(WEIGHTED);
      mutate(g, root);
      r.applied.set(name, (r.applied.get(name) ?? 0) + 1);
    }
    const uncoded = g.chance(0.2);
    const xml = serialize(root);
    compare("light tree", root, xml, uncoded, r);
    const scanned = firstDlhdonOfScan(xml);
    if (scanned) {
      r.tally.scanned++;
      compare("scanned", scanned, xml, uncoded, r);
    }
    if (i % 4 === 0) {
      const dom = firstDlhdonOfDom(xml);
      if (dom) {
        r.tally.dom++;
        compare("DOM", dom, xml, uncoded, r);
      }
    }
    if (readInvoice(root, { uncoded }).ok) r.tally.accepted++;
    else r.tally.refused++;
  }
  return (memo = r);
}

/** Every kind of fault the schema stage reports. */
const FAULT_KINDS = [
  /^required element is missing$/,
  /^appears more than once$/,
  /^element not part of the format$/,
  /^attribute not part of the format$/,
  /^DLHDon must carry its Id attribute/,
  /^expected text, found child elements$/,
  /^expected child elements, found text$/,
  /^text is not allowed next to child elements \(mixed content\)$/,
  /^text is not allowed here \(mixed content\)$/,
  /^must not be empty$/,
  /^at most \d+ characters$/,
  /^not an amount: /,
  /^must be greater than 0$/,
  /^not a date YYYY-MM-DD$/,
  /^not a tax rate: /,
  /^not an invoice symbol: /,
  /^symbols starting with K are for invoices without a code/,
  /^not an invoice number: /,
  /^must be 2\.0\.0, 2\.0\.1 or 2\.1\.0$/,
  /^must be 1–5$/,
  /^must be 1 to 4 digits$/,
  /^must be 0 or 1$/,
  /^must be 1, 2, 3 or 4$/,
  /^must be 1 \(replaces\) or 2 \(adjusts\)$/,
  /^must be one digit 1–9$/,
  /^must be an ISO 4217 code/,
  /^required element is missing: the exchange rate is required when DVTTe is .*, not VND$/,
  /^required element is missing: ThTien is required unless TChat is 4 \(note\)$/,
  /^a second LTSuat for .*: one per rate$/,
  /^element in namespace \S+ is not part of the format$/,
  /^unexpected node \(type [78]\): only elements and text are allowed$/,
];

describe("readInvoice agrees with the zod reader it replaced", () => {
  it(`gives the same Invoice or the same faults in the same order, on the seeds and ${CASES} mutated documents (light tree, scanned, some as a DOM)`, () => {
    const r = run();
    const first = r.disagreements[0];
    if (first) {
      // The first disagreement, whole: how the document was read, the document (shortened), both answers.
      const xml = first.xml.length > 4000 ? `${first.xml.slice(0, 4000)}…` : first.xml;
      expect(first.ours, `${first.how}, uncoded ${first.uncoded}: ${xml}`).toStrictEqual(first.oracle);
    }
    expect(r.disagreements).toHaveLength(0);
  });

  it("accepts every unmutated seed (a K symbol with uncoded), from the builder, by hand and the interop samples", () => {
    const r = run();
    expect(r.seeds).toBeGreaterThanOrEqual(8);
    expect(r.seedFaults).toEqual([]);
  });

  it("generated documents that cover every mutation, both verdicts and every kind of fault", () => {
    const r = run();
    expect(r.tally.scanned).toBeGreaterThan(CASES * 0.6);
    expect(r.tally.dom).toBeGreaterThan(CASES * 0.1);
    expect(r.tally.accepted).toBeGreaterThan(CASES * 0.05);
    expect(r.tally.refused).toBeGreaterThan(CASES * 0.5);
    expect(MUTATIONS.map(([name]) => name).filter((name) => !r.applied.get(name))).toEqual([]);
    expect(FAULT_KINDS.filter((re) => ![...r.messages].some((m) => re.test(m))).map(String)).toEqual([]);
  });
});
