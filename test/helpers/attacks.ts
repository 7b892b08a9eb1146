/**
 * Tools to build attack fixtures: take an invoice signed by the project's signer (or xmlsec1),
 * change its tree, and — where the attack needs a signature that is still mathematically valid —
 * recompute the digests and the SignatureValue with the attacker's key (`resign`). A check that
 * weakens then lets the attack through instead of failing it for some unrelated reason.
 *
 * Digests are recomputed with the project's canonicalizer (src/xml/c14n.ts), which the
 * differential tests hold against xml-crypto and xmlsec1.
 */
import { createHash, createHmac, createPrivateKey, sign as cryptoSign } from "node:crypto";
import { DOMParser, XMLSerializer } from "@xmldom/xmldom";
import { C14N, CANONICALIZATIONS, DIGESTS, DSIG_NS, ENVELOPED, EXC_C14N, EXC_C14N_WITH_COMMENTS, SIGNATURE_METHODS } from "../../src/xml/algorithms.js";
import { canonicalize } from "../../src/xml/c14n.js";

export { DSIG_NS };
export const MD5 = "http://www.w3.org/2001/04/xmldsig-more#md5";
export const RSA_MD5 = "http://www.w3.org/2001/04/xmldsig-more#rsa-md5";
export const HMAC_SHA1 = "http://www.w3.org/2000/09/xmldsig#hmac-sha1";
export const HMAC_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256";
export const XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116";
export const XPATH2 = "http://www.w3.org/2002/06/xmldsig-filter2";
export const XSLT = "http://www.w3.org/TR/1999/REC-xslt-19991116";
export const BASE64 = "http://www.w3.org/2000/09/xmldsig#base64";

/** Parses test XML (throws on anything @xmldom reports). */
export function parseDoc(xml: string): Document {
  return new DOMParser({
    onError: (level: string, msg: string) => {
      throw new Error(`attack fixture does not parse (${level}): ${msg}`);
    },
  }).parseFromString(xml, "application/xml") as unknown as Document;
}

/** Serializes a document or node. */
export function serialize(node: Node): string {
  return new XMLSerializer().serializeToString(node as never);
}

/** Element children of `el`. */
export function kids(el: Element): Element[] {
  return Array.from(el.childNodes).filter((n): n is Element => n.nodeType === 1);
}

/** Every element of the document named `localName` (any namespace), in document order. */
export function all(doc: Document, localName: string): Element[] {
  return Array.from(doc.getElementsByTagName("*")).filter((e) => e.localName === localName);
}

/** The one element named `localName`; throws unless there is exactly one. */
export function one(doc: Document | Element, localName: string): Element {
  const found = Array.from((doc as Document).getElementsByTagName("*")).filter((e) => e.localName === localName);
  if (found.length !== 1) throw new Error(`expected one ${localName}, found ${found.length}`);
  return found[0]!;
}

/** The first XMLDSig child of `parent` named `localName`. */
export function ds(parent: Element, localName: string): Element {
  const e = kids(parent).find((k) => k.localName === localName && k.namespaceURI === DSIG_NS);
  if (!e) throw new Error(`no ds:${localName} in ${parent.tagName}`);
  return e;
}

/** The seller's Signature (DSCKS/NBan/Signature). */
export function sellerSignature(doc: Document): Element {
  const nban = kids(one(doc, "DSCKS")).find((k) => k.localName === "NBan");
  const sig = nban && kids(nban).find((k) => k.localName === "Signature" && k.namespaceURI === DSIG_NS);
  if (!sig) throw new Error("no DSCKS/NBan/Signature");
  return sig;
}

/** A new element in the XMLDSig namespace, with the prefix `like` uses (so it serializes cleanly). */
export function dsElement(doc: Document, like: Element, localName: string, attrs: Record<string, string> = {}, text?: string): Element {
  const e = doc.createElementNS(DSIG_NS, like.prefix ? `${like.prefix}:${localName}` : localName);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.appendChild(doc.createTextNode(text));
  return e;
}

/** Replaces the text of an element. */
export function setText(el: Element, text: string): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  el.appendChild(el.ownerDocument!.createTextNode(text));
}

/** Edits the tree of `xml` without touching any signature value. */
export function rewrite(xml: string, edit: (doc: Document) => void): string {
  const doc = parseDoc(xml);
  edit(doc);
  return serialize(doc);
}

export interface ResignContext {
  doc: Document;
  signature: Element;
  signedInfo: Element;
}

export interface ResignOptions {
  /** Which Signature to re-sign; default the seller's. */
  signature?: (doc: Document) => Element;
  /** "recompute" (default) every Reference digest the attacker can compute; "keep" leaves them. */
  digests?: "recompute" | "keep";
  /** For HMAC SignatureMethods: the secret (an attacker would use the certificate's bytes). */
  hmacSecret?: Uint8Array | string;
  /** Sign with this hash instead of the SignatureMethod's (a declared/actual mismatch). */
  actualHash?: string;
  /** Overrides the digest of a Reference (by index) with this base64 value. */
  digestOverride?: Record<number, string>;
}

const HASH_OF_DIGEST: Record<string, string> = { ...DIGESTS, [MD5]: "md5" };

/** The element whose Id-like attribute (Id, ID, id, xml:id, any prefix) equals `id`, first in document order. */
export function findById(doc: Document, id: string): Element | null {
  for (const e of Array.from(doc.getElementsByTagName("*"))) {
    for (const a of Array.from(e.attributes)) {
      if ((a.localName === "Id" || a.localName === "ID" || a.localName === "id") && !a.name.startsWith("xmlns") && a.value === id) return e;
    }
  }
  return null;
}

