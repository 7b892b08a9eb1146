/**
 * Test helpers that sign invoices as a seller would, in the shape of the real seller signature of
 * ../shared/interop/01 (Signature in DSCKS/NBan, Reference to #<DLHDon Id> with enveloped-signature
 * + C14N, a second Reference to an Object carrying SigningTime, KeyInfo/X509Data/X509Certificate),
 * with two independent engines: xml-crypto (`signInvoice`) and xmlsec1 (`signWithXmlsec1`).
 *
 * Two deliberate differences from sample 01, so that xmlsec1 verifies the result too:
 * - the SigningTime Reference has only the C14N transform. Sample 01 also lists
 *   enveloped-signature there; by the XMLDSig spec that removes the whole Signature, Object
 *   included, and xmlsec1 digests an empty node-set (this, not its `xmlns=""`, is why xmlsec1
 *   rejects sample 01's second Reference). .NET and xml-crypto apply the transform only when the
 *   Signature lies inside the referenced node, so they accept it. `objectEnveloped: true` mimics 01.
 * - SignatureProperties stays in the XMLDSig namespace (as the authority's Object of sample 03)
 *   instead of carrying `xmlns=""`; SigningTime is matched by local name.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, createPrivateKey, createSign, createVerify, type KeyLike, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOMParser, XMLSerializer, type Element as XmlElement } from "@xmldom/xmldom";
import { SignedXml } from "xml-crypto";
import {
  C14N,
  C14N_WITH_COMMENTS,
  DIGESTS,
  DSIG_NS,
  ENVELOPED,
  EXC_C14N,
  type HashName,
  SIGNATURE_METHODS,
  XML_CRYPTO_ECDSA,
} from "../../src/xml/algorithms.js";
import { InheritingC14n, InheritingC14nWithComments, inheritXmlAttributesIn } from "../../src/xml/c14n.js";

export type SignatureAlgorithmName = "rsa-sha1" | "rsa-sha256" | "rsa-sha384" | "rsa-sha512" | "ecdsa-sha256" | "ecdsa-sha384" | "ecdsa-sha512";

export interface SignOptions {
  /** PKCS#8 (or any PEM form node:crypto reads) private key. */
  keyPem: string;
  /** The signer's certificate PEM; further certificates in the same string (a chain) go into X509Data after it. */
  certPem: string;
  /** Short name or full URI; default rsa-sha256 or ecdsa-sha256 by key type. */
  algorithm?: SignatureAlgorithmName | (string & {});
  /** "inclusive" (C14N 1.0, default), "exclusive", or a full canonicalization URI. */
  c14n?: "inclusive" | "exclusive" | (string & {});
  /** DigestMethod URI; default the signature algorithm's hash. */
  digest?: string;
  /** "YYYY-MM-DDTHH:mm:ss" (GMT+7, no offset); default now; null: no SigningTime Object or Reference. */
  signingTime?: string | null;
  /** "ds" writes ds:-prefixed elements; default: the default namespace on Signature. */
  prefix?: "ds" | null;
  /** Also put enveloped-signature on the SigningTime Reference, as sample 01 does (xmlsec1 then refuses it). */
  objectEnveloped?: boolean;
}

export interface Xmlsec1VerifyOptions {
  /** XPath of the Signature node to verify, e.g. `//*[local-name()='NBan']/*[local-name()='Signature']`. */
  nodeXpath: string;
  /** Trusted certificate file(s) (PEM paths). */
  trustedPem: string | string[];
  /** Untrusted intermediate certificate file(s) (PEM paths). */
  untrustedPem?: string | string[];
  /** Element names whose `Id` attribute is an ID; default DLHDon, Object, MCCQT. */
  idAttrs?: string[];
  /** Check the certificate chain at this time ("YYYY-MM-DD HH:MM:SS", UTC) instead of now. */
  verificationTime?: string;
  /** Skip certificate checks (xmlsec1 --insecure): cryptography only. */
  insecure?: boolean;
}

export interface Xmlsec1Result {
  ok: boolean;
  /** xmlsec1's stdout and stderr. */
  output: string;
}

