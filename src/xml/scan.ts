/**
 * The one-pass scanner (invoice-format.md §4, "parse"): the decoded text of a body is read once,
 * left to right, and every hardening rule is enforced on the way — no DOCTYPE, entity declaration
 * or reference, comment or processing instruction; XML 1.0 only; one root; depth, node and
 * attribute limits; namespace well-formedness — while a flat tree is recorded (XTree): one record
 * of integers per element and per run of character data, one per attribute, in typed arrays;
 * names, prefixes and namespace URIs interned once; attribute values and text kept as spans of the
 * text, decoded when a reader asks. Readers see that tree through XElement / XText (members named
 * as the DOM's), made on demand and kept, one object per node at most; the canonicalizer
 * (canonical.ts) reads the records themselves. Nothing else parses the body: the canonicalizer,
 * the signature profile, the frame and the schema all read this one tree, so the fields the rules
 * see are the very nodes whose canonical octets were digested.
 *
 * Cost is linear in the text: each character is looked at a bounded number of times (the next
 * '&', '\r', ']]>' and '<' are found once and reused until the scan passes them), namespace scopes
 * are one array indexed by prefix with an undo log (a declaration costs O(1) to enter and to
 * leave, whatever the nesting), a name is interned by hashing its characters in place (no string
 * per tag), and the duplicate-attribute check is one probe per attribute. Besides the per-element
 * limits, a document carries at most `maxDocumentAttributes` attributes and namespace declarations
 * and `maxIds` Id-like attributes: no real message comes near either (docs/security.md), and they
 * bound what attribute-heavy documents cost (exclusive C14N renders a declaration per attribute).
 * test/bench: `npm run bench:scan` measures adversarial documents; test/unit/scan.test.ts counts
 * the scanner's steps.
 */
import { ok, type Result } from "../errors.js";
import { bomLength, SourceBytes } from "./source-bytes.js";

export const XML_NS = "http://www.w3.org/XML/1998/namespace";
export const XMLNS_NS = "http://www.w3.org/2000/xmlns/";
const DSIG_NS = "http://www.w3.org/2000/09/xmldsig#";

export interface ParseLimits {
  maxBytes: number;
  maxDepth: number;
  maxNodes: number;
  /** Attributes (namespace declarations included) on one element. */
  maxAttributes: number;
  /** Attributes and namespace declarations in the whole document. */
  maxDocumentAttributes: number;
  /** Id-like attributes (Id, ID, id under any prefix, xml:id) in the whole document. */
  maxIds: number;
}

export const DEFAULT_LIMITS: ParseLimits = {
  maxBytes: 2 * 1024 * 1024,
  maxDepth: 64,
  maxNodes: 200_000,
  maxAttributes: 32,
  maxDocumentAttributes: 20_000,
  maxIds: 10_000,
};

/** An attribute as the namespaces resolve it; `value` is decoded and normalized (XML 1.0 §3.3.3). */
export interface XAttr {
  readonly name: string;
  readonly prefix: string | null;
  readonly localName: string;
  readonly namespaceURI: string | null;
  readonly value: string;
}

/** A namespace declaration of an element; `changed`: its value differs from the one in scope at the parent. */
export interface NsDecl {
  readonly prefix: string;
  readonly uri: string;
  readonly changed: boolean;
}

// ---------------------------------------------------------------------------------------------
// The flat tree

/** Node records: NODE integers each, node ids from 1 in document order (0: none). */
export const NODE = 12;
/** Kind (1 element, 3 text, 4 CDATA), with AMP / CR flags on character data. */
export const N_KIND = 0;
export const N_PARENT = 1;
export const N_NEXT = 2;
export const N_FIRST = 3;
/** Element: index of '<'; character data: start of the span. */
export const N_START = 4;
/** Element: index just after the start tag; character data: end of the span. */
export const N_OPEN_END = 5;
export const N_CLOSE_START = 6;
export const N_END = 7;
/** Element: interned qualified name; namespace URI id (0: none); first attribute; attribute count. */
export const N_NAME = 8;
export const N_NS = 9;
export const N_ATTR = 10;
export const N_NATTR = 11;
/** Character data holds a reference to decode. */
export const F_AMP = 8;
/** Character data holds a CR (line ends to normalize). */
export const F_CR = 16;
export const KIND_MASK = 7;

/** Attribute records: ATTR integers each, in document order. */
export const ATTR = 7;
export const A_NAME = 0;
/** Namespace URI id: 0 none, URI_XMLNS for a namespace declaration. */
export const A_NS = 1;
export const A_VS = 2;
export const A_VE = 3;
/** A_AMP: the value holds a reference; A_WS: a TAB, LF or CR to normalize. */
export const A_FLAGS = 4;
export const A_AMP = 1;
export const A_WS = 2;
/** A declaration's: the URI id it declares, and 1 when that differs from the one in scope at the parent. */
export const A_DECL_URI = 5;
export const A_CHANGED = 6;

export const URI_NONE = 0;
export const URI_XML = 1;
export const URI_XMLNS = 2;
const URI_DSIG = 3;
export const PREFIX_DEFAULT = 0;
export const PREFIX_XML = 1;

/**
 * The scanned document as records (see NODE and ATTR) and interned strings. Read through
 * XElement / XText; the canonicalizer reads the records directly.
 */
export class XTree {
  /** Node records. */
  n: Int32Array;
  /** Attribute records. */
  a: Int32Array;
  nodeCount = 0;
  attrCount = 0;
  /** Qualified names: the name, its prefix (null: none), its local name, the prefix's id (0 when none). */
  readonly qName: string[] = [];
  readonly qPrefix: (string | null)[] = [];
  readonly qLocal: string[] = [];
  readonly qPrefixId: number[] = [];
  /** For xmlns / xmlns:p: the id of the prefix declared ("" for xmlns); -1 for any other name. */
  readonly qDecl: number[] = [];
  /** The local name is Id, ID or id. */
  readonly qIsId: boolean[] = [];
  /** How many elements carry each name. */
  readonly qElements: number[] = [];
  readonly prefixes: string[] = ["", "xml"];
  readonly uris: string[] = ["", XML_NS, XMLNS_NS, DSIG_NS];
  /** Decoded attribute values, made when a reader asks (after the scan). */
  private values: (string | undefined)[] | null = null;
  /** The reader's objects, one per node at most, made when asked; the lists they answered, kept. */
  private readonly nodes = new Sparse<XNode>(this);
  private readonly kids = new Sparse<readonly XNode[]>(this);
  private readonly els = new Sparse<readonly XElement[]>(this);
  private readonly attrs = new Sparse<readonly XAttr[]>(this);
  private texts: Map<number, string> | null = null;
  /** The body's bytes, when the text was decoded from them (not when the body came as a string). */
  source: SourceBytes | null = null;

