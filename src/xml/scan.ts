/**
 * The one-pass scanner (invoice-format.md §4, "parse"): the decoded text of a body is read once,
 * left to right, and every hardening rule is enforced on the way — no DOCTYPE, entity declaration
 * or reference, comment or processing instruction; XML 1.0 only; one root; depth, node and
 * attribute limits; namespace well-formedness — while a light element tree is recorded: each
 * element's name, resolved namespace, attributes (decoded and normalized as XML 1.0 says), its
 * span in the text, its children, and every Id-like attribute. Nothing else parses the body:
 * the canonicalizer (canonical.ts), the signature profile, the frame and the schema all read
 * this one tree, so the fields the rules see are the very nodes whose canonical octets were
 * digested.
 *
 * Cost is linear in the text: each character is looked at a bounded number of times (the next
 * '&', ']]>' and '<' are found once and reused until the scan passes them), namespace scopes are
 * one map with an undo log (a declaration costs O(1) to enter and to leave, whatever the
 * nesting), and duplicate-attribute checks are bounded by the attribute limit.
 * test/bench: `npm run bench:scan` measures adversarial documents; test/unit/scan.test.ts counts
 * the scanner's steps.
 */
import { type Result, ok } from "../errors.js";

export const XML_NS = "http://www.w3.org/XML/1998/namespace";
export const XMLNS_NS = "http://www.w3.org/2000/xmlns/";
const DSIG_NS = "http://www.w3.org/2000/09/xmldsig#";

export interface ParseLimits {
  maxBytes: number;
  maxDepth: number;
  maxNodes: number;
  maxAttributes: number;
}

