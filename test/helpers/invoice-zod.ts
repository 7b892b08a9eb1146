/**
 * The schema stage as it was through 2026-12 (readInvoice before the one-walk reader): DLHDon read
 * into a plain tree of null-prototype objects, checked with zod, conditions across fields checked
 * on the tree, then mapped to the model. Kept verbatim as the oracle of the service's reader:
 * test/unit/invoice-reader-differential.test.ts asserts that both give the same Invoice, or the
 * same faults in the same order, for every document it generates. Not used by the service.
 */
import { z } from "zod";
import type { Invoice, LineKind, OtherInfo, RelatedInvoice, XmlNodeLike } from "../../src/domain/invoice.js";
import { type Decimal, ONE, parseAmount, ZERO } from "../../src/domain/money.js";
import { type Fault, ok, type Result } from "../../src/errors.js";

/** The content of a TTKhac, already read (its inside is data, not structure). */
class OtherInfoBlock {
  constructor(readonly entries: OtherInfo[]) {}
}

type RawValue = string | RawElement | OtherInfoBlock;
/** Children by name, always as lists so a duplicate is visible to the schema. Null prototype: names are data. */
type RawElement = { [name: string]: RawValue[] };

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_NODE = 4;
const XMLNS_NS = "http://www.w3.org/2000/xmlns/";
/** Elements that may repeat; their path steps carry a 1-based index. */
const REPEATED: ReadonlySet<string> = new Set(["HHDVu", "LTSuat", "LPhi", "TTin"]);
/** Deepest known element is DLHDon/NDHDon/TToan/THTTLTSuat/LTSuat/TSuat (depth 5); anything deeper is unknown anyway. */
const MAX_DEPTH = 8;

const XML_BLANK = /^[ \t\r\n]*$/;
const schemaFault = (path: string, message: string): Fault => (path === "" ? { code: "SCHEMA_INVALID", message } : { code: "SCHEMA_INVALID", message, path });
const join = (path: string, step: string): string => (path === "" ? step : `${path}/${step}`);

function childList(node: XmlNodeLike): ArrayLike<XmlNodeLike> {
  return node.childNodes ?? [];
}

function checkAttributes(el: XmlNodeLike, path: string, isRoot: boolean, faults: Fault[]): void {
  let sawId = false;
  const attrs = el.attributes;
  for (let i = 0; attrs && i < attrs.length; i++) {
    const a = attrs[i]!;
    // Namespace declarations are not attributes in the XSD sense (and carry no business data).
    if (a.namespaceURI === XMLNS_NS) continue;
    const name = a.localName ?? a.name ?? "";
    if (isRoot && name === "Id" && !a.namespaceURI) {
      sawId = true;
      continue;
    }
    faults.push(schemaFault(join(path, `@${a.name ?? name}`), "attribute not part of the format"));
  }
  if (isRoot && !sawId) faults.push(schemaFault("@Id", "DLHDon must carry its Id attribute (the signature refers to it)"));
}

function unexpectedNode(node: XmlNodeLike, path: string, faults: Fault[]): void {
  faults.push(schemaFault(path, `unexpected node (type ${node.nodeType}): only elements and text are allowed`));
}

function textOf(el: XmlNodeLike): string {
  let text = "";
  const kids = childList(el);
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i]!;
    if (k.nodeType === TEXT_NODE || k.nodeType === CDATA_NODE) text += k.nodeValue ?? "";
  }
  return text;
}

