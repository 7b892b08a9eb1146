/**
 * The invoice model (invoice-format.md §1–2) and its schema. readInvoice reads the verified
 * DLHDon element into a typed Invoice in one walk over its elements, checking each against the
 * shapes below on the way (no intermediate tree; a path string is made only for a fault); the
 * rules (rules.ts) and the store mapping read only that. schemas/invoice.xsd states the same
 * schema for outside tools; test/unit/invoice-schema.test.ts keeps the two in agreement. The
 * zod reader this replaced is kept as the test oracle (test/helpers/invoice-zod.ts): every
 * generated document gets the same Invoice, or the same faults in the same order, from both
 * (test/unit/invoice-reader-differential.test.ts).
 *
 * Decisions where the spec is silent:
 * - Order of children inside a container is free (xs:all in the XSD); each non-repeated element
 *   appears at most once; the repeated ones are HHDVu, LTSuat, LPhi (and TTin inside TTKhac).
 * - Free-text optional fields may be empty, which means absent (`<MST/>` for a buyer without a
 *   tax code). Typed optional fields (amounts, codes, dates) must be well-formed when present.
 *   Required text must contain a non-whitespace character. Lengths count characters (code points),
 *   as XSD does. Text is never trimmed: signed bytes are taken as they are.
 * - DVTTe is optional (VND when absent). TGia must be positive; for VND it is ignored (rate 1),
 *   since a VND amount is already in VND.
 * - TTKhac may appear in DLHDon, TTChung, NBan, NMua, HHDVu and TToan (where Decision 1450/1271
 *   put it). Its children are any no-namespace elements, not validated further (xs:any skip);
 *   TTin entries (TTruong, KDLieu, DLieu) are extracted as data.
 * - LTSuat/TThue may be omitted (0): the rules still compare it with ThTien × rate.
 * - Elements of Decision 1271 that the spec does not name (MHSo, SBKe, …) are refused as unknown.
 * - Two conditions XSD 1.0 cannot state are checked here only: TGia required unless DVTTe is VND,
 *   and HHDVu/ThTien required unless TChat is 4. Everything else is stated in both.
 * - Fault paths are relative to DLHDon, repeated elements carry a 1-based index
 *   (`NDHDon/DSHHDVu/HHDVu[2]/ThTien`), attributes are `@Name`.
 */
import { type Fault, ok, type Result } from "../errors.js";
import { type RelationKind, transition } from "./lifecycle.js";
import { type Decimal, ONE, parseAmount, ZERO } from "./money.js";

// ---------------------------------------------------------------------------------------------
// The model

/** One TTKhac/TTin entry: seller-defined data carried along, never interpreted. */
export interface OtherInfo {
  /** TTruong */
  field: string;
  /** KDLieu (data type as the seller wrote it) */
  type: string | null;
  /** DLieu */
  value: string | null;
}

/** TTChung/TTHDLQuan: the invoice this one replaces (TCHDon 1) or adjusts (TCHDon 2). */
export interface RelatedInvoice {
  /** TCHDon, as the lifecycle names the relation (lifecycle.ts RelationKind). */
  kind: RelationKind;
  /** LHDCLQuan: 1 e-invoice under Decree 123, 2 under Decree 51, 3 paper, 4 other. */
  relatedType: 1 | 2 | 3 | 4;
  /** KHMSHDCLQuan */
  form: string;
  /** KHHDCLQuan */
  symbol: string;
  /** SHDCLQuan as written (older invoice kinds do not use plain numbers). */
  number: string;
  /** NLHDCLQuan, YYYY-MM-DD */
  issueDate: string;
  /** GChu */
  note: string | null;
}

/** NDHDon/NBan. */
export interface Seller {
  name: string;
  /** MST as written; its form is checked by the rules (TAX_CODE_INVALID). */
  taxCode: string;
  address: string;
  phone: string | null;
  email: string | null;
  bankAccount: string | null;
  bankName: string | null;
  fax: string | null;
  website: string | null;
  /** MCHang */
  storeCode: string | null;
  /** TCHang */
  storeName: string | null;
}

/** NDHDon/NMua: every field is optional (consumers have no tax code, sometimes no name). */
export interface Buyer {
  name: string | null;
  /** MST; null when absent or empty. */
  taxCode: string | null;
  address: string | null;
  /** MKHang */
  customerCode: string | null;
  /** HVTNMHang: the person who bought. */
  contactName: string | null;
  phone: string | null;
  email: string | null;
  bankAccount: string | null;
  bankName: string | null;
  /** CCCDan: citizen id. */
  citizenId: string | null;
  /** SHChieu */
  passport: string | null;
  /** MDVQHNSach: budget relation unit code. */
  budgetUnitCode: string | null;
}

/** TChat: 1 goods/service, 2 promotion, 3 trade discount, 4 note, 5 special goods. */
export type LineKind = 1 | 2 | 3 | 4 | 5;

