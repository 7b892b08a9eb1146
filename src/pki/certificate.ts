/**
 * X.509 certificates as the trust side sees them: parsed once, cached by SHA-256 fingerprint.
 * node:crypto holds the key and does the fast, synchronous signature checks; @peculiar/x509
 * reads what node cannot (subject attributes such as UID, key usage, basic constraints).
 */
import { TAX_CODE_FORM } from "../domain/taxcode.js";
import "reflect-metadata";
import { createHash, type KeyObject, X509Certificate } from "node:crypto";
import { X509Certificate as AsnCertificate, BasicConstraintsExtension, ExtendedKeyUsageExtension, KeyUsageFlags, KeyUsagesExtension, Name } from "@peculiar/x509";
import { Lru } from "./lru.js";

/** userID (RFC 4519 "UID"), where Vietnamese seller certificates carry `MST:<tax code>`. */
export const UID_OID = "0.9.2342.19200300.100.1.1";

/** 10 digits, 10 digits and a 3-digit branch suffix, or 12 digits (a personal identity number). */

/** The extensions this module understands; any other critical extension makes a certificate unusable (RFC 5280 §4.2). */
const HANDLED_CRITICAL = new Set([
  "2.5.29.15", // keyUsage
  "2.5.29.19", // basicConstraints
  "2.5.29.37", // extKeyUsage (a signer's must allow signing documents: trust.ts)
  "2.5.29.17", // subjectAltName
  "2.5.29.18", // issuerAltName
  "2.5.29.32", // certificatePolicies (no policy is required, so nothing to enforce)
  "2.5.29.14", // subjectKeyIdentifier
  "2.5.29.35", // authorityKeyIdentifier
]);

/** Short names for RFC 4514-style strings; anything else is written as its dotted OID. */
const SHORT_NAMES: Record<string, string> = {
  UID: UID_OID,
  STREET: "2.5.4.9",
  SERIALNUMBER: "2.5.4.5",
  E: "1.2.840.113549.1.9.1",
};

export interface KeyUsage {
  digitalSignature: boolean;
  nonRepudiation: boolean;
  keyEncipherment: boolean;
  dataEncipherment: boolean;
  keyAgreement: boolean;
  keyCertSign: boolean;
  cRLSign: boolean;
  encipherOnly: boolean;
  decipherOnly: boolean;
}

/** A parsed certificate. Shared through the cache: treat every field as immutable. */
export interface ParsedCertificate {
  /** The exact DER bytes (a private copy). */
  readonly der: Uint8Array;
  /** SHA-256 of the DER, lower-case hex. */
  readonly fingerprint: string;
  /** Upper-case hex without separators, as `openssl x509 -serial` prints it. */
  readonly serial: string;
  /** RFC 4514-style strings (most specific RDN first), e.g. `UID=MST:0100000010,CN=…,C=VN`. */
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  /** basicConstraints CA:TRUE. */
  readonly isCA: boolean;
  /** basicConstraints pathLenConstraint, when present. */
  readonly pathLength: number | undefined;
  /** null when the certificate has no keyUsage extension. */
  readonly keyUsage: Readonly<KeyUsage> | null;
  /** The extendedKeyUsage purposes (OIDs); null when the certificate has no such extension. */
  readonly extKeyUsage: readonly string[] | null;
  /** The subject key: its type (node's asymmetricKeyType), RSA size and public exponent, EC curve. */
  readonly key: Readonly<{ type: string; bits?: number; exponent?: bigint; curve?: string }>;
  /** The MST of the subject's `UID=MST:<mst>`; null when absent, malformed or ambiguous. */
  readonly taxCode: string | null;
  readonly pem: string;
  /** Subject and issuer names are equal (a root or a self-issued CA certificate). */
  readonly selfIssued: boolean;
  /** Structural reasons this certificate may not take part in a trusted chain (empty when none). */
  readonly problems: readonly string[];
  /** node's certificate object, for `verify`/`checkIssued`. */
  readonly x509: X509Certificate;
  /** Case- and space-insensitive key of the subject and issuer names, for finding issuers. */
  readonly subjectKey: string;
  readonly issuerKey: string;
}

