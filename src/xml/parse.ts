/**
 * Hardened XML parsing. A linear pre-scan refuses what must never reach a parser (DOCTYPE,
 * entities, comments, processing instructions, too deep, too many nodes or attributes, invalid
 * characters) before @xmldom/xmldom builds the tree with every warning treated as fatal. One
 * walk of the tree then checks namespaces and builds the Id map that proves Id uniqueness.
 */
import { DOMParser } from "@xmldom/xmldom";
import "./xmldom-grammar.js";
import { type Fault, type Result, ok } from "../errors.js";
import { elementFrame } from "./frame.js";

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

/** Where the root's children stand in the text, so output can splice bytes instead of reserializing. */
export interface Frame {
  /** Index just after the root's start tag. */
  rootOpenEnd: number;
  /** Index of the root's end tag. */
  rootCloseStart: number;
  children: { name: string; start: number; end: number }[];
  /**
   * Where a splice of this frame begins and ends: absent, the whole text (declaration and all);
   * for a focused inner element (xml/frame.ts), the element itself.
   */
  outerStart?: number;
  outerEnd?: number;
}

export interface ParsedXml {
  /** The decoded text (without a byte-order mark). */
  text: string;
  frame: Frame;
  doc: Document;
  root: Element;
  /** Every Id-like attribute value (Id, ID, id, xml:id, and those names under any prefix) → its element. */
  ids: Map<string, Element>;
  /** Id values that occur more than once (reported by the signature profile, not here). */
  duplicateIds: string[];
  /** Every ds:Signature element in document order. */
  signatures: Element[];
}

// Matched by local name, whatever the prefix (xml:id, wsu:Id, …): xml-crypto's SignedXml resolves a
// Reference through any attribute with one of these local names, so a value repeated under a
// prefix would name a second element for some verifier. Uniqueness is proved across all of them.
const ID_LOCAL_NAMES = new Set(["Id", "ID", "id"]);
const DSIG_NS = "http://www.w3.org/2000/09/xmldsig#";
const utf8 = new TextDecoder("utf-8", { fatal: true });

const forbidden = (message: string): Result<never> => ({ ok: false, faults: [{ code: "XML_FORBIDDEN_CONSTRUCT", message }] });
const malformed = (message: string): Result<never> => ({ ok: false, faults: [{ code: "XML_MALFORMED", message }] });

/** Decodes the body as strict UTF-8 (a UTF-8 byte-order mark is dropped; anything else invalid is refused). */
export function decodeUtf8(bytes: Uint8Array): Result<string> {
  try {
    return ok(utf8.decode(bytes));
  } catch {
    return malformed("The body is not valid UTF-8.");
  }
}