const ALGORITHM_SHORT_NAMES: Record<SignatureAlgorithmName, string> = {
  "rsa-sha1": "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
  "rsa-sha256": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  "rsa-sha384": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
  "rsa-sha512": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
  "ecdsa-sha256": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
  "ecdsa-sha384": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
  "ecdsa-sha512": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
};

const DIGEST_URI: Record<HashName, string> = Object.fromEntries(Object.entries(DIGESTS).map(([uri, h]) => [h, uri])) as Record<HashName, string>;

/** The current time in GMT+7 as "YYYY-MM-DDTHH:mm:ss" (the SigningTime form). */
export function nowGmt7(now: Date = new Date()): string {
  return new Date(now.getTime() + 7 * 3600_000).toISOString().slice(0, 19);
}

interface Resolved {
  algorithm: string;
  c14n: string;
  digest: string;
  signingTime: string | null;
  prefix: string | null;
  objectTransforms: string[];
}

function resolve(opts: SignOptions): Resolved {
  const keyType = createPrivateKey(opts.keyPem).asymmetricKeyType;
  const algorithm =
    opts.algorithm === undefined
      ? keyType === "ec"
        ? ALGORITHM_SHORT_NAMES["ecdsa-sha256"]
        : ALGORITHM_SHORT_NAMES["rsa-sha256"]
      : (ALGORITHM_SHORT_NAMES as Record<string, string>)[opts.algorithm] ?? opts.algorithm;
  const method = SIGNATURE_METHODS[algorithm];
  const c14n = opts.c14n === undefined || opts.c14n === "inclusive" ? C14N : opts.c14n === "exclusive" ? EXC_C14N : opts.c14n;
  const digest = opts.digest ?? DIGEST_URI[method?.hash ?? "sha256"];
  const signingTime = opts.signingTime === undefined ? nowGmt7() : opts.signingTime;
  const objectTransforms = opts.objectEnveloped ? [ENVELOPED, c14n] : [c14n];
  return { algorithm, c14n, digest, signingTime, prefix: opts.prefix ?? null, objectTransforms };
}

const hex32 = (): string => randomBytes(16).toString("hex");

function parse(xml: string) {
  return new DOMParser().parseFromString(xml, "text/xml");
}

/** The first DLHDon and the DSCKS/NBan beside it (the signature's home). */
function locate(doc: ReturnType<typeof parse>): { dlhdon: XmlElement; nban: XmlElement } {
  const all = Array.from(doc.getElementsByTagName("*"));
  const dlhdon = all.find((e) => e.localName === "DLHDon");
  if (!dlhdon) throw new Error("sign: the document has no DLHDon element");
  if (!dlhdon.getAttribute("Id")) throw new Error("sign: DLHDon has no Id attribute");
  const siblings = (e: XmlElement | null, name: string) => (e ? Array.from(e.childNodes).filter((n): n is XmlElement => n.nodeType === 1 && (n as XmlElement).localName === name) : []);
  const dscks = siblings(dlhdon.parentNode as XmlElement | null, "DSCKS")[0] ?? all.find((e) => e.localName === "DSCKS");
  const nban = siblings(dscks ?? null, "NBan")[0];
  if (!nban) throw new Error("sign: the document has no DSCKS/NBan element to hold the seller signature");
  return { dlhdon, nban };
}

function pathOf(e: XmlElement): string {
  const steps: string[] = [];
  for (let n: XmlElement | null = e; n && n.nodeType === 1; n = n.parentNode as XmlElement | null) {
    const parent = n.parentNode;
    const same = parent ? Array.from(parent.childNodes).filter((c) => c.nodeType === 1 && (c as XmlElement).localName === n!.localName) : [n];
    steps.unshift(`*[local-name()='${n.localName}'][${same.indexOf(n) + 1}]`);
  }
  return "/" + steps.join("/");
}

/** The content of the SigningTime Object (SigningTime inherits the XMLDSig namespace). */
function signingTimeObject(p: string, signatureId: string, signingTime: string): string {
  return (
    `<${p}SignatureProperties><${p}SignatureProperty Target="#${signatureId}">` +
    `<${p}SigningTime>${signingTime}</${p}SigningTime>` +
    `</${p}SignatureProperty></${p}SignatureProperties>`
  );
}