  constructor(
    readonly text: string,
    nodeCapacity: number,
  ) {
    this.n = new Int32Array((nodeCapacity + 1) * NODE);
    this.a = new Int32Array(16 * ATTR);
  }

  /** The element or character data of node `id`, the same object each time. */
  node(id: number): XNode {
    let x = this.nodes.get(id);
    if (x === undefined) this.nodes.set(id, (x = (this.n[id * NODE + N_KIND]! & KIND_MASK) === 1 ? new XElement(this, id) : new XText(this, id)));
    return x;
  }

  element(id: number): XElement {
    return this.node(id) as XElement;
  }

  /** The children of element `id` (it has some). */
  childNodes(id: number): readonly XNode[] {
    let kids = this.kids.get(id);
    if (kids === undefined) {
      const n = this.n;
      let count = 0;
      for (let c = n[id * NODE + N_FIRST]!; c !== 0; c = n[c * NODE + N_NEXT]!) count++;
      const out: XNode[] = new Array(count);
      count = 0;
      for (let c = n[id * NODE + N_FIRST]!; c !== 0; c = n[c * NODE + N_NEXT]!) out[count++] = this.node(c);
      this.kids.set(id, (kids = out));
    }
    return kids;
  }

  /** The element children of element `id` (it has children). */
  elements(id: number): readonly XElement[] {
    let els = this.els.get(id);
    if (els === undefined) {
      const n = this.n;
      const out: XElement[] = [];
      for (let c = n[id * NODE + N_FIRST]!; c !== 0; c = n[c * NODE + N_NEXT]!) if ((n[c * NODE + N_KIND]! & KIND_MASK) === 1) out.push(this.node(c) as XElement);
      this.els.set(id, (els = out.length ? out : NO_ELEMENTS));
    }
    return els;
  }

  /** The attributes of element `id` (it has some). */
  attributes(id: number): readonly XAttr[] {
    let attrs = this.attrs.get(id);
    if (attrs === undefined) {
      const first = this.n[id * NODE + N_ATTR]!;
      const count = this.n[id * NODE + N_NATTR]!;
      const out: XAttr[] = new Array(count);
      for (let k = 0; k < count; k++) out[k] = this.attr(first + k);
      this.attrs.set(id, (attrs = out));
    }
    return attrs;
  }

  /** The value of character data `id`: decoded and normalized (kept), or its span. */
  textValue(id: number): string {
    const n = this.n;
    const o = id * NODE;
    const kind = n[o + N_KIND]!;
    const s = n[o + N_START]!;
    const e = n[o + N_OPEN_END]!;
    if (!(kind & (F_AMP | F_CR))) return this.text.slice(s, e);
    const texts = (this.texts ??= new Map());
    let v = texts.get(id);
    if (v === undefined) {
      v = (kind & KIND_MASK) === 4 ? this.text.slice(s, e).replace(/\r\n?/g, "\n") : decodeSpan(this.text, s, e, false);
      texts.set(id, v);
    }
    return v;
  }

  /** The decoded, normalized value of attribute `k`. */
  value(k: number): string {
    const values = (this.values ??= new Array(this.attrCount));
    let v = values[k];
    if (v === undefined) values[k] = v = this.rawValue(k);
    return v;
  }

  /** The value of attribute `k`, decoded now (not kept). */
  rawValue(k: number): string {
    const a = this.a;
    const o = k * ATTR;
    return a[o + A_FLAGS] ? decodeSpan(this.text, a[o + A_VS]!, a[o + A_VE]!, true) : this.text.slice(a[o + A_VS]!, a[o + A_VE]!);
  }

  /** The namespace URI of attribute `k` as the DOM gives it (null: none). */
  attrNamespace(k: number): string | null {
    const u = this.a[k * ATTR + A_NS]!;
    return u === URI_NONE ? null : this.uris[u]!;
  }

  attr(k: number): XAttr {
    const q = this.a[k * ATTR + A_NAME]!;
    return { name: this.qName[q]!, prefix: this.qPrefix[q]!, localName: this.qLocal[q]!, namespaceURI: this.attrNamespace(k), value: this.value(k) };
  }
}

/** Values by node id, in chunks made when first written (most ids are never asked for). */
class Sparse<T> {
  private readonly chunks: (T | undefined)[][] = [];
  /** `tree`: its node count, known by the time a reader asks, sizes a tree's only chunk when it has fewer than 1024 nodes. */
  constructor(private readonly tree: { nodeCount: number }) {}
  get(id: number): T | undefined {
    const c = this.chunks[id >> 10];
    return c === undefined ? undefined : c[id & 1023];
  }
  set(id: number, value: T): void {
    let c = this.chunks[id >> 10];
    if (c === undefined) {
      // Chunks below this one stay holes in `chunks` until written. An invoice of a few hundred
      // nodes gets arrays of its own size (four of 1024 slots were a third of what a submission allocated).
      c = this.chunks[id >> 10] = new Array(Math.min(1024, this.tree.nodeCount + 1 - (id & ~1023)));
    }
    c[id & 1023] = value;
  }
}

const NO_NODES: readonly XNode[] = [];
const NO_ELEMENTS: readonly XElement[] = [];
const NO_ATTRIBUTES: readonly XAttr[] = [];

/** Character data: text (3) or a CDATA section (4), decoded, line ends normalized. */
export class XText {
  constructor(
    readonly tree: XTree,
    /** The node's id in the tree. */
    readonly node: number,
  ) {}

  get nodeType(): 3 | 4 {
    return (this.tree.n[this.node * NODE + N_KIND]! & KIND_MASK) as 3 | 4;
  }

  get nodeValue(): string {
    return this.tree.textValue(this.node);
  }

  get parentNode(): XElement {
    return this.tree.element(this.tree.n[this.node * NODE + N_PARENT]!);
  }
}

export type XNode = XElement | XText;

/**
 * One element of the scanned tree. Its members are named as the DOM's, so readers written for
 * either read both. Two fields: everything else is read from the tree's records when asked (the
 * lists a reader asks for are kept by the tree, so an element is small and made fast).
 */
