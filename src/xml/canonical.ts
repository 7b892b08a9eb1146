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
 * Linear in the subtree: the exclusive renderer keeps what its output ancestors rendered in one
 * map with an undo log, and a PrefixList prefix is looked up only on the apex and where an
 * element declares it again.
 */
import { C14N, C14N_WITH_COMMENTS, EXC_C14N, EXC_C14N_WITH_COMMENTS } from "./algorithms.js";
import { XML_NS, XMLNS_NS, type XAttr, type XElement } from "./scan.js";

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
}

/** The canonical octets (as a string) of `el` under `algorithm`, a C14N 1.0 or exclusive C14N URI. */
export function canonicalize(el: XElement, algorithm: string, opts: CanonicalOptions = {}): string {
  return renderer(algorithm, opts, new StringOutput()).render(el).s;
}

/** The canonical octets of `el` under `algorithm` as UTF-8 bytes (what is digested), written without an intermediate string. */
export function canonicalBytes(el: XElement, algorithm: string, opts: CanonicalOptions = {}): Uint8Array {
  return renderer(algorithm, opts, new ByteOutput(Math.ceil((el.end - el.start) * 1.1))).render(el).bytes();
}

function renderer<O extends Output>(algorithm: string, opts: CanonicalOptions, out: O): Renderer<O> {
  switch (algorithm) {
    case C14N:
    case C14N_WITH_COMMENTS:
      return new Inclusive(opts.exclude ?? null, out);
    case EXC_C14N:
    case EXC_C14N_WITH_COMMENTS:
      return new Exclusive(opts.exclude ?? null, out, opts.prefixList ?? []);
    default:
      throw new Error(`not a canonicalization: ${algorithm}`);
  }
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
    if (e.decls) for (const d of e.decls) if (!seen.has(d.prefix)) seen.set(d.prefix, d.uri);
  }
  return seen;
}

/** The xml:* attributes `el` inherits from its ancestors (those it does not carry itself; nearest wins). */
export function inheritedXmlAttributes(el: XElement): XAttr[] {
  const seen = new Set<string>();
  for (const a of el.attributes) if (a.namespaceURI === XML_NS) seen.add(a.localName);
  const out: XAttr[] = [];
  for (let e = el.parentNode; e; e = e.parentNode) {
    for (const a of e.attributes) {
      if (a.namespaceURI !== XML_NS || seen.has(a.localName)) continue;
      seen.add(a.localName);
      out.push(a);
    }
  }
  return out;
}

/** The most characters a canonical form may have: exclusive C14N repeats namespace declarations on every element that uses them, so its output can outgrow its input many times over. */
export const MAX_CANONICAL_CHARS = 16 * 1024 * 1024;

/** Thrown when a canonical form would exceed MAX_CANONICAL_CHARS. */
export class CanonicalTooLarge extends Error {
  constructor() {
    super(`The canonical form would exceed ${MAX_CANONICAL_CHARS} characters.`);
  }
}

/** Where a renderer writes: plain pieces, character data and attribute values (escaped here). */
interface Output {
  /** Characters written so far (for the cap). */
  readonly length: number;
  push(piece: string): void;
  text(s: string): void;
  attr(s: string): void;
}

/**
 * The canonical text as a string, appended piece by piece (V8 keeps it as a rope: cheaper than
 * collecting pieces and joining them, measured). For callers that want the text.
 */
class StringOutput implements Output {
  s = "";
  get length(): number {
    return this.s.length;
  }
  push(piece: string): void {
    this.s += piece;
  }
  text(s: string): void {
    this.s += escapeText(s);
  }
  attr(s: string): void {
    this.s += escapeAttr(s);
  }
}

const utf8Encoder = new TextEncoder();
const AMP = [0x26, 0x61, 0x6d, 0x70, 0x3b];
const LT = [0x26, 0x6c, 0x74, 0x3b];
const GT = [0x26, 0x67, 0x74, 0x3b];
const QUOT = [0x26, 0x71, 0x75, 0x6f, 0x74, 0x3b];
const CR = [0x26, 0x23, 0x78, 0x44, 0x3b];
const LF = [0x26, 0x23, 0x78, 0x41, 0x3b];
const TAB = [0x26, 0x23, 0x78, 0x39, 0x3b];