/** TTKhac: its direct children must be no-namespace elements; below them anything goes (xs:any skip). */
function readOtherInfo(el: XmlNodeLike, path: string, faults: Fault[]): OtherInfoBlock {
  checkAttributes(el, path, false, faults);
  const entries: OtherInfo[] = [];
  let text = "";
  const kids = childList(el);
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i]!;
    if (k.nodeType === TEXT_NODE || k.nodeType === CDATA_NODE) {
      text += k.nodeValue ?? "";
    } else if (k.nodeType !== ELEMENT_NODE) {
      unexpectedNode(k, path, faults);
    } else if (k.namespaceURI) {
      faults.push(schemaFault(join(path, k.localName ?? ""), `element in namespace ${k.namespaceURI} is not part of the format`));
    } else if (k.localName === "TTin") {
      const fields: Record<string, string> = Object.create(null);
      const parts = childList(k);
      for (let j = 0; j < parts.length; j++) {
        const p = parts[j]!;
        const n = p.localName ?? "";
        if (p.nodeType === ELEMENT_NODE && !p.namespaceURI && (n === "TTruong" || n === "KDLieu" || n === "DLieu") && !(n in fields)) {
          fields[n] = textOf(p);
        }
      }
      if (fields.TTruong !== undefined) entries.push({ field: fields.TTruong, type: fields.KDLieu ?? null, value: fields.DLieu ?? null });
    }
  }
  if (!XML_BLANK.test(text)) faults.push(schemaFault(path, "text is not allowed here (mixed content)"));
  return new OtherInfoBlock(entries);
}

function readElement(el: XmlNodeLike, path: string, depth: number, faults: Fault[]): RawValue {
  checkAttributes(el, path, depth === 0, faults);
  const out: RawElement = Object.create(null);
  let hasElements = false;
  let text = "";
  const kids = childList(el);
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i]!;
    if (k.nodeType === TEXT_NODE || k.nodeType === CDATA_NODE) {
      text += k.nodeValue ?? "";
      continue;
    }
    if (k.nodeType !== ELEMENT_NODE) {
      unexpectedNode(k, path, faults);
      continue;
    }
    hasElements = true;
    const name = k.localName ?? "";
    if (k.namespaceURI) {
      faults.push(schemaFault(join(path, name), `element in namespace ${k.namespaceURI} is not part of the format`));
      continue;
    }
    const list = (out[name] ??= []);
    const childPath = join(path, REPEATED.has(name) ? `${name}[${list.length + 1}]` : name);
    if (name === "TTKhac") list.push(readOtherInfo(k, childPath, faults));
    // Too deep to be part of the format: the schema refuses its parent, no need to read further.
    else if (depth >= MAX_DEPTH) list.push(Object.create(null) as RawElement);
    else list.push(readElement(k, childPath, depth + 1, faults));
  }
  if (!hasElements) return text;
  if (!XML_BLANK.test(text)) faults.push(schemaFault(path, "text is not allowed next to child elements (mixed content)"));
  return out;
}

// ---------------------------------------------------------------------------------------------
// The schema (zod), over the plain tree

const isObjectInput = (input: unknown): boolean => typeof input === "object" && input !== null;

/** Text content of a leaf element. */
const leafText = z.string({
  error: (iss) => (isObjectInput(iss.input) ? "expected text, found child elements" : "expected text"),
});

const NON_BLANK = /[^ \t\r\n]/;
/** Length in characters (code points), as XSD counts it. */
function fits(s: string, max: number): boolean {
  if (s.length <= max) return true;
  let n = 0;
  for (const _ of s) if (++n > max) return false;
  return true;
}

const requiredText = (max: number) =>
  leafText.refine((s) => NON_BLANK.test(s), "must not be empty").refine((s) => fits(s, max), `at most ${max} characters`);
const optionalText = (max: number) =>
  leafText.refine((s) => fits(s, max), `at most ${max} characters`).transform((s) => (s === "" ? null : s));
const pattern = (re: RegExp, message: string) => leafText.regex(re, message);

const AMOUNT_MESSAGE = "not an amount: '-'?, at most 15 integer digits, at most 6 decimals after '.', no exponent, sign '+', spaces or separators";
const amount = leafText.transform((s, ctx): Decimal => {
  const d = parseAmount(s);
  if (d === null) {
    ctx.issues.push({ code: "custom", message: AMOUNT_MESSAGE, input: s });
    return z.NEVER;
  }
  return d;
});
const positiveAmount = leafText.transform((s, ctx): Decimal => {
  const d = parseAmount(s);
  if (d === null || d <= 0n) {
    ctx.issues.push({ code: "custom", message: d === null ? AMOUNT_MESSAGE : "must be greater than 0", input: s });
    return z.NEVER;
  }
  return d;
});