export class XElement {
  constructor(
    readonly tree: XTree,
    /** The element's id in the tree. */
    readonly node: number,
  ) {}

  get nodeType(): 1 {
    return 1;
  }
  get tagName(): string {
    return this.tree.qName[this.tree.n[this.node * NODE + N_NAME]!]!;
  }
  get nodeName(): string {
    return this.tagName;
  }
  get prefix(): string | null {
    return this.tree.qPrefix[this.tree.n[this.node * NODE + N_NAME]!]!;
  }
  get localName(): string {
    return this.tree.qLocal[this.tree.n[this.node * NODE + N_NAME]!]!;
  }
  get namespaceURI(): string | null {
    const u = this.tree.n[this.node * NODE + N_NS]!;
    return u === URI_NONE ? null : this.tree.uris[u]!;
  }
  /** Index of '<' of the start tag. */
  get start(): number {
    return this.tree.n[this.node * NODE + N_START]!;
  }
  /** Index just after the start tag. */
  get openEnd(): number {
    return this.tree.n[this.node * NODE + N_OPEN_END]!;
  }
  /** Index of the end tag (openEnd when the element closes itself). */
  get closeStart(): number {
    return this.tree.n[this.node * NODE + N_CLOSE_START]!;
  }
  /** Index just after the element. */
  get end(): number {
    return this.tree.n[this.node * NODE + N_END]!;
  }
  get parentNode(): XElement | null {
    const p = this.tree.n[this.node * NODE + N_PARENT]!;
    return p === 0 ? null : this.tree.element(p);
  }

  /** Children in order (do not modify). */
  get childNodes(): readonly XNode[] {
    return this.tree.n[this.node * NODE + N_FIRST] === 0 ? NO_NODES : this.tree.childNodes(this.node);
  }

  /** Element children only, in order (do not modify). */
  get elements(): readonly XElement[] {
    return this.tree.n[this.node * NODE + N_FIRST] === 0 ? NO_ELEMENTS : this.tree.elements(this.node);
  }

  /** Every attribute in document order, namespace declarations included (namespace XMLNS_NS). Do not modify. */
  get attributes(): readonly XAttr[] {
    return this.tree.n[this.node * NODE + N_NATTR] === 0 ? NO_ATTRIBUTES : this.tree.attributes(this.node);
  }

  /** The element's namespace declarations (null: none). */
  get decls(): NsDecl[] | null {
    const t = this.tree;
    const o = this.node * NODE;
    const first = t.n[o + N_ATTR]!;
    const count = t.n[o + N_NATTR]!;
    let out: NsDecl[] | null = null;
    for (let k = first; k < first + count; k++) {
      const r = k * ATTR;
      if (t.a[r + A_NS] !== URI_XMLNS) continue;
      (out ??= []).push({ prefix: t.prefixes[t.qDecl[t.a[r + A_NAME]!]!]!, uri: t.uris[t.a[r + A_DECL_URI]!]!, changed: t.a[r + A_CHANGED] === 1 });
    }
    return out;
  }

  /** The value of the attribute of this qualified name, or null (as DOM getAttribute). */
  getAttribute(name: string): string | null {
    const t = this.tree;
    const o = this.node * NODE;
    const first = t.n[o + N_ATTR]!;
    const end = first + t.n[o + N_NATTR]!;
    for (let k = first; k < end; k++) if (t.qName[t.a[k * ATTR + A_NAME]!] === name) return t.value(k);
    return null;
  }

  /** Descendants (not this element) whose qualified name is `name` ("*": all), in document order. */
  getElementsByTagName(name: string): XElement[] {
    const t = this.tree;
    const n = t.n;
    const out: XElement[] = [];
    // The name's interned id (none: no element carries it); "*": any. The walk ends once every
    // element of that name in the document is found.
    const q = name === "*" ? -1 : t.qName.indexOf(name);
    let left = q === -1 ? Infinity : t.qElements[q]!;
    if (left === 0 || (q === -1 && name !== "*")) return out;
    // Descendants are the node ids after this one up to the first that starts after its end.
    const end = n[this.node * NODE + N_END]!;
    for (let id = this.node + 1; id <= t.nodeCount && left > 0; id++) {
      const o = id * NODE;
      if ((n[o + N_KIND]! & KIND_MASK) !== 1) continue;
      if (q !== -1 && n[o + N_NAME] !== q) continue;
      if (n[o + N_START]! >= end) break;
      out.push(t.element(id));
      left--;
    }
    return out;
  }
}

/** Where the root's children stand in the text, so output can splice bytes instead of reserializing. */
export interface Frame {
  /** Index just after the root's start tag. */
  rootOpenEnd: number;
  /** Index of the root's end tag. */
  rootCloseStart: number;
  children: { name: string; start: number; end: number }[];
  /**
   * Where a splice of this frame begins and ends: absent, the whole text (declaration and all);
   * for a focused inner element, the element itself.
   */
  outerStart?: number;
  outerEnd?: number;
}

/** Id values → their elements, made when asked (a ReadonlyMap). */
export class IdMap implements ReadonlyMap<string, XElement> {
  constructor(
    private readonly tree: XTree,
    private readonly map: Map<string, number>,
  ) {}
  get size(): number {
    return this.map.size;
  }
  get(id: string): XElement | undefined {
    const e = this.map.get(id);
    return e === undefined ? undefined : this.tree.element(e);
  }
  has(id: string): boolean {
    return this.map.has(id);
  }
  *entries(): MapIterator<[string, XElement]> {
    for (const [k, e] of this.map) yield [k, this.tree.element(e)];
  }
  keys(): MapIterator<string> {
    return this.map.keys();
  }
  *values(): MapIterator<XElement> {
    for (const e of this.map.values()) yield this.tree.element(e);
  }
  [Symbol.iterator](): MapIterator<[string, XElement]> {
    return this.entries();
  }
  forEach(f: (value: XElement, key: string, map: ReadonlyMap<string, XElement>) => void, thisArg?: unknown): void {
    for (const [k, e] of this.map) f.call(thisArg, this.tree.element(e), k, this);
  }
}