/** NDHDon/DSHHDVu/HHDVu. */
export interface InvoiceLine {
  kind: LineKind;
  /** STT */
  position: number | null;
  /** MHHDVu */
  code: string | null;
  /** THHDVu */
  name: string;
  /** DVTinh */
  unit: string | null;
  /** SLuong */
  quantity: Decimal | null;
  /** DGia */
  unitPrice: Decimal | null;
  /** TLCKhau (percent) */
  discountRate: Decimal | null;
  /** STCKhau */
  discountAmount: Decimal | null;
  /** ThTien, before VAT; null only on notes (TChat 4). */
  amount: Decimal | null;
  /** TSuat as written ("8%", "KCT", "KHAC:5.26"); null when absent. */
  taxRate: string | null;
}

/** TToan/THTTLTSuat/LTSuat: the totals of one VAT rate. */
export interface RateTotal {
  /** TSuat as written. */
  taxRate: string;
  /** ThTien */
  amountBeforeTax: Decimal;
  /** TThue; 0 when absent. */
  tax: Decimal;
}

/** TToan/DSLPhi/LPhi. */
export interface Fee {
  /** TLPhi */
  name: string;
  /** TPhi */
  amount: Decimal;
}

/** NDHDon/TToan, in the invoice's currency. */
export interface Totals {
  byRate: RateTotal[];
  /** TgTCThue */
  totalBeforeTax: Decimal;
  /** TgTThue */
  totalTax: Decimal;
  /** TTCKTMai */
  tradeDiscount: Decimal | null;
  fees: Fee[];
  /** TGTKhac */
  otherDeductions: Decimal | null;
  /** TgTTTBSo */
  totalPayable: Decimal;
  /** TgTTTBChu */
  totalInWords: string;
}

/** The business data of one invoice, read from its signed DLHDon only. */
export interface Invoice {
  /** PBan */
  version: "2.0.0" | "2.0.1" | "2.1.0";
  /** THDon */
  title: string;
  /** KHMSHDon, "1".."9" */
  form: string;
  /** KHHDon, e.g. "C26TAA" */
  symbol: string;
  /** SHDon as an integer (1–99,999,999); zero padding dropped. */
  number: number;
  /** NLap, YYYY-MM-DD */
  issueDate: string;
  /** DVTTe; "VND" when absent. */
  currency: string;
  /** The rate to VND: TGia, or 1 for VND whatever TGia says (the schema requires TGia otherwise). */
  exchangeRate: Decimal;
  /** HTTToan */
  paymentMethod: string | null;
  /** MSTTCGP: the solution provider's tax code. */
  providerTaxCode: string | null;
  /** HDCTTChinh (2.1.0): a financial-leasing invoice. */
  financialLeasing: boolean | null;
  related: RelatedInvoice | null;
  /** NBan/MST as written (same as seller.taxCode). */
  sellerTaxCode: string;
  /** NMua/MST; null when there is no buyer tax code (same as buyer?.taxCode). */
  buyerTaxCode: string | null;
  seller: Seller;
  /** null when NMua is absent. */
  buyer: Buyer | null;
  lines: InvoiceLine[];
  totals: Totals;
  /** TTKhac entries of DLHDon and TTChung. */
  otherInfo: OtherInfo[];
}

// ---------------------------------------------------------------------------------------------
// Reading DLHDon: one walk over its elements, straight into the model

/** The few DOM members readInvoice uses: the scanner's XElement satisfies it, and so do an @xmldom Element and a lighter tree. */
export interface XmlNodeLike {
  readonly nodeType: number;
  readonly localName?: string | null;
  readonly namespaceURI?: string | null;
  readonly nodeValue?: string | null;
  readonly childNodes?: ArrayLike<XmlNodeLike> | null;
  readonly attributes?: ArrayLike<{ readonly localName?: string | null; readonly name?: string; readonly namespaceURI?: string | null }> | null;
}

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_NODE = 4;
const XMLNS_NS = "http://www.w3.org/2000/xmlns/";
/** Elements that may repeat; their path steps carry a 1-based index (wherever they stand, known or not). */
const REPEATED: ReadonlySet<string> = new Set(["HHDVu", "LTSuat", "LPhi", "TTin"]);
/**
 * Deepest known element is DLHDon/NDHDon/TToan/THTTLTSuat/LTSuat/TSuat (depth 5); inside an
 * unknown element (refused anyway) elements deeper than this are not looked at.
 */
const MAX_DEPTH = 8;

/** True when s has a character other than XML whitespace (usually its first: no regex run). */
function hasNonBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return true;
  }
  return false;
}
const schemaFault = (path: string, message: string): Fault => (path === "" ? { code: "SCHEMA_INVALID", message } : { code: "SCHEMA_INVALID", message, path });
const join = (path: string, step: string): string => (path === "" ? step : `${path}/${step}`);

/** Where an element stands below DLHDon (null: DLHDon itself); made into a path string only when a fault names it. */
class Where {
  private path: string | undefined = undefined;
  constructor(
    readonly up: Where | null,
    readonly name: string,
    /** 1-based position among its namesakes for a repeated element, else 0. */
    readonly index: number,
  ) {}
  toString(): string {
    return (this.path ??= join(pathOf(this.up), this.index === 0 ? this.name : `${this.name}[${this.index}]`));
  }
}
const pathOf = (w: Where | null): string => (w === null ? "" : w.toString());
/** Appends in a loop: a spread of a hundred thousand faults would overflow the call's arguments. */
function append(to: Fault[], from: readonly Fault[]): Fault[] {
  for (const f of from) to.push(f);
  return to;
}