/** A real calendar date written YYYY-MM-DD (year 0001–9999; XSD's xs:date has no year 0000). */
function isIsoDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m === null) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]!;
  return d <= days;
}
const date = leafText.refine(isIsoDate, "not a date YYYY-MM-DD");

const TAX_RATE = /^(?:0%|5%|8%|10%|KCT|KKKNT|KHAC:\d{1,2}\.\d{2}%?)$/;
const taxRate = pattern(TAX_RATE, "not a tax rate: 0%, 5%, 8%, 10%, KCT, KKKNT or KHAC:AB.CD with an optional %");

const symbol = leafText.superRefine((s, ctx) => {
  if (!/^[CK]\d{2}[TDLMNBGHX][A-Z]{2}$/.test(s)) {
    ctx.addIssue({ code: "custom", message: "not an invoice symbol: C or K, two digits of the year, one of TDLMNBGHX, two upper-case letters" });
  }
});
/** What only an invoice sent for a code must be: a K symbol is for invoices without a code (T-VAN 203, readInvoice's `uncoded`). */
const UNCODED_SYMBOL = "symbols starting with K are for invoices without a code; this service issues codes (C…)";
const invoiceNumber = leafText.transform((s, ctx): number => {
  if (!/^\d{1,8}$/.test(s) || !/[1-9]/.test(s)) {
    ctx.issues.push({ code: "custom", message: "not an invoice number: 1 to 99999999, at most 8 digits (zero padding allowed)", input: s });
    return z.NEVER;
  }
  return Number(s);
});

// Cardinality: each child name maps to the list of its occurrences (see readElement).
const MISSING = "required element is missing";
const list = <T extends z.ZodType>(item: T) =>
  z.array(item, { error: (iss) => (iss.input === undefined ? MISSING : "expected an element") });
/** Exactly one occurrence. */
const one = <T extends z.ZodType>(item: T) => list(item).max(1, "appears more than once").transform((a) => a[0] as z.output<T>);
/** At most one occurrence; null when absent. */
const maybe = <T extends z.ZodType>(item: T) =>
  list(item)
    .max(1, "appears more than once")
    .optional()
    .transform((a) => (a === undefined ? null : (a[0] as z.output<T>)));
/** Any number of occurrences. */
const many = <T extends z.ZodType>(item: T) =>
  list(item)
    .optional()
    .transform((a) => (a ?? []) as z.output<T>[]);
/** At least one occurrence. */
const oneOrMore = <T extends z.ZodType>(item: T) => list(item).min(1, MISSING);

/** An element with child elements; an empty one (or whitespace only) has none. */
const container = <S extends z.core.$ZodLooseShape>(shape: S) =>
  z.preprocess(
    (v) => (typeof v === "string" && XML_BLANK.test(v) ? Object.create(null) : v),
    z.strictObject(shape, { error: (iss) => (iss.code === "invalid_type" ? "expected child elements, found text" : undefined) }),
  );

const otherInfo = z.custom<OtherInfoBlock>((v) => v instanceof OtherInfoBlock, "expected TTKhac").transform((b) => b.entries);

const ttHDLQuan = container({
  TCHDon: one(pattern(/^[12]$/, "must be 1 (replaces) or 2 (adjusts)")),
  LHDCLQuan: one(pattern(/^[1-4]$/, "must be 1, 2, 3 or 4")),
  KHMSHDCLQuan: one(requiredText(11)),
  KHHDCLQuan: one(requiredText(8)),
  SHDCLQuan: one(requiredText(8)),
  NLHDCLQuan: one(date),
  GChu: maybe(optionalText(255)),
});