// Characters XML 1.0 does not allow (C0 controls other than TAB, LF, CR; U+FFFE, U+FFFF).
const INVALID_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
// Only reachable for string input (bytes go through strict UTF-8 decoding).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// XML's whitespace is space, tab, CR and LF only: String.prototype.trim would also drop NBSP,
// U+2028 or a BOM after the root, which libxml2 (and so xmlsec1) refuses as content.
const XML_BLANK = /^[ \t\r\n]*$/;
const REFERENCE = /&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));/y;
const NAMED_REFERENCE = /&[A-Za-z_:][-A-Za-z0-9._:]*;/y;
const XML_DECL = /^<\?xml\s+version\s*=\s*(["'])1\.0\1(?:\s+encoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:\s+standalone\s*=\s*(["'])(?:yes|no)\4)?\s*\?>/;

function validCodePoint(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/**
 * The linear pre-scan: refuses forbidden constructs and enforces depth, node and attribute
 * limits before any tree is built, so that no input can make the parser do super-linear work.
 */
export function prescan(text: string, limits: ParseLimits = DEFAULT_LIMITS): Result<Frame> {
  if (INVALID_CHAR.test(text) || LONE_SURROGATE.test(text)) return malformed("The document contains a character that XML does not allow.");
  let i = 0;
  const n = text.length;
  if (/^<\?xml[\s?]/.test(text)) {
    const m = XML_DECL.exec(text);
    if (!m) return malformed("The XML declaration is malformed.");
    const enc = m[3];
    if (enc !== undefined && !/^utf-?8$/i.test(enc)) return malformed(`Only UTF-8 is accepted, not ${enc}.`);
    i = m[0].length;
  }
  let depth = 0;
  let nodes = 0;
  let roots = 0;
  const frame: Frame = { rootOpenEnd: -1, rootCloseStart: -1, children: [] };
  let childStart = -1;
  let cdataSections = 0;
  // The next '<' and '&' at or after i, found once and reused until i passes them: every
  // character is looked at a bounded number of times, whatever the input (no quadratic rescans).
  let lt = -1;
  let amp = -1;
  while (i < n) {
    if (lt < i && lt !== -2) lt = text.indexOf("<", i);
    if (lt === -1) lt = -2;
    if (amp < i && amp !== -2) amp = text.indexOf("&", i);
    if (amp === -1) amp = -2;
    if (amp >= 0 && (lt < 0 || amp < lt)) {
      if (depth === 0) return malformed("Text outside the root element.");
      const r = checkReference(text, amp);
      if (!r.ok) return r;
      i = r.value;
      continue;
    }
    if (lt < 0) {
      if (!XML_BLANK.test(text.slice(i))) return malformed("Text outside the root element.");
      break;
    }
    if (depth === 0 && !XML_BLANK.test(text.slice(i, lt))) return malformed("Text outside the root element.");
    const next = text.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      if (text.startsWith("<![CDATA[", lt)) {
        if (depth === 0) return malformed("CDATA outside the root element.");
        const end = text.indexOf("]]>", lt + 9);
        if (end === -1) return malformed("Unterminated CDATA section.");
        i = end + 3;
        cdataSections++;
        if (++nodes > limits.maxNodes) return forbidden(`More than ${limits.maxNodes} nodes.`);
        continue;
      }
      if (text.startsWith("<!--", lt)) return forbidden("Comments are not allowed.");
      if (text.startsWith("<!DOCTYPE", lt)) return forbidden("DOCTYPE declarations are not allowed.");
      if (text.startsWith("<!ENTITY", lt)) return forbidden("Entity declarations are not allowed.");
      return forbidden("Markup declarations are not allowed.");
    }
    if (next === 0x3f /* ? */) return forbidden("Processing instructions are not allowed.");
    if (next === 0x2f /* / */) {
      const gt = text.indexOf(">", lt);
      if (gt === -1) return malformed("Unterminated end tag.");
      depth--;
      if (depth < 0) return malformed("An end tag without a start tag.");
      if (depth === 1) frame.children.push({ name: tagName(text, childStart), start: childStart, end: gt + 1 });
      else if (depth === 0) frame.rootCloseStart = lt;
      i = gt + 1;
      if (depth > 0 && i < n && text.charCodeAt(i) !== 0x3c && ++nodes > limits.maxNodes) return forbidden(`More than ${limits.maxNodes} nodes.`);
      continue;
    }
    // A start tag: walk to its end, counting attributes, honouring quotes.
    let j = lt + 1;
    let attributes = 0;
    let quote = 0;
    for (; j < n; j++) {
      const c = text.charCodeAt(j);
      if (quote) {
        if (c === quote) quote = 0;
        else if (c === 0x3c /* < */) return malformed("'<' inside an attribute value.");
        else if (c === 0x26 /* & */) {
          const r = checkReference(text, j);
          if (!r.ok) return r;
          j = r.value - 1;
        }
      } else if (c === 0x22 || c === 0x27) quote = c;
      else if (c === 0x3d /* = */) {
        if (++attributes > limits.maxAttributes) return forbidden(`More than ${limits.maxAttributes} attributes on one element.`);
      } else if (c === 0x3e /* > */) break;
      else if (c === 0x3c) return malformed("'<' inside a tag.");
    }
    if (j >= n) return malformed("Unterminated start tag.");
    if (++nodes > limits.maxNodes) return forbidden(`More than ${limits.maxNodes} nodes.`);
    const selfClosing = text.charCodeAt(j - 1) === 0x2f;
    if (depth === 0 && ++roots > 1) return malformed("More than one root element.");
    if (depth === 0) frame.rootOpenEnd = j + 1;
    if (depth === 1) {
      childStart = lt;
      if (selfClosing) frame.children.push({ name: tagName(text, lt), start: lt, end: j + 1 });
    }
    if (depth + 1 > limits.maxDepth) return forbidden(`Nesting deeper than ${limits.maxDepth} levels.`);
    if (!selfClosing) depth++;
    i = j + 1;
    // Text nodes count towards the node limit too.
    if (depth > 0 && i < n && text.charCodeAt(i) !== 0x3c && ++nodes > limits.maxNodes) return forbidden(`More than ${limits.maxNodes} nodes.`);
  }
  if (roots === 0) return malformed("No root element.");
  if (depth !== 0) return malformed("Unclosed elements.");
  // "]]>" may only close a CDATA section; in character data it is not well-formed.
  if (countOf(text, "]]>") > cdataSections) return malformed("']]>' outside a CDATA section.");
  return ok(frame);
}

function countOf(text: string, needle: string): number {
  let count = 0;
  for (let k = text.indexOf(needle); k !== -1; k = text.indexOf(needle, k + needle.length)) count++;
  return count;
}

function tagName(text: string, lt: number): string {
  const m = /^<([^\s/>]+)/.exec(text.slice(lt, lt + 200));
  return m ? m[1]! : "";
}

function checkReference(text: string, at: number): Result<number> {
  REFERENCE.lastIndex = at;
  const m = REFERENCE.exec(text);
  if (m) {
    if (m[2] !== undefined || m[3] !== undefined) {
      const cp = m[2] !== undefined ? Number.parseInt(m[2], 10) : Number.parseInt(m[3]!, 16);
      if (!validCodePoint(cp)) return malformed("A character reference names a character XML does not allow.");
    }
    return ok(at + m[0].length);
  }
  NAMED_REFERENCE.lastIndex = at;
  if (NAMED_REFERENCE.test(text)) return forbidden("Entity references are not allowed.");
  return malformed("A bare '&' (escape it as &amp;).");
}

const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S*$/;

/**
 * Parses an invoice body: UTF-8, pre-scan, DOM with warnings fatal, one root named `rootName`
 * in no namespace, absolute namespace URIs, and the Id map.
 */
export function parseXml(bytes: Uint8Array | string, rootName: string, limits: ParseLimits = DEFAULT_LIMITS): Result<ParsedXml> {
  const size = typeof bytes === "string" ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > limits.maxBytes) return { ok: false, faults: [{ code: "PAYLOAD_TOO_LARGE", message: `The document is over ${limits.maxBytes} bytes.` }] };
  const decoded = typeof bytes === "string" ? ok(bytes.startsWith("\uFEFF") ? bytes.slice(1) : bytes) : decodeUtf8(bytes);
  if (!decoded.ok) return decoded;
  const text = decoded.value;
  const scanned = prescan(text, limits);
  if (!scanned.ok) return scanned;

  let doc: Document;
  try {
    doc = new DOMParser({
      onError: (level: string, message: string) => {
        throw new Error(`${level}: ${message}`);
      },
    }).parseFromString(text, "application/xml") as unknown as Document;
  } catch (e) {
    return malformed(`Not well-formed XML: ${firstLine((e as Error).message)}`);
  }
  const root = doc.documentElement;
  if (!root) return malformed("No root element.");
  if (root.localName !== rootName || root.namespaceURI !== null) return malformed(`The root element must be ${rootName} in no namespace.`);

  const ids = new Map<string, Element>();
  const duplicates = new Set<string>();
  const signatures: Element[] = [];
  const faults: Fault[] = [];
  // Iterative walk: no recursion depth depends on input (the pre-scan bounded it anyway).
  const stack: Element[] = [root];
  while (stack.length) {
    const el = stack.pop()!;
    if (el.localName === "Signature" && el.namespaceURI === DSIG_NS) signatures.push(el);
    const attrs = el.attributes;
    const expanded = attrs.length > 1 ? new Set<string>() : null;
    for (let k = 0; k < attrs.length; k++) {
      const a = attrs.item(k)!;
      const name = a.name;
      if (name === "xmlns" || name.startsWith("xmlns:")) {
        if (name !== "xmlns" && a.value === "") faults.push({ code: "XML_MALFORMED", message: `${name}="" un-declares a prefix, which XML 1.0 does not allow.` });
        else if (a.value !== "" && !ABSOLUTE_URI.test(a.value)) faults.push({ code: "XML_FORBIDDEN_CONSTRUCT", message: `Namespace URI "${a.value}" is not absolute.` });
        continue;
      }
      // Two prefixes bound to one namespace can spell the same attribute twice.
      const key = `${a.namespaceURI ?? ""}|${a.localName}`;
      if (expanded?.has(key)) faults.push({ code: "XML_MALFORMED", message: `Attribute ${a.localName} appears twice on ${el.tagName}.` });
      expanded?.add(key);
      if (ID_LOCAL_NAMES.has(a.localName ?? name)) {
        if (ids.has(a.value)) duplicates.add(a.value);
        else ids.set(a.value, el);
      }
    }
    for (let c = el.lastChild; c; c = c.previousSibling) if (c.nodeType === 1) stack.push(c as Element);
  }
  if (faults.length) return { ok: false, faults };
  return ok({ text, frame: scanned.value, doc, root, ids, duplicateIds: [...duplicates], signatures });
}

function firstLine(s: string): string {
  const line = s.split("\n")[0] ?? s;
  const cause = line.lastIndexOf("caused Error: ");
  return (cause === -1 ? line : line.slice(cause + 14)).replace(/^(?:fatalError|error|warning): /, "").slice(0, 200);
}

/** Child elements of `el` (in document order). */
export function childElements(el: Element): Element[] {
  const out: Element[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) out.push(c as Element);
  return out;
}

/** True when `el` has a text child that is not whitespace (mixed content where only elements belong). */
export function hasNonWhitespaceText(el: Element): boolean {
  for (let c = el.firstChild; c; c = c.nextSibling) if ((c.nodeType === 3 || c.nodeType === 4) && /\S/.test(c.nodeValue ?? "")) return true;
  return false;
}

/** The concatenated text of an element's text children. */
export function textOf(el: Element): string {
  let s = "";
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 3 || c.nodeType === 4) s += c.nodeValue ?? "";
  return s;
}

/** The same parse seen from an inner element (an HDon inside a T-VAN TDiep, say); the frame is recomputed for it. */
export function focus(parsed: ParsedXml, root: Element): ParsedXml {
  return { ...parsed, root, frame: elementFrame(parsed.text, root), signatures: parsed.signatures.filter((s) => isInside(s, root)) };
}

function isInside(node: Node, ancestor: Node): boolean {
  for (let p: Node | null = node; p; p = p.parentNode) if (p === ancestor) return true;
  return false;
}
