/**
 * Certificate revocation lists: parsed once at load (entries into a Set), and their signature
 * checked synchronously with node:crypto against the key of the issuer found in a chain.
 */
import "reflect-metadata";
import { createHash, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { X509Crl, X509CrlReason } from "@peculiar/x509";
import { describeName, looksLikePem, normalizeSerial, parsePemBundle } from "./certificate.js";

export interface RevokedEntry {
  readonly revocationDate: Date;
  readonly reason: X509CrlReason | undefined;
}

export interface ParsedCrl {
  readonly der: Uint8Array;
  /** SHA-256 of the DER, lower-case hex. */
  readonly fingerprint: string;
  readonly issuer: string;
  /** Same lookup key as ParsedCertificate.subjectKey. */
  readonly issuerKey: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Revoked serials, normalized as ParsedCertificate.serial. */
  readonly revoked: ReadonlyMap<string, RevokedEntry>;
  /** The signed bytes (tbsCertList), the signature algorithm and the signature value. */
  readonly tbs: Uint8Array;
  readonly algorithm: SignatureAlgorithm;
  readonly signature: Uint8Array;
}

interface SignatureAlgorithm {
  readonly oid: string;
  /** The node:crypto key type the algorithm needs. */
  readonly key: "rsa" | "ec" | "ed25519" | "ed448";
  /** The digest for node:crypto.verify; null for EdDSA. */
  readonly hash: string | null;
}

const ALGORITHMS: Readonly<Record<string, SignatureAlgorithm>> = Object.fromEntries(
  (
    [
      ["1.2.840.113549.1.1.5", "rsa", "sha1"],
      ["1.2.840.113549.1.1.14", "rsa", "sha224"],
      ["1.2.840.113549.1.1.11", "rsa", "sha256"],
      ["1.2.840.113549.1.1.12", "rsa", "sha384"],
      ["1.2.840.113549.1.1.13", "rsa", "sha512"],
      ["1.2.840.10045.4.1", "ec", "sha1"],
      ["1.2.840.10045.4.3.1", "ec", "sha224"],
      ["1.2.840.10045.4.3.2", "ec", "sha256"],
      ["1.2.840.10045.4.3.3", "ec", "sha384"],
      ["1.2.840.10045.4.3.4", "ec", "sha512"],
      ["1.3.101.112", "ed25519", null],
      ["1.3.101.113", "ed448", null],
    ] as const
  ).map(([oid, key, hash]) => [oid, { oid, key, hash }]),
);

/** CRL extensions whose presence, even critical, does not change what a listed serial means. */
const HANDLED_CRL_EXTENSIONS = new Set([
  "2.5.29.20", // cRLNumber
  "2.5.29.35", // authorityKeyIdentifier
  "2.5.29.28", // issuingDistributionPoint: a narrower scope still revokes what it lists
  "2.5.29.27", // deltaCRLIndicator: a delta lists revocations too
  "2.5.29.46", // freshestCRL
]);
const HANDLED_ENTRY_EXTENSIONS = new Set(["2.5.29.21", "2.5.29.24", "2.5.29.23"]); // reason, invalidity date, hold instruction
const CERTIFICATE_ISSUER = "2.5.29.29";

/** Parses one DER CRL; throws (with the reason) on anything this module cannot use faithfully. */
export function parseCrl(der: Uint8Array): ParsedCrl {
  const bytes = Uint8Array.from(der);
  const { tbs, algorithm, signature } = splitSigned(bytes);
  const crl = new X509Crl(bytes);
  for (const ext of crl.extensions) {
    if (ext.critical && !HANDLED_CRL_EXTENSIONS.has(ext.type)) throw new Error(`CRL has an unhandled critical extension ${ext.type}`);
  }
  const revoked = new Map<string, RevokedEntry>();
  for (const entry of crl.entries) {
    for (const ext of entry.extensions) {
      // An indirect CRL's entries may belong to another issuer: reading them as ours would be wrong.
      if (ext.type === CERTIFICATE_ISSUER) throw new Error("indirect CRLs (certificateIssuer entries) are not supported");
      if (ext.critical && !HANDLED_ENTRY_EXTENSIONS.has(ext.type)) throw new Error(`CRL entry has an unhandled critical extension ${ext.type}`);
    }
    // removeFromCRL only appears in delta CRLs and un-lists a held certificate.
    if (entry.reason === X509CrlReason.removeFromCRL) continue;
    revoked.set(normalizeSerial(entry.serialNumber), { revocationDate: entry.revocationDate, reason: entry.reason });
  }
  const { text, key } = describeName(crl.issuerName);
  return Object.freeze({
    der: bytes,
    fingerprint: createHash("sha256").update(bytes).digest("hex"),
    issuer: text,
    issuerKey: key,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    revoked,
    tbs,
    algorithm,
    signature,
  });
}

/** True when the CRL's signature verifies with this public key (synchronous; never throws). */
export function crlSignatureVerifies(crl: ParsedCrl, key: KeyObject): boolean {
  if (key.asymmetricKeyType !== crl.algorithm.key) return false;
  try {
    return cryptoVerify(crl.algorithm.hash, crl.tbs, crl.algorithm.key === "ec" ? { key, dsaEncoding: "der" } : key, crl.signature);
  } catch {
    return false;
  }
}

/** The DER CRLs in a file's bytes: PEM (`X509 CRL` or `CRL` blocks, any number) or one DER CRL. */
export function crlsFromBytes(bytes: Uint8Array): Uint8Array[] {
  if (!looksLikePem(bytes)) return [Uint8Array.from(bytes)];
  const text = Buffer.from(bytes).toString("latin1");
  const blocks = [...parsePemBundle(text, "X509 CRL"), ...parsePemBundle(text, "CRL")];
  if (blocks.length === 0) throw new Error("no PEM X509 CRL block found");
  return blocks;
}

// --- the little DER needed to find the signed bytes of a CertificateList ---

interface Tlv {
  tag: number;
  /** Offset of the first content byte, and one past the last. */
  start: number;
  end: number;
}

function readTlv(buf: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new Error("truncated DER");
  const tag = buf[pos]!;
  let len = buf[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error("unsupported DER length");
    if (start + n > limit) throw new Error("truncated DER");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  if (start + len > limit) throw new Error("truncated DER");
  return { tag, start, end: start + len };
}

function splitSigned(der: Uint8Array): { tbs: Uint8Array; algorithm: SignatureAlgorithm; signature: Uint8Array } {
  const outer = readTlv(der, 0, der.length);
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new Error("not a DER CertificateList");
  const tbs = readTlv(der, outer.start, outer.end);
  const alg = readTlv(der, tbs.end, outer.end);
  const sig = readTlv(der, alg.end, outer.end);
  if (tbs.tag !== 0x30 || alg.tag !== 0x30 || sig.tag !== 0x03 || sig.end !== outer.end) throw new Error("not a DER CertificateList");
  const algBytes = der.subarray(tbs.end, alg.end);

  // tbsCertList: version INTEGER OPTIONAL, then the same AlgorithmIdentifier as outside (RFC 5280 §5.1.2.2).
  let inner = readTlv(der, tbs.start, tbs.end);
  let innerPos = tbs.start;
  if (inner.tag === 0x02) {
    innerPos = inner.end;
    inner = readTlv(der, inner.end, tbs.end);
  }
  if (!Buffer.from(der.subarray(innerPos, inner.end)).equals(algBytes)) throw new Error("CRL signature algorithms inside and outside differ");

  const oidTlv = readTlv(der, alg.start, alg.end);
  if (oidTlv.tag !== 0x06) throw new Error("malformed CRL signature algorithm");
  const oid = decodeOid(der.subarray(oidTlv.start, oidTlv.end));
  const algorithm = ALGORITHMS[oid];
  if (!algorithm) throw new Error(`unsupported CRL signature algorithm ${oid}`);
  if (der[sig.start] !== 0) throw new Error("malformed CRL signature value");
  return { tbs: der.subarray(outer.start, tbs.end), algorithm, signature: der.subarray(sig.start + 1, sig.end) };
}

function decodeOid(b: Uint8Array): string {
  const parts: number[] = [];
  let v = 0;
  for (const byte of b) {
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join(".");
}