export interface Scanned {
  text: string;
  tree: XTree;
  root: XElement;
  /** Every Id-like attribute value (Id, ID, id under any prefix, xml:id) → its element (the first). */
  ids: ReadonlyMap<string, XElement>;
  /** Id values that occur more than once (reported by the signature profile, not here). */
  duplicateIds: string[];
  /** Every ds:Signature element in document order. */
  signatures: XElement[];
  /** Steps taken (characters of markup looked at, attributes, declarations): for the linearity tests. */
  steps: number;
}

// Matched by local name, whatever the prefix (xml:id, wsu:Id, …): xml-crypto's SignedXml resolves a
// Reference through any attribute with one of these local names, so a value repeated under a
// prefix would name a second element for some verifier. Uniqueness is proved across all of them.
export const ID_LOCAL_NAMES = new Set(["Id", "ID", "id"]);

const forbidden = (message: string): Result<never> => ({ ok: false, faults: [{ code: "XML_FORBIDDEN_CONSTRUCT", message }] });
const malformed = (message: string): Result<never> => ({ ok: false, faults: [{ code: "XML_MALFORMED", message }] });

class Refusal {
  constructor(readonly result: Result<never>) {}
}
const fail = (r: Result<never>): never => {
  throw new Refusal(r);
};

// Characters XML 1.0 does not allow (C0 controls other than TAB, LF, CR; U+FFFE, U+FFFF).
const INVALID_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
// Only reachable for string input (bytes go through strict UTF-8 decoding).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// XML's white space (S) is space, tab, CR and LF only: not JS's \s, which also matches U+00A0,
// U+2028, U+FEFF and the rest of Unicode's spaces, and let `<?xml version="1.0"\u00A0?>` in
// where every other XML parser refuses it (found by test/fuzz/submit.test.ts).
const S = "[ \\t\\r\\n]";
const EQ = `${S}*=${S}*`;
const XML_DECL = new RegExp(
  `^<\\?xml${S}+version${EQ}(["'])1\\.0\\1(?:${S}+encoding${EQ}(["'])([A-Za-z][A-Za-z0-9._-]*)\\2)?(?:${S}+standalone${EQ}(["'])(?:yes|no)\\4)?${S}*\\?>`,
);
// XML 1.0 (5th edition) NameStartChar / NameChar, without ':' (namespaces: NCName).
const NC_START = "A-Za-z_\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD";
const NC_CHAR = `${NC_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040`;
const ASTRAL = "[\\uD800-\\uDB7F][\\uDC00-\\uDFFF]";
const NCNAME_SRC = `(?:[${NC_START}]|${ASTRAL})(?:[${NC_CHAR}]|${ASTRAL})*`;
/** A qualified name at the sticky position. */
const QNAME = new RegExp(`${NCNAME_SRC}(?::${NCNAME_SRC})?`, "y");
/** An NCName, whole. */
export const NCNAME = new RegExp(`^${NCNAME_SRC}$`);
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S*$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function validCodePoint(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;

/** Decodes the body as strict UTF-8 (a UTF-8 byte-order mark is dropped; anything else invalid is refused). */
export function decodeUtf8(bytes: Uint8Array): Result<string> {
  try {
    return ok(utf8.decode(bytes));
  } catch {
    return malformed("The body is not valid UTF-8.");
  }
}

// ---------------------------------------------------------------------------------------------
// References (XML 1.0 §4.1): &amp; &lt; &gt; &quot; &apos;, &#N; (1–7 digits), &#xH; (1–6 hex digits).

/** The code point and length of the last reference readReference accepted. */
export let refCodePoint = 0;
export let refLength = 0;
const REF_OK = 0;
const REF_ENTITY = 1;
const REF_BARE = 2;
const REF_INVALID_CHAR = 3;

const isAsciiNameStart = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
const isAsciiNameChar = (c: number): boolean => isAsciiNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e;
const hexValue = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1);

/**
 * Reads the reference at `k` (an '&') that must end before `end`: REF_OK with refCodePoint and
 * refLength set, REF_ENTITY for any other named reference (an entity), REF_BARE for a lone '&',
 * REF_INVALID_CHAR for a character reference XML does not allow.
 */
export function readReference(t: string, k: number, end: number): number {
  const c1 = t.charCodeAt(k + 1);
  if (c1 === 0x23 /* # */) {
    let j = k + 2;
    let cp = 0;
    let digits = 0;
    if (t.charCodeAt(j) === 0x78 /* x */) {
      j++;
      for (let v = hexValue(t.charCodeAt(j)); v >= 0 && j < end; v = hexValue(t.charCodeAt(j))) {
        cp = cp * 16 + v;
        digits++;
        j++;
      }
      if (digits === 0 || digits > 6) return REF_BARE;
    } else {
      for (let c = t.charCodeAt(j); c >= 0x30 && c <= 0x39 && j < end; c = t.charCodeAt(j)) {
        cp = cp * 10 + (c - 0x30);
        digits++;
        j++;
      }
      if (digits === 0 || digits > 7) return REF_BARE;
    }
    if (j >= end || t.charCodeAt(j) !== 0x3b /* ; */) return REF_BARE;
    if (!validCodePoint(cp)) return REF_INVALID_CHAR;
    refCodePoint = cp;
    refLength = j + 1 - k;
    return REF_OK;
  }
  if (!isAsciiNameStart(c1)) return REF_BARE;
  let j = k + 2;
  while (isAsciiNameChar(t.charCodeAt(j))) j++;
  if (t.charCodeAt(j) !== 0x3b) return REF_BARE;
  if (j < end) {
    const len = j - k - 1;
    let cp = -1;
    if (len === 3 && t.startsWith("amp", k + 1)) cp = 0x26;
    else if (len === 2 && t.startsWith("lt", k + 1)) cp = 0x3c;
    else if (len === 2 && t.startsWith("gt", k + 1)) cp = 0x3e;
    else if (len === 4 && t.startsWith("quot", k + 1)) cp = 0x22;
    else if (len === 4 && t.startsWith("apos", k + 1)) cp = 0x27;
    if (cp !== -1) {
      refCodePoint = cp;
      refLength = j + 1 - k;
      return REF_OK;
    }
  }
  return REF_ENTITY;
}

/** Refuses a reference readReference did not accept. */
function refuseReference(r: number): never {
  if (r === REF_ENTITY) fail(forbidden("Entity references are not allowed."));
  if (r === REF_INVALID_CHAR) fail(malformed("A character reference names a character XML does not allow."));
  return fail(malformed("A bare '&' (escape it as &amp;)."));
}