/** xml-crypto has no sha384 digest and no rsa-sha384: plug them in (ECDSA comes from algorithms.ts). */
class Sha384 {
  getAlgorithmName(): string {
    return DIGEST_URI.sha384;
  }
  getHash(xml: string): string {
    return createHash("sha384").update(xml, "utf8").digest("base64");
  }
}
class RsaSha384 {
  getAlgorithmName(): string {
    return ALGORITHM_SHORT_NAMES["rsa-sha384"];
  }
  getSignature(signedInfo: string | Uint8Array, privateKey: KeyLike): string {
    return createSign("RSA-SHA384").update(signedInfo).sign(privateKey, "base64");
  }
  verifySignature(material: string, key: KeyLike, signatureValue: string): boolean {
    return createVerify("RSA-SHA384").update(material).verify(key, signatureValue, "base64");
  }
}

/**
 * Registers what the tests need on a SignedXml: ECDSA (r‖s) and sha384. Also used by tests that
 * verify with xml-crypto as an oracle.
 */
export function registerAlgorithms(sig: SignedXml): SignedXml {
  Object.assign(sig.SignatureAlgorithms, XML_CRYPTO_ECDSA, { [ALGORITHM_SHORT_NAMES["rsa-sha384"]]: RsaSha384 });
  Object.assign(sig.HashAlgorithms, { [DIGEST_URI.sha384]: Sha384 });
  // C14N 1.0 with the xml:* attributes an apex inherits (xml-crypto drops them; xmlsec1 and the service do not).
  Object.assign(sig.CanonicalizationAlgorithms, { [C14N]: InheritingC14n, [C14N_WITH_COMMENTS]: InheritingC14nWithComments });
  return inheritXmlAttributesIn(sig);
}

/** Signs an invoice with xml-crypto: one seller Signature appended to DSCKS/NBan. */
export function signInvoice(xml: string, opts: SignOptions): string {
  const r = resolve(opts);
  const doc = parse(xml);
  const { dlhdon, nban } = locate(doc);
  const p = r.prefix ? `${r.prefix}:` : "";
  const signatureId = `Signature-${hex32()}`;
  const objectId = `SigningTime-${hex32()}`;

  const sig = registerAlgorithms(
    new SignedXml({
      privateKey: opts.keyPem,
      publicCert: opts.certPem,
      signatureAlgorithm: r.algorithm,
      canonicalizationAlgorithm: r.c14n,
      objects: r.signingTime === null ? undefined : [{ content: signingTimeObject(p, signatureId, r.signingTime), attributes: { Id: objectId } }],
    }),
  );
  sig.addReference({ xpath: pathOf(dlhdon), transforms: [ENVELOPED, r.c14n], digestAlgorithm: r.digest });
  if (r.signingTime !== null) {
    // Resolved inside the new Signature (xml-crypto looks there when the document has no match).
    sig.addReference({ xpath: `//*[local-name()='Object'][@Id='${objectId}']`, transforms: r.objectTransforms, digestAlgorithm: r.digest });
  }
  sig.computeSignature(new XMLSerializer().serializeToString(doc), {
    prefix: r.prefix ?? undefined,
    attrs: { Id: signatureId },
    location: { reference: pathOf(nban), action: "append" },
  });
  return sig.getSignedXml();
}

// ---------------------------------------------------------------- xmlsec1

let xmlsec1Cached: boolean | undefined;

/** Whether an `xmlsec1` binary is on the PATH. */
export function xmlsec1Available(): boolean {
  xmlsec1Cached ??= spawnSync("xmlsec1", ["--version"], { encoding: "utf8" }).status === 0;
  return xmlsec1Cached;
}

function requireXmlsec1(): void {
  if (!xmlsec1Available()) throw new Error("xmlsec1 is not installed or not on the PATH (apt-get install xmlsec1)");
}