const ttChung = container({
  PBan: one(z.enum(["2.0.0", "2.0.1", "2.1.0"], { error: "must be 2.0.0, 2.0.1 or 2.1.0" })),
  THDon: one(requiredText(100)),
  KHMSHDon: one(pattern(/^[1-9]$/, "must be one digit 1–9")),
  KHHDon: one(symbol),
  SHDon: one(invoiceNumber),
  NLap: one(date),
  HDCTTChinh: maybe(pattern(/^[01]$/, "must be 0 or 1")),
  DVTTe: maybe(pattern(/^[A-Z]{3}$/, "must be an ISO 4217 code (three upper-case letters)")),
  TGia: maybe(positiveAmount),
  HTTToan: maybe(optionalText(50)),
  MSTTCGP: maybe(optionalText(14)),
  TTHDLQuan: maybe(ttHDLQuan),
  TTKhac: maybe(otherInfo),
});

const nBan = container({
  Ten: one(requiredText(400)),
  MST: one(requiredText(14)),
  DChi: one(requiredText(400)),
  SDThoai: maybe(optionalText(20)),
  DCTDTu: maybe(optionalText(50)),
  STKNHang: maybe(optionalText(30)),
  TNHang: maybe(optionalText(400)),
  Fax: maybe(optionalText(20)),
  Website: maybe(optionalText(100)),
  MCHang: maybe(optionalText(50)),
  TCHang: maybe(optionalText(400)),
  TTKhac: maybe(otherInfo),
});

const nMua = container({
  Ten: maybe(optionalText(400)),
  MST: maybe(optionalText(14)),
  DChi: maybe(optionalText(400)),
  MKHang: maybe(optionalText(50)),
  HVTNMHang: maybe(optionalText(100)),
  SDThoai: maybe(optionalText(20)),
  DCTDTu: maybe(optionalText(50)),
  STKNHang: maybe(optionalText(30)),
  TNHang: maybe(optionalText(400)),
  CCCDan: maybe(optionalText(12)),
  SHChieu: maybe(optionalText(20)),
  MDVQHNSach: maybe(optionalText(7)),
  TTKhac: maybe(otherInfo),
});

const hhdVu = container({
  TChat: one(pattern(/^[1-5]$/, "must be 1–5").transform((s) => Number(s) as LineKind)),
  STT: maybe(pattern(/^\d{1,4}$/, "must be 1 to 4 digits").transform(Number)),
  MHHDVu: maybe(optionalText(50)),
  THHDVu: one(requiredText(500)),
  DVTinh: maybe(optionalText(50)),
  SLuong: maybe(amount),
  DGia: maybe(amount),
  TLCKhau: maybe(amount),
  STCKhau: maybe(amount),
  // Required unless TChat is 4: checked in conditionalFaults (XSD 1.0 cannot say it).
  ThTien: maybe(amount),
  TSuat: maybe(taxRate),
  TTKhac: maybe(otherInfo),
});

const ltSuat = container({
  TSuat: one(taxRate),
  ThTien: one(amount),
  TThue: maybe(amount),
});

const lPhi = container({
  TLPhi: one(requiredText(100)),
  TPhi: one(amount),
});

const tToan = container({
  THTTLTSuat: maybe(container({ LTSuat: many(ltSuat) })),
  TgTCThue: one(amount),
  TgTThue: one(amount),
  TTCKTMai: maybe(amount),
  DSLPhi: maybe(container({ LPhi: many(lPhi) })),
  TGTKhac: maybe(amount),
  TgTTTBSo: one(amount),
  TgTTTBChu: one(requiredText(255)),
  TTKhac: maybe(otherInfo),
});

const ndHDon = container({
  NBan: one(nBan),
  NMua: maybe(nMua),
  DSHHDVu: one(container({ HHDVu: oneOrMore(hhdVu) })),
  TToan: one(tToan),
});

/** The zod schema of DLHDon's content, over the plain tree readInvoice builds (child name → occurrences). */
export const dlhdonSchema = container({
  TTChung: one(ttChung),
  NDHDon: one(ndHDon),
  TTKhac: maybe(otherInfo),
});