export const DEFAULT_LIMITS: ParseLimits = {
  maxBytes: 2 * 1024 * 1024,
  maxDepth: 64,
  maxNodes: 200_000,
  maxAttributes: 32,
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

/** Character data: text (3) or a CDATA section (4), decoded, line ends normalized. */
export class XText {
  constructor(
    readonly nodeType: 3 | 4,
    readonly nodeValue: string,
    readonly parentNode: XElement,
  ) {}
}

export type XNode = XElement | XText;

/** One element of the scanned tree. Its members are named as the DOM's, so readers written for either read both. */
const NO_NODES: XNode[] = [];
const NO_ELEMENTS: XElement[] = [];
const NO_ATTRIBUTES: XAttr[] = [];

export class XElement {
  readonly nodeType = 1 as const;
  /** Children in order (shared empty array until the first: never modify). */
  childNodes: XNode[] = NO_NODES;
  /** Element children only, in order (shared empty array until the first: never modify). */
  elements: XElement[] = NO_ELEMENTS;
  /** Index just after the start tag; index of the end tag; index just after the element. */
  openEnd = 0;
  closeStart = 0;
  end = 0;
  constructor(
    readonly tagName: string,
    readonly prefix: string | null,
    readonly localName: string,
    readonly namespaceURI: string | null,
    /** Every attribute in document order, namespace declarations included (namespace XMLNS_NS). */
    readonly attributes: XAttr[],
    readonly decls: NsDecl[] | null,
    readonly parentNode: XElement | null,
    /** Index of '<' of the start tag. */
    readonly start: number,
  ) {}

  get nodeName(): string {
    return this.tagName;
  }

  /** The value of the attribute of this qualified name, or null (as DOM getAttribute). */
  getAttribute(name: string): string | null {
    for (const a of this.attributes) if (a.name === name) return a.value;
    return null;
  }

  /** Descendants (not this element) whose qualified name is `name` ("*": all), in document order. */
  getElementsByTagName(name: string): XElement[] {
    const out: XElement[] = [];
    const walk = (e: XElement): void => {
      for (const c of e.elements) {
        if (name === "*" || c.tagName === name) out.push(c);
        walk(c);
      }
    };
    walk(this);
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

export interface Scanned {
  text: string;
  root: XElement;
  /** Every Id-like attribute value (Id, ID, id under any prefix, xml:id) → its element (the first). */
  ids: Map<string, XElement>;
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

interface QName {
  readonly name: string;
  readonly prefix: string | null;
  readonly localName: string;
}

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
const REFERENCE = /&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));/y;
const NAMED_REFERENCE = /&[A-Za-z_:][-A-Za-z0-9._:]*;/y;
const XML_DECL = /^<\?xml\s+version\s*=\s*(["'])1\.0\1(?:\s+encoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:\s+standalone\s*=\s*(["'])(?:yes|no)\4)?\s*\?>/;
const NAMED: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
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
    if (rootName !== undefined && (s.root.localName !== rootName || s.root.namespaceURI !== null)) return malformed(`The root element must be ${rootName} in no namespace.`);
    return ok(s);
  } catch (e) {
    if (e instanceof Refusal) return e.result;
    throw e;
  }
}

class Scanner {
  private readonly n: number;
  // The next occurrence at or after the scan position, found once and reused (-1: none left).
  private nextAmp = -2;
  private nextCr = -2;
  private nextCdataEnd = -2;
  private nextLt = -2;
  private readonly scope = new Map<string, string>([["xml", XML_NS]]);
  private readonly undo: { prefix: string; prev: string | undefined }[] = [];
  private nodes = 0;
  private steps = 0;
  private readonly ids = new Map<string, XElement>();
  private readonly duplicates = new Set<string>();
  private readonly signatures: XElement[] = [];
  /** Every qualified name met so far, split once: a name repeated a hundred thousand times is one string. */
  private readonly names = new Map<string, QName>();
  private readonly attrNames: QName[] = [];
  private readonly attrValues: string[] = [];

  constructor(
    private readonly t: string,
    private readonly limits: ParseLimits,
  ) {
    this.n = t.length;
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

  /** The qualified name of `len` characters at `at`, interned. */
  private qname(at: number, len: number): QName {
    const name = this.t.slice(at, at + len);
    let q = this.names.get(name);
    if (q === undefined) {
      const colon = name.indexOf(":");
      q = colon === -1 ? { name, prefix: null, localName: name } : { name, prefix: name.slice(0, colon), localName: name.slice(colon + 1) };
      this.names.set(name, q);
    }
    return q;
  }

  private count(): void {
    if (++this.nodes > this.limits.maxNodes) fail(forbidden(`More than ${this.limits.maxNodes} nodes.`));
  }

  run(): Scanned {
    const t = this.t;
    const n = this.n;
    if (INVALID_CHAR.test(t)) fail(malformed("The document contains a character that XML does not allow."));
    let i = 0;
    if (/^<\?xml[\s?]/.test(t)) {
      const m = XML_DECL.exec(t);
      if (!m) fail(malformed("The XML declaration is malformed."));
      const enc = m![3];
      if (enc !== undefined && !/^utf-?8$/i.test(enc)) fail(malformed(`Only UTF-8 is accepted, not ${enc}.`));
      i = m![0].length;
    }
    this.countMarkup(i);
    let cur: XElement | null = null;
    let root: XElement | null = null;
    let depth = 0;
    for (;;) {
      const lt = this.lt(i);
      const textEnd = lt === -1 ? n : lt;
      if (textEnd > i) {
        if (cur === null) {
          for (let k = i; k < textEnd; k++) if (!isSpace(t.charCodeAt(k))) fail(malformed("Text outside the root element."));
        } else {
          this.count();
          const value = this.text(i, textEnd);
          addChild(cur, new XText(3, value, cur));
        }
      }
      if (lt === -1) break;
      this.steps++;
      const c = t.charCodeAt(lt + 1);
      if (c === 0x21 /* ! */) {
        if (t.startsWith("<![CDATA[", lt)) {
          if (cur === null) fail(malformed("CDATA outside the root element."));
          const end = this.cdataEnd(lt + 9);
          if (end === -1) fail(malformed("Unterminated CDATA section."));
          this.count();
          let data = t.slice(lt + 9, end);
          if (this.within(this.cr(lt + 9), end)) data = data.replace(/\r\n?/g, "\n");
          addChild(cur!, new XText(4, data, cur!));
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
        if (cur === null) fail(malformed("An end tag without a start tag."));
        const el: XElement = cur!;
        const name = el.tagName;
        let k = lt + 2 + name.length;
        if (!t.startsWith(name, lt + 2)) fail(malformed(`The end tag does not match the start tag <${name}>.`));
        while (k < n && isSpace(t.charCodeAt(k))) k++;
        if (t.charCodeAt(k) !== 0x3e) fail(malformed(k >= n ? "Unterminated end tag." : `The end tag does not match the start tag <${name}>.`));
        el.closeStart = lt;
        el.end = k + 1;
        this.leave(el);
        cur = el.parentNode;
        depth--;
        i = k + 1;
        continue;
      }
      // A start tag.
      if (cur === null && root !== null) fail(malformed("More than one root element."));
      if (depth + 1 > this.limits.maxDepth) fail(forbidden(`Nesting deeper than ${this.limits.maxDepth} levels.`));
      this.count();
      const el: XElement = this.startTag(lt, cur);
      if (cur === null) root = el;
      else {
        addChild(cur, el);
        if (cur.elements === NO_ELEMENTS) cur.elements = [el];
        else cur.elements.push(el);
      }
      i = el.openEnd;
      if (el.end === 0) {
        cur = el;
        depth++;
      } else this.leave(el);
    }
    if (root === null) fail(malformed("No root element."));
    if (cur !== null) fail(malformed("Unclosed elements."));
    return { text: t, root: root!, ids: this.ids, duplicateIds: [...this.duplicates], signatures: this.signatures, steps: this.steps };
  }

  /**
   * Refuses a document with more start tags and CDATA sections than the node limit before any
   * tree is built (one indexOf walk): every '<' that opens neither an end tag nor lies inside a
   * CDATA section starts a node or a construct refused anyway.
   */
  private countMarkup(from: number): void {
    const t = this.t;
    let opened = 0;
    for (let k = t.indexOf("<", from); k !== -1; k = t.indexOf("<", k + 1)) {
      const c = t.charCodeAt(k + 1);
      if (c === 0x2f) continue;
      if (c === 0x21 && t.startsWith("<![CDATA[", k)) {
        const end = t.indexOf("]]>", k + 9);
        if (end === -1) return;
        k = end;
      }
      if (++opened > this.limits.maxNodes) fail(forbidden(`More than ${this.limits.maxNodes} nodes.`));
    }
  }

  /** Leaves an element's namespace scope. */
  private leave(el: XElement): void {
    const d = el.decls;
    if (!d) return;
    for (let k = 0; k < d.length; k++) {
      const u = this.undo.pop()!;
      if (u.prev === undefined) this.scope.delete(u.prefix);
      else this.scope.set(u.prefix, u.prev);
    }
  }

  /** Reads a start tag at `lt`; returns the element with openEnd set, and end set too when it closes itself. */
  private startTag(lt: number, parent: XElement | null): XElement {
    const t = this.t;
    const n = this.n;
    const qlen = qnameLength(t, lt + 1);
    if (qlen === 0) fail(malformed("A start tag without a valid element name."));
    const q = this.qname(lt + 1, qlen);
    const qname = q.name;
    let j = lt + 1 + qlen;
    // Scratch lists reused for every tag: no object per attribute until its namespace is known.
    const names = this.attrNames;
    const values = this.attrValues;
    let count = 0;
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
      const name = an.name;
      k += alen;
      while (k < n && isSpace(t.charCodeAt(k))) k++;
      if (t.charCodeAt(k) !== 0x3d /* = */) fail(malformed(`Attribute ${name} has no value.`));
      k++;
      while (k < n && isSpace(t.charCodeAt(k))) k++;
      const quote = t.charCodeAt(k);
      if (quote !== 0x22 && quote !== 0x27) fail(malformed(`The value of attribute ${name} is not quoted.`));
      const close = t.indexOf(quote === 0x22 ? '"' : "'", k + 1);
      if (close === -1) fail(malformed("Unterminated attribute value."));
      if (this.within(this.lt(k + 1), close)) fail(malformed("'<' inside an attribute value."));
      if (count >= this.limits.maxAttributes) fail(forbidden(`More than ${this.limits.maxAttributes} attributes on one element.`));
      // An attribute (a namespace declaration too) is a node of the document: it counts toward the node limit.
      this.count();
      names[count] = an;
      values[count] = this.attrValue(k + 1, close);
      count++;
      j = close + 1;
    }

    // Namespace declarations first: they apply to the element's own name and attributes.
    let decls: NsDecl[] | null = null;
    for (let a = 0; a < count; a++) {
      const an = names[a]!;
      const isDefault = an.name === "xmlns";
      if (!isDefault && an.prefix !== "xmlns") continue;
      this.steps++;
      const prefix = isDefault ? "" : an.localName;
      const v = values[a]!;
      if (prefix === "xmlns") fail(malformed("The xmlns prefix cannot be declared."));
      if ((prefix === "xml") !== (v === XML_NS)) fail(malformed("The xml prefix and its namespace go together only."));
      if (v === XMLNS_NS) fail(malformed("The xmlns namespace cannot be declared."));
      if (!isDefault && v === "") fail(malformed(`${an.name}="" un-declares a prefix, which XML 1.0 does not allow.`));
      if (v !== "" && !ABSOLUTE_URI.test(v)) fail(forbidden(`Namespace URI "${v}" is not absolute.`));
      const prev = this.scope.get(prefix);
      this.undo.push({ prefix, prev });
      this.scope.set(prefix, v);
      (decls ??= []).push({ prefix, uri: v, changed: (prev ?? "") !== v });
    }
    const prefix = q.prefix;
    const localName = q.localName;
    let ns: string | null;
    if (prefix === null) ns = this.scope.get("") || null;
    else {
      if (prefix === "xmlns") fail(malformed("An element cannot be in the xmlns namespace."));
      const u = this.scope.get(prefix);
      if (u === undefined) fail(malformed(`The prefix ${prefix} is not declared.`));
      ns = u!;
    }
    const attributes: XAttr[] = count ? new Array(count) : NO_ATTRIBUTES;
    for (let k = 0; k < count; k++) {
      const a = names[k]!;
      const ap = a.prefix;
      let an: string | null;
      if (a.name === "xmlns" || ap === "xmlns") an = XMLNS_NS;
      else if (ap === null) an = null;
      else {
        const u = this.scope.get(ap);
        if (u === undefined) fail(malformed(`The prefix ${ap} is not declared.`));
        an = u!;
      }
      attributes[k] = { name: a.name, prefix: ap, localName: a.localName, namespaceURI: an, value: values[k]! };
    }
    if (attributes.length > 1) checkDistinct(attributes, qname);
    const el = new XElement(qname, prefix, localName, ns, attributes, decls, parent, lt);
    el.openEnd = j;
    if (selfClosing) {
      el.closeStart = j;
      el.end = j;
    }
    for (const a of attributes) {
      if (a.namespaceURI === XMLNS_NS || !ID_LOCAL_NAMES.has(a.localName)) continue;
      if (this.ids.has(a.value)) this.duplicates.add(a.value);
      else this.ids.set(a.value, el);
    }
    if (ns === DSIG_NS && localName === "Signature") this.signatures.push(el);
    return el;
  }

  /** Character data between tags → its value (references decoded, line ends normalized). */
  private text(start: number, end: number): string {
    const t = this.t;
    if (this.within(this.cdataEnd(start), end)) fail(malformed("']]>' outside a CDATA section."));
    const hasAmp = this.within(this.amp(start), end);
    const hasCr = this.within(this.cr(start), end);
    if (!hasAmp && !hasCr) return t.slice(start, end);
    return this.decode(start, end, false);
  }

  /** An attribute value between its quotes → its normalized value (XML 1.0 §3.3.3, CDATA type). */
  private attrValue(start: number, end: number): string {
    const t = this.t;
    let plain = !this.within(this.amp(start), end);
    if (plain) {
      for (let k = start; k < end; k++) {
        const c = t.charCodeAt(k);
        if (c === 0x09 || c === 0x0a || c === 0x0d) {
          plain = false;
          break;
        }
      }
    }
    if (plain) return t.slice(start, end);
    return this.decode(start, end, true);
  }

  private decode(start: number, end: number, attribute: boolean): string {
    const t = this.t;
    let out = "";
    let from = start;
    for (let k = start; k < end; k++) {
      const c = t.charCodeAt(k);
      if (c === 0x26 /* & */) {
        out += t.slice(from, k);
        REFERENCE.lastIndex = k;
        const m = REFERENCE.exec(t);
        if (!m || k + m[0].length > end) {
          NAMED_REFERENCE.lastIndex = k;
          if (NAMED_REFERENCE.test(t)) fail(forbidden("Entity references are not allowed."));
          fail(malformed("A bare '&' (escape it as &amp;)."));
        }
        if (m![1] !== undefined) out += NAMED[m![1]]!;
        else {
          const cp = m![2] !== undefined ? Number.parseInt(m![2], 10) : Number.parseInt(m![3]!, 16);
          if (!validCodePoint(cp)) fail(malformed("A character reference names a character XML does not allow."));
          out += String.fromCodePoint(cp);
        }
        k += m![0].length - 1;
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
}

function addChild(parent: XElement, child: XNode): void {
  if (parent.childNodes === NO_NODES) parent.childNodes = [child];
  else parent.childNodes.push(child);
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

/** Refuses an attribute written twice, by name or (two prefixes bound to one namespace) by expanded name. */
function checkDistinct(attrs: XAttr[], element: string): void {
  if (attrs.length <= 8) {
    for (let a = 1; a < attrs.length; a++) {
      for (let b = 0; b < a; b++) {
        const x = attrs[a]!;
        const y = attrs[b]!;
        if (x.name === y.name || (x.localName === y.localName && x.namespaceURI === y.namespaceURI && x.namespaceURI !== XMLNS_NS)) {
          fail(malformed(`Attribute ${x.localName} appears twice on ${element}.`));
        }
      }
    }
    return;
  }
  const names = new Set<string>();
  const expanded = new Set<string>();
  for (const x of attrs) {
    const e = x.namespaceURI === XMLNS_NS ? `\u0001${x.name}` : `${x.namespaceURI ?? ""}|${x.localName}`;
    if (names.has(x.name) || expanded.has(e)) fail(malformed(`Attribute ${x.localName} appears twice on ${element}.`));
    names.add(x.name);
    expanded.add(e);
  }
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