// Parsing is a pure function of the bytes, so one process-wide memo is safe; it is bounded.
const cache = new Lru<string, ParsedCertificate>(2048);

/** Parses one DER certificate; throws on anything that is not one. Cached by SHA-256 fingerprint (bounded LRU). */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const fingerprint = createHash("sha256").update(der).digest("hex");
  const hit = cache.get(fingerprint);
  if (hit) return hit;
  const parsed = parseUncached(Uint8Array.from(der), fingerprint);
  cache.set(fingerprint, parsed);
  return parsed;
}

/** Like parseCertificate, but answers null instead of throwing. */
export function tryParseCertificate(der: Uint8Array): ParsedCertificate | null {
  try {
    return parseCertificate(der);
  } catch {
    return null;
  }
}

function parseUncached(der: Uint8Array<ArrayBuffer>, fingerprint: string): ParsedCertificate {
  let node: X509Certificate;
  let asn: AsnCertificate;
  try {
    node = new X509Certificate(der);
    asn = new AsnCertificate(der);
  } catch (e) {
    throw new Error(`not a parseable X.509 certificate: ${e instanceof Error ? e.message : String(e)}`);
  }
  // node also accepts PEM; require that what it parsed is exactly these bytes.
  if (!Buffer.from(node.raw).equals(der)) throw new Error("not a DER X.509 certificate (trailing or re-encoded bytes)");

  const problems: string[] = [];
  const seen = new Set<string>();
  for (const ext of asn.extensions) {
    if (seen.has(ext.type)) problems.push(`extension ${ext.type} appears twice`);
    seen.add(ext.type);
    if (ext.critical && !HANDLED_CRITICAL.has(ext.type)) problems.push(`unhandled critical extension ${ext.type}`);
  }

  const bc = asn.getExtension("2.5.29.19");
  const basic = bc instanceof BasicConstraintsExtension ? bc : null;
  const ku = asn.getExtension("2.5.29.15");
  const keyUsage = ku instanceof KeyUsagesExtension ? keyUsageFlags(ku.usages) : null;
  if (ku && !keyUsage) problems.push("keyUsage extension could not be read");
  if (bc && !basic) problems.push("basicConstraints extension could not be read");

  const eku = asn.getExtension("2.5.29.37");
  const extKeyUsage = eku instanceof ExtendedKeyUsageExtension ? Object.freeze(eku.usages.map(String)) : null;
  if (eku && !extKeyUsage) problems.push("extendedKeyUsage extension could not be read");
  const details = node.publicKey.asymmetricKeyDetails ?? {};
  const key = Object.freeze({
    type: node.publicKey.asymmetricKeyType ?? "unknown",
    ...(details.modulusLength !== undefined ? { bits: details.modulusLength } : {}),
    ...(details.publicExponent !== undefined ? { exponent: details.publicExponent } : {}),
    ...(details.namedCurve !== undefined ? { curve: details.namedCurve } : {}),
  });

  const subjectName = new Name(asn.subjectName.toArrayBuffer(), SHORT_NAMES);
  const { text: subject, key: subjectKey } = describeName(subjectName);
  const { text: issuer, key: issuerKey } = describeName(asn.issuerName);

  return Object.freeze({
    der,
    fingerprint,
    serial: normalizeSerial(asn.serialNumber),
    subject,
    issuer,
    notBefore: asn.notBefore,
    notAfter: asn.notAfter,
    publicKey: node.publicKey,
    isCA: basic?.ca === true,
    pathLength: basic?.ca === true ? basic.pathLength : undefined,
    keyUsage,
    extKeyUsage,
    key,
    taxCode: taxCodeOf(subjectName),
    pem: toPem(der, "CERTIFICATE"),
    selfIssued: subjectKey === issuerKey,
    problems: Object.freeze(problems),
    x509: node,
    subjectKey,
    issuerKey,
  });
}

