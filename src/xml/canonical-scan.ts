/**
 * Canonical XML (C14N 1.0, and exclusive C14N, which give the same octets here) of one element
 * written straight from the text it was parsed from, in one pass, without walking a DOM: the
 * CPU-cheap path for the invoice's DLHDon (some 90% of an invoice's nodes).
 *
 * It applies only where no namespace is in play: no namespace declaration on the element's
 * ancestors, and no prefix or `xmlns` attribute anywhere inside it. Anything else (and anything
 * unexpected: a literal CR, TAB or LF in an attribute value, a CR in text) answers null and the
 * caller falls back to xml-crypto's canonicalizer on the DOM (c14n.ts), the reference
 * implementation. The text has been through the pre-scan and the DOM parse already, so it is
 * well-formed, free of comments, processing instructions and entity references.
 * test/unit/canonical-scan.test.ts holds it byte for byte against xml-crypto.
 */

const NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;
const SPECIAL_TEXT = /[&>\r]/;
const TEXT_REF = /&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));|>/g;
const ATTR_REF = /&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));|"/g;
const NAMED: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const TEXT_ESCAPE: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;" };
const ATTR_ESCAPE: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", '"': "&quot;", "\r": "&#xD;", "\n": "&#xA;", "\t": "&#x9;" };

function decoded(named: string | undefined, dec: string | undefined, hex: string | undefined): string {
  if (named !== undefined) return NAMED[named]!;
  return String.fromCodePoint(dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex!, 16));
}

const escapeText = (s: string): string => s.replace(/[&<>\r]/g, (c) => TEXT_ESCAPE[c]!);
const escapeAttr = (s: string): string => s.replace(/[&<"\r\n\t]/g, (c) => ATTR_ESCAPE[c]!);

/** Character data as written between tags → its canonical form; null when a CR would need line-ending normalization. */
function text(raw: string): string | null {
  if (!SPECIAL_TEXT.test(raw)) return raw;
  if (raw.includes("\r")) return null;
  return raw.replace(TEXT_REF, (m, named?: string, dec?: string, hex?: string) => (m === ">" ? "&gt;" : escapeText(decoded(named, dec, hex))));
}

/** An attribute value as written (between its quotes) → its canonical form; null when it would need whitespace normalization. */
function attribute(raw: string): string | null {
  if (/[\t\n\r]/.test(raw)) return null;
  if (!raw.includes("&") && !raw.includes('"')) return raw;
  return raw.replace(ATTR_REF, (m, named?: string, dec?: string, hex?: string) => (m === '"' ? "&quot;" : escapeAttr(decoded(named, dec, hex))));
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * The canonical octets of the element spelled by `text.slice(start, end)` (its start tag to its
 * end tag), or null when this path does not apply. The caller guarantees that no namespace is
 * declared on the element's ancestors.
 */
export function canonicalFromText(source: string, start: number, end: number): string | null {
  let out = "";
  let i = start;
  let depth = 0;
  while (i < end) {
    const lt = source.indexOf("<", i);
    if (lt === -1 || lt >= end) return null;
    if (lt > i) {
      if (depth === 0) return null;
      const t = text(source.slice(i, lt));
      if (t === null) return null;
      out += t;
    }
    const next = source.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      if (!source.startsWith("<![CDATA[", lt) || depth === 0) return null;
      const close = source.indexOf("]]>", lt + 9);
      if (close === -1 || close >= end) return null;
      const data = source.slice(lt + 9, close);
      if (data.includes("\r")) return null;
      out += escapeText(data);
      i = close + 3;
      continue;
    }
    if (next === 0x3f /* ? */) return null;
    if (next === 0x2f /* / */) {
      const gt = source.indexOf(">", lt);
      if (gt === -1 || gt >= end) return null;
      const name = source.slice(lt + 2, gt).trimEnd();
      if (!NAME.test(name)) return null;
      out += `</${name}>`;
      i = gt + 1;
      if (--depth === 0) return i === end ? out : null;
      continue;
    }
    // A start tag: its name, then name="value" pairs, then > or />.
    let j = lt + 1;
    while (j < end && !isSpace(source.charCodeAt(j)) && source.charCodeAt(j) !== 0x3e && source.charCodeAt(j) !== 0x2f) j++;
    const name = source.slice(lt + 1, j);
    if (!NAME.test(name)) return null;
    const attrs: [string, string][] = [];
    let selfClosing = false;
    for (;;) {
      while (j < end && isSpace(source.charCodeAt(j))) j++;
      if (j >= end) return null;
      const c = source.charCodeAt(j);
      if (c === 0x3e /* > */) {
        j++;
        break;
      }
      if (c === 0x2f /* / */) {
        if (source.charCodeAt(j + 1) !== 0x3e) return null;
        selfClosing = true;
        j += 2;
        break;
      }
      const nameStart = j;
      while (j < end && !isSpace(source.charCodeAt(j)) && source.charCodeAt(j) !== 0x3d) j++;
      const attrName = source.slice(nameStart, j);
      // xmlns, xmlns:p, p:name: namespaces are in play; the DOM path handles them.
      if (!NAME.test(attrName) || attrName === "xmlns") return null;
      while (j < end && isSpace(source.charCodeAt(j))) j++;
      if (source.charCodeAt(j) !== 0x3d) return null;
      j++;
      while (j < end && isSpace(source.charCodeAt(j))) j++;
      const quote = source.charCodeAt(j);
      if (quote !== 0x22 && quote !== 0x27) return null;
      const close = source.indexOf(quote === 0x22 ? '"' : "'", j + 1);
      if (close === -1 || close >= end) return null;
      const value = attribute(source.slice(j + 1, close));
      if (value === null) return null;
      attrs.push([attrName, value]);
      j = close + 1;
    }
    if (attrs.length > 1) attrs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    out += `<${name}`;
    for (const [n, v] of attrs) out += ` ${n}="${v}"`;
    out += ">";
    i = j;
    if (selfClosing) {
      out += `</${name}>`;
      if (depth === 0) return i === end ? out : null;
    } else depth++;
  }
  return null;
}

/** True when `el` or one of its ancestors declares a namespace (xmlns or xmlns:p). */
export function namespaceInScope(el: Element): boolean {
  for (let n: Node | null = el; n && n.nodeType === 1; n = n.parentNode) {
    const attrs = (n as Element).attributes;
    for (let k = 0; k < attrs.length; k++) {
      const name = attrs.item(k)!.name;
      if (name === "xmlns" || name.startsWith("xmlns:")) return true;
    }
  }
  return false;
}