/**
 * The canonical octets written straight into one growing buffer, escaping as they go: no string
 * per piece, no rope of millions of nodes to flatten and encode before the digest. An adversarial
 * subtree of 2 MB renders to megabytes, and the garbage, not the characters, was its cost.
 */
class ByteOutput implements Output {
  buf: Uint8Array;
  pos = 0;
  length = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(1024, capacity));
  }
  /** Room for `units` UTF-16 code units more, escaped (at most 6 bytes each). */
  private room(units: number): void {
    const need = this.pos + units * 6;
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.max(need, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  private seq(bytes: readonly number[]): void {
    for (let k = 0; k < bytes.length; k++) this.buf[this.pos++] = bytes[k]!;
  }
  private utf8(s: string): void {
    this.pos += utf8Encoder.encodeInto(s, this.buf.subarray(this.pos)).written;
  }
  push(s: string): void {
    const n = s.length;
    this.length += n;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = p;
        this.utf8(s.slice(i));
        return;
      }
      b[p++] = c;
    }
    this.pos = p;
  }
  /** Character data: & < > CR escaped (C14N 1.0 §5.2). */
  text(s: string): void {
    this.escaped(s, false);
  }
  /** An attribute value: & < " TAB LF CR escaped. */
  attr(s: string): void {
    this.escaped(s, true);
  }
  private escaped(s: string, attribute: boolean): void {
    const n = s.length;
    this.length += n;
    this.room(n);
    const b = this.buf;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        // Non-ASCII: this run through the encoder (a surrogate pair is never split: escapes are ASCII).
        let j = i + 1;
        while (j < n && s.charCodeAt(j) >= 0x80) j++;
        this.utf8(s.slice(i, j));
        i = j - 1;
        continue;
      }
      let e: readonly number[] | null = null;
      if (c === 0x26) e = AMP;
      else if (c === 0x3c) e = LT;
      else if (c === 0x0d) e = CR;
      else if (attribute) {
        if (c === 0x22) e = QUOT;
        else if (c === 0x0a) e = LF;
        else if (c === 0x09) e = TAB;
      } else if (c === 0x3e) e = GT;
      if (e) this.seq(e);
      else b[this.pos++] = c;
    }
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

abstract class Renderer<O extends Output = Output> {
  /** Scratch lists reused for every element: the namespace prefixes to render and the attributes. */
  protected readonly nsList: string[] = [];
  protected readonly attrList: XAttr[] = [];
  constructor(
    protected readonly exclude: XElement | null,
    protected readonly out: O,
  ) {}

  /** Fills nsList (prefixes) and attrList for `el`; the URIs come from uriOf. */
  protected abstract open(el: XElement, apex: boolean): void;
  protected abstract uriOf(prefix: string): string;
  protected close(_el: XElement): void {}

  render(el: XElement): O {
    this.element(el, true);
    return this.out;
  }

  private element(el: XElement, apex: boolean): void {
    const out = this.out;
    // Emptied only when used: setting an array's length is a call into the runtime.
    if (this.nsList.length) this.nsList.length = 0;
    if (this.attrList.length) this.attrList.length = 0;
    this.open(el, apex);
    out.push("<");
    out.push(el.tagName);
    const ns = this.nsList;
    if (ns.length > 1) ns.sort();
    for (let k = 0; k < ns.length; k++) {
      const p = ns[k]!;
      if (p === "") out.push(' xmlns="');
      else {
        out.push(" xmlns:");
        out.push(p);
        out.push('="');
      }
      out.attr(this.uriOf(p));
      out.push('"');
    }
    const attrs = this.attrList;
    if (attrs.length > 1) attrs.sort(attrOrder);
    for (let k = 0; k < attrs.length; k++) {
      const a = attrs[k]!;
      out.push(" ");
      out.push(a.name);
      out.push('="');
      out.attr(a.value);
      out.push('"');
    }
    out.push(">");
    if (out.length > MAX_CANONICAL_CHARS) throw new CanonicalTooLarge();
    const kids = el.childNodes;
    for (let k = 0; k < kids.length; k++) {
      const c = kids[k]!;
      if (c.nodeType === 1) {
        if (c !== this.exclude) this.element(c, false);
      } else out.text(c.nodeValue);
    }
    out.push("</");
    out.push(el.tagName);
    out.push(">");
    this.close(el);
  }

