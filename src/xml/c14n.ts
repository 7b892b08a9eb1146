/**
 * Canonicalization of one element in its document context, with xml-crypto's canonicalizers
 * (the same classes its SignedXml uses, without its xpath-based lookup).
 */
import { C14nCanonicalization, ExclusiveCanonicalization } from "xml-crypto";
// Not re-exported by the package index; it is how SignedXml itself collects in-scope namespaces.
import { findAncestorNsForElement } from "xml-crypto/lib/utils.js";
import { C14N, C14N_WITH_COMMENTS, DSIG_NS, EXC_C14N, EXC_C14N_WITH_COMMENTS } from "./algorithms.js";

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

const inclusive = new C14nCanonicalization();
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
