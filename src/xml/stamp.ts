/**
 * The tax authority's stamp (invoice-format.md §5–§6): adds MCCQT and the CQT signature to a
 * verified invoice. The seller's bytes are spliced, never re-serialized, so the seller's
 * signature verifies in the answer exactly as it did in the submission.
 */
import { randomBytes, type KeyObject } from "node:crypto";
import { DOMParser } from "@xmldom/xmldom";
import { C14N, DSIG_NS, ECDSA_SHA256, RSA_SHA256, SHA256, SIGNATURE_METHODS, digestBase64, signValue, type SignatureMethod } from "./algorithms.js";
import { canonicalize } from "./c14n.js";
import type { InvoiceDocument } from "./invoice-document.js";

/** The authority's signing identity, built once at start. */
export interface AuthorityKey {
  privateKey: KeyObject;
  method: SignatureMethod;
  certDer: Buffer;
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

const escapeText = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const hex32 = (): string => randomBytes(16).toString("hex");

/** `YYYY-MM-DDTHH:mm:ss` in GMT+7, without offset, as production writes SigningTime. */
export function gmt7(at: Date): string {
  return new Date(at.getTime() + 7 * 3600_000).toISOString().slice(0, 19);
}

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
    `<Reference URI="#${uri}"><DigestMethod Algorithm="${SHA256}"/><DigestValue>${digest}</DigestValue></Reference>`;
  return (
    `<CQT><Signature xmlns="${DSIG_NS}" Id="${v.sigId}"><SignedInfo>` +
    `<CanonicalizationMethod Algorithm="${C14N}"/><SignatureMethod Algorithm="${v.method}"/>` +
    ref(v.dlhdonId, v.digests[0]) +
    ref(v.objId, v.digests[1]) +
    ref(v.mccqtId, v.digests[2]) +
    `</SignedInfo><SignatureValue>${v.signatureValue}</SignatureValue>` +
    `<KeyInfo><X509Data><X509SubjectName>${escapeText(v.subjectName)}</X509SubjectName><X509Certificate>${v.certBase64}</X509Certificate></X509Data></KeyInfo>` +
    `<Object Id="${v.objId}"><SignatureProperties><SignatureProperty Target="#${v.sigId}"><SigningTime>${v.signingTime}</SigningTime></SignatureProperty></SignatureProperties></Object>` +
    `</Signature></CQT>`
  );
}

const fragmentParser = new DOMParser();

function importFragment(doc: Document, xml: string): Element {
  const frag = fragmentParser.parseFromString(xml, "application/xml") as unknown as Document;
  return doc.importNode(frag.documentElement!, true) as Element;
}

/**
 * Stamps a verified invoice with `code`, signed at `signingTime`. The parsed DOM is used as
 * scratch space (MCCQT and CQT are inserted into it to canonicalize them in context).
 * `dlhdonDigest` is SHA-256 of DLHDon under C14N 1.0, which the pipeline computed already.
 * `qr`, when given, is the authority's DLQRCode (built from the verified DLHDon): it takes the
 * place of any DLQRCode the seller sent (null: the answer carries none). It is not signed: the
 * CQT References are exactly the three of §6, and nothing may trust DLQRCode's text.
 */
export function stamp(doc: InvoiceDocument, code: string, signingTime: Date, key: AuthorityKey, dlhdonDigest: string, qr?: string | null): Stamped {
  const v = cqtValues(doc, signingTime, key);
  const mccqtXml = `<MCCQT Id="${v.mccqtId}">${code}</MCCQT>`;
  const qrXml = qr === undefined ? undefined : qr === null ? "" : `<DLQRCode>${escapeText(qr)}</DLQRCode>`;
  if (templateCanonicalApplies(doc, code)) {
    // No namespace declaration is in scope of MCCQT or CQT but the Signature's own default: the
    // canonical forms are the templates' (stampCanonicals; the DOM path below is the oracle in tests).
    const c = stampCanonicals(v, code, dlhdonDigest);
    v.digests = c.digests;
    v.signatureValue = signValue(key.method, key.privateKey, c.signedInfo);
    return { xml: splice(doc, mccqtXml, cqtXml(v), qrXml), dlhdonDigest };
  }
  return domStamp(doc, v, mccqtXml, key, dlhdonDigest, qrXml);
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
    certBase64: key.certDer.toString("base64"),
    signingTime: gmt7(signingTime),
  };
}