  protected plainAttributes(el: XElement): void {
    const list = el.attributes;
    for (let k = 0; k < list.length; k++) if (list[k]!.namespaceURI !== XMLNS_NS) this.attrList.push(list[k]!);
  }
}

class Inclusive<O extends Output> extends Renderer<O> {
  private readonly uris = new Map<string, string>();
  protected uriOf(prefix: string): string {
    return this.uris.get(prefix)!;
  }
  protected open(el: XElement, apex: boolean): void {
    this.plainAttributes(el);
    if (apex) {
      for (const [p, uri] of inScopeNamespaces(el)) {
        if (p === "xml" || (p === "" && uri === "")) continue;
        this.nsList.push(p);
        this.uris.set(p, uri);
      }
      for (const a of inheritedXmlAttributes(el)) this.attrList.push(a);
    } else if (el.decls) {
      for (const d of el.decls) {
        if (!d.changed || d.prefix === "xml") continue;
        this.nsList.push(d.prefix);
        this.uris.set(d.prefix, d.uri);
      }
    }
  }
}

class Exclusive<O extends Output> extends Renderer<O> {
  /** What the output ancestors (and this element, so far) rendered: prefix → URI, with an undo log per element. */
  private readonly rendered = new Map<string, string>();
  private readonly undoPrefix: string[] = [];
  private readonly undoPrev: (string | undefined)[] = [];
  private readonly marks: number[] = [];
  private readonly listed: ReadonlySet<string>;

  constructor(exclude: XElement | null, out: O, prefixList: readonly string[]) {
    super(exclude, out);
    this.listed = new Set(prefixList.map((p) => (p === "#default" ? "" : p)));
  }

  protected uriOf(prefix: string): string {
    return this.rendered.get(prefix)!;
  }

  /** Renders `prefix` → `uri` here unless the nearest output ancestor (or this element already) rendered the same. */
  private want(prefix: string, uri: string): void {
    const prev = this.rendered.get(prefix);
    if ((prev ?? "") === uri) return;
    this.nsList.push(prefix);
    this.undoPrefix.push(prefix);
    this.undoPrev.push(prev);
    this.rendered.set(prefix, uri);
  }

  protected open(el: XElement, apex: boolean): void {
    this.marks.push(this.undoPrefix.length);
    this.want(el.prefix ?? "", el.namespaceURI ?? "");
    this.plainAttributes(el);
    const attrs = this.attrList;
    for (let k = 0; k < attrs.length; k++) {
      const a = attrs[k]!;
      if (a.prefix !== null && a.prefix !== "xml") this.want(a.prefix, a.namespaceURI ?? "");
    }
    if (this.listed.size) {
      if (apex) {
        const scope = inScopeNamespaces(el);
        for (const p of this.listed) {
          const uri = scope.get(p);
          if (uri !== undefined && p !== "xml") this.want(p, uri);
        }
      } else if (el.decls) {
        for (const d of el.decls) if (this.listed.has(d.prefix) && d.prefix !== "xml") this.want(d.prefix, d.uri);
      }
    }
  }

  protected override close(_el: XElement): void {
    const mark = this.marks.pop()!;
    while (this.undoPrefix.length > mark) {
      const p = this.undoPrefix.pop()!;
      const prev = this.undoPrev.pop();
      if (prev === undefined) this.rendered.delete(p);
      else this.rendered.set(p, prev);
    }
  }
}
