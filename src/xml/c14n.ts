/**
 * The reference canonicalizer over a DOM, for the tests only (the service canonicalizes the
 * scanned tree, canonical.ts): xml-crypto's canonicalizers (the classes its SignedXml uses,
 * without its xpath-based lookup), with one correction xml-crypto lacks. C14N 1.0 (§2.4) carries
 * the xml:* attributes an apex inherits from its ancestors into the canonical form, as libxml2
 * (xmlsec1) does; xml-crypto drops them. `InheritingC14n` adds them to a copy of the apex first;
 * the tests register it into SignedXml too (test/helpers/sign.ts registerAlgorithms).
 */
import { C14nCanonicalization, C14nCanonicalizationWithComments, ExclusiveCanonicalization } from "xml-crypto";
// Not re-exported by the package index; it is how SignedXml itself collects in-scope namespaces.
import { findAncestorNsForElement } from "xml-crypto/lib/utils.js";
import { C14N, C14N_WITH_COMMENTS, DSIG_NS, ENVELOPED, EXC_C14N, EXC_C14N_WITH_COMMENTS } from "./algorithms.js";

/**
 * xml-crypto's exclusive canonicalizer takes an element's `namespaceURI` as the new default
 * namespace; @xmldom/xmldom 0.9 reports no namespace as null (0.8, which xml-crypto bundles for
 * itself, reports ""), and null !== "" then re-emits xmlns="" on every descendant. Normalize it.
 */
class ExclusiveC14n extends ExclusiveCanonicalization {
  override renderNs(...args: Parameters<ExclusiveCanonicalization["renderNs"]>): ReturnType<ExclusiveCanonicalization["renderNs"]> {
    const r = super.renderNs(...args);
    return r.newDefaultNs == null ? { ...r, newDefaultNs: "" } : r;
  }
}

const XML_NS = "http://www.w3.org/XML/1998/namespace";

/** A copy of `node` carrying the xml:* attributes it inherits from its ancestors, or `node` itself when it inherits none. */
function withInheritedXmlAttributes(node: Element): Element {
  if (!node || node.nodeType !== 1) return node;
  const add: Attr[] = [];
  const seen = new Set<string>();
  for (let k = 0; k < node.attributes.length; k++) {
    const a = node.attributes.item(k)!;
    if (a.namespaceURI === XML_NS) seen.add(a.localName);
  }
  for (let p = node.parentNode; p && p.nodeType === 1; p = p.parentNode) {
    const attrs = (p as Element).attributes;
    for (let k = 0; k < attrs.length; k++) {
      const a = attrs.item(k)!;
      if (a.namespaceURI !== XML_NS || seen.has(a.localName)) continue;
      seen.add(a.localName);
      add.push(a);
    }
  }
  if (add.length === 0) return node;
  const copy = node.cloneNode(true) as Element;
  for (const a of add) copy.setAttributeNS(XML_NS, a.name, a.value);
  return copy;
}

/** xml-crypto's C14N 1.0 with inherited xml:* attributes on the apex (C14N 1.0 §2.4). */
export class InheritingC14n extends C14nCanonicalization {
  override process(node: Node, options: Parameters<C14nCanonicalization["process"]>[1]): string {
    return super.process(withInheritedXmlAttributes(node as Element) as never, options);
  }
}

/** The same, #WithComments. */
export class InheritingC14nWithComments extends C14nCanonicalizationWithComments {
  override process(node: Node, options: Parameters<C14nCanonicalization["process"]>[1]): string {
    return super.process(withInheritedXmlAttributes(node as Element) as never, options);
  }
}

/**
 * Makes a SignedXml apply C14N 1.0's inherited xml:* attributes too. SignedXml canonicalizes a
 * deep copy of each node (its ancestors gone), so the attributes are added before it copies:
 * whenever the transforms end in C14N 1.0 (explicitly, or by default, no canonicalization listed).
 */
export function inheritXmlAttributesIn<T extends object>(sig: T): T {
  const s = sig as unknown as { canonicalize: (transforms: string[], node: Element, ...rest: unknown[]) => string };
  const original = s.canonicalize.bind(sig);
  s.canonicalize = (transforms, node, ...rest) => {
    const last = [...transforms].reverse().find((t) => t !== ENVELOPED);
    const inclusiveC14n = last === undefined || last === C14N || last === C14N_WITH_COMMENTS;
    return original(transforms, inclusiveC14n ? withInheritedXmlAttributes(node) : node, ...rest);
  };
  return sig;
}

const inclusive = new InheritingC14n();
const exclusive = new ExclusiveC14n();
// SignedXml passes this map to every canonicalization; pass it too so we agree with it byte for byte.
const defaultNsForPrefix = { ds: DSIG_NS };

/**
 * Canonical form of `el` under `algorithm` (a C14N 1.0 or exclusive C14N URI; the documents we
 * accept carry no comments, so the WithComments variants give the same octets).
 * `exclude` is removed from a copy first (the enveloped-signature transform).
 */
export function canonicalize(el: Element, algorithm: string, opts: { prefixList?: string[]; exclude?: Element | null } = {}): string {
  let node: Element = el;
  if (opts.exclude && isDescendant(opts.exclude, el)) node = cloneWithout(el, opts.exclude);
  const ancestorNamespaces = findAncestorNsForElement(el);
  switch (algorithm) {
    case C14N:
    case C14N_WITH_COMMENTS:
      return inclusive.process(node as never, { ancestorNamespaces, defaultNsForPrefix }).toString();
    case EXC_C14N:
    case EXC_C14N_WITH_COMMENTS:
      return exclusive
        .process(node as never, { ancestorNamespaces, defaultNsForPrefix, inclusiveNamespacesPrefixList: opts.prefixList ?? [] })
        .toString();
    default:
      throw new Error(`not a canonicalization: ${algorithm}`);
  }
}

function isDescendant(node: Node, ancestor: Node): boolean {
  for (let p = node.parentNode; p; p = p.parentNode) if (p === ancestor) return true;
  return false;
}

/** A deep copy of `root` without `remove`, keeping `root`'s place (parent) for namespace lookup. */
function cloneWithout(root: Element, remove: Element): Element {
  const path: number[] = [];
  for (let n: Node = remove; n !== root; n = n.parentNode!) path.push(Array.prototype.indexOf.call(n.parentNode!.childNodes, n));
  const copy = root.cloneNode(true) as Element;
  let target: Node = copy;
  for (const i of path.reverse()) target = target.childNodes[i]!;
  target.parentNode!.removeChild(target);
  return copy;
}
