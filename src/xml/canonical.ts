/**
 * Canonical XML of one element of the scanned tree (scan.ts), as a Reference's transforms and
 * SignedInfo's CanonicalizationMethod ask: C14N 1.0 (inclusive) and exclusive C14N, with or
 * without comments (the documents we accept carry none, so both variants give the same octets).
 *
 * What each algorithm renders, on the element subset "this element and its descendants" (less
 * the enveloped Signature, when that transform applies):
 * - Inclusive (C14N 1.0 §2.4): on the apex, every namespace in scope (xmlns="" never), and the
 *   xml:* attributes it inherits from its ancestors (nearest wins, its own first); below it, each
 *   declaration whose value differs from the one in scope at the parent (xmlns="" among them).
 * - Exclusive (exc-c14n §3): on each element, the namespaces it visibly utilizes (its own prefix,
 *   or the default for an unprefixed name; its attributes' prefixes) and those of the
 *   InclusiveNamespaces PrefixList in scope there, each when the nearest output ancestor did not
 *   render the same value; xmlns="" when an unprefixed element leaves a default namespace an
 *   ancestor rendered. No inherited xml:* attributes.
 * - Namespace nodes first, ordered by prefix (default first); then attributes ordered by
 *   namespace URI (none first) and local name. Text escapes & < > CR; attribute values
 *   & < " TAB LF CR. Empty elements get an end tag.
 *
 *
 * Linear in the subtree, and written from the scanner's records (scan.ts, XTree) straight into one
 * growing byte buffer: names and namespaces are interned ids, attribute values and text are
 * spans of the document decoded and escaped on the way (no string per node), each namespace
 * URI's escaped bytes are made once; the exclusive renderer keeps what its output ancestors
 * rendered in an array indexed by prefix with an undo log, and a PrefixList prefix is looked up
 * only on the apex and where an element declares it again.
 */
import { C14N, C14N_WITH_COMMENTS, EXC_C14N, EXC_C14N_WITH_COMMENTS } from "./algorithms.js";
import {
  A_AMP,
  A_CHANGED,
  A_DECL_URI,
  A_FLAGS,
  A_NAME,
  A_NS,
  A_VE,
  A_VS,
  A_WS,
  ATTR,
  F_AMP,
  F_CR,
  KIND_MASK,
  N_ATTR,
  N_CLOSE_START,
  N_END,
  N_FIRST,
  N_KIND,
  N_NAME,
  N_NATTR,
  N_NEXT,
  N_NS,
  N_OPEN_END,
  N_PARENT,
  N_START,
  NODE,
  PREFIX_DEFAULT,
  PREFIX_XML,
  readReference,
  refCodePoint,
  refLength,
  URI_NONE,
  URI_XML,
  URI_XMLNS,
  type XAttr,
  type XElement,
  type XTree,
} from "./scan.js";

