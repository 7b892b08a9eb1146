/**
 * Documents within every parser limit built from constructs whose cost is super-linear in naive
 * implementations (test/unit/scan.test.ts counts the scanner's steps on them; scripts/bench-scan.ts
 * measures their CPU). Each is an HDon of about `bytes` bytes, or smaller where the node limit
 * (elements, text, attributes and namespace declarations: 200,000) is reached first. Where a
 * construct meets a per-document limit first (attributes and namespace declarations: 20,000; Id
 * attributes: 10,000), the rest of the node limit is spent on empty elements: each document is
 * the costliest of its kind that the limits let in.
 */
import { DEFAULT_LIMITS } from "../../src/xml/scan.js";

const MAX_NODES = DEFAULT_LIMITS.maxNodes;
const MAX_ATTRIBUTES = DEFAULT_LIMITS.maxDocumentAttributes;
const MAX_IDS = DEFAULT_LIMITS.maxIds;
const pad = (n: number) => String(n).padStart(4, "0");
/** HDon around DLHDon's content (its own nodes: HDon, DLHDon, its Id, DSCKS, NBan, and the signature added later). */
const hdon = (content: string, rootDecls = "") => `<HDon${rootDecls}><DLHDon Id="data">${content}</DLHDon><DSCKS><NBan/></DSCKS></HDon>`;
/** Nodes kept aside for the frame and the seller's signature added by signAdversarial. */
const RESERVE = 200;
/** Empty elements filling what is left of the node limit and of the size. */
function fill(nodesUsed: number, bytesUsed: number, bytes: number): string {
  const n = Math.max(0, Math.min(MAX_NODES - RESERVE - nodesUsed, Math.floor((bytes - bytesUsed - 2000) / 4)));
  return "<E/>".repeat(n);
}

/** Namespace declarations nested inside DLHDon: every level declares 31 prefixes again, 60 levels deep, repeated; then empty elements. */
export function nestedNamespaces(bytes: number): string {
  const decls = (level: number) => Array.from({ length: 31 }, (_, k) => ` xmlns:p${k}="urn:x:${level}:${k}"`).join("");
  let block = "";
  for (let d = 0; d < 60; d++) block += `<p${d % 31}:E${d}${decls(d)}>`;
  block += "x";
  for (let d = 59; d >= 0; d--) block += `</p${d % 31}:E${d}>`;
  const blockNodes = 60 * 32 + 1;
  const n = Math.min(Math.floor((bytes - 2000) / block.length), Math.floor((MAX_ATTRIBUTES - RESERVE) / (60 * 31)), Math.floor((MAX_NODES - RESERVE) / blockNodes));
  return hdon(block.repeat(n) + fill(n * blockNodes, n * block.length, bytes));
}

/** Many prefixed attributes on many elements, each in its own namespace (expanded-name duplicate checks); then empty elements. */
export function manyAttributes(bytes: number): string {
  const attrs = Array.from({ length: 31 }, (_, k) => ` a${k}:v="${k}"`).join("");
  const decls = Array.from({ length: 31 }, (_, k) => ` xmlns:a${k}="urn:a:${k}"`).join("");
  const el = `<E${attrs}/>`;
  const n = Math.min(Math.floor((bytes - 4000) / el.length), Math.floor((MAX_ATTRIBUTES - RESERVE - 31) / 31), Math.floor((MAX_NODES - RESERVE) / 32));
  return hdon(el.repeat(n) + fill(n * 32 + 31, n * el.length + decls.length, bytes), decls);
}

/** Deep nesting, wide: 63 levels repeated (end-tag matching, depth tracking). */
export function deepNesting(bytes: number): string {
  let block = "";
  for (let d = 0; d < 62; d++) block += `<D${pad(d)}>`;
  for (let d = 61; d >= 0; d--) block += `</D${pad(d)}>`;
  const n = Math.floor((bytes - 200) / block.length);
  return hdon(block.repeat(n));
}

/** Text full of references, CRs and ']]' (decoding, line ends, the ']]>' check). */
export function referenceText(bytes: number): string {
  const chunk = "a&amp;b&#x1F600;\r\nc]]&gt;&lt;d\r";
  const n = Math.floor((bytes - 200) / chunk.length);
  return hdon(`<T>${chunk.repeat(n)}</T>`);
}

/** Many small elements with Ids (the Id map); then empty elements. */
export function manyIds(bytes: number): string {
  const els: string[] = [];
  let size = 0;
  for (let i = 0; i < Math.min(Math.floor((bytes - 2000) / 22), MAX_IDS - RESERVE, (MAX_NODES - RESERVE) / 2); i++) {
    const el = `<I Id="i${i}"/>`;
    els.push(el);
    size += el.length;
  }
  return hdon(els.join("") + fill(els.length * 2, size, bytes));
}