function certBase64s(certPem: string): string[] {
  const out = [...certPem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => m[1]!.replace(/\s+/g, ""));
  if (out.length === 0) throw new Error("sign: certPem holds no PEM certificate");
  return out;
}

/** The unsigned Signature template xmlsec1 fills in (empty DigestValue, SignatureValue, X509Certificate). */
export function signatureTemplate(opts: SignOptions & { dlhdonId: string }): string {
  const r = resolve(opts);
  const p = r.prefix ? `${r.prefix}:` : "";
  const xmlns = r.prefix ? `xmlns:${r.prefix}="${DSIG_NS}"` : `xmlns="${DSIG_NS}"`;
  const signatureId = `Signature-${hex32()}`;
  const objectId = `SigningTime-${hex32()}`;
  const reference = (uri: string, transforms: string[]) =>
    `<${p}Reference URI="${uri}"><${p}Transforms>` +
    transforms.map((t) => `<${p}Transform Algorithm="${t}"/>`).join("") +
    `</${p}Transforms><${p}DigestMethod Algorithm="${r.digest}"/><${p}DigestValue></${p}DigestValue></${p}Reference>`;
  return (
    `<${p}Signature ${xmlns} Id="${signatureId}">` +
    `<${p}SignedInfo><${p}CanonicalizationMethod Algorithm="${r.c14n}"/><${p}SignatureMethod Algorithm="${r.algorithm}"/>` +
    reference(`#${opts.dlhdonId}`, [ENVELOPED, r.c14n]) +
    (r.signingTime === null ? "" : reference(`#${objectId}`, r.objectTransforms)) +
    `</${p}SignedInfo><${p}SignatureValue></${p}SignatureValue>` +
    `<${p}KeyInfo><${p}X509Data>` +
    certBase64s(opts.certPem).map(() => `<${p}X509Certificate></${p}X509Certificate>`).join("") +
    `</${p}X509Data></${p}KeyInfo>` +
    (r.signingTime === null ? "" : `<${p}Object Id="${objectId}">${signingTimeObject(p, signatureId, r.signingTime)}</${p}Object>`) +
    `</${p}Signature>`
  );
}

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "hoadon-xmlsec1-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Signs an invoice with xmlsec1: puts a Signature template in DSCKS/NBan and runs
 * `xmlsec1 --sign`. Returns xmlsec1's output bytes (UTF-8) unchanged.
 */
export function signWithXmlsec1(xml: string, opts: SignOptions): string {
  requireXmlsec1();
  const doc = parse(xml);
  const { dlhdon, nban } = locate(doc);
  const template = parse(signatureTemplate({ ...opts, dlhdonId: dlhdon.getAttribute("Id")! })).documentElement!;
  nban.appendChild(doc.importNode(template, true));
  return withTempDir((dir) => {
    const key = join(dir, "key.pem");
    const input = join(dir, "template.xml");
    const output = join(dir, "signed.xml");
    writeFileSync(key, opts.keyPem, { mode: 0o600 });
    // xmlsec1 reads one certificate per file: signer first, then the chain.
    const certs = certBase64s(opts.certPem).map((b64, i) => {
      const file = join(dir, `cert${i}.pem`);
      writeFileSync(file, `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, "$&\n")}-----END CERTIFICATE-----\n`);
      return file;
    });
    writeFileSync(input, new XMLSerializer().serializeToString(doc));
    const run = spawnSync(
      "xmlsec1",
      ["--sign", "--privkey-pem", [key, ...certs].join(","), "--id-attr:Id", "DLHDon", "--id-attr:Id", "Object", "--output", output, input],
      { encoding: "utf8" },
    );
    if (run.status !== 0) throw new Error(`xmlsec1 --sign failed (exit ${run.status}):\n${run.stdout}${run.stderr}`);
    return readFileSync(output, "utf8");
  });
}