const TEXT_SPECIAL = /[&<>\r]/;
const ATTR_SPECIAL = /[&<"\t\n\r]/;

/** Character data in canonical form (also a safe way to write any text into XML). Native passes, no callback per character. */
export const escapeText = (s: string): string =>
  TEXT_SPECIAL.test(s) ? s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll("\r", "&#xD;") : s;
/** An attribute value in canonical form (also a safe way to write any value between double quotes). */
export const escapeAttr = (s: string): string =>
  ATTR_SPECIAL.test(s)
    ? s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll('"', "&quot;").replaceAll("\r", "&#xD;").replaceAll("\n", "&#xA;").replaceAll("\t", "&#x9;")
    : s;

export interface CanonicalOptions {
  /** Exclusive C14N's InclusiveNamespaces PrefixList ("#default" for the default namespace). */
  prefixList?: readonly string[];
  /** An element left out with its subtree (the enveloped-signature transform). */
  exclude?: XElement | null;
  /** false: always render, never take the element's text as it stands (verbatim below; the tests compare both). */
  verbatim?: boolean;
}

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** The canonical octets (as a string) of `el` under `algorithm`, a C14N 1.0 or exclusive C14N URI. */
export function canonicalize(el: XElement, algorithm: string, opts: CanonicalOptions = {}): string {
  return utf8Decoder.decode(canonicalBytes(el, algorithm, opts));
}

/** The canonical octets of `el` under `algorithm` as UTF-8 bytes (what is digested), written without an intermediate string. */
export function canonicalBytes(el: XElement, algorithm: string, opts: CanonicalOptions = {}): Uint8Array {
  let exclusive: boolean;
  switch (algorithm) {
    case C14N:
    case C14N_WITH_COMMENTS:
      exclusive = false;
      break;
    case EXC_C14N:
    case EXC_C14N_WITH_COMMENTS:
      exclusive = true;
      break;
    default:
      throw new Error(`not a canonicalization: ${algorithm}`);
  }
  const exclude = opts.exclude && opts.exclude.tree === el.tree ? opts.exclude.node : 0;
  if (opts.verbatim !== false && !opts.prefixList?.length) {
    const same = verbatim(el.tree, el.node, exclude);
    if (same !== null) return same;
  }
  const r = new Renderer(el.tree, exclusive, exclude, exclusive ? (opts.prefixList ?? []) : [], Math.ceil((el.end - el.start) * 1.1));
  r.element(el.node, true);
  return r.out.bytes();
}

/**
 * The canonical octets of element `apex` when its text is already in canonical form, else null:
 * what a careful signer (and the k6 generator) writes, whose canonical form is its own bytes. Both
 * algorithms agree then, and the renderer would write the same octets one by one:
 * - no ancestor declares a namespace or carries an attribute in one (xml:*): nothing is inherited,
 *   and every element of the subtree is in no namespace;
 * - every element of the subtree: an unprefixed name; its start tag written `<name a="v" b="w">`
 *   (one space before each attribute, `="` and `"` around the value, nothing before `>`), its
 *   attributes unprefixed, none a declaration, in the order the renderer sorts them, no value
 *   with a TAB, LF or CR or a reference other than &amp; &lt; &quot;; an end tag `</name>` (no
 *   empty-element tag);
 * - its character data: no CR, no `>`, no reference other than &amp; &lt; &gt;; no CDATA section;
 *   not the enveloped Signature.
 * One pass over the subtree's records and its character data, then one native UTF-8 encode.
 */
export function verbatimCanonical(el: XElement, exclude: XElement | null = null): Uint8Array | null {
  return verbatim(el.tree, el.node, exclude && exclude.tree === el.tree ? exclude.node : 0);
}

/** Whether the reference at t[i] ('&') is one canonical form writes as it stands: &amp;, &lt;, or `third` (&gt; in text, &quot; in a value). */
function keptReference(t: string, i: number, third: string): boolean {
  return t.startsWith("amp;", i + 1) || t.startsWith("lt;", i + 1) || t.startsWith(third, i + 1);
}

function verbatim(tree: XTree, apex: number, exclude: number): Uint8Array | null {
  const n = tree.n;
  const a = tree.a;
  const t = tree.text;
  for (let p = n[apex * NODE + N_PARENT]!; p !== 0; p = n[p * NODE + N_PARENT]!) {
    const first = n[p * NODE + N_ATTR]!;
    const last = first + n[p * NODE + N_NATTR]!;
    for (let k = first; k < last; k++) if (a[k * ATTR + A_NS] !== URI_NONE) return null;
  }
  const end = n[apex * NODE + N_END]!;
  for (let id = apex; id <= tree.nodeCount; id++) {
    const o = id * NODE;
    if (id !== apex && n[o + N_START]! >= end) break;
    if (id === exclude) return null;
    const kind = n[o + N_KIND]!;
    if ((kind & KIND_MASK) === 3) {
      if (kind & F_CR) return null;
      const stop = n[o + N_OPEN_END]!;
      for (let i = n[o + N_START]!; i < stop; i++) {
        const c = t.charCodeAt(i);
        // '>' is written &gt;; of the references, only &amp; &lt; &gt; are written as they stand.
        if (c === 0x3e || (c === 0x26 && !keptReference(t, i, "gt;"))) return null;
      }
      continue;
    }
    if ((kind & KIND_MASK) !== 1) return null;
    const q = n[o + N_NAME]!;
    if (tree.qPrefix[q] !== null) return null;
    let pos = n[o + N_START]! + 1 + tree.qName[q]!.length;
    const first = n[o + N_ATTR]!;
    const last = first + n[o + N_NATTR]!;
    for (let k = first; k < last; k++) {
      const r = k * ATTR;
      const flags = a[r + A_FLAGS]!;
      if (a[r + A_NS] !== URI_NONE || flags & A_WS) return null;
      if (flags & A_AMP) {
        // Of the references, only &amp; &lt; &quot; are written as they stand in an attribute value.
        for (let i = a[r + A_VS]!, stop = a[r + A_VE]!; i < stop; i++) {
          if (t.charCodeAt(i) === 0x26 && !keptReference(t, i, "quot;")) return null;
        }
      }
      const aq = a[r + A_NAME]!;
      if (k > first && !(tree.qLocal[a[r - ATTR + A_NAME]!]! < tree.qLocal[aq]!)) return null;
      // ` name="`: a value starting exactly there leaves no room for other whitespace or quotes.
      const head = pos + 1 + tree.qName[aq]!.length;
      if (t.charCodeAt(pos) !== 0x20 || t.charCodeAt(head) !== 0x3d || t.charCodeAt(head + 1) !== 0x22 || a[r + A_VS] !== head + 2) return null;
      pos = a[r + A_VE]! + 1;
    }
    const openEnd = n[o + N_OPEN_END]!;
    if (openEnd !== pos + 1 || t.charCodeAt(pos) !== 0x3e) return null;
    // `</name>` exactly (an empty-element tag has no end tag: its length is 0).
    if (n[o + N_END]! - n[o + N_CLOSE_START]! !== tree.qName[q]!.length + 3) return null;
  }
  const start = n[apex * NODE + N_START]!;
  // The seller's own bytes when the text was decoded from them: a slice, not an encode.
  return tree.source ? tree.source.slice(start, end) : utf8Encoder.encode(t.substring(start, end));
}

const byPrefix = (a: [string, string], b: [string, string]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

function attrOrder(a: XAttr, b: XAttr): number {
  const na = a.namespaceURI ?? "";
  const nb = b.namespaceURI ?? "";
  if (na !== nb) return na < nb ? -1 : 1;
  return a.localName < b.localName ? -1 : a.localName > b.localName ? 1 : 0;
}

/** `<name ns… attrs…>` for the given namespace nodes and attributes (both sorted here). */
export function startTag(name: string, ns: [string, string][], attrs: XAttr[]): string {
  let out = `<${name}`;
  if (ns.length > 1) ns.sort(byPrefix);
  for (const [p, uri] of ns) out += p === "" ? ` xmlns="${escapeAttr(uri)}"` : ` xmlns:${p}="${escapeAttr(uri)}"`;
  if (attrs.length > 1) attrs.sort(attrOrder);
  for (const a of attrs) out += ` ${a.name}="${escapeAttr(a.value)}"`;
  return `${out}>`;
}

/** Every namespace in scope on `el` (prefix → URI; the default as ""), nearest declaration first. */
export function inScopeNamespaces(el: XElement): Map<string, string> {
  const seen = new Map<string, string>();
  for (let e: XElement | null = el; e; e = e.parentNode) {
    const decls = e.decls;
    if (decls) for (const d of decls) if (!seen.has(d.prefix)) seen.set(d.prefix, d.uri);
  }
  return seen;
}

/**
 * The most bytes a canonical form may have: exclusive C14N repeats namespace declarations on
 * every element that uses them, so its output can outgrow its input many times over. Whatever
 * the document, at most 16 MiB; and at most four times the document's characters and 64 KiB
 * (canonicalLimit): what escaping can make of a real document ('>' in text becomes "&gt;"; a
 * character takes at most 4 bytes; an apex's inherited declarations are text of the document),
 * while an exclusive form that repeats a long namespace URI on element after element stops there
 * (writing and digesting 16 MiB was most of such a document's cost).
 */
export const MAX_CANONICAL_BYTES = 16 * 1024 * 1024;
const CANONICAL_GROWTH = 4;
const CANONICAL_SLACK = 64 * 1024;

/** The cap on the canonical form of an element of `tree`. */
export const canonicalLimit = (tree: XTree): number => Math.min(MAX_CANONICAL_BYTES, tree.text.length * CANONICAL_GROWTH + CANONICAL_SLACK);

/** Thrown when a canonical form would exceed its cap (canonicalLimit). */
export class CanonicalTooLarge extends Error {
  constructor(limit: number) {
    super(`The canonical form would exceed ${limit} bytes (four times the document, at most ${MAX_CANONICAL_BYTES}).`);
  }
}

const enum Mode {
  /** Character data: references decoded; CR LF and CR → LF; & < > CR escaped (C14N 1.0 §5.2). */
  Text = 0,
  /** An attribute value: references decoded; TAB, LF, CR LF, CR → space; & < " TAB LF CR escaped. */
  Attr = 1,
  /** A CDATA section's content: no references; CR LF and CR → LF; & < > escaped. */
  Cdata = 2,
  /** A value already decoded (a namespace URI) written as an attribute value: & < " TAB LF CR escaped, nothing decoded or normalized. */
  Decoded = 3,
}
/** Characters written between two checks of the buffer's room. */
const CHUNK = 8192;

/**
 * The canonical octets written straight into one growing buffer, escaping as they go: no string
 * per piece, no rope of millions of nodes to flatten and encode before the digest.
 */
class ByteOutput {
  buf: Uint8Array;
  pos = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(1024, capacity));
  }
  /** Room for `bytes` more. */
  room(bytes: number): Uint8Array {
    const need = this.pos + bytes;
    if (need > this.buf.length) {
      const next = new Uint8Array(Math.max(need, this.buf.length * 2));
      next.set(this.buf.subarray(0, this.pos));
      this.buf = next;
    }
    return this.buf;
  }
  byte(c: number): void {
    this.room(1)[this.pos++] = c;
  }
  /** `<` or `</` (`end`), then a name; `close`: and `>`. */
  tag(s: string, end: boolean, close: boolean): void {
    const b = this.room(s.length * 3 + 3);
    let p = this.pos;
    b[p++] = 0x3c;
    if (end) b[p++] = 0x2f;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) b[p++] = c;
      else p = utf8(b, p, c, s, i) ? (i++, p + 4) : p + (c < 0x800 ? 2 : 3);
    }
    if (close) b[p++] = 0x3e;
    this.pos = p;
  }
  /** ASCII markup. */
  ascii(s: string): void {
    const b = this.room(s.length);
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }
  /** A name as UTF-8 (names need no escaping). */
  name(s: string): void {
    const b = this.room(s.length * 3);
    let p = this.pos;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) b[p++] = c;
      else p = utf8(b, p, c, s, i) ? (i++, p + 4) : p + (c < 0x800 ? 2 : 3);
    }
    this.pos = p;
  }
  /** Bytes made before. */
  copy(bytes: Uint8Array): void {
    const n = bytes.length;
    const b = this.room(n);
    const p = this.pos;
    if (n > 16) b.set(bytes, p);
    else for (let i = 0; i < n; i++) b[p + i] = bytes[i]!;
    this.pos = p + n;
  }
  /**
   * Text without a reference or a CR: a long run without '>' either (nothing to escape) goes
   * through the native encoder in one call.
   */
  plainText(t: string, start: number, end: number): void {
    if (end - start < 256) return this.span(t, start, end, Mode.Text);
    const gt = t.indexOf(">", start);
    if (gt !== -1 && gt < end) return this.span(t, start, end, Mode.Text);
    const b = this.room((end - start) * 3);
    this.pos += utf8Encoder.encodeInto(t.substring(start, end), b.subarray(this.pos)).written;
  }
  /** A span of the document in canonical form under `mode`. */
  span(t: string, start: number, end: number, mode: Mode): void {
    let b = this.buf;
    let p = this.pos;
    let check = start;
    for (let k = start; k < end; k++) {
      if (k >= check) {
        // Room for the next chunk, escaped (at most 6 bytes per code unit).
        this.pos = p;
        b = this.room(Math.min(CHUNK, end - k) * 6 + 16);
        check = k + CHUNK;
      }
      const c = t.charCodeAt(k);
      if (c >= 0x80) {
        if (utf8(b, p, c, t, k)) {
          k++;
          p += 4;
        } else p += c < 0x800 ? 2 : 3;
        continue;
      }
      if (mode === Mode.Decoded) p = codePoint(b, p, c, Mode.Attr);
      else if (c === 0x26 /* & */) {
        if (mode === Mode.Cdata) p = put(b, p, AMP);
        else {
          readReference(t, k, end);
          k += refLength - 1;
          p = codePoint(b, p, refCodePoint, mode);
        }
      } else if (c === 0x0d /* CR */) {
        b[p++] = mode === Mode.Attr ? 0x20 : 0x0a;
        if (t.charCodeAt(k + 1) === 0x0a) k++;
      } else if (mode === Mode.Attr) {
        if (c === 0x0a || c === 0x09) b[p++] = 0x20;
        else if (c === 0x22) p = put(b, p, QUOT);
        else if (c === 0x3c) p = put(b, p, LT);
        else b[p++] = c;
      } else if (c === 0x3e) p = put(b, p, GT);
      else if (c === 0x3c) p = put(b, p, LT);
      else b[p++] = c;
    }
    this.pos = p;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

const bytesOf = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const AMP = bytesOf("&amp;");
const LT = bytesOf("&lt;");
const GT = bytesOf("&gt;");
const QUOT = bytesOf("&quot;");
const CR = bytesOf("&#xD;");
const LF = bytesOf("&#xA;");
const TAB = bytesOf("&#x9;");

function put(b: Uint8Array, p: number, seq: Uint8Array): number {
  for (let i = 0; i < seq.length; i++) b[p++] = seq[i]!;
  return p;
}

/**
 * UTF-8 of the non-ASCII code unit `c` at s[i] written at b[p]: true when it was a surrogate
 * pair (4 bytes, two code units); else 2 or 3 bytes. The text holds no lone surrogate (the
 * scanner refuses them).
 */
function utf8(b: Uint8Array, p: number, c: number, s: string, i: number): boolean {
  if (c < 0x800) {
    b[p] = 0xc0 | (c >> 6);
    b[p + 1] = 0x80 | (c & 0x3f);
    return false;
  }
  if (c >= 0xd800 && c <= 0xdbff) {
    const cp = ((c - 0xd800) << 10) + (s.charCodeAt(i + 1) - 0xdc00) + 0x10000;
    b[p] = 0xf0 | (cp >> 18);
    b[p + 1] = 0x80 | ((cp >> 12) & 0x3f);
    b[p + 2] = 0x80 | ((cp >> 6) & 0x3f);
    b[p + 3] = 0x80 | (cp & 0x3f);
    return true;
  }
  b[p] = 0xe0 | (c >> 12);
  b[p + 1] = 0x80 | ((c >> 6) & 0x3f);
  b[p + 2] = 0x80 | (c & 0x3f);
  return false;
}

/** The character a reference names, escaped as `mode` asks. */
function codePoint(b: Uint8Array, p: number, cp: number, mode: Mode): number {
  switch (cp) {
    case 0x26:
      return put(b, p, AMP);
    case 0x3c:
      return put(b, p, LT);
    case 0x0d:
      return put(b, p, CR);
    case 0x3e:
      if (mode === Mode.Attr) break;
      return put(b, p, GT);
    case 0x22:
      if (mode !== Mode.Attr) break;
      return put(b, p, QUOT);
    case 0x0a:
      if (mode !== Mode.Attr) break;
      return put(b, p, LF);
    case 0x09:
      if (mode !== Mode.Attr) break;
      return put(b, p, TAB);
  }
  if (cp < 0x80) b[p++] = cp;
  else if (cp < 0x800) {
    b[p++] = 0xc0 | (cp >> 6);
    b[p++] = 0x80 | (cp & 0x3f);
  } else if (cp < 0x10000) {
    b[p++] = 0xe0 | (cp >> 12);
    b[p++] = 0x80 | ((cp >> 6) & 0x3f);
    b[p++] = 0x80 | (cp & 0x3f);
  } else {
    b[p++] = 0xf0 | (cp >> 18);
    b[p++] = 0x80 | ((cp >> 12) & 0x3f);
    b[p++] = 0x80 | ((cp >> 6) & 0x3f);
    b[p++] = 0x80 | (cp & 0x3f);
  }
  return p;
}

/** Sorts ids[0, count) in place by `less` (insertion sort: a handful of entries per element, often in order already). */
function sortIds(ids: number[], count: number, less: (a: number, b: number) => boolean): void {
  for (let i = 1; i < count; i++) {
    const x = ids[i]!;
    let j = i - 1;
    if (!less(x, ids[j]!)) continue;
    while (j >= 0 && less(x, ids[j]!)) {
      ids[j + 1] = ids[j]!;
      j--;
    }
    ids[j + 1] = x;
  }
}

/** C14N 1.0 (inclusive) or exclusive C14N of one element of an XTree, into a ByteOutput. */
class Renderer {
  readonly out: ByteOutput;
  private readonly n: Int32Array;
  private readonly a: Int32Array;
  private readonly text: string;
  /** Per element: the namespace nodes to render (prefix id, URI id) and the attributes (attribute ids). */
  private readonly nsPrefix: number[] = [];
  private readonly nsUri: number[] = [];
  private nsCount = 0;
  private readonly attrs: number[] = [];
  private attrCount = 0;
  /** Each namespace declaration's and attribute name's bytes, made once. */
  private readonly declBytes: (Uint8Array | undefined)[];
  private readonly declPrefix: number[];
  private readonly attrHeads: (Uint8Array | undefined)[];
  private readonly bareTags: (Uint8Array | undefined)[];
  private readonly endTags: (Uint8Array | undefined)[];
  private readonly declTags: (Uint8Array | undefined)[];
  private readonly declTagName: number[];
  private readonly declTagPrefix: number[];
  /** Exclusive: what the output ancestors (and this element, so far) rendered, prefix id → URI id, with an undo log. */
  private readonly rendered: Int32Array;
  private readonly undo: number[] = [];
  private readonly listed: Set<number>;
  private readonly limit: number;

  constructor(
    private readonly tree: XTree,
    private readonly exclusive: boolean,
    private readonly exclude: number,
    prefixList: readonly string[],
    capacity: number,
  ) {
    this.out = new ByteOutput(capacity);
    this.limit = canonicalLimit(tree);
    // Caches by name id and by URI id, as long as the tree's tables (holes until written).
    const names = tree.qName.length;
    const uris = tree.uris.length;
    this.attrHeads = new Array(names);
    this.bareTags = new Array(names);
    this.endTags = new Array(names);
    this.declBytes = new Array(uris);
    this.declPrefix = new Array(uris);
    this.declTags = new Array(uris);
    this.declTagName = new Array(uris);
    this.declTagPrefix = new Array(uris);
    this.n = tree.n;
    this.a = tree.a;
    this.text = tree.text;
    this.rendered = new Int32Array(exclusive ? tree.prefixes.length : 0);
    this.listed = new Set();
    for (const p of prefixList) {
      const id = tree.prefixes.indexOf(p === "#default" ? "" : p);
      if (id >= 0 && id !== PREFIX_XML) this.listed.add(id);
    }
  }

  private readonly prefixLess = (x: number, y: number): boolean => this.tree.prefixes[this.nsPrefix[x]!]! < this.tree.prefixes[this.nsPrefix[y]!]!;
  private readonly attrLess = (x: number, y: number): boolean => {
    const a = this.a;
    const ux = a[x * ATTR + A_NS]!;
    const uy = a[y * ATTR + A_NS]!;
    if (ux !== uy) return this.tree.uris[ux]! < this.tree.uris[uy]!;
    return this.tree.qLocal[a[x * ATTR + A_NAME]!]! < this.tree.qLocal[a[y * ATTR + A_NAME]!]!;
  };

  private ns(prefix: number, uri: number): void {
    this.nsPrefix[this.nsCount] = prefix;
    this.nsUri[this.nsCount] = uri;
    this.nsCount++;
  }

  element(id: number, apex: boolean): void {
    const n = this.n;
    const a = this.a;
    const tree = this.tree;
    const out = this.out;
    const o = id * NODE;
    this.nsCount = 0;
    this.attrCount = 0;
    const mark = this.undo.length;
    const first = n[o + N_ATTR]!;
    const end = first + n[o + N_NATTR]!;
    for (let k = first; k < end; k++) if (a[k * ATTR + A_NS] !== URI_XMLNS) this.attrs[this.attrCount++] = k;
    if (this.exclusive) this.openExclusive(id, apex, first, end);
    else this.openInclusive(id, apex, first, end);

    const q = n[o + N_NAME]!;
    const name = tree.qName[q]!;
    if (this.attrCount === 0 && this.nsCount <= 1) {
      // The common start tags, `<name>` and `<name xmlns:p="URI">`: bytes made once.
      out.copy(this.nsCount === 0 ? this.bareTag(q) : this.declaredTag(q, this.nsPrefix[0]!, this.nsUri[0]!));
    } else {
      out.tag(name, false, false);
      this.rest();
    }
    if (out.pos > this.limit) throw new CanonicalTooLarge(this.limit);
    for (let c = n[o + N_FIRST]!; c !== 0; c = n[c * NODE + N_NEXT]!) {
      const co = c * NODE;
      const kind = n[co + N_KIND]! & KIND_MASK;
      if (kind === 1) {
        if (c !== this.exclude) this.element(c, false);
      } else if (kind === 4) out.span(this.text, n[co + N_START]!, n[co + N_OPEN_END]!, Mode.Cdata);
      else if (n[co + N_KIND]! & (F_AMP | F_CR)) out.span(this.text, n[co + N_START]!, n[co + N_OPEN_END]!, Mode.Text);
      else out.plainText(this.text, n[co + N_START]!, n[co + N_OPEN_END]!);
    }
    out.copy(this.endTag(q));
    if (this.exclusive && this.undo.length > mark) this.close(mark);
  }

  /** The rest of a start tag: its namespace nodes and attributes, and '>'. */
  private rest(): void {
    const out = this.out;
    const tree = this.tree;
    const a = this.a;
    // Namespace nodes, by prefix (the default first); an index list sorted, then written.
    const order = this.order;
    for (let k = 0; k < this.nsCount; k++) order[k] = k;
    if (this.nsCount > 1) sortIds(order, this.nsCount, this.prefixLess);
    for (let k = 0; k < this.nsCount; k++) {
      const i = order[k]!;
      out.copy(this.declaration(this.nsPrefix[i]!, this.nsUri[i]!));
    }
    // Attributes, by namespace URI (none first), then local name.
    const attrs = this.attrs;
    if (this.attrCount > 1) sortIds(attrs, this.attrCount, this.attrLess);
    for (let k = 0; k < this.attrCount; k++) {
      const r = attrs[k]! * ATTR;
      out.copy(this.attributeHead(a[r + A_NAME]!));
      out.span(this.text, a[r + A_VS]!, a[r + A_VE]!, Mode.Attr);
      out.byte(0x22);
    }
    out.byte(0x3e);
  }

  private readonly order: number[] = [];

  /** ` xmlns="URI"` or ` xmlns:p="URI"`, escaped, made once per URI (and again only if another prefix declares it). */
  private declaration(prefix: number, uri: number): Uint8Array {
    let b = this.declBytes[uri];
    if (b === undefined || this.declPrefix[uri] !== prefix) {
      const w = new ByteOutput(64);
      if (prefix === PREFIX_DEFAULT) w.ascii(' xmlns="');
      else {
        w.ascii(" xmlns:");
        w.name(this.tree.prefixes[prefix]!);
        w.ascii('="');
      }
      const s = this.tree.uris[uri]!;
      w.span(s, 0, s.length, Mode.Decoded);
      w.byte(0x22);
      b = w.bytes().slice();
      this.declBytes[uri] = b;
      this.declPrefix[uri] = prefix;
    }
    return b;
  }

  /** `<name>` of element name `q`, made once. */
  private bareTag(q: number): Uint8Array {
    let b = this.bareTags[q];
    if (b === undefined) {
      const w = new ByteOutput(64);
      w.tag(this.tree.qName[q]!, false, true);
      this.bareTags[q] = b = w.bytes().slice();
    }
    return b;
  }

  /** `</name>` of element name `q`, made once. */
  private endTag(q: number): Uint8Array {
    let b = this.endTags[q];
    if (b === undefined) {
      const w = new ByteOutput(64);
      w.tag(this.tree.qName[q]!, true, true);
      this.endTags[q] = b = w.bytes().slice();
    }
    return b;
  }

  /** `<name xmlns:p="URI">`, made once per URI (and again only for another name or prefix). */
  private declaredTag(q: number, prefix: number, uri: number): Uint8Array {
    let b = this.declTags[uri];
    if (b === undefined || this.declTagName[uri] !== q || this.declTagPrefix[uri] !== prefix) {
      const d = this.declaration(prefix, uri);
      const w = new ByteOutput(d.length + 64);
      w.tag(this.tree.qName[q]!, false, false);
      w.copy(d);
      w.byte(0x3e);
      this.declTags[uri] = b = w.bytes().slice();
      this.declTagName[uri] = q;
      this.declTagPrefix[uri] = prefix;
    }
    return b;
  }

  /** ` name="` of attribute name `q`, made once. */
  private attributeHead(q: number): Uint8Array {
    let b = this.attrHeads[q];
    if (b === undefined) {
      const w = new ByteOutput(64);
      w.byte(0x20);
      w.name(this.tree.qName[q]!);
      w.ascii('="');
      this.attrHeads[q] = b = w.bytes().slice();
    }
    return b;
  }

  private openInclusive(id: number, apex: boolean, first: number, end: number): void {
    const n = this.n;
    const a = this.a;
    if (apex) {
      // Every namespace in scope (nearest declaration first), and the xml:* attributes inherited.
      const seen = new Set<number>();
      const seenXml = new Set<string>();
      for (let k = first; k < end; k++) if (a[k * ATTR + A_NS] === URI_XML) seenXml.add(this.tree.qLocal[a[k * ATTR + A_NAME]!]!);
      for (let e = id; e !== 0; e = n[e * NODE + N_PARENT]!) {
        const f = n[e * NODE + N_ATTR]!;
        const l = f + n[e * NODE + N_NATTR]!;
        for (let k = f; k < l; k++) {
          const r = k * ATTR;
          const u = a[r + A_NS]!;
          if (u === URI_XMLNS) {
            const p = this.tree.qDecl[a[r + A_NAME]!]!;
            if (seen.has(p)) continue;
            seen.add(p);
            const uri = a[r + A_DECL_URI]!;
            if (p === PREFIX_XML || (p === PREFIX_DEFAULT && uri === URI_NONE)) continue;
            this.ns(p, uri);
          } else if (u === URI_XML && e !== id) {
            const local = this.tree.qLocal[a[r + A_NAME]!]!;
            if (seenXml.has(local)) continue;
            seenXml.add(local);
            this.attrs[this.attrCount++] = k;
          }
        }
      }
      return;
    }
    for (let k = first; k < end; k++) {
      const r = k * ATTR;
      if (a[r + A_NS] !== URI_XMLNS || a[r + A_CHANGED] !== 1) continue;
      const p = this.tree.qDecl[a[r + A_NAME]!]!;
      if (p !== PREFIX_XML) this.ns(p, a[r + A_DECL_URI]!);
    }
  }

  /** Exclusive: renders `prefix` → `uri` here unless the nearest output ancestor (or this element already) rendered the same. */
  private want(prefix: number, uri: number): void {
    const prev = this.rendered[prefix]!;
    if (prev === uri) return;
    this.ns(prefix, uri);
    this.undo.push(prefix, prev);
    this.rendered[prefix] = uri;
  }

  private openExclusive(id: number, apex: boolean, first: number, end: number): void {
    const n = this.n;
    const a = this.a;
    const tree = this.tree;
    const q = n[id * NODE + N_NAME]!;
    this.want(tree.qPrefixId[q]!, n[id * NODE + N_NS]!);
    for (let i = 0; i < this.attrCount; i++) {
      const r = this.attrs[i]! * ATTR;
      const aq = a[r + A_NAME]!;
      if (tree.qPrefix[aq] !== null && tree.qPrefixId[aq] !== PREFIX_XML) this.want(tree.qPrefixId[aq]!, a[r + A_NS]!);
    }
    if (this.listed.size === 0) return;
    if (apex) {
      // The listed prefixes in scope here: nearest declaration of each.
      const scope = new Map<number, number>();
      for (let e = id; e !== 0; e = n[e * NODE + N_PARENT]!) {
        const f = n[e * NODE + N_ATTR]!;
        const l = f + n[e * NODE + N_NATTR]!;
        for (let k = f; k < l; k++) {
          const r = k * ATTR;
          if (a[r + A_NS] !== URI_XMLNS) continue;
          const p = tree.qDecl[a[r + A_NAME]!]!;
          if (!scope.has(p)) scope.set(p, a[r + A_DECL_URI]!);
        }
      }
      for (const p of this.listed) {
        const uri = scope.get(p);
        if (uri !== undefined) this.want(p, uri);
      }
    } else {
      for (let k = first; k < end; k++) {
        const r = k * ATTR;
        if (a[r + A_NS] !== URI_XMLNS) continue;
        const p = tree.qDecl[a[r + A_NAME]!]!;
        if (this.listed.has(p)) this.want(p, a[r + A_DECL_URI]!);
      }
    }
  }

  /** Exclusive: back to what the output ancestors rendered. */
  private close(mark: number): void {
    const undo = this.undo;
    while (undo.length > mark) {
      const prev = undo.pop()!;
      const p = undo.pop()!;
      this.rendered[p] = prev;
    }
  }
}