/**
 * Edits a signed invoice, then re-signs it as an attacker holding `keyPem` would: every
 * Reference digest is recomputed over what its URI names (enveloped-signature and C14N as
 * listed; other transforms are treated as identity), SignedInfo is canonicalized with its
 * CanonicalizationMethod and signed with its SignatureMethod.
 */
export function resign(xml: string, keyPem: string, edit?: (ctx: ResignContext) => void, opts: ResignOptions = {}): string {
  const doc = parseDoc(xml);
  const signature = (opts.signature ?? sellerSignature)(doc);
  const signedInfo = ds(signature, "SignedInfo");
  edit?.({ doc, signature, signedInfo });

  const refs = kids(signedInfo).filter((k) => k.localName === "Reference");
  refs.forEach((ref, i) => {
    const dv = kids(ref).find((k) => k.localName === "DigestValue");
    if (!dv) return;
    if (opts.digestOverride?.[i] !== undefined) return setText(dv, opts.digestOverride[i]!);
    if (opts.digests === "keep") return;
    const uri = ref.getAttribute("URI");
    const target = uri === "" || uri === null ? doc.documentElement : uri.startsWith("#") ? findById(doc, uri.slice(1)) : null;
    const dm = kids(ref).find((k) => k.localName === "DigestMethod");
    const hash = HASH_OF_DIGEST[(dm?.getAttribute("Algorithm") ?? "").trim()];
    if (!target || !hash) return;
    const transforms = kids(ref)
      .filter((k) => k.localName === "Transforms")
      .flatMap((t) => kids(t))
      .map((t) => ({ alg: (t.getAttribute("Algorithm") ?? "").trim(), el: t }));
    const enveloped = transforms.some((t) => t.alg === ENVELOPED);
    const c14n = transforms.filter((t) => CANONICALIZATIONS.has(t.alg)).pop();
    const prefixList = c14n ? inclusivePrefixes(c14n.el) : [];
    const canonical = canonicalize(target as never, c14n?.alg ?? C14N, { prefixList, exclude: enveloped ? (signature as never) : null });
    setText(dv, createHash(hash).update(canonical).digest("base64"));
  });

  const cm = (ds(signedInfo, "CanonicalizationMethod").getAttribute("Algorithm") ?? "").trim();
  const canonicalSignedInfo = canonicalize(signedInfo as never, CANONICALIZATIONS.has(cm) ? cm : C14N, { prefixList: inclusivePrefixes(ds(signedInfo, "CanonicalizationMethod")) });
  const sm = (ds(signedInfo, "SignatureMethod").getAttribute("Algorithm") ?? "").trim();
  setText(ds(signature, "SignatureValue"), signatureValue(sm, keyPem, canonicalSignedInfo, opts));
  return serialize(doc);
}

function inclusivePrefixes(parent: Element): string[] {
  const alg = parent.getAttribute("Algorithm");
  if (alg !== EXC_C14N && alg !== EXC_C14N_WITH_COMMENTS) return [];
  const ns = kids(parent).find((k) => k.localName === "InclusiveNamespaces");
  return (ns?.getAttribute("PrefixList") ?? "").split(/\s+/).filter(Boolean);
}

function signatureValue(method: string, keyPem: string, data: string, opts: ResignOptions): string {
  if (method === HMAC_SHA1 || method === HMAC_SHA256) {
    if (opts.hmacSecret === undefined) throw new Error("resign: an HMAC SignatureMethod needs hmacSecret");
    return createHmac(method === HMAC_SHA1 ? "sha1" : "sha256", opts.hmacSecret).update(data).digest("base64");
  }
  const known = SIGNATURE_METHODS[method];
  const key = createPrivateKey(keyPem);
  const hash = opts.actualHash ?? (method === RSA_MD5 ? "md5" : known?.hash ?? "sha256");
  const ec = key.asymmetricKeyType === "ec";
  return cryptoSign(hash, Buffer.from(data, "utf8"), ec ? { key, dsaEncoding: "ieee-p1363" } : key).toString("base64");
}

/** A Reference to `#id` with the given transforms, sha256 digest (filled in by resign). */
export function reference(doc: Document, like: Element, uri: string | null, transforms: string[] = [C14N], digest = "http://www.w3.org/2001/04/xmlenc#sha256"): Element {
  const ref = dsElement(doc, like, "Reference", uri === null ? {} : { URI: uri });
  if (transforms.length) {
    const ts = dsElement(doc, like, "Transforms");
    for (const t of transforms) ts.appendChild(dsElement(doc, like, "Transform", { Algorithm: t }));
    ref.appendChild(ts);
  }
  ref.appendChild(dsElement(doc, like, "DigestMethod", { Algorithm: digest }));
  ref.appendChild(dsElement(doc, like, "DigestValue", {}, "AAAA"));
  return ref;
}

/** The Transforms of a Reference (creating the element when absent). */
export function transformsOf(ref: Element): Element {
  const found = kids(ref).find((k) => k.localName === "Transforms");
  if (found) return found;
  const ts = dsElement(ref.ownerDocument!, ref, "Transforms");
  ref.insertBefore(ts, ref.firstChild);
  return ts;
}

/** DER of the first certificate in a PEM string. */
export function certDer(pem: string): Buffer {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error("no certificate");
  return Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
}

export { C14N, ENVELOPED, EXC_C14N };