const PLAIN_ID = /^[A-Za-z0-9_.:-]+$/;
const PLAIN_CODE = /^[0-9A-Fa-f]+$/;

/** True when HDon and DSCKS declare no namespace (so none but the Signature's default is in scope of MCCQT and CQT) and the values need no escaping. */
export function templateCanonicalApplies(doc: InvoiceDocument, code: string): boolean {
  return !declaresNamespace(doc.parsed.root) && !declaresNamespace(doc.dscks) && PLAIN_ID.test(doc.dlhdonId) && PLAIN_CODE.test(code);
}

function declaresNamespace(el: Element): boolean {
  const attrs = el.attributes;
  for (let k = 0; k < attrs.length; k++) {
    const name = attrs.item(k)!.name;
    if (name === "xmlns" || name.startsWith("xmlns:")) return true;
  }
  return false;
}

/**
 * The C14N 1.0 octets of the stamp's Object and MCCQT, their digests with `dlhdonDigest`, and the
 * canonical SignedInfo, written from the template values (valid when templateCanonicalApplies).
 */
export function stampCanonicals(v: CqtValues, code: string, dlhdonDigest: string): { object: string; mccqt: string; signedInfo: string; digests: [string, string, string] } {
  const object =
    `<Object xmlns="${DSIG_NS}" Id="${v.objId}"><SignatureProperties><SignatureProperty Target="#${v.sigId}">` +
    `<SigningTime>${v.signingTime}</SigningTime></SignatureProperty></SignatureProperties></Object>`;
  const mccqt = `<MCCQT Id="${v.mccqtId}">${code}</MCCQT>`;
  const digests: [string, string, string] = [dlhdonDigest, digestBase64("sha256", object), digestBase64("sha256", mccqt)];
  const ref = (uri: string, digest: string) =>
    `<Reference URI="#${uri}"><DigestMethod Algorithm="${SHA256}"></DigestMethod><DigestValue>${digest}</DigestValue></Reference>`;
  const signedInfo =
    `<SignedInfo xmlns="${DSIG_NS}"><CanonicalizationMethod Algorithm="${C14N}"></CanonicalizationMethod>` +
    `<SignatureMethod Algorithm="${v.method}"></SignatureMethod>` +
    ref(v.dlhdonId, digests[0]) +
    ref(v.objId, digests[1]) +
    ref(v.mccqtId, digests[2]) +
    `</SignedInfo>`;
  return { object, mccqt, signedInfo, digests };
}

/** The reference implementation: MCCQT and CQT inserted into the parsed DOM and canonicalized there by xml-crypto. */
export function domStamp(doc: InvoiceDocument, v: CqtValues, mccqtXml: string, key: AuthorityKey, dlhdonDigest: string, qrXml?: string): Stamped {
  const { parsed, dscks } = doc;
  const mccqt = importFragment(parsed.doc, mccqtXml);
  parsed.root.insertBefore(mccqt, dscks);
  const cqt = importFragment(parsed.doc, cqtXml(v));
  dscks.appendChild(cqt);
  const signature = cqt.firstChild as Element;
  const object = signature.lastChild as Element;
  const signedInfo = signature.firstChild as Element;

  v.digests = [dlhdonDigest, digestBase64("sha256", canonicalize(object, C14N)), digestBase64("sha256", canonicalize(mccqt, C14N))];
  const digestValues = signedInfo.getElementsByTagNameNS(DSIG_NS, "DigestValue");
  for (let i = 0; i < 3; i++) digestValues.item(i)!.appendChild(parsed.doc.createTextNode(v.digests[i]!));
  v.signatureValue = signValue(key.method, key.privateKey, canonicalize(signedInfo, C14N));
  return { xml: splice(doc, mccqtXml, cqtXml(v), qrXml), dlhdonDigest };
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