type Parsed = z.output<typeof dlhdonSchema>;

// ---------------------------------------------------------------------------------------------
// Conditions across fields, checked on the plain tree so they are reported whatever else fails

function firstElement(parent: RawValue | undefined, name: string): RawElement | undefined {
  if (typeof parent !== "object" || parent instanceof OtherInfoBlock) return undefined;
  const v = parent[name]?.[0];
  return typeof v === "object" && !(v instanceof OtherInfoBlock) ? v : undefined;
}
function firstText(parent: RawElement | undefined, name: string): string | undefined {
  const v = parent?.[name]?.[0];
  return typeof v === "string" ? v : undefined;
}
function elements(parent: RawElement | undefined, name: string): (RawElement | undefined)[] {
  return (parent?.[name] ?? []).map((v) => (typeof v === "object" && !(v instanceof OtherInfoBlock) ? v : undefined));
}

function conditionalFaults(root: RawElement): Fault[] {
  const faults: Fault[] = [];
  const ttChungRaw = firstElement(root, "TTChung");
  if (ttChungRaw) {
    const currency = firstText(ttChungRaw, "DVTTe") ?? "VND";
    if (currency !== "VND" && ttChungRaw.TGia === undefined) {
      faults.push(schemaFault("TTChung/TGia", `required element is missing: the exchange rate is required when DVTTe is ${currency}, not VND`));
    }
  }
  const nd = firstElement(root, "NDHDon");
  elements(firstElement(nd, "DSHHDVu"), "HHDVu").forEach((line, i) => {
    if (line && firstText(line, "TChat") !== "4" && line.ThTien === undefined) {
      faults.push(schemaFault(`NDHDon/DSHHDVu/HHDVu[${i + 1}]/ThTien`, "required element is missing: ThTien is required unless TChat is 4 (note)"));
    }
  });
  const seen = new Set<string>();
  elements(firstElement(firstElement(nd, "TToan"), "THTTLTSuat"), "LTSuat").forEach((group, i) => {
    const rate = firstText(group, "TSuat");
    if (rate === undefined) return;
    if (seen.has(rate)) faults.push(schemaFault(`NDHDon/TToan/THTTLTSuat/LTSuat[${i + 1}]/TSuat`, `a second LTSuat for ${rate}: one per rate`));
    seen.add(rate);
  });
  return faults;
}

// ---------------------------------------------------------------------------------------------
// readInvoice

