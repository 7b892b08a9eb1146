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
  switch (algorithm) {
    case C14N:
    case C14N_WITH_COMMENTS:
      return new Inclusive(opts.exclude ?? null).apex(el);
    case EXC_C14N:
    case EXC_C14N_WITH_COMMENTS:
      return new Exclusive(opts.exclude ?? null, opts.prefixList ?? []).apex(el);
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

/**
 * The canonical text, appended piece by piece (V8 keeps it as a rope until it is hashed: cheaper
 * than collecting pieces and joining them, measured), with its length for the cap.
 */
class Output {
  private s = "";
  get length(): number {
    return this.s.length;
  }
  push(piece: string): void {
    this.s += piece;
  }
  text(): string {
    return this.s;
  }
}

abstract class Renderer {
  protected readonly out = new Output();
  /** Scratch lists reused for every element: the namespace prefixes to render and the attributes. */
  protected readonly nsList: string[] = [];
  protected readonly attrList: XAttr[] = [];
  constructor(protected readonly exclude: XElement | null) {}

  /** Fills nsList (prefixes) and attrList for `el`; the URIs come from uriOf. */
  protected abstract open(el: XElement, apex: boolean): void;
  protected abstract uriOf(prefix: string): string;
  protected close(_el: XElement): void {}

  apex(el: XElement): string {
    this.element(el, true);
    return this.out.text();
  }

  private element(el: XElement, apex: boolean): void {
    const out = this.out;
    this.nsList.length = 0;
    this.attrList.length = 0;
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
      out.push(escapeAttr(this.uriOf(p)));
      out.push('"');
    }
    const attrs = this.attrList;
    if (attrs.length > 1) attrs.sort(attrOrder);
    for (let k = 0; k < attrs.length; k++) {
      const a = attrs[k]!;
      out.push(" ");
      out.push(a.name);
      out.push('="');
      out.push(escapeAttr(a.value));
      out.push('"');
    }
    out.push(">");
    if (out.length > MAX_CANONICAL_CHARS) throw new CanonicalTooLarge();
    const kids = el.childNodes;
    for (let k = 0; k < kids.length; k++) {
      const c = kids[k]!;
      if (c.nodeType === 1) {
        if (c !== this.exclude) this.element(c, false);
      } else out.push(escapeText(c.nodeValue));
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

class Inclusive extends Renderer {
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

class Exclusive extends Renderer {
  /** What the output ancestors (and this element, so far) rendered: prefix → URI, with an undo log per element. */
  private readonly rendered = new Map<string, string>();
  private readonly undoPrefix: string[] = [];
  private readonly undoPrev: (string | undefined)[] = [];
  private readonly marks: number[] = [];
  private readonly listed: ReadonlySet<string>;

  constructor(exclude: XElement | null, prefixList: readonly string[]) {
    super(exclude);
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