/**
 * One reading. Faults come out in three groups, in this order: what the walk finds in document
 * order (attributes, foreign nodes, namespaced elements, mixed content: `walk`), then what the
 * schema finds in the schema's order (fields in the order the shapes list them, then unknown
 * elements: returned as Refused), then the conditions across fields (below).
 */
class Reading {
  readonly walk: Fault[] = [];
  /** TTChung/TGia missing for a foreign currency. */
  exchangeRate: Fault | null = null;
  /** HHDVu/ThTien missing on a line that is not a note. */
  readonly lineAmounts: Fault[] = [];
  /** A second LTSuat for the same TSuat. */
  readonly rates: Fault[] = [];
  readonly ratesSeen = new Set<string>();

  /** Past `walkLimit` faults of the walk, the walk stops: they are listed first, so what follows could not be listed. */
  constructor(readonly walkLimit: number) {}

  get stopped(): boolean {
    return this.walk.length > this.walkLimit;
  }
}

/** What the schema refuses in one element, in the schema's order, paths already made. */
class Refused {
  constructor(readonly faults: Fault[]) {}
}

/** A leaf's text refused: the messages of every failed check, in the order the checks run. */
class Invalid {
  readonly messages: readonly string[];
  constructor(...messages: string[]) {
    this.messages = messages;
  }
}

function checkAttributes(r: Reading, el: XmlNodeLike, at: Where | null, isRoot: boolean): void {
  const attrs = el.attributes;
  const n = attrs ? attrs.length : 0;
  let sawId = false;
  for (let i = 0; i < n && !r.stopped; i++) {
    const a = attrs![i]!;
    // Namespace declarations are not attributes in the XSD sense (and carry no business data).
    if (a.namespaceURI === XMLNS_NS) continue;
    const name = a.localName ?? a.name ?? "";
    if (isRoot && name === "Id" && !a.namespaceURI) {
      sawId = true;
      continue;
    }
    r.walk.push(schemaFault(join(pathOf(at), `@${a.name ?? name}`), "attribute not part of the format"));
  }
  if (isRoot && !sawId) r.walk.push(schemaFault("@Id", "DLHDon must carry its Id attribute (the signature refers to it)"));
}

function unexpectedNode(r: Reading, node: XmlNodeLike, at: Where | null): void {
  r.walk.push(schemaFault(pathOf(at), `unexpected node (type ${node.nodeType}): only elements and text are allowed`));
}

function foreignElement(r: Reading, node: XmlNodeLike, at: Where | null): void {
  r.walk.push(schemaFault(join(pathOf(at), node.localName ?? ""), `element in namespace ${node.namespaceURI} is not part of the format`));
}

/** Counts the repeated names among the unknown children of one element, for their path steps. */
function repeatIndex(counts: Map<string, number>, name: string): number {
  if (!REPEATED.has(name)) return 0;
  const n = (counts.get(name) ?? 0) + 1;
  counts.set(name, n);
  return n;
}

/**
 * An element that is not a container of the format (a leaf, or an unknown element, or anything
 * inside them): its children are walked for what the walk refuses. Returns its text (the text and
 * CDATA children, joined), or null when it has child elements.
 */
function walkContent(r: Reading, el: XmlNodeLike, at: Where, depth: number): string | null {
  let text = "";
  let hasElements = false;
  let repeats: Map<string, number> | null = null;
  const kids = el.childNodes;
  const n = kids ? kids.length : 0;
  for (let i = 0; i < n && !r.stopped; i++) {
    const k = kids![i]!;
    const type = k.nodeType;
    if (type === TEXT_NODE || type === CDATA_NODE) {
      text += k.nodeValue ?? "";
      continue;
    }
    if (type !== ELEMENT_NODE) {
      unexpectedNode(r, k, at);
      continue;
    }
    hasElements = true;
    if (k.namespaceURI) {
      foreignElement(r, k, at);
      continue;
    }
    const name = k.localName ?? "";
    const index = repeatIndex((repeats ??= new Map()), name);
    if (isBare(k)) continue;
    const child = new Where(at, name, index);
    if (name === "TTKhac") readOtherInfo(r, k, child);
    // Too deep to be part of the format: its parent is refused anyway, no need to look further.
    else if (depth < MAX_DEPTH) walkElement(r, k, child, depth + 1);
  }
  if (!hasElements) return text;
  if (hasNonBlank(text)) r.walk.push(schemaFault(at.toString(), "text is not allowed next to child elements (mixed content)"));
  return null;
}

/** An element without attributes or children: the walk has nothing to find in it (and no path to make for it). */
function isBare(el: XmlNodeLike): boolean {
  return (!el.attributes || el.attributes.length === 0) && (!el.childNodes || el.childNodes.length === 0);
}

