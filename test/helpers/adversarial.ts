/**
 * Documents within every parser limit built from constructs whose cost is super-linear in naive
 * implementations (test/unit/scan.test.ts counts the scanner's steps on them; scripts/bench-scan.ts
 * measures their CPU). Each is an HDon of about `bytes` bytes, or smaller where the node limit
 * (elements, text, attributes and namespace declarations: 200,000) is reached first.
 */
const MAX_NODES = 200_000;
const pad = (n: number) => String(n).padStart(4, "0");

/** Namespace declarations nested inside DLHDon: every level declares 31 prefixes again, 60 levels deep, repeated. */
export function nestedNamespaces(bytes: number): string {
  const decls = (level: number) => Array.from({ length: 31 }, (_, k) => ` xmlns:p${k}="urn:x:${level}:${k}"`).join("");
  let block = "";
  for (let d = 0; d < 60; d++) block += `<p${d % 31}:E${d}${decls(d)}>`;
  block += "x";
  for (let d = 59; d >= 0; d--) block += `</p${d % 31}:E${d}>`;
  const parts: string[] = [];
  let size = 0;
  while (size + block.length < bytes - 200) {
    parts.push(block);
    size += block.length;
  }
  return `<HDon><DLHDon Id="data">${parts.join("")}</DLHDon><DSCKS><NBan/></DSCKS></HDon>`;
}

/** Many prefixed attributes on many elements, each in its own namespace (expanded-name duplicate checks). */
export function manyAttributes(bytes: number): string {
  const attrs = Array.from({ length: 31 }, (_, k) => ` a${k}:v="${k}"`).join("");
  const decls = Array.from({ length: 31 }, (_, k) => ` xmlns:a${k}="urn:a:${k}"`).join("");
  const el = `<E${attrs}/>`;
  const n = Math.min(Math.floor((bytes - 2000) / el.length), Math.floor((MAX_NODES - 200) / 32));
  return `<HDon${decls}><DLHDon Id="data">${el.repeat(n)}</DLHDon><DSCKS><NBan/></DSCKS></HDon>`;
}

/** Deep nesting, wide: 63 levels repeated (end-tag matching, depth tracking). */
export function deepNesting(bytes: number): string {
  let block = "";
  for (let d = 0; d < 62; d++) block += `<D${pad(d)}>`;
  for (let d = 61; d >= 0; d--) block += `</D${pad(d)}>`;
  const n = Math.floor((bytes - 200) / block.length);
  return `<HDon><DLHDon Id="data">${block.repeat(n)}</DLHDon><DSCKS><NBan/></DSCKS></HDon>`;
}

/** Text full of references, CRs and ']]' (decoding, line ends, the ']]>' check). */
export function referenceText(bytes: number): string {
  const chunk = "a&amp;b&#x1F600;\r\nc]]&gt;&lt;d\r";
  const n = Math.floor((bytes - 200) / chunk.length);
  return `<HDon><DLHDon Id="data"><T>${chunk.repeat(n)}</T></DLHDon><DSCKS><NBan/></DSCKS></HDon>`;
}

/** Many small elements with Ids (the Id map). */
export function manyIds(bytes: number): string {
  const n = Math.floor((bytes - 200) / 22);
  const els: string[] = [];
  for (let i = 0; i < Math.min(n, (MAX_NODES - 200) / 2); i++) els.push(`<I Id="i${i}"/>`);
  return `<HDon><DLHDon Id="data">${els.join("")}</DLHDon><DSCKS><NBan/></DSCKS></HDon>`;
}

export const ADVERSARIAL = { nestedNamespaces, manyAttributes, deepNesting, referenceText, manyIds } as const;

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
    const s = scanXml(text, { ...DEFAULT_LIMITS, maxBytes: Number.MAX_SAFE_INTEGER });
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
