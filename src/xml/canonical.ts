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
const TEXT_ESCAPE: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;" };
const ATTR_ESCAPE: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", '"': "&quot;", "\r": "&#xD;", "\n": "&#xA;", "\t": "&#x9;" };

/** Character data in canonical form (also a safe way to write any text into XML). */
export const escapeText = (s: string): string => (TEXT_SPECIAL.test(s) ? s.replace(/[&<>\r]/g, (c) => TEXT_ESCAPE[c]!) : s);
/** An attribute value in canonical form (also a safe way to write any value between double quotes). */
export const escapeAttr = (s: string): string => (ATTR_SPECIAL.test(s) ? s.replace(/[&<"\t\n\r]/g, (c) => ATTR_ESCAPE[c]!) : s);

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

/** The element's attributes that are not namespace declarations. */
function plainAttributes(el: XElement): XAttr[] {
  const out: XAttr[] = [];
  for (const a of el.attributes) if (a.namespaceURI !== XMLNS_NS) out.push(a);
  return out;
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

abstract class Renderer {
  protected out = "";
  constructor(protected readonly exclude: XElement | null) {}

  protected abstract open(el: XElement, apex: boolean): void;
  protected close(_el: XElement): void {}

  apex(el: XElement): string {
    this.element(el, true);
    return this.out;
  }

  private element(el: XElement, apex: boolean): void {
    this.open(el, apex);
    if (this.out.length > MAX_CANONICAL_CHARS) throw new CanonicalTooLarge();
    for (const c of el.childNodes) {
      if (c.nodeType === 1) {
        if (c !== this.exclude) this.element(c, false);
      } else this.out += escapeText(c.nodeValue);
    }
    this.out += `</${el.tagName}>`;
    this.close(el);
  }
}

class Inclusive extends Renderer {
  protected open(el: XElement, apex: boolean): void {
    const ns: [string, string][] = [];
    let attrs = plainAttributes(el);
    if (apex) {
      for (const [p, uri] of inScopeNamespaces(el)) if (p !== "xml" && !(p === "" && uri === "")) ns.push([p, uri]);
      const inherited = inheritedXmlAttributes(el);
      if (inherited.length) attrs = attrs.concat(inherited);
    } else if (el.decls) {
      for (const d of el.decls) if (d.changed && d.prefix !== "xml") ns.push([d.prefix, d.uri]);
    }
    this.out += startTag(el.tagName, ns, attrs);
  }
}

class Exclusive extends Renderer {
  /** What the output ancestors rendered: prefix → URI, with an undo log per element. */
  private readonly rendered = new Map<string, string>();
  private readonly undo: { prefix: string; prev: string | undefined }[] = [];
  private readonly marks: number[] = [];
  private readonly listed: ReadonlySet<string>;

  constructor(exclude: XElement | null, prefixList: readonly string[]) {
    super(exclude);
    this.listed = new Set(prefixList.map((p) => (p === "#default" ? "" : p)));
  }

  protected open(el: XElement, apex: boolean): void {
    this.marks.push(this.undo.length);
    const wanted = new Map<string, string>();
    wanted.set(el.prefix ?? "", el.namespaceURI ?? "");
    const attrs = plainAttributes(el);
    for (const a of attrs) if (a.prefix !== null && a.prefix !== "xml") wanted.set(a.prefix, a.namespaceURI ?? "");
    if (this.listed.size) {
      if (apex) {
        const scope = inScopeNamespaces(el);
        for (const p of this.listed) {
          const uri = scope.get(p);
          if (uri !== undefined && p !== "xml" && !wanted.has(p)) wanted.set(p, uri);
        }
      } else if (el.decls) {
        for (const d of el.decls) if (this.listed.has(d.prefix) && d.prefix !== "xml" && !wanted.has(d.prefix)) wanted.set(d.prefix, d.uri);
      }
    }
    const ns: [string, string][] = [];
    for (const [p, uri] of wanted) {
      if ((this.rendered.get(p) ?? "") === uri) continue;
      ns.push([p, uri]);
      this.undo.push({ prefix: p, prev: this.rendered.get(p) });
      this.rendered.set(p, uri);
    }
    this.out += startTag(el.tagName, ns, attrs);
  }

  protected override close(_el: XElement): void {
    const mark = this.marks.pop()!;
    while (this.undo.length > mark) {
      const u = this.undo.pop()!;
      if (u.prev === undefined) this.rendered.delete(u.prefix);
      else this.rendered.set(u.prefix, u.prev);
    }
  }
}