function walkElement(r: Reading, el: XmlNodeLike, at: Where, depth: number): string | null {
  checkAttributes(r, el, at, false);
  return walkContent(r, el, at, depth);
}

/** A leaf of the format: its text, or null when it has child elements. The common case (no attribute, one text node) builds nothing. */
function leafText(r: Reading, el: XmlNodeLike, up: Where | null, name: string, depth: number): string | null {
  const attrs = el.attributes;
  const kids = el.childNodes;
  if ((!attrs || attrs.length === 0) && kids) {
    if (kids.length === 0) return "";
    if (kids.length === 1) {
      const k = kids[0]!;
      if (k.nodeType === TEXT_NODE || k.nodeType === CDATA_NODE) return k.nodeValue ?? "";
    }
  }
  return walkElement(r, el, new Where(up, name, 0), depth);
}

/** TTin's fields: the text of its first TTruong, KDLieu and DLieu. */
function textOf(el: XmlNodeLike): string {
  let text = "";
  const kids = el.childNodes;
  for (let i = 0; kids && i < kids.length; i++) {
    const k = kids[i]!;
    if (k.nodeType === TEXT_NODE || k.nodeType === CDATA_NODE) text += k.nodeValue ?? "";
  }
  return text;
}

/** TTKhac: its direct children must be no-namespace elements; below them anything goes (xs:any skip). */
function readOtherInfo(r: Reading, el: XmlNodeLike, at: Where): OtherInfo[] {
  checkAttributes(r, el, at, false);
  const entries: OtherInfo[] = [];
  let text = "";
  const kids = el.childNodes;
  for (let i = 0; kids && i < kids.length && !r.stopped; i++) {
    const k = kids[i]!;
    if (k.nodeType === TEXT_NODE || k.nodeType === CDATA_NODE) {
      text += k.nodeValue ?? "";
    } else if (k.nodeType !== ELEMENT_NODE) {
      unexpectedNode(r, k, at);
    } else if (k.namespaceURI) {
      foreignElement(r, k, at);
    } else if (k.localName === "TTin") {
      let field: string | undefined;
      let type: string | undefined;
      let value: string | undefined;
      const parts = k.childNodes;
      for (let j = 0; parts && j < parts.length; j++) {
        const p = parts[j]!;
        if (p.nodeType !== ELEMENT_NODE || p.namespaceURI) continue;
        if (p.localName === "TTruong") field ??= textOf(p);
        else if (p.localName === "KDLieu") type ??= textOf(p);
        else if (p.localName === "DLieu") value ??= textOf(p);
      }
      if (field !== undefined) entries.push({ field, type: type ?? null, value: value ?? null });
    }
  }
  if (hasNonBlank(text)) r.walk.push(schemaFault(at.toString(), "text is not allowed here (mixed content)"));
  return entries;
}

// ---------------------------------------------------------------------------------------------
// The schema: leaves, containers, cardinality

/** A leaf element: reads its text into a value, or says what is wrong with it. */
interface Leaf<T> {
  readonly tag: "leaf";
  readonly read: (text: string) => T | Invalid;
  /** The verdict on a leaf that has child elements instead of text. */
  readonly notText: Invalid;
}
const NOT_TEXT = new Invalid("expected text, found child elements");
const leaf = <T>(read: (text: string) => T | Invalid, notText: Invalid = NOT_TEXT): Leaf<T> => ({ tag: "leaf", read, notText });

/** TTKhac: read by readOtherInfo wherever it stands; as a field, its TTin entries. */
const OTHER_INFO = { tag: "otherInfo" } as const;