/** Empty elements up to the node limit (the cost of an element, and of an element's reading, alone). */
export function manyElements(bytes: number): string {
  return hdon(fill(0, 0, bytes));
}

/**
 * Exclusive C14N's amplification, as far as its cap lets it go: elements in a prefix declared
 * once on HDon (exclusive C14N declares it again on each, DLHDon not using it), a text filling the
 * size, the URI as long as keeps the exclusive form just under four times the document (the cap:
 * src/xml/canonical.ts) — the most octets to write and digest that a document within the limits
 * can ask for.
 */
export function repeatedNamespace(bytes: number): string {
  // Elements take about 57 % of the size (all of the node limit at 2 MiB), the text the rest.
  const n = Math.min(MAX_NODES - RESERVE, Math.floor(((bytes - 3000) * 0.57) / 6));
  const text = Math.max(0, bytes - 6 * n - 3000);
  // Each element renders as <p:E xmlns:p="URI"></p:E>: the URI and 22 characters.
  const uriLength = Math.floor((4 * bytes - text - 64 * 1024) / n) - 22 - 1;
  const uri = `urn:${"x".repeat(Math.max(1, uriLength - 4))}`;
  return hdon(`<T>${"t".repeat(text)}</T>${"<p:E/>".repeat(n)}`, ` xmlns:p="${uri}"`);
}

export const ADVERSARIAL = { nestedNamespaces, manyAttributes, deepNesting, referenceText, manyIds, manyElements, repeatedNamespace } as const;

/**
 * The adversarial document as a seller would send it: a seller Signature in DSCKS/NBan whose
 * Reference covers DLHDon under `c14n` (enveloped-signature, then that canonicalization; no
 * SigningTime Object), signed with `keyPem` / `certPem`. Signed with the service's own
 * canonicalizer (the xml-crypto oracle takes many seconds on 2 MB): for benchmarks and for
 * tests of cost, not of correctness.
 */
export async function signAdversarial(xml: string, key: { keyPem: string; certPem: string }, c14n: string): Promise<string> {
  const { createHash, createPrivateKey, sign } = await import("node:crypto");
  const { canonicalize } = await import("../../src/xml/canonical.js");
  const { scanXml, DEFAULT_LIMITS } = await import("../../src/xml/scan.js");
  const { C14N, DSIG_NS, ENVELOPED, SHA256 } = await import("../../src/xml/algorithms.js");
  const scan = (text: string) => {
    const s = scanXml(text, { ...DEFAULT_LIMITS, maxBytes: Number.MAX_SAFE_INTEGER, maxDocumentAttributes: Number.MAX_SAFE_INTEGER, maxIds: Number.MAX_SAFE_INTEGER });
    if (!s.ok) throw new Error(`signAdversarial: ${JSON.stringify(s.faults)}`);
    return s.value;
  };
  const dlhdon = scan(xml).ids.get("data")!;
  const digest = createHash("sha256").update(canonicalize(dlhdon, c14n)).digest("base64");
  const cert = key.certPem.match(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/)![1]!.replace(/\s+/g, "");
  const privateKey = createPrivateKey(key.keyPem);
  const method = privateKey.asymmetricKeyType === "ec" ? "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" : "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
  const signature = (value: string) =>
    `<Signature xmlns="${DSIG_NS}"><SignedInfo><CanonicalizationMethod Algorithm="${C14N}"/><SignatureMethod Algorithm="${method}"/>` +
    `<Reference URI="#data"><Transforms><Transform Algorithm="${ENVELOPED}"/><Transform Algorithm="${c14n}"/></Transforms>` +
    `<DigestMethod Algorithm="${SHA256}"/><DigestValue>${digest}</DigestValue></Reference></SignedInfo>` +
    `<SignatureValue>${value}</SignatureValue><KeyInfo><X509Data><X509Certificate>${cert}</X509Certificate></X509Data></KeyInfo></Signature>`;
  if (!xml.includes("<NBan/>")) throw new Error("signAdversarial: no <NBan/> to sign into");
  const unsigned = xml.replace("<NBan/>", `<NBan>${signature("AAAA")}</NBan>`);
  const signedInfo = scan(unsigned).signatures[0]!.elements[0]!;
  const value = sign("sha256", Buffer.from(canonicalize(signedInfo, C14N)), privateKey.asymmetricKeyType === "ec" ? { key: privateKey, dsaEncoding: "ieee-p1363" } : privateKey).toString("base64");
  return unsigned.replace("<SignatureValue>AAAA</SignatureValue>", `<SignatureValue>${value}</SignatureValue>`);
}