/** Formats a zod path as an XML path: index steps are kept only after repeated elements, 1-based. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  let previous: PropertyKey | undefined;
  for (const step of path) {
    if (typeof step === "number") {
      if (typeof previous === "string" && REPEATED.has(previous)) out += `[${step + 1}]`;
    } else {
      out = join(out, String(step));
    }
    previous = step;
  }
  return out;
}

function zodFaults(error: z.ZodError): Fault[] {
  const faults: Fault[] = [];
  for (const issue of error.issues) {
    const path = formatPath(issue.path);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) faults.push(schemaFault(join(path, key), "element not part of the format"));
    } else {
      faults.push(schemaFault(path, issue.message));
    }
  }
  return faults;
}

function toInvoice(p: Parsed): Invoice {
  const t = p.TTChung;
  const nb = p.NDHDon.NBan;
  const nm = p.NDHDon.NMua;
  const tt = p.NDHDon.TToan;
  const r = t.TTHDLQuan;
  const currency = t.DVTTe ?? "VND";
  return {
    version: t.PBan,
    title: t.THDon,
    form: t.KHMSHDon,
    symbol: t.KHHDon,
    number: t.SHDon,
    issueDate: t.NLap,
    currency,
    exchangeRate: currency === "VND" ? ONE : (t.TGia ?? ONE),
    paymentMethod: t.HTTToan,
    providerTaxCode: t.MSTTCGP,
    financialLeasing: t.HDCTTChinh === null ? null : t.HDCTTChinh === "1",
    related:
      r === null
        ? null
        : {
            kind: r.TCHDon === "1" ? "replaces" : "adjusts",
            relatedType: Number(r.LHDCLQuan) as RelatedInvoice["relatedType"],
            form: r.KHMSHDCLQuan,
            symbol: r.KHHDCLQuan,
            number: r.SHDCLQuan,
            issueDate: r.NLHDCLQuan,
            note: r.GChu,
          },
    sellerTaxCode: nb.MST,
    buyerTaxCode: nm?.MST ?? null,
    seller: {
      name: nb.Ten,
      taxCode: nb.MST,
      address: nb.DChi,
      phone: nb.SDThoai,
      email: nb.DCTDTu,
      bankAccount: nb.STKNHang,
      bankName: nb.TNHang,
      fax: nb.Fax,
      website: nb.Website,
      storeCode: nb.MCHang,
      storeName: nb.TCHang,
    },
    buyer:
      nm === null
        ? null
        : {
            name: nm.Ten,
            taxCode: nm.MST,
            address: nm.DChi,
            customerCode: nm.MKHang,
            contactName: nm.HVTNMHang,
            phone: nm.SDThoai,
            email: nm.DCTDTu,
            bankAccount: nm.STKNHang,
            bankName: nm.TNHang,
            citizenId: nm.CCCDan,
            passport: nm.SHChieu,
            budgetUnitCode: nm.MDVQHNSach,
          },
    lines: p.NDHDon.DSHHDVu.HHDVu.map((h) => ({
      kind: h.TChat,
      position: h.STT,
      code: h.MHHDVu,
      name: h.THHDVu,
      unit: h.DVTinh,
      quantity: h.SLuong,
      unitPrice: h.DGia,
      discountRate: h.TLCKhau,
      discountAmount: h.STCKhau,
      amount: h.ThTien,
      taxRate: h.TSuat,
    })),
    totals: {
      byRate: (tt.THTTLTSuat?.LTSuat ?? []).map((g) => ({ taxRate: g.TSuat, amountBeforeTax: g.ThTien, tax: g.TThue ?? ZERO })),
      totalBeforeTax: tt.TgTCThue,
      totalTax: tt.TgTThue,
      tradeDiscount: tt.TTCKTMai,
      fees: (tt.DSLPhi?.LPhi ?? []).map((f) => ({ name: f.TLPhi, amount: f.TPhi })),
      otherDeductions: tt.TGTKhac,
      totalPayable: tt.TgTTTBSo,
      totalInWords: tt.TgTTTBChu,
    },
    otherInfo: [...(p.TTKhac ?? []), ...(t.TTKhac ?? [])],
  };
}

/**
 * Reads the verified DLHDon element into an Invoice, or refuses it with every SCHEMA_INVALID
 * fault found (path relative to DLHDon). Reads only that element: business data comes from nowhere else.
 */
export function readInvoiceWithZod(dlhdon: XmlNodeLike, opts: { /** A K symbol allowed (an invoice without a code, T-VAN 203). */ uncoded?: boolean } = {}): Result<Invoice> {
  if (dlhdon.nodeType !== ELEMENT_NODE || dlhdon.localName !== "DLHDon" || dlhdon.namespaceURI) {
    return { ok: false, faults: [schemaFault("", "expected the DLHDon element (no namespace)")] };
  }
  const faults: Fault[] = [];
  const raw = readElement(dlhdon, "", 0, faults);
  const parsed = dlhdonSchema.safeParse(raw);
  if (!parsed.success) faults.push(...zodFaults(parsed.error));
  if (parsed.success && !opts.uncoded && parsed.data.TTChung.KHHDon[0] !== "C") faults.push(schemaFault("TTChung/KHHDon", UNCODED_SYMBOL));
  if (typeof raw === "object" && !(raw instanceof OtherInfoBlock)) faults.push(...conditionalFaults(raw));
  if (faults.length > 0 || !parsed.success) return { ok: false, faults };
  return ok(toInvoice(parsed.data));
}