type Card = "one" | "maybe" | "many" | "oneOrMore";
type Kind<T> = Leaf<T> | Shape<T> | (typeof OTHER_INFO & { readonly _?: T });
interface Field<T, C extends Card> {
  readonly card: C;
  readonly kind: Kind<T>;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyField = Field<any, Card>;
type ValueOf<F> = F extends Field<infer T, infer C> ? (C extends "one" ? T : C extends "maybe" ? T | null : T[]) : never;
type Values<S extends Record<string, AnyField>> = { [K in keyof S]: ValueOf<S[K]> };

/** Exactly one occurrence. */
const one = <T>(kind: Kind<T>): Field<T, "one"> => ({ card: "one", kind });
/** At most one occurrence; null when absent. */
const maybe = <T>(kind: Kind<T>): Field<T, "maybe"> => ({ card: "maybe", kind });
/** Any number of occurrences (a repeated element). */
const many = <T>(kind: Kind<T>): Field<T, "many"> => ({ card: "many", kind });
/** At least one occurrence (a repeated element). */
const oneOrMore = <T>(kind: Kind<T>): Field<T, "oneOrMore"> => ({ card: "oneOrMore", kind });
const otherInfo = OTHER_INFO as Kind<OtherInfo[]>;

/** Checks across the fields of one container, on its first-occurrence texts and counts: see readContainer. */
type Condition = (r: Reading, at: Where | null, counts: readonly number[], texts: readonly (string | null | undefined)[]) => void;

/** A container: an element whose children are the fields listed, in any order, each as often as its cardinality says. */
class Shape<T> {
  readonly tag = "shape";
  readonly names: string[];
  readonly fields: AnyField[];
  /** 1 for a repeated field (many, oneOrMore), 0 for a single one. */
  readonly repeated: number[];
  readonly required: boolean[];
  readonly slots = new Map<string, number>();
  condition: Condition | null = null;
  /**
   * The values by field name for `build`, read from the slots through getters: one object per
   * shape, reused (build runs at once and keeps nothing of it), so no object is built key by key.
   */
  readonly view: Record<string, unknown> & { values: unknown[] };
  /** Fresh per-container arrays are copies of these (a copy is cheaper than a fill). */
  readonly zeros: number[];
  readonly empty: undefined[];
  constructor(
    spec: Record<string, AnyField>,
    readonly build: (v: Record<string, unknown>) => T,
  ) {
    this.names = Object.keys(spec);
    this.fields = this.names.map((n) => spec[n]!);
    this.repeated = this.fields.map((f) => (f.card === "many" || f.card === "oneOrMore" ? 1 : 0));
    this.required = this.fields.map((f) => f.card === "one" || f.card === "oneOrMore");
    this.names.forEach((n, i) => this.slots.set(n, i));
    this.zeros = this.names.map(() => 0);
    this.empty = this.names.map(() => undefined);
    const view = { values: this.empty as unknown[] };
    this.names.forEach((n, i) =>
      Object.defineProperty(view, n, {
        get(this: { values: unknown[] }) {
          return this.values[i];
        },
      }),
    );
    this.view = view as Record<string, unknown> & { values: unknown[] };
  }
  slot(name: string): number {
    const s = this.slots.get(name);
    if (s === undefined) throw new Error(`no field ${name}`);
    return s;
  }
}
const shape = <S extends Record<string, AnyField>, T>(spec: S, build: (v: Values<S>) => T): Shape<T> =>
  new Shape<T>(spec, build as (v: Record<string, unknown>) => T);

const MISSING = "required element is missing";
const DUPLICATE = "appears more than once";
const UNKNOWN = "element not part of the format";
const NOT_CONTAINER = "expected child elements, found text";

/**
 * Reads one container: walks its children once, in document order, each known child into its
 * field (containers recursively, leaves through their reader), each unknown one only walked.
 * `primary`: this is the occurrence the conditions across fields look at (the first of its name
 * all the way up; every line of the first DSHHDVu, every LTSuat of the first THTTLTSuat).
 */
function readContainer<T>(r: Reading, el: XmlNodeLike, at: Where | null, depth: number, shape: Shape<T>, primary: boolean): T | Refused {
  checkAttributes(r, el, at, depth === 0);
  const n = shape.names.length;
  const counts: number[] = shape.zeros.slice();
  const values: unknown[] = shape.empty.slice();
  const texts: (string | null | undefined)[] | null = shape.condition ? shape.empty.slice() : null;
  let slotFaults: Fault[][] | null = null;
  let unknown: Set<string> | null = null;
  let repeats: Map<string, number> | null = null;
  let blank = true;
  let hasElements = false;
  const kids = el.childNodes;
  const count = kids ? kids.length : 0;
  for (let i = 0; i < count && !r.stopped; i++) {
    const k = kids![i]!;
    const type = k.nodeType;
    if (type === TEXT_NODE || type === CDATA_NODE) {
      if (blank && hasNonBlank(k.nodeValue ?? "")) blank = false;
      continue;
    }
    if (type !== ELEMENT_NODE) {
      unexpectedNode(r, k, at);
      continue;
    }
    hasElements = true;
    if (k.namespaceURI) {
      foreignElement(r, k, at);
      continue;
    }
    const name = k.localName ?? "";
    const s = shape.slots.get(name);
    if (s === undefined) {
      (unknown ??= new Set()).add(name);
      const index = repeatIndex((repeats ??= new Map()), name);
      if (isBare(k)) continue;
      const child = new Where(at, name, index);
      if (name === "TTKhac") readOtherInfo(r, k, child);
      else walkElement(r, k, child, depth + 1); // known containers stand far above MAX_DEPTH
      continue;
    }
    const c = ++counts[s]!;
    const index = shape.repeated[s]! * c;
    const kind = shape.fields[s]!.kind;
    let v: unknown;
    if (kind.tag === "shape") {
      v = readContainer(r, k, new Where(at, name, index), depth + 1, kind, primary && (index > 0 || c === 1));
    } else if (kind.tag === "otherInfo") {
      v = readOtherInfo(r, k, new Where(at, name, index));
    } else {
      const text = leafText(r, k, at, name, depth + 1);
      if (texts !== null && c === 1) texts[s] = text;
      v = text === null ? kind.notText : kind.read(text);
      if (v instanceof Invalid) {
        const path = join(pathOf(at), name);
        v = new Refused(v.messages.map((m) => schemaFault(path, m)));
      }
    }
    if (v instanceof Refused) append(((slotFaults ??= [])[s] ??= []), v.faults);
    else if (index > 0) ((values[s] ??= []) as unknown[]).push(v);
    else if (c === 1) values[s] = v;
  }
  if (hasElements && !blank) r.walk.push(schemaFault(pathOf(at), "text is not allowed next to child elements (mixed content)"));
  if (!hasElements && !blank) return new Refused([schemaFault(pathOf(at), NOT_CONTAINER)]);
  if (primary && hasElements && texts !== null) shape.condition!(r, at, counts, texts);

  // The schema's verdict, field by field in the shape's order, then the unknown elements.
  let faults: Fault[] | null = null;
  for (let s = 0; s < n; s++) {
    const c = counts[s]!;
    if (c === 0) {
      if (shape.required[s]) (faults ??= []).push(schemaFault(join(pathOf(at), shape.names[s]!), MISSING));
    } else if (c > 1 && shape.repeated[s] === 0) {
      // A duplicate is refused as such; its occurrences are not judged one by one.
      (faults ??= []).push(schemaFault(join(pathOf(at), shape.names[s]!), DUPLICATE));
    } else if (slotFaults?.[s] !== undefined) {
      faults = append(faults ?? [], slotFaults[s]!);
    }
  }
  if (unknown !== null) for (const name of unknown) (faults ??= []).push(schemaFault(join(pathOf(at), name), UNKNOWN));
  if (faults !== null) return new Refused(faults);

  for (let s = 0; s < n; s++) if (values[s] === undefined) values[s] = shape.repeated[s] ? [] : null;
  const view = shape.view;
  view.values = values;
  const built = shape.build(view);
  view.values = shape.empty;
  return built;
}

// ---------------------------------------------------------------------------------------------
// The leaves

/** Length in characters (code points), as XSD counts it. */
function fits(s: string, max: number): boolean {
  if (s.length <= max) return true;
  let n = 0;
  for (const _ of s) if (++n > max) return false;
  return true;
}

const EMPTY = new Invalid("must not be empty");
/** Text with a non-whitespace character, at most `max` characters. */
function requiredText(max: number): Leaf<string> {
  const tooLong = new Invalid(`at most ${max} characters`);
  const both = new Invalid(EMPTY.messages[0]!, tooLong.messages[0]!);
  return leaf((s) => {
    const blank = !hasNonBlank(s);
    if (fits(s, max)) return blank ? EMPTY : s;
    return blank ? both : tooLong;
  });
}
/** Free text of at most `max` characters; empty means absent (null). */
function optionalText(max: number): Leaf<string | null> {
  const tooLong = new Invalid(`at most ${max} characters`);
  return leaf((s) => (!fits(s, max) ? tooLong : s === "" ? null : s));
}
function pattern(re: RegExp, message: string): Leaf<string> {
  const invalid = new Invalid(message);
  return leaf((s) => (re.test(s) ? s : invalid));
}

const AMOUNT_MESSAGE = "not an amount: '-'?, at most 15 integer digits, at most 6 decimals after '.', no exponent, sign '+', spaces or separators";
const NOT_AMOUNT = new Invalid(AMOUNT_MESSAGE);
const amount = leaf((s): Decimal | Invalid => parseAmount(s) ?? NOT_AMOUNT);
const NOT_POSITIVE = new Invalid("must be greater than 0");
const positiveAmount = leaf((s): Decimal | Invalid => {
  const d = parseAmount(s);
  return d === null ? NOT_AMOUNT : d <= 0n ? NOT_POSITIVE : d;
});

/** A real calendar date written YYYY-MM-DD (year 0001–9999; XSD's xs:date has no year 0000). */
export function isIsoDate(s: string): boolean {
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
const NOT_DATE = new Invalid("not a date YYYY-MM-DD");
const date = leaf((s) => (isIsoDate(s) ? s : NOT_DATE));

const TAX_RATE = /^(?:0%|5%|8%|10%|KCT|KKKNT|KHAC:\d{1,2}\.\d{2}%?)$/;
const taxRate = pattern(TAX_RATE, "not a tax rate: 0%, 5%, 8%, 10%, KCT, KKKNT or KHAC:AB.CD with an optional %");

const symbol = pattern(/^[CK]\d{2}[TDLMNBGHX][A-Z]{2}$/, "not an invoice symbol: C or K, two digits of the year, one of TDLMNBGHX, two upper-case letters");
/** What only an invoice sent for a code must be: a K symbol is for invoices without a code (T-VAN 203, readInvoice's `uncoded`). */
const UNCODED_SYMBOL = "symbols starting with K are for invoices without a code; this service issues codes (C…)";
const NOT_NUMBER = new Invalid("not an invoice number: 1 to 99999999, at most 8 digits (zero padding allowed)");
const invoiceNumber = leaf((s): number | Invalid => (/^\d{1,8}$/.test(s) && /[1-9]/.test(s) ? Number(s) : NOT_NUMBER));

const VERSIONS: ReadonlySet<string> = new Set(["2.0.0", "2.0.1", "2.1.0"]);
const NOT_VERSION = new Invalid("must be 2.0.0, 2.0.1 or 2.1.0");
const version = leaf((s) => (VERSIONS.has(s) ? (s as Invoice["version"]) : NOT_VERSION), NOT_VERSION);

const NOT_LINE_KIND = new Invalid("must be 1–5");
const lineKind = leaf((s) => (s.length === 1 && s >= "1" && s <= "5" ? (Number(s) as LineKind) : NOT_LINE_KIND));
const NOT_POSITION = new Invalid("must be 1 to 4 digits");
const position = leaf((s) => (/^\d{1,4}$/.test(s) ? Number(s) : NOT_POSITION));

// ---------------------------------------------------------------------------------------------
// The containers (schemas/invoice.xsd states the same; test/unit/invoice-schema.test.ts checks both)

const ttHDLQuan = shape(
  {
    TCHDon: one(pattern(/^[12]$/, "must be 1 (replaces) or 2 (adjusts)")),
    LHDCLQuan: one(pattern(/^[1-4]$/, "must be 1, 2, 3 or 4")),
    KHMSHDCLQuan: one(requiredText(11)),
    KHHDCLQuan: one(requiredText(8)),
    SHDCLQuan: one(requiredText(8)),
    NLHDCLQuan: one(date),
    GChu: maybe(optionalText(255)),
  },
  (r): RelatedInvoice => ({
    kind: transition(r.TCHDon === "1" ? "replace" : "adjust").causeEvent,
    relatedType: Number(r.LHDCLQuan) as RelatedInvoice["relatedType"],
    form: r.KHMSHDCLQuan,
    symbol: r.KHHDCLQuan,
    number: r.SHDCLQuan,
    issueDate: r.NLHDCLQuan,
    note: r.GChu,
  }),
);

const ttChung = shape(
  {
    PBan: one(version),
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
  },
  (t) => ({
    version: t.PBan,
    title: t.THDon,
    form: t.KHMSHDon,
    symbol: t.KHHDon,
    number: t.SHDon,
    issueDate: t.NLap,
    financialLeasing: t.HDCTTChinh,
    currency: t.DVTTe,
    exchangeRate: t.TGia,
    paymentMethod: t.HTTToan,
    providerTaxCode: t.MSTTCGP,
    related: t.TTHDLQuan,
    otherInfo: t.TTKhac,
  }),
);

const nBan = shape(
  {
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
  },
  (b): Seller => ({
    name: b.Ten,
    taxCode: b.MST,
    address: b.DChi,
    phone: b.SDThoai,
    email: b.DCTDTu,
    bankAccount: b.STKNHang,
    bankName: b.TNHang,
    fax: b.Fax,
    website: b.Website,
    storeCode: b.MCHang,
    storeName: b.TCHang,
  }),
);

const nMua = shape(
  {
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
  },
  (m): Buyer => ({
    name: m.Ten,
    taxCode: m.MST,
    address: m.DChi,
    customerCode: m.MKHang,
    contactName: m.HVTNMHang,
    phone: m.SDThoai,
    email: m.DCTDTu,
    bankAccount: m.STKNHang,
    bankName: m.TNHang,
    citizenId: m.CCCDan,
    passport: m.SHChieu,
    budgetUnitCode: m.MDVQHNSach,
  }),
);

const hhdVu = shape(
  {
    TChat: one(lineKind),
    STT: maybe(position),
    MHHDVu: maybe(optionalText(50)),
    THHDVu: one(requiredText(500)),
    DVTinh: maybe(optionalText(50)),
    SLuong: maybe(amount),
    DGia: maybe(amount),
    TLCKhau: maybe(amount),
    STCKhau: maybe(amount),
    // Required unless TChat is 4: a condition across fields (XSD 1.0 cannot say it).
    ThTien: maybe(amount),
    TSuat: maybe(taxRate),
    TTKhac: maybe(otherInfo),
  },
  (h): InvoiceLine => ({
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
  }),
);

const ltSuat = shape({ TSuat: one(taxRate), ThTien: one(amount), TThue: maybe(amount) }, (g): RateTotal => ({ taxRate: g.TSuat, amountBeforeTax: g.ThTien, tax: g.TThue ?? ZERO }));
const lPhi = shape({ TLPhi: one(requiredText(100)), TPhi: one(amount) }, (f): Fee => ({ name: f.TLPhi, amount: f.TPhi }));

const tToan = shape(
  {
    THTTLTSuat: maybe(shape({ LTSuat: many(ltSuat) }, (x) => x.LTSuat)),
    TgTCThue: one(amount),
    TgTThue: one(amount),
    TTCKTMai: maybe(amount),
    DSLPhi: maybe(shape({ LPhi: many(lPhi) }, (x) => x.LPhi)),
    TGTKhac: maybe(amount),
    TgTTTBSo: one(amount),
    TgTTTBChu: one(requiredText(255)),
    TTKhac: maybe(otherInfo),
  },
  (t): Totals => ({
    byRate: t.THTTLTSuat ?? [],
    totalBeforeTax: t.TgTCThue,
    totalTax: t.TgTThue,
    tradeDiscount: t.TTCKTMai,
    fees: t.DSLPhi ?? [],
    otherDeductions: t.TGTKhac,
    totalPayable: t.TgTTTBSo,
    totalInWords: t.TgTTTBChu,
  }),
);

const ndHDon = shape(
  {
    NBan: one(nBan),
    NMua: maybe(nMua),
    DSHHDVu: one(shape({ HHDVu: oneOrMore(hhdVu) }, (x) => x.HHDVu)),
    TToan: one(tToan),
  },
  (d) => ({ seller: d.NBan, buyer: d.NMua, lines: d.DSHHDVu, totals: d.TToan }),
);

const dlhdon = shape({ TTChung: one(ttChung), NDHDon: one(ndHDon), TTKhac: maybe(otherInfo) }, (p): Invoice => {
  const t = p.TTChung;
  const { seller, buyer, lines, totals } = p.NDHDon;
  const currency = t.currency ?? "VND";
  return {
    version: t.version,
    title: t.title,
    form: t.form,
    symbol: t.symbol,
    number: t.number,
    issueDate: t.issueDate,
    currency,
    exchangeRate: currency === "VND" ? ONE : (t.exchangeRate ?? ONE),
    paymentMethod: t.paymentMethod,
    providerTaxCode: t.providerTaxCode,
    financialLeasing: t.financialLeasing === null ? null : t.financialLeasing === "1",
    related: t.related,
    sellerTaxCode: seller.taxCode,
    buyerTaxCode: buyer?.taxCode ?? null,
    seller,
    buyer,
    lines,
    totals,
    otherInfo: [...(p.TTKhac ?? []), ...(t.otherInfo ?? [])],
  };
});

// ---------------------------------------------------------------------------------------------
// Conditions across fields: reported whatever else fails, on the first TTChung, every line of the
// first DSHHDVu and every LTSuat of the first THTTLTSuat (of the first NDHDon and TToan)

{
  const DVTTe = ttChung.slot("DVTTe");
  const TGia = ttChung.slot("TGia");
  ttChung.condition = (r, at, counts, texts) => {
    const dv = texts[DVTTe];
    const currency = typeof dv === "string" ? dv : "VND";
    if (currency !== "VND" && counts[TGia] === 0) {
      r.exchangeRate = schemaFault(join(pathOf(at), "TGia"), `required element is missing: the exchange rate is required when DVTTe is ${currency}, not VND`);
    }
  };
  const TChat = hhdVu.slot("TChat");
  const ThTien = hhdVu.slot("ThTien");
  hhdVu.condition = (r, at, counts, texts) => {
    if (texts[TChat] !== "4" && counts[ThTien] === 0) r.lineAmounts.push(schemaFault(join(pathOf(at), "ThTien"), "required element is missing: ThTien is required unless TChat is 4 (note)"));
  };
  const TSuat = ltSuat.slot("TSuat");
  ltSuat.condition = (r, at, _counts, texts) => {
    const rate = texts[TSuat];
    if (typeof rate !== "string") return;
    if (r.ratesSeen.has(rate)) r.rates.push(schemaFault(join(pathOf(at), "TSuat"), `a second LTSuat for ${rate}: one per rate`));
    r.ratesSeen.add(rate);
  };
}

// ---------------------------------------------------------------------------------------------
// readInvoice

/** A reading of DLHDon: the Invoice, or every fault; `stopped` when the walk stopped at `maxFaults` (more faults, uncounted). */
export type InvoiceReading = Result<Invoice> | { ok: false; faults: Fault[]; stopped: true };

/**
 * Reads the verified DLHDon element into an Invoice, or refuses it with every SCHEMA_INVALID
 * fault found (path relative to DLHDon). Reads only that element: business data comes from nowhere else.
 */
export function readInvoice(
  dlhdonEl: XmlNodeLike,
  opts: {
    /** A K symbol allowed (an invoice without a code, T-VAN 203). */ uncoded?: boolean;
    /** Stop reading once the walk has found more faults than this (default: read to the end). */ maxFaults?: number;
  } = {},
): InvoiceReading {
  if (dlhdonEl.nodeType !== ELEMENT_NODE || dlhdonEl.localName !== "DLHDon" || dlhdonEl.namespaceURI) {
    return { ok: false, faults: [schemaFault("", "expected the DLHDon element (no namespace)")] };
  }
  const r = new Reading(opts.maxFaults ?? Number.POSITIVE_INFINITY);
  const read = readContainer(r, dlhdonEl, null, 0, dlhdon, true);
  const faults = r.walk;
  // The walk's faults come first: past the limit, nothing after them would be listed.
  if (r.stopped) return { ok: false, faults, stopped: true };
  if (read instanceof Refused) append(faults, read.faults);
  else if (!opts.uncoded && read.symbol[0] !== "C") faults.push(schemaFault("TTChung/KHHDon", UNCODED_SYMBOL));
  if (r.exchangeRate !== null) faults.push(r.exchangeRate);
  append(append(faults, r.lineAmounts), r.rates);
  if (faults.length > 0 || read instanceof Refused) return { ok: false, faults };
  return ok(read);
}