/**
 * The value of a span already scanned (its references known to be valid): references decoded,
 * line ends normalized (text: CR LF and CR → LF; attribute: TAB, LF, CR LF and CR → space).
 */
export function decodeSpan(t: string, start: number, end: number, attribute: boolean): string {
  let out = "";
  let from = start;
  for (let k = start; k < end; k++) {
    const c = t.charCodeAt(k);
    if (c === 0x26 /* & */) {
      out += t.slice(from, k);
      readReference(t, k, end);
      out += String.fromCodePoint(refCodePoint);
      k += refLength - 1;
      from = k + 1;
    } else if (c === 0x0d /* CR */) {
      out += t.slice(from, k) + (attribute ? " " : "\n");
      if (t.charCodeAt(k + 1) === 0x0a) k++;
      from = k + 1;
    } else if (attribute && (c === 0x0a || c === 0x09)) {
      out += t.slice(from, k) + " ";
      from = k + 1;
    }
  }
  return out + t.slice(from, end);
}

/**
 * Scans a body: size, UTF-8, then the one pass. `rootName`, when given, is the root element's
 * required local name (in no namespace).
 */
export function scanXml(body: Uint8Array | string, limits: ParseLimits = DEFAULT_LIMITS, rootName?: string): Result<Scanned> {
  const size = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  if (size > limits.maxBytes) return { ok: false, faults: [{ code: "PAYLOAD_TOO_LARGE", message: `The document is over ${limits.maxBytes} bytes.` }] };
  let text: string;
  if (typeof body === "string") {
    text = body.startsWith("\uFEFF") ? body.slice(1) : body;
    if (LONE_SURROGATE.test(text)) return malformed("The document contains a character that XML does not allow.");
  } else {
    const d = decodeUtf8(body);
    if (!d.ok) return d;
    text = d.value;
  }
  try {
    const s = new Scanner(text, limits).run();
    if (typeof body !== "string") s.tree.source = new SourceBytes(text, body, bomLength(body));
    if (rootName !== undefined && (s.root.localName !== rootName || s.root.namespaceURI !== null)) return malformed(`The root element must be ${rootName} in no namespace.`);
    return ok(s);
  } catch (e) {
    if (e instanceof Refusal) return e.result;
    throw e;
  }
}

/** FNV-1a over the code units of t[at, at+len). */
function hashSpan(t: string, at: number, len: number): number {
  let h = 0x811c9dc5;
  for (let k = at; k < at + len; k++) h = Math.imul(h ^ t.charCodeAt(k), 0x01000193);
  return h >>> 0;
}

class Scanner {
  private readonly n: number;
  // The next occurrence at or after the scan position, found once and reused (-1: none left).
  private nextAmp = -2;
  private nextCr = -2;
  private nextCdataEnd = -2;
  private nextLt = -2;
  private tree!: XTree;
  /** Prefix id → URI id in scope (-1: not declared), with an undo log of (prefix, previous). */
  private readonly scope: number[] = [-1, URI_XML];
  private readonly undo: number[] = [];
  private readonly prefixIds = new Map<string, number>([
    ["", PREFIX_DEFAULT],
    ["xml", PREFIX_XML],
  ]);
  private readonly uriIds = new Map<string, number>([
    ["", URI_NONE],
    [XML_NS, URI_XML],
    [XMLNS_NS, URI_XMLNS],
    [DSIG_NS, URI_DSIG],
  ]);
  private readonly uriAbsolute: boolean[] = [true, true, true, true];
  /** Interned qualified names: an open-addressing table of (id + 1), hashed from the text in place. */
  private qTable = new Int32Array(1024);
  private readonly qHash: number[] = [];
  private nodes = 0;
  private attributes = 0;
  private idCount = 0;
  private steps = 0;
  private readonly ids = new Map<string, number>();
  private readonly duplicates = new Set<string>();
  private readonly signatures: number[] = [];
  /** Duplicate-attribute check: a small open-addressing table of (namespace, local name) keyed per element by a stamp. */
  private readonly dupNs: Int32Array;
  private readonly dupLocal: Int32Array;
  private readonly dupStamp: Int32Array;
  private readonly dupMask: number;
  private stamp = 0;
  /** Local names interned (for the expanded-name check): id per distinct string. */
  private readonly localIds = new Map<string, number>();
  private readonly qLocalId: number[] = [];
  /** The last child of each open element, by depth. */
  private readonly lastChild: number[] = [];

  constructor(
    private readonly t: string,
    private readonly limits: ParseLimits,
  ) {
    this.n = t.length;
    // At least four slots per attribute an element may carry: probes stay short.
    const size = 2 ** Math.max(7, Math.ceil(Math.log2(Math.max(1, limits.maxAttributes) * 4)));
    this.dupNs = new Int32Array(size);
    this.dupLocal = new Int32Array(size);
    this.dupStamp = new Int32Array(size);
    this.dupMask = size - 1;
  }

  private find(cache: number, needle: string, from: number): number {
    if (cache === -1 || (cache >= from && cache !== -2)) return cache;
    return this.t.indexOf(needle, from);
  }
  private amp(from: number): number {
    return (this.nextAmp = this.find(this.nextAmp, "&", from));
  }
  private cr(from: number): number {
    return (this.nextCr = this.find(this.nextCr, "\r", from));
  }
  private cdataEnd(from: number): number {
    return (this.nextCdataEnd = this.find(this.nextCdataEnd, "]]>", from));
  }
  private lt(from: number): number {
    return (this.nextLt = this.find(this.nextLt, "<", from));
  }
  private within(pos: number, end: number): boolean {
    return pos !== -1 && pos < end;
  }

  private prefixId(p: string): number {
    let id = this.prefixIds.get(p);
    if (id === undefined) {
      id = this.tree.prefixes.length;
      this.tree.prefixes.push(p);
      this.prefixIds.set(p, id);
      this.scope.push(-1);
    }
    return id;
  }

  private uriId(u: string): number {
    let id = this.uriIds.get(u);
    if (id === undefined) {
      id = this.tree.uris.length;
      this.tree.uris.push(u);
      this.uriIds.set(u, id);
      this.uriAbsolute.push(ABSOLUTE_URI.test(u));
    }
    return id;
  }