const asList = (x: string | string[] | undefined): string[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** Verifies one signature with xmlsec1; never throws for a bad signature (ok: false, with xmlsec1's output). */
export function verifyWithXmlsec1(xml: string, opts: Xmlsec1VerifyOptions): Xmlsec1Result {
  requireXmlsec1();
  return withTempDir((dir) => {
    const file = join(dir, "signed.xml");
    writeFileSync(file, xml);
    const args = ["--verify"];
    for (const id of opts.idAttrs ?? ["DLHDon", "Object", "MCCQT"]) args.push("--id-attr:Id", id);
    if (opts.insecure) args.push("--insecure");
    for (const t of asList(opts.trustedPem)) args.push("--trusted-pem", t);
    for (const u of asList(opts.untrustedPem)) args.push("--untrusted-pem", u);
    if (opts.verificationTime) args.push("--verification-time", opts.verificationTime);
    args.push("--node-xpath", opts.nodeXpath, file);
    const run = spawnSync("xmlsec1", args, { encoding: "utf8" });
    return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
  });
}

/** The XPath of the seller signature, for verifyWithXmlsec1. */
export const SELLER_SIGNATURE_XPATH = "//*[local-name()='NBan']/*[local-name()='Signature']";

/**
 * Signs many invoices with xmlsec1 in as few processes as it can: invoices signed with the same
 * key go through one `xmlsec1 --sign` run over many files (xmlsec1 writes each result to stdout,
 * each starting with its XML declaration). Returns the signed documents in input order.
 */
export async function signManyWithXmlsec1(items: readonly { xml: string; opts: SignOptions }[], concurrency = 2): Promise<string[]> {
  requireXmlsec1();
  const dir = mkdtempSync(join(tmpdir(), "hoadon-xmlsec1-batch-"));
  try {
    const byKey = new Map<string, number[]>();
    items.forEach((it, i) => {
      const k = it.opts.keyPem + it.opts.certPem;
      byKey.set(k, [...(byKey.get(k) ?? []), i]);
    });
    const jobs: { keyArg: string; indexes: number[] }[] = [];
    [...byKey.values()].forEach((indexes, g) => {
      const { keyPem, certPem } = items[indexes[0]!]!.opts;
      const key = join(dir, `key${g}.pem`);
      writeFileSync(key, keyPem, { mode: 0o600 });
      const certs = certBase64s(certPem).map((b64, c) => {
        const file = join(dir, `cert${g}-${c}.pem`);
        writeFileSync(file, `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, "$&\n")}-----END CERTIFICATE-----\n`);
        return file;
      });
      for (let i = 0; i < indexes.length; i += 100) jobs.push({ keyArg: [key, ...certs].join(","), indexes: indexes.slice(i, i + 100) });
    });
    const out = new Array<string>(items.length);
    const run = async (job: { keyArg: string; indexes: number[] }) => {
      const files = job.indexes.map((i) => {
        const { xml, opts } = items[i]!;
        const doc = parse(xml);
        const { dlhdon, nban } = locate(doc);
        const template = parse(signatureTemplate({ ...opts, dlhdonId: dlhdon.getAttribute("Id")! })).documentElement!;
        nban.appendChild(doc.importNode(template, true));
        const file = join(dir, `t${i}.xml`);
        writeFileSync(file, new XMLSerializer().serializeToString(doc));
        return file;
      });
      const stdout = await new Promise<string>((resolve, reject) => {
        const p = spawn("xmlsec1", ["--sign", "--privkey-pem", job.keyArg, "--id-attr:Id", "DLHDon", "--id-attr:Id", "Object", ...files]);
        const chunks: Buffer[] = [];
        let err = "";
        p.stdout.on("data", (b: Buffer) => chunks.push(b));
        p.stderr.on("data", (b: Buffer) => (err += b.toString("utf8")));
        p.on("error", reject);
        p.on("close", (status) => (status === 0 ? resolve(Buffer.concat(chunks).toString("utf8")) : reject(new Error(`xmlsec1 --sign failed (exit ${status}):\n${err.slice(0, 2000)}`))));
      });
      const docs = stdout.split(/(?=<\?xml version=)/).filter((d) => d.trim() !== "");
      if (docs.length !== files.length) throw new Error(`xmlsec1 --sign wrote ${docs.length} documents for ${files.length} files`);
      job.indexes.forEach((i, k) => (out[i] = docs[k]!));
    };
    const queue = [...jobs];
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await run(job);
    }));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
