/**
 * The tax authority's stamp (invoice-format.md §5–§6): adds MCCQT and the CQT signature to a
 * verified invoice. The seller's bytes are spliced, never re-serialized, so the seller's
 * signature verifies in the answer exactly as it did in the submission.
 */
import { type KeyObject, randomFillSync } from "node:crypto";
import { C14N, DSIG_NS, digestBase64, ECDSA_SHA256, RSA_SHA256, SHA256, SIGNATURE_METHODS, type SignatureMethod, signValue } from "./algorithms.js";
import { escapeAttr, escapeText, inScopeNamespaces, startTag } from "./canonical.js";
import type { InvoiceDocument } from "./invoice-document.js";
import { type XAttr, type XElement, XML_NS } from "./scan.js";

/** The authority's signing identity, built once at start. */
export interface AuthorityKey {
  privateKey: KeyObject;
  method: SignatureMethod;
  certDer: Buffer;
  /** certDer in base64, as KeyInfo carries it (made once, not per invoice). */
  certBase64: string;
  certPem: string;
  subjectName: string;
}

/** Picks rsa-sha256 or ecdsa-sha256 from the key type. */
export function authorityMethod(key: KeyObject): SignatureMethod {
  const t = key.asymmetricKeyType;
  if (t === "rsa") return SIGNATURE_METHODS[RSA_SHA256]!;
  if (t === "ec") return SIGNATURE_METHODS[ECDSA_SHA256]!;
  throw new Error(`The authority key must be RSA or EC, not ${t}.`);
}

export interface Stamped {
  xml: string;
  /** SHA-256 (base64) of DLHDon under C14N 1.0: the CQT Reference digest, also the invoice's stored digest. */
  dlhdonDigest: string;
}

/**
 * The stamp's three element Ids: 16 random bytes each, in hex. Taken from a pool that the CSPRNG
 * refills 4 KiB at a time: one call per 85 invoices instead of three per invoice (the calls,
 * not the bytes, were ≈ 1 % of the service's CPU at full load). The Ids are public in the
 * stamped XML; they only need to be unique.
 */
const idPool = Buffer.alloc(4096);
let idAt = idPool.length;
const hex32 = (): string => {
  if (idAt + 16 > idPool.length) {
    randomFillSync(idPool);
    idAt = 0;
  }
  idAt += 16;
  return idPool.toString("hex", idAt - 16, idAt);
};

import { gmt7 } from "../domain/gmt7.js";


export interface CqtValues {
  sigId: string;
  objId: string;
  dlhdonId: string;
  mccqtId: string;
  method: string;
  digests: [string, string, string];
  signatureValue: string;
  subjectName: string;
  certBase64: string;
  signingTime: string;
}

// One template serves both the DOM the digests are computed on and the bytes emitted, so the two cannot drift.
function cqtXml(v: CqtValues): string {
  const ref = (uri: string, digest: string) =>
    `<Reference URI="#${escapeAttr(uri)}"><DigestMethod Algorithm="${SHA256}"/><DigestValue>${digest}</DigestValue></Reference>`;
  return (
    `<CQT><Signature xmlns="${DSIG_NS}" Id="${escapeAttr(v.sigId)}"><SignedInfo>` +
    `<CanonicalizationMethod Algorithm="${C14N}"/><SignatureMethod Algorithm="${v.method}"/>` +
    ref(v.dlhdonId, v.digests[0]) +
    ref(v.objId, v.digests[1]) +
    ref(v.mccqtId, v.digests[2]) +
    `</SignedInfo><SignatureValue>${v.signatureValue}</SignatureValue>` +
    `<KeyInfo><X509Data><X509SubjectName>${escapeText(v.subjectName)}</X509SubjectName><X509Certificate>${escapeText(v.certBase64)}</X509Certificate></X509Data></KeyInfo>` +
    `<Object Id="${escapeAttr(v.objId)}"><SignatureProperties><SignatureProperty Target="#${escapeAttr(v.sigId)}">` +
    `<SigningTime>${escapeText(v.signingTime)}</SigningTime></SignatureProperty></SignatureProperties></Object>` +
    `</Signature></CQT>`
  );
}

/**
 * Stamps a verified invoice with `code`, signed at `signingTime`. No tree is built: the canonical
 * forms of MCCQT, the Object and SignedInfo are written from the templates and what they inherit
 * where they are inserted (stampContext). Every value copied into the output is escaped.
 * `dlhdonDigest` is SHA-256 of DLHDon under C14N 1.0, which the pipeline computed already.
 * `qr`, when given, is the authority's DLQRCode (built from the verified DLHDon): it takes the
 * place of any DLQRCode the seller sent (null: the answer carries none). It is not signed: the
 * CQT References are exactly the three of §6, and nothing may trust DLQRCode's text.
 */
export function stamp(doc: InvoiceDocument, code: string, signingTime: Date, key: AuthorityKey, dlhdonDigest: string, qr?: string | null): Stamped {
  const v = cqtValues(doc, signingTime, key);
  const mccqtXml = `<MCCQT Id="${escapeAttr(v.mccqtId)}">${escapeText(code)}</MCCQT>`;
  const qrXml = qr === undefined ? undefined : qr === null ? "" : `<DLQRCode>${escapeText(qr)}</DLQRCode>`;
  const c = stampCanonicals(v, code, dlhdonDigest, stampContext(doc));
  v.digests = c.digests;
  v.signatureValue = signValue(key.method, key.privateKey, c.signedInfo);
  return { xml: splice(doc, mccqtXml, cqtXml(v), qrXml), dlhdonDigest };
}