function keyUsageFlags(bits: number): Readonly<KeyUsage> {
  return Object.freeze({
    digitalSignature: (bits & KeyUsageFlags.digitalSignature) !== 0,
    nonRepudiation: (bits & KeyUsageFlags.nonRepudiation) !== 0,
    keyEncipherment: (bits & KeyUsageFlags.keyEncipherment) !== 0,
    dataEncipherment: (bits & KeyUsageFlags.dataEncipherment) !== 0,
    keyAgreement: (bits & KeyUsageFlags.keyAgreement) !== 0,
    keyCertSign: (bits & KeyUsageFlags.keyCertSign) !== 0,
    cRLSign: (bits & KeyUsageFlags.cRLSign) !== 0,
    encipherOnly: (bits & KeyUsageFlags.encipherOnly) !== 0,
    decipherOnly: (bits & KeyUsageFlags.decipherOnly) !== 0,
  });
}

/** The one MST of `UID=MST:<mst>`; two different ones or a malformed one give null (never guess). */
function taxCodeOf(subject: Name): string | null {
  const codes = new Set(
    subject
      .getField(UID_OID)
      .filter((v) => v.startsWith("MST:"))
      .map((v) => v.slice(4)),
  );
  if (codes.size !== 1) return null;
  const [code] = codes;
  return code !== undefined && TAX_CODE_FORM.test(code) ? code : null;
}

/** Serial hex as OpenSSL prints it: upper case, whole bytes, no sign byte. */
export function normalizeSerial(hex: string): string {
  let s = hex.replace(/[\s:]/g, "").toUpperCase();
  if (s.length % 2 === 1) s = `0${s}`;
  while (s.length > 2 && s.startsWith("00")) s = s.slice(2);
  return s;
}

function rfc4514(name: Name): string {
  return name
    .toJSON()
    .slice()
    .reverse()
    .map((rdn) =>
      Object.entries(rdn)
        .flatMap(([type, values]) => values.map((v) => `${type}=${v.startsWith("#") ? v : escapeValue(v)}`))
        .join("+"),
    )
    .join(",");
}

function escapeValue(v: string): string {
  return v
    .replace(/([,+"\\<>;=])/g, "\\$1")
    .replace(/^([ #])/, "\\$1")
    .replace(/ $/, "\\ ")
    .replace(/[\u0000-\u001f]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * A distinguished name as an RFC 4514-style string and as a case- and space-insensitive lookup key
 * (for finding issuers; node's checkIssued, i.e. OpenSSL's canonical compare, has the final word).
 */
export function describeName(name: Name): { text: string; key: string } {
  const text = rfc4514(new Name(name.toArrayBuffer(), SHORT_NAMES));
  return { text, key: text.normalize("NFC").toLowerCase().replace(/\s+/g, " ") };
}

/** PEM text of DER bytes. */
export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** The DER of every PEM block with this label (default CERTIFICATE) in text; other blocks are skipped. */
export function parsePemBundle(text: string, label = "CERTIFICATE"): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    if (m[1] !== label) continue;
    const body = (m[2] ?? "").replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0 || body.length === 0) {
      throw new Error(`malformed PEM ${label} block`);
    }
    out.push(new Uint8Array(Buffer.from(body, "base64")));
  }
  return out;
}

/** DER of bytes that are either DER or PEM text (first block with the label; default CERTIFICATE). */
export function pemOrDerToDer(bytes: Uint8Array | string, label = "CERTIFICATE"): Uint8Array {
  const text = typeof bytes === "string" ? bytes : looksLikePem(bytes) ? Buffer.from(bytes).toString("latin1") : null;
  if (text === null) return Uint8Array.from(bytes as Uint8Array);
  const [first] = parsePemBundle(text, label);
  if (!first) throw new Error(`no PEM ${label} block found`);
  return first;
}

/** True when the bytes start (after a BOM or whitespace) with a PEM armour line. */
export function looksLikePem(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 64)).toString("latin1").replace(/^\uFEFF|^\u00EF\u00BB\u00BF/, "").trimStart();
  return head.startsWith("-----BEGIN ");
}