  /** The id of the qualified name of `len` characters at `at`, interned: a name repeated a hundred thousand times is one string. */
  private qname(at: number, len: number): number {
    const t = this.t;
    const tree = this.tree;
    const h = hashSpan(t, at, len);
    let table = this.qTable;
    let mask = table.length - 1;
    let slot = h & mask;
    for (;;) {
      const e = table[slot]!;
      if (e === 0) break;
      const q = e - 1;
      if (this.qHash[q] === h && tree.qName[q]!.length === len && t.startsWith(tree.qName[q]!, at)) return q;
      slot = (slot + 1) & mask;
    }
    const name = t.slice(at, at + len);
    const q = tree.qName.length;
    const colon = name.indexOf(":");
    const prefix = colon === -1 ? null : name.slice(0, colon);
    const local = colon === -1 ? name : name.slice(colon + 1);
    tree.qName.push(name);
    tree.qPrefix.push(prefix);
    tree.qLocal.push(local);
    tree.qPrefixId.push(prefix === null ? PREFIX_DEFAULT : this.prefixId(prefix));
    tree.qDecl.push(name === "xmlns" ? PREFIX_DEFAULT : prefix === "xmlns" ? this.prefixId(local) : -1);
    tree.qIsId.push(ID_LOCAL_NAMES.has(local));
    tree.qElements.push(0);
    let lid = this.localIds.get(local);
    if (lid === undefined) this.localIds.set(local, (lid = this.localIds.size));
    this.qLocalId.push(lid);
    this.qHash.push(h);
    table[slot] = q + 1;
    if ((q + 1) * 2 > table.length) {
      // Grow and rehash.
      table = new Int32Array(table.length * 2);
      mask = table.length - 1;
      for (let k = 0; k <= q; k++) {
        let s = this.qHash[k]! & mask;
        while (table[s] !== 0) s = (s + 1) & mask;
        table[s] = k + 1;
      }
      this.qTable = table;
    }
    return q;
  }

  private count(): void {
    if (++this.nodes > this.limits.maxNodes) fail(forbidden(`More than ${this.limits.maxNodes} nodes.`));
  }

  /** A new node record under `parent` (0: none), linked as its last child. */
  private addNode(kind: number, parent: number, depth: number): number {
    const tree = this.tree;
    const id = ++tree.nodeCount;
    const n = tree.n;
    const o = id * NODE;
    n[o + N_KIND] = kind;
    n[o + N_PARENT] = parent;
    if (parent !== 0) {
      const last = this.lastChild[depth]!;
      if (last === 0) n[parent * NODE + N_FIRST] = id;
      else n[last * NODE + N_NEXT] = id;
      this.lastChild[depth] = id;
    }
    return id;
  }

  run(): Scanned {
    const t = this.t;
    const n = this.n;
    if (INVALID_CHAR.test(t)) fail(malformed("The document contains a character that XML does not allow."));
    let i = 0;
    if (/^<\?xml[ \t\r\n?]/.test(t)) {
      const m = XML_DECL.exec(t);
      if (!m) fail(malformed("The XML declaration is malformed."));
      const enc = m![3];
      if (enc !== undefined && !/^utf-?8$/i.test(enc)) fail(malformed(`Only UTF-8 is accepted, not ${enc}.`));
      i = m![0].length;
    }
    this.tree = new XTree(t, this.countMarkup(i));
    const tree = this.tree;
    const rec = tree.n;
    // The element open at each depth (0: none), depth 0 outside the root.
    let cur = 0;
    let root = 0;
    let depth = 0;
    for (;;) {
      // Markup right after markup (the common case) needs no search.
      const lt = t.charCodeAt(i) === 0x3c ? i : this.lt(i);
      const textEnd = lt === -1 ? n : lt;
      if (textEnd > i) {
        if (cur === 0) {
          for (let k = i; k < textEnd; k++) if (!isSpace(t.charCodeAt(k))) fail(malformed("Text outside the root element."));
        } else {
          this.count();
          const flags = this.text(i, textEnd);
          const id = this.addNode(3 | flags, cur, depth);
          rec[id * NODE + N_START] = i;
          rec[id * NODE + N_OPEN_END] = textEnd;
        }
      }
      if (lt === -1) break;
      this.steps++;
      const c = t.charCodeAt(lt + 1);
      if (c === 0x21 /* ! */) {
        if (t.startsWith("<![CDATA[", lt)) {
          if (cur === 0) fail(malformed("CDATA outside the root element."));
          const end = this.cdataEnd(lt + 9);
          if (end === -1) fail(malformed("Unterminated CDATA section."));
          this.count();
          const id = this.addNode(4 | (this.within(this.cr(lt + 9), end) ? F_CR : 0), cur, depth);
          rec[id * NODE + N_START] = lt + 9;
          rec[id * NODE + N_OPEN_END] = end;
          i = end + 3;
          continue;
        }
        if (t.startsWith("<!--", lt)) fail(forbidden("Comments are not allowed."));
        if (t.startsWith("<!DOCTYPE", lt)) fail(forbidden("DOCTYPE declarations are not allowed."));
        if (t.startsWith("<!ENTITY", lt)) fail(forbidden("Entity declarations are not allowed."));
        fail(forbidden("Markup declarations are not allowed."));
      }
      if (c === 0x3f /* ? */) fail(forbidden("Processing instructions are not allowed."));
      if (c === 0x2f /* / */) {
        if (cur === 0) fail(malformed("An end tag without a start tag."));
        const o = cur * NODE;
        const name = tree.qName[rec[o + N_NAME]!]!;
        let k = lt + 2 + name.length;
        if (!t.startsWith(name, lt + 2)) fail(malformed(`The end tag does not match the start tag <${name}>.`));
        while (k < n && isSpace(t.charCodeAt(k))) k++;
        if (t.charCodeAt(k) !== 0x3e) fail(malformed(k >= n ? "Unterminated end tag." : `The end tag does not match the start tag <${name}>.`));
        rec[o + N_CLOSE_START] = lt;
        rec[o + N_END] = k + 1;
        this.leave(cur);
        cur = rec[o + N_PARENT]!;
        depth--;
        i = k + 1;
        continue;
      }
      // A start tag.
      if (cur === 0 && root !== 0) fail(malformed("More than one root element."));
      if (depth + 1 > this.limits.maxDepth) fail(forbidden(`Nesting deeper than ${this.limits.maxDepth} levels.`));
      this.count();
      const el = this.startTag(lt, cur, depth);
      if (cur === 0) root = el;
      const o = el * NODE;
      i = rec[o + N_OPEN_END]!;
      if (rec[o + N_END] === 0) {
        cur = el;
        depth++;
        this.lastChild[depth] = 0;
      } else this.leave(el);
    }
    if (root === 0) fail(malformed("No root element."));
    if (cur !== 0) fail(malformed("Unclosed elements."));
    return {
      text: t,
      tree,
      root: tree.element(root),
      ids: new IdMap(tree, this.ids),
      duplicateIds: [...this.duplicates],
      signatures: this.signatures.map((s) => tree.element(s)),
      steps: this.steps,
    };
  }