function cqtValues(doc: InvoiceDocument, signingTime: Date, key: AuthorityKey): CqtValues {
  return {
    sigId: `Tct-${hex32()}`,
    objId: `SigningTime-${hex32()}`,
    dlhdonId: doc.dlhdonId,
    mccqtId: `Id-${hex32()}`,
    method: key.method.uri,
    digests: ["", "", ""],
    signatureValue: "",
    subjectName: key.subjectName,
    certBase64: key.certBase64,
    signingTime: gmt7(signingTime),
  };
}

/**
 * What the stamp's elements inherit where they are inserted: the namespaces in scope and the
 * xml:* attributes (C14N 1.0 carries both onto an apex) at HDon, for MCCQT (its child), and at
 * DSCKS, for the CQT Signature's Object and SignedInfo (below DSCKS/CQT/Signature, whose default
 * namespace is XMLDSig's).
 */
export interface StampContext {
  atRoot: { ns: Map<string, string>; xml: XAttr[] };
  atDscks: { ns: Map<string, string>; xml: XAttr[] };
}

function xmlAttributesFrom(el: XElement): XAttr[] {
  const seen = new Set<string>();
  const out: XAttr[] = [];
  for (let e: XElement | null = el; e; e = e.parentNode) {
    for (const a of e.attributes) {
      if (a.namespaceURI !== XML_NS || seen.has(a.localName)) continue;
      seen.add(a.localName);
      out.push(a);
    }
  }
  return out;
}

export function stampContext(doc: InvoiceDocument): StampContext {
  const root = doc.parsed.root;
  return {
    atRoot: { ns: inScopeNamespaces(root), xml: xmlAttributesFrom(root) },
    atDscks: { ns: inScopeNamespaces(doc.dscks), xml: xmlAttributesFrom(doc.dscks) },
  };
}

const plainAttr = (name: string, value: string): XAttr => ({ name, prefix: null, localName: name, namespaceURI: null, value });

/** The canonical start tag of an apex element inserted at a place with these namespaces and xml:* attributes. */
function apexTag(name: string, ns: Map<string, string>, xml: XAttr[], attrs: XAttr[]): string {
  const list: [string, string][] = [];
  for (const [p, uri] of ns) if (p !== "xml" && !(p === "" && uri === "")) list.push([p, uri]);
  return startTag(name, list, attrs.concat(xml));
}

/**
 * The C14N 1.0 octets of the stamp's Object and MCCQT in their place, their digests with
 * `dlhdonDigest`, and the canonical SignedInfo, written from the template values and the context
 * (test/unit/stamp-canonical.test.ts holds them against the canonicalizer over the stamped text).
 */
export function stampCanonicals(v: CqtValues, code: string, dlhdonDigest: string, ctx: StampContext): { object: string; mccqt: string; signedInfo: string; digests: [string, string, string] } {
  const sigNs = new Map(ctx.atDscks.ns);
  sigNs.set("", DSIG_NS);
  const object =
    apexTag("Object", sigNs, ctx.atDscks.xml, [plainAttr("Id", v.objId)]) +
    `<SignatureProperties><SignatureProperty Target="#${escapeAttr(v.sigId)}">` +
    `<SigningTime>${escapeText(v.signingTime)}</SigningTime></SignatureProperty></SignatureProperties></Object>`;
  const mccqt = apexTag("MCCQT", ctx.atRoot.ns, ctx.atRoot.xml, [plainAttr("Id", v.mccqtId)]) + `${escapeText(code)}</MCCQT>`;
  const digests: [string, string, string] = [dlhdonDigest, digestBase64("sha256", object), digestBase64("sha256", mccqt)];
  const ref = (uri: string, digest: string) =>
    `<Reference URI="#${escapeAttr(uri)}"><DigestMethod Algorithm="${SHA256}"></DigestMethod><DigestValue>${digest}</DigestValue></Reference>`;
  const signedInfo =
    apexTag("SignedInfo", sigNs, ctx.atDscks.xml, []) +
    `<CanonicalizationMethod Algorithm="${C14N}"></CanonicalizationMethod>` +
    `<SignatureMethod Algorithm="${v.method}"></SignatureMethod>` +
    ref(v.dlhdonId, digests[0]) +
    ref(v.objId, digests[1]) +
    ref(v.mccqtId, digests[2]) +
    `</SignedInfo>`;
  return { object, mccqt, signedInfo, digests };
}

/**
 * The output bytes: the seller's DLHDon and DSCKS as sent, then DLQRCode (the authority's when
 * `qrXml` is given, else the seller's as sent), MCCQT, and CQT appended to DSCKS.
 */
function splice(doc: InvoiceDocument, mccqtXml: string, cqt: string, qrXml?: string): string {
  const { text, frame } = doc.parsed;
  const slice = (name: string): string => {
    const c = frame.children.find((ch) => ch.name === name);
    return c ? text.slice(c.start, c.end) : "";
  };
  const dscks = slice("DSCKS");
  const close = dscks.lastIndexOf("</");
  return (
    text.slice(frame.outerStart ?? 0, frame.rootOpenEnd) +
    slice("DLHDon") +
    (qrXml ?? slice("DLQRCode")) +
    mccqtXml +
    dscks.slice(0, close) +
    cqt +
    dscks.slice(close) +
    text.slice(frame.rootCloseStart, frame.outerEnd ?? text.length)
  );
}
