/**
 * Trust material from files (HOADON_TRUST_ANCHORS, HOADON_INTERMEDIATES, HOADON_CRLS). Apart from
 * trust.ts so that the Workers bundle, which gets its trust material as PEM text, has no node:fs.
 */
import { readFileSync } from "node:fs";
import { looksLikePem, parseCertificate, parsePemBundle, pemOrDerToDer } from "./certificate.js";
import { crlsFromBytes, parseCrl } from "./crl.js";
import type { TrustMaterial } from "./trust.js";

export interface TrustPaths {
  /** PEM bundle of trusted root CAs (HOADON_TRUST_ANCHORS). */
  anchorsPath: string;
  /** PEM bundle of intermediate CAs (HOADON_INTERMEDIATES). */
  intermediatesPath?: string;
  /** PEM or DER CRL files (HOADON_CRLS). */
  crlPaths?: string[];
}

/** Reads the trust material from files; throws one clear error naming the file on anything unusable. */
export function loadTrust(paths: TrustPaths): TrustMaterial {
  const anchors = readCertificates(paths.anchorsPath);
  if (anchors.length === 0) throw new Error(`${paths.anchorsPath}: no certificate found`);
  const intermediates = paths.intermediatesPath ? readCertificates(paths.intermediatesPath) : [];
  const crls = (paths.crlPaths ?? []).flatMap(readCrls);
  return { anchors, intermediates, crls };
}

/** The DER CRLs of one file (PEM with any number of CRLs, or one DER CRL); throws naming the file. */
export function readCrls(path: string): Uint8Array[] {
  try {
    const ders = crlsFromBytes(readFileSync(path));
    for (const der of ders) parseCrl(der);
    return ders;
  } catch (e) {
    throw new Error(`${path}: ${messageOf(e)}`);
  }
}

function readCertificates(path: string): Uint8Array[] {
  try {
    const bytes = readFileSync(path);
    const ders = looksLikePem(bytes) ? parsePemBundle(bytes.toString("latin1")) : [pemOrDerToDer(bytes)];
    for (const der of ders) parseCertificate(der);
    return ders;
  } catch (e) {
    throw new Error(`${path}: ${messageOf(e)}`);
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