  /**
   * Refuses a document with more start tags and CDATA sections than the node limit before any
   * tree is built (one indexOf walk): every '<' that opens neither an end tag nor lies inside a
   * CDATA section starts a node or a construct refused anyway. Answers how many node records the
   * tree may need: those, and a run of character data before each '<' and after the last.
   */
  private countMarkup(from: number): number {
    const t = this.t;
    let opened = 0;
    let marks = 0;
    for (let k = t.indexOf("<", from); k !== -1; k = t.indexOf("<", k + 1)) {
      marks++;
      const c = t.charCodeAt(k + 1);
      if (c === 0x2f) continue;
      if (c === 0x21 && t.startsWith("<![CDATA[", k)) {
        const end = t.indexOf("]]>", k + 9);
        if (end === -1) break;
        k = end;
      }
      if (++opened > this.limits.maxNodes) fail(forbidden(`More than ${this.limits.maxNodes} nodes.`));
    }
    return Math.min(opened + marks + 1, this.limits.maxNodes);
  }

  /** Leaves an element's namespace scope. */
  private leave(el: number): void {
    const tree = this.tree;
    const o = el * NODE;
    const first = tree.n[o + N_ATTR]!;
    const end = first + tree.n[o + N_NATTR]!;
    const a = tree.a;
    for (let k = first; k < end; k++) {
      if (a[k * ATTR + A_NS] !== URI_XMLNS) continue;
      const prev = this.undo.pop()!;
      const p = this.undo.pop()!;
      this.scope[p] = prev;
    }
  }

  /** Room for one attribute record more. */
  private attrRecord(): number {
    const tree = this.tree;
    const k = tree.attrCount++;
    if ((k + 1) * ATTR > tree.a.length) {
      const next = new Int32Array(tree.a.length * 2);
      next.set(tree.a);
      tree.a = next;
    }
    return k;
  }

  /** Reads a start tag at `lt`; returns the element's node with openEnd set, and end set too when it closes itself. */
  private startTag(lt: number, parent: number, depth: number): number {
    const t = this.t;
    const n = this.n;
    const tree = this.tree;
    const limits = this.limits;
    const qlen = qnameLength(t, lt + 1);
    if (qlen === 0) fail(malformed("A start tag without a valid element name."));
    const q = this.qname(lt + 1, qlen);
    const el = this.addNode(1, parent, depth);
    tree.qElements[q]!++;
    const o = el * NODE;
    let rec = tree.n;
    rec[o + N_START] = lt;
    rec[o + N_NAME] = q;
    const firstAttr = tree.attrCount;
    rec[o + N_ATTR] = firstAttr;
    let j = lt + 1 + qlen;
    let count = 0;
    let decls = 0;
    let selfClosing = false;
    for (;;) {
      let k = j;
      while (k < n && isSpace(t.charCodeAt(k))) k++;
      this.steps += 1;
      if (k >= n) fail(malformed("Unterminated start tag."));
      const ch = t.charCodeAt(k);
      if (ch === 0x3e /* > */) {
        j = k + 1;
        break;
      }
      if (ch === 0x2f /* / */) {
        if (t.charCodeAt(k + 1) !== 0x3e) fail(malformed("'/' inside a tag."));
        selfClosing = true;
        j = k + 2;
        break;
      }
      if (k === j) fail(malformed(ch === 0x3c ? "'<' inside a tag." : "Attributes must be separated by whitespace."));
      const alen = qnameLength(t, k);
      if (alen === 0) fail(malformed(ch === 0x3c ? "'<' inside a tag." : "An attribute without a valid name."));
      const an = this.qname(k, alen);
      k += alen;
      while (k < n && isSpace(t.charCodeAt(k))) k++;
      if (t.charCodeAt(k) !== 0x3d /* = */) fail(malformed(`Attribute ${tree.qName[an]} has no value.`));
      k++;
      while (k < n && isSpace(t.charCodeAt(k))) k++;
      const quote = t.charCodeAt(k);
      if (quote !== 0x22 && quote !== 0x27) fail(malformed(`The value of attribute ${tree.qName[an]} is not quoted.`));
      const close = t.indexOf(quote === 0x22 ? '"' : "'", k + 1);
      if (close === -1) fail(malformed("Unterminated attribute value."));
      if (this.within(this.lt(k + 1), close)) fail(malformed("'<' inside an attribute value."));
      if (count >= limits.maxAttributes) fail(forbidden(`More than ${limits.maxAttributes} attributes on one element.`));
      // An attribute (a namespace declaration too) is a node of the document: it counts toward the node limit.
      this.count();
      if (++this.attributes > limits.maxDocumentAttributes) fail(forbidden(`More than ${limits.maxDocumentAttributes} attributes and namespace declarations in the document.`));
      const r = this.attrRecord() * ATTR;
      const a = tree.a;
      a[r + A_NAME] = an;
      a[r + A_VS] = k + 1;
      a[r + A_VE] = close;
      a[r + A_FLAGS] = this.attrValue(k + 1, close);
      if (tree.qDecl[an]! >= 0) decls++;
      count++;
      j = close + 1;
    }
    rec[o + N_NATTR] = count;
    const a = tree.a;
    const end = firstAttr + count;

    // Namespace declarations first: they apply to the element's own name and attributes.
    if (decls) {
      for (let k = firstAttr; k < end; k++) {
        const r = k * ATTR;
        const aq = a[r + A_NAME]!;
        const prefix = tree.qDecl[aq]!;
        if (prefix < 0) continue;
        this.steps++;
        a[r + A_NS] = URI_XMLNS;
        const isDefault = prefix === PREFIX_DEFAULT;
        const p = tree.prefixes[prefix]!;
        const v = tree.rawValue(k);
        if (p === "xmlns") fail(malformed("The xmlns prefix cannot be declared."));
        if ((prefix === PREFIX_XML) !== (v === XML_NS)) fail(malformed("The xml prefix and its namespace go together only."));
        if (v === XMLNS_NS) fail(malformed("The xmlns namespace cannot be declared."));
        if (!isDefault && v === "") fail(malformed(`${tree.qName[aq]}="" un-declares a prefix, which XML 1.0 does not allow.`));
        const u = this.uriId(v);
        if (!this.uriAbsolute[u]) fail(forbidden(`Namespace URI "${v}" is not absolute.`));
        const prev = this.scope[prefix]!;
        this.undo.push(prefix, prev);
        this.scope[prefix] = u;
        a[r + A_DECL_URI] = u;
        a[r + A_CHANGED] = (prev < 0 ? URI_NONE : prev) !== u ? 1 : 0;
      }
    }
    let ns: number;
    if (tree.qPrefix[q] === null) ns = Math.max(this.scope[PREFIX_DEFAULT]!, URI_NONE);
    else {
      if (tree.qPrefix[q] === "xmlns") fail(malformed("An element cannot be in the xmlns namespace."));
      ns = this.scope[tree.qPrefixId[q]!]!;
      if (ns < 0) fail(malformed(`The prefix ${tree.qPrefix[q]} is not declared.`));
    }
    rec = tree.n;
    rec[o + N_NS] = ns;
    if (count) {
      const stamp = ++this.stamp;
      for (let k = firstAttr; k < end; k++) {
        const r = k * ATTR;
        const aq = a[r + A_NAME]!;
        let key: number;
        let uri: number;
        if (a[r + A_NS] === URI_XMLNS) {
          uri = URI_XMLNS;
          key = tree.qDecl[aq]!;
        } else {
          const ap = tree.qPrefix[aq];
          if (ap === null) uri = URI_NONE;
          else {
            uri = this.scope[tree.qPrefixId[aq]!]!;
            if (uri < 0) fail(malformed(`The prefix ${ap} is not declared.`));
            a[r + A_NS] = uri;
          }
          key = this.qLocalId[aq]!;
        }
        // An attribute written twice, by name or (two prefixes bound to one namespace) by expanded name.
        let slot = Math.imul(uri, 0x9e3779b1) ^ Math.imul(key, 0x85ebca6b);
        slot = (slot ^ (slot >>> 15)) & this.dupMask;
        for (;;) {
          if (this.dupStamp[slot] !== stamp) {
            this.dupStamp[slot] = stamp;
            this.dupNs[slot] = uri;
            this.dupLocal[slot] = key;
            break;
          }
          if (this.dupNs[slot] === uri && this.dupLocal[slot] === key) fail(malformed(`Attribute ${tree.qLocal[aq]} appears twice on ${tree.qName[q]}.`));
          slot = (slot + 1) & this.dupMask;
        }
      }
      for (let k = firstAttr; k < end; k++) {
        const r = k * ATTR;
        const aq = a[r + A_NAME]!;
        if (!tree.qIsId[aq] || a[r + A_NS] === URI_XMLNS) continue;
        if (++this.idCount > limits.maxIds) fail(forbidden(`More than ${limits.maxIds} Id attributes in the document.`));
        const v = tree.rawValue(k);
        if (this.ids.has(v)) this.duplicates.add(v);
        else this.ids.set(v, el);
      }
    }
    rec[o + N_OPEN_END] = j;
    if (selfClosing) {
      rec[o + N_CLOSE_START] = j;
      rec[o + N_END] = j;
    }
    if (ns === URI_DSIG && tree.qLocal[q] === "Signature") this.signatures.push(el);
    return el;
  }

