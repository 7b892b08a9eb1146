/**
 * Hardened XML parsing for the gate: the one-pass scanner (scan.ts) and the few readers the
 * stages use over its tree. No DOM is built: the scanned tree is the only reading of a body.
 */
import { ok, type Result } from "../errors.js";
import { DEFAULT_LIMITS, type Frame, frameOf, ID_LOCAL_NAMES, type ParseLimits, scanXml, type XElement, XMLNS_NS } from "./scan.js";

export type { XElement, XNode } from "./scan.js";
export { DEFAULT_LIMITS, type Frame, type ParseLimits };

export interface ParsedXml {
  /** The decoded text (without a byte-order mark). */
  text: string;
  frame: Frame;
  root: XElement;
  /** Every Id-like attribute value (Id, ID, id, xml:id, and those names under any prefix) → its element. */
  ids: ReadonlyMap<string, XElement>;
  /** Id values that occur more than once (reported by the signature profile, not here). */
  duplicateIds: string[];
  /** Every ds:Signature element in document order. */
  signatures: XElement[];
}

/**
 * Parses a body: size, strict UTF-8, the one-pass scan with every hardening rule, one root named
 * `rootName` in no namespace, the Id map.
 */
export function parseXml(bytes: Uint8Array | string, rootName: string, limits: ParseLimits = DEFAULT_LIMITS): Result<ParsedXml> {
  const s = scanXml(bytes, limits, rootName);
  if (!s.ok) return s;
  const { text, root, ids, duplicateIds, signatures } = s.value;
  return ok({ text, frame: frameOf(root, false), root, ids, duplicateIds, signatures });
}

/** Parses a body as parseXml does, whatever its root element (tools that read any message: `hoadon check`). */
export function parseAnyRoot(bytes: Uint8Array | string, limits: ParseLimits = DEFAULT_LIMITS): Result<ParsedXml> {
  const s = scanXml(bytes, limits);
  if (!s.ok) return s;
  const { text, root, ids, duplicateIds, signatures } = s.value;
  return ok({ text, frame: frameOf(root, false), root, ids, duplicateIds, signatures });
}

/** The scan alone (no root name required), answering the root's frame: what the hardening rules refuse, they refuse here. */
export function prescan(text: string, limits: ParseLimits = DEFAULT_LIMITS): Result<Frame> {
  const s = scanXml(text, { ...limits, maxBytes: Number.MAX_SAFE_INTEGER });
  return s.ok ? ok(frameOf(s.value.root, false)) : s;
}

/** Child elements of `el` (in document order; do not modify). */
export function childElements(el: XElement): readonly XElement[] {
  return el.elements;
}

const NON_BLANK = /[^ \t\r\n]/;

/** True when `el` has a text child that is not XML whitespace (mixed content where only elements belong). */
export function hasNonWhitespaceText(el: XElement): boolean {
  for (const c of el.childNodes) if (c.nodeType !== 1 && NON_BLANK.test(c.nodeValue)) return true;
  return false;
}

/** The concatenated text of an element's text children. */
export function textOf(el: XElement): string {
  const kids = el.childNodes;
  if (kids.length === 1 && kids[0]!.nodeType !== 1) return kids[0]!.nodeValue;
  let s = "";
  for (const c of kids) if (c.nodeType !== 1) s += c.nodeValue;
  return s;
}

/** The same parse seen from an inner element (an HDon inside a T-VAN TDiep, say); the frame is the element's own. */
export function focus(parsed: ParsedXml, root: XElement): ParsedXml {
  return { ...parsed, root, frame: frameOf(root, true), signatures: parsed.signatures.filter((s) => isInside(s, root)) };
}

/**
 * An inner element as if it were the whole document (one invoice of a T-VAN package): its frame,
 * its signatures, and the Ids found inside it alone, so that another item's Ids neither resolve
 * its References nor count as its duplicates.
 */
export function focusAlone(parsed: ParsedXml, root: XElement): ParsedXml {
  const ids = new Map<string, XElement>();
  const duplicates = new Set<string>();
  const walk = (el: XElement): void => {
    for (const a of el.attributes) {
      if (a.namespaceURI === XMLNS_NS || !ID_LOCAL_NAMES.has(a.localName)) continue;
      if (ids.has(a.value)) duplicates.add(a.value);
      else ids.set(a.value, el);
    }
    for (const c of el.elements) walk(c);
  };
  walk(root);
  return { ...focus(parsed, root), ids, duplicateIds: [...duplicates] };
}

export function isInside(node: XElement, ancestor: XElement): boolean {
  for (let p: XElement | null = node; p; p = p.parentNode) if (p === ancestor) return true;
  return false;
}