  /** Character data between tags: refused where XML says so; answers its flags (F_AMP, F_CR). */
  private text(start: number, end: number): number {
    if (this.within(this.cdataEnd(start), end)) fail(malformed("']]>' outside a CDATA section."));
    let flags = 0;
    if (this.within(this.amp(start), end)) {
      flags |= F_AMP;
      this.references(start, end);
    }
    if (this.within(this.cr(start), end)) flags |= F_CR;
    return flags;
  }

  /** Every reference in [start, end) checked, from the next '&' on. */
  private references(start: number, end: number): void {
    const t = this.t;
    for (let k = this.amp(start); k !== -1 && k < end; k = this.amp(k + 1)) {
      const r = readReference(t, k, end);
      if (r !== REF_OK) refuseReference(r);
      this.steps++;
    }
  }

  /** An attribute value between its quotes: its references checked; answers its flags (A_AMP, A_WS). */
  private attrValue(start: number, end: number): number {
    const t = this.t;
    let flags = 0;
    if (this.within(this.amp(start), end)) {
      flags |= A_AMP;
      this.references(start, end);
    }
    for (let k = start; k < end; k++) {
      const c = t.charCodeAt(k);
      if (c === 0x09 || c === 0x0a || c === 0x0d) {
        flags |= A_WS;
        break;
      }
    }
    return flags;
  }
}

/** The length of the qualified name at `at` (0: none): ASCII names read here, others by the full XML grammar. */
function qnameLength(t: string, at: number): number {
  const c0 = t.charCodeAt(at);
  const asciiStart = (c0 >= 0x61 && c0 <= 0x7a) || (c0 >= 0x41 && c0 <= 0x5a) || c0 === 0x5f;
  if (asciiStart) {
    let k = at + 1;
    let colon = -1;
    for (;; k++) {
      const c = t.charCodeAt(k);
      if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d || c === 0x2e) continue;
      if (c === 0x3a && colon === -1) {
        colon = k;
        const d = t.charCodeAt(k + 1);
        if ((d >= 0x61 && d <= 0x7a) || (d >= 0x41 && d <= 0x5a) || d === 0x5f) {
          k++;
          continue;
        }
        if (d < 0x80) return colon - at;
      }
      break;
    }
    const c = t.charCodeAt(k);
    if (!(c >= 0x80 || (c === 0x3a && t.charCodeAt(k + 1) >= 0x80))) return k - at;
  }
  QNAME.lastIndex = at;
  const m = QNAME.exec(t);
  return m ? m[0].length : 0;
}

/** The frame of `el`: the spans of its element children. `outer`: bound a splice to the element itself. */
export function frameOf(el: XElement, outer: boolean): Frame {
  const f: Frame = { rootOpenEnd: el.openEnd, rootCloseStart: el.closeStart, children: el.elements.map((c) => ({ name: c.tagName, start: c.start, end: c.end })) };
  if (outer) {
    f.outerStart = el.start;
    f.outerEnd = el.end;
  }
  return f;
}
