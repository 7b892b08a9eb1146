/**
 * The trust side of a seller signature: does the signing certificate chain to a configured
 * anchor, may it sign, was it valid at the signing time, is it revoked, does it name the seller?
 * (Whether the signature value verifies is xml/'s business; registration is the caller's.)
 *
 * Everything on the per-invoice path is synchronous: node:crypto checks each link, CRLs are
 * parsed at load, and results that depend only on bytes are cached by fingerprint.
 */
import "reflect-metadata";
import { type Fault, ok, type Result } from "../errors.js";
import { type KeyUsage, type ParsedCertificate, parseCertificate, pemOrDerToDer, tryParseCertificate } from "./certificate.js";
import { crlSignatureVerifies, crlsFromBytes, type ParsedCrl, parseCrl } from "./crl.js";
import { Lru } from "./lru.js";

/** The configured trust material: certificates as DER; CRLs as DER or PEM bytes. */
export interface TrustMaterial {
  anchors: Uint8Array[];
  intermediates: Uint8Array[];
  crls: Uint8Array[];
}

export interface TrustStoreOptions {
  /** Where warnings go (a CRL ignored for a bad signature, a stale CRL). Default: console.warn. */
  warn?: (message: string) => void;
  /** Most certificates in a path, leaf and anchor included. Default 6. */
  maxDepth?: number;
  /** Most KeyInfo certificates considered for one signature. Default 10. */
  maxExtraCerts?: number;
  /** Leaves whose chain paths are remembered. Default 4096. */
  chainCacheSize?: number;
  /** HOADON_ALLOW_RSA1024: accept signers' RSA keys of 1024 to 2047 bits (legacy, real traffic until 2025). Default false. */
  allowRsa1024?: boolean;
}

/** The curves a signer's EC key may use: P-256, P-384, P-521. */
const CURVES = new Set(["prime256v1", "secp384r1", "secp521r1"]);
/**
 * extendedKeyUsage purposes that allow signing documents; a signer's EKU, when present, names one.
 * Vietnamese seller certificates carry clientAuth and emailProtection with Microsoft's and
 * Adobe's document-signing purposes (interop samples 01 and 09).
 */
const SIGNING_EKUS = new Set([
  "2.5.29.37.0", // anyExtendedKeyUsage
  "1.3.6.1.5.5.7.3.2", // clientAuth
  "1.3.6.1.5.5.7.3.4", // emailProtection
  "1.3.6.1.5.5.7.3.36", // documentSigning (RFC 9336)
  "1.3.6.1.4.1.311.10.3.12", // Microsoft document signing
  "1.2.840.113583.1.1.5", // Adobe authentic documents
]);

/** At most this many complete paths are kept per leaf; the first one valid at the time is used. */
const MAX_PATHS = 4;
/** At most this many issuer candidates are tried while building one chain (bounds the search). */
const MAX_LINK_CHECKS = 64;
/** At most this many faults are reported for one failed chain. */
const MAX_FAULTS = 10;

type Stage = Result<ParsedCertificate>;

/** Trust anchors, intermediates and CRLs, with the checks of invoice-format.md §4 over them. */
export class TrustStore {
  readonly #warn: (message: string) => void;
  readonly #maxDepth: number;
  readonly #maxExtra: number;
  readonly #allowRsa1024: boolean;
  readonly #anchors = new Map<string, ParsedCertificate>();
  /** Configured issuers (anchors first, then intermediates) by subject key. */
  readonly #issuers = new Map<string, ParsedCertificate[]>();
  #crls = new Map<string, ParsedCrl[]>();
  #generation = 0;
  /** Complete paths by leaf fingerprint; a path depends on bytes only, never on time or CRLs. */
  readonly #paths: Lru<string, ParsedCertificate[][]>;
  /** Why `child` cannot hang under `issuer` (null: it can), by "child>issuer" fingerprints. */
  readonly #links = new Lru<string, string | null>(8192);
  /** Whether a CRL verifies under an issuer, by "crl>issuer" fingerprints. */
  #crlVerdicts = new Map<string, boolean>();

  constructor(material: TrustMaterial, options: TrustStoreOptions = {}) {
    this.#warn = options.warn ?? ((m) => console.warn(m));
    this.#maxDepth = options.maxDepth ?? 6;
    this.#maxExtra = options.maxExtraCerts ?? 10;
    this.#allowRsa1024 = options.allowRsa1024 ?? false;
    this.#paths = new Lru(options.chainCacheSize ?? 4096);
    material.anchors.forEach((der, i) => {
      const c = parseOrThrow(der, `trust anchor #${i + 1}`);
      this.#anchors.set(c.fingerprint, c);
      this.#addIssuer(c);
    });
    if (this.#anchors.size === 0) throw new Error("no trust anchor configured");
    material.intermediates.forEach((der, i) => this.#addIssuer(parseOrThrow(der, `intermediate #${i + 1}`)));
    this.#crls = this.#indexCrls(material.crls.flatMap((b) => crlsFromBytes(b)));
  }

  /**
   * Whether the signer of an invoice is trusted: chain → may sign → valid at `at` → not revoked →
   * `UID=MST:` equals the seller's tax code. The first failing stage is reported, with all its faults.
   */
  verifySigner(leafDer: Uint8Array, keyInfoCerts: readonly Uint8Array[], at: Date, sellerTaxCode: string): Result<ParsedCertificate> {
    const checked = this.#evaluate(leafDer, keyInfoCerts, at, "signing time");
    if (!checked.ok) return checked;
    return bindsTaxCode(checked.value, sellerTaxCode);
  }

  /**
   * Whether a certificate may be registered to a seller now: the same chain, signer and
   * revocation checks, validity at `now`, and `UID=MST:` equal to `taxCode`.
   * Accepts DER or PEM; `extraCerts` may supply intermediates sent along with it.
   */
  checkForRegistration(der: Uint8Array, taxCode: string, now: Date, extraCerts: readonly Uint8Array[] = []): Result<ParsedCertificate> {
    let leafDer: Uint8Array;
    try {
      leafDer = pemOrDerToDer(der);
    } catch (e) {
      return untrusted([`The certificate is not readable: ${messageOf(e)}.`]);
    }
    const checked = this.#evaluate(leafDer, extraCerts, now, "registration time");
    if (!checked.ok) return checked;
    return bindsTaxCode(checked.value, taxCode);
  }

  /** Replaces the CRLs (DER or PEM bytes, e.g. on SIGHUP); throws and keeps the old ones if any is unusable. */
  reloadCrls(crls: readonly Uint8Array[]): void {
    const next = this.#indexCrls(crls.flatMap((b) => crlsFromBytes(b)));
    this.#crls = next;
    this.#crlVerdicts = new Map();
    this.#paths.clear();
    this.#generation++;
  }

  /** The CRLs in force (for their expiry gauges): issuer, thisUpdate, nextUpdate. */
  crls(): { issuer: string; thisUpdate: Date; nextUpdate: Date | undefined }[] {
    return [...this.#crls.values()].flat().map((c) => ({ issuer: c.issuer, thisUpdate: c.thisUpdate, nextUpdate: c.nextUpdate }));
  }

  /** Changes whenever a reload changes what a verdict could be; include it in any cache of verdicts. */
  get generation(): number {
    return this.#generation;
  }

  /** True when the chain paths of this leaf (by SHA-256 fingerprint) are cached: verifySigner will not build a chain. */
  hasCachedChain(leafFingerprint: string): boolean {
    return this.#paths.has(leafFingerprint);
  }

  /** The configured trust anchors. */
  get anchors(): readonly ParsedCertificate[] {
    return [...this.#anchors.values()];
  }

  #evaluate(leafDer: Uint8Array, extraDers: readonly Uint8Array[], at: Date, when: string): Result<ParsedCertificate> {
    const leaf = tryParseCertificate(leafDer);
    if (!leaf) return untrusted(["The signing certificate is not a readable X.509 certificate."]);
    if (Number.isNaN(at.getTime())) return { ok: false, faults: [{ code: "CERT_EXPIRED", message: `The ${when} is not a valid time.` }] };

    const paths = this.#pathsFor(leaf, extraDers);
    if (!paths.ok) return paths;

    const signer = this.#maySign(leaf);
    if (!signer.ok) return signer;

    // Prefer a path whose every certificate is valid at the time (a renewed CA may sit beside an old one).
    let chosen = paths.value[0]!;
    let validity = validityFaults(chosen, at, when);
    for (const path of paths.value.slice(1)) {
      if (validity.length === 0) break;
      const faults = validityFaults(path, at, when);
      if (faults.length === 0) {
        chosen = path;
        validity = faults;
      }
    }
    if (validity.length > 0) return { ok: false, faults: validity };

    const revoked = this.#revocationFaults(chosen);
    if (revoked.length > 0) return { ok: false, faults: revoked };
    return ok(leaf);
  }

  /** Stage 1: every complete path from the leaf to an anchor (cached by leaf fingerprint). */
  #pathsFor(leaf: ParsedCertificate, extraDers: readonly Uint8Array[]): Result<ParsedCertificate[][]> {
    const cached = this.#paths.get(leaf.fingerprint);
    if (cached) return ok(cached);
    // A leaf that is itself an anchor has a one-certificate path; the signer stage refuses it.
    if (this.#anchors.has(leaf.fingerprint)) return ok([[leaf]]);

    if (extraDers.length > this.#maxExtra + 1) {
      return untrusted([`KeyInfo carries ${extraDers.length} certificates; at most ${this.#maxExtra} are considered.`]);
    }
    const extras = new Map<string, ParsedCertificate[]>();
    for (const der of extraDers) {
      const c = tryParseCertificate(der);
      // An unreadable extra certificate cannot help a chain; the leaf itself is not its own issuer.
      if (!c || c.fingerprint === leaf.fingerprint) continue;
      const list = extras.get(c.subjectKey) ?? [];
      if (!list.some((x) => x.fingerprint === c.fingerprint)) list.push(c);
      extras.set(c.subjectKey, list);
    }

    const found: ParsedCertificate[][] = [];
    const reasons = new Set<string>();
    let budget = MAX_LINK_CHECKS;
    const path: ParsedCertificate[] = [leaf];

    const walk = (): void => {
      const top = path[path.length - 1]!;
      if (path.length > 1 && this.#anchors.has(top.fingerprint)) {
        found.push([...path]);
        return;
      }
      if (path.length >= this.#maxDepth) {
        reasons.add(`The chain from '${leaf.subject}' is longer than ${this.#maxDepth} certificates without reaching a trust anchor.`);
        return;
      }
      const seen = new Set<string>();
      const candidates = [...(this.#issuers.get(top.issuerKey) ?? []), ...(extras.get(top.issuerKey) ?? [])].filter((c) => {
        if (seen.has(c.fingerprint)) return false;
        seen.add(c.fingerprint);
        return !path.some((p) => p.fingerprint === c.fingerprint); // no loops
      });
      if (top.selfIssued && this.#linkProblem(top, top) === null) {
        reasons.add(`'${top.subject}' is self-signed and is not a configured trust anchor.`);
      } else if (candidates.length === 0) {
        reasons.add(`No issuer certificate of '${top.subject}' (issuer '${top.issuer}') is a trust anchor, a configured intermediate or in KeyInfo.`);
      }
      for (const c of candidates) {
        if (found.length >= MAX_PATHS) return;
        if (budget-- <= 0) {
          reasons.add("Too many candidate issuer certificates; the chain search was stopped.");
          return;
        }
        const why = this.#linkProblem(top, c) ?? pathLengthProblem(c, path);
        if (why) {
          reasons.add(why);
          continue;
        }
        path.push(c);
        walk();
        path.pop();
      }
    };
    walk();

    if (found.length === 0) return untrusted([...reasons].slice(0, MAX_FAULTS));
    this.#paths.set(leaf.fingerprint, found);
    return ok(found);
  }

  /** Why `issuer` cannot have issued `child` (null when it did and may have). Cached: depends on bytes only. */
  #linkProblem(child: ParsedCertificate, issuer: ParsedCertificate): string | null {
    const key = `${child.fingerprint}>${issuer.fingerprint}`;
    const hit = this.#links.get(key);
    if (hit !== undefined) return hit;
    const why = linkProblem(child, issuer);
    this.#links.set(key, why);
    return why;
  }

  /** Stage 2: the leaf is an end entity that may make signatures. */
  #maySign(leaf: ParsedCertificate): Stage {
    const faults: string[] = [];
    if (this.#anchors.has(leaf.fingerprint)) {
      faults.push(`The signing certificate '${leaf.subject}' is a trust anchor; a CA may not sign invoices.`);
    } else if (leaf.isCA) {
      faults.push(`The signing certificate '${leaf.subject}' is a CA certificate (basicConstraints CA:TRUE); a CA may not sign invoices.`);
    }
    if (!leaf.keyUsage) {
      faults.push("The signing certificate carries no keyUsage extension; a signer's must allow digitalSignature or nonRepudiation.");
    } else if (!leaf.keyUsage.digitalSignature && !leaf.keyUsage.nonRepudiation) {
      faults.push(`The signing certificate's key usage (${usageNames(leaf.keyUsage)}) allows neither digitalSignature nor nonRepudiation.`);
    }
    if (leaf.extKeyUsage && !leaf.extKeyUsage.some((p) => SIGNING_EKUS.has(p))) {
      faults.push(`The signing certificate's extended key usage (${leaf.extKeyUsage.join(", ")}) does not allow signing documents.`);
    }
    const key = keyProblem(leaf, this.#allowRsa1024);
    if (key) faults.push(key);
    for (const p of leaf.problems) faults.push(`The signing certificate cannot be relied on: ${p}.`);
    return faults.length > 0 ? untrusted(faults) : ok(leaf);
  }

  /** Stage 4: no certificate below the anchor is listed on a verified CRL of its issuer. */
  #revocationFaults(path: readonly ParsedCertificate[]): Fault[] {
    const faults: Fault[] = [];
    for (let i = 0; i + 1 < path.length; i++) {
      const cert = path[i]!;
      const issuer = path[i + 1]!;
      for (const crl of this.#crls.get(issuer.subjectKey) ?? []) {
        const entry = crl.revoked.get(cert.serial);
        if (!entry || !this.#crlTrusted(crl, issuer)) continue;
        const who = i === 0 ? "The signing certificate" : `The CA certificate '${cert.subject}'`;
        faults.push({
          code: "CERT_REVOKED",
          message: `${who} (serial ${cert.serial}) was revoked on ${entry.revocationDate.toISOString()} by '${issuer.subject}'.`,
        });
        break;
      }
    }
    return faults;
  }

  /** A CRL counts only when its issuer in the chain signed it; a bad one is ignored, with a warning. */
  #crlTrusted(crl: ParsedCrl, issuer: ParsedCertificate): boolean {
    const key = `${crl.fingerprint}>${issuer.fingerprint}`;
    const known = this.#crlVerdicts.get(key);
    if (known !== undefined) return known;
    let verdict = crlSignatureVerifies(crl, issuer.publicKey);
    if (!verdict) {
      this.#warn(`pki: ignoring CRL ${crl.fingerprint.slice(0, 16)} of '${crl.issuer}': its signature does not verify with the key of '${issuer.subject}'`);
    } else if (issuer.keyUsage && !issuer.keyUsage.cRLSign) {
      verdict = false;
      this.#warn(`pki: ignoring CRL ${crl.fingerprint.slice(0, 16)} of '${crl.issuer}': the issuer's key usage lacks cRLSign`);
    }
    // Bounded by (CRLs × issuers seen with their name), both small.
    this.#crlVerdicts.set(key, verdict);
    return verdict;
  }

  #addIssuer(c: ParsedCertificate): void {
    const list = this.#issuers.get(c.subjectKey) ?? [];
    if (!list.some((x) => x.fingerprint === c.fingerprint)) list.push(c);
    this.#issuers.set(c.subjectKey, list);
  }

  #indexCrls(ders: readonly Uint8Array[]): Map<string, ParsedCrl[]> {
    const byIssuer = new Map<string, ParsedCrl[]>();
    const now = Date.now();
    ders.forEach((der, i) => {
      let crl: ParsedCrl;
      try {
        crl = parseCrl(der);
      } catch (e) {
        throw new Error(`CRL #${i + 1}: ${messageOf(e)}`);
      }
      if (crl.nextUpdate && crl.nextUpdate.getTime() < now) {
        // Still used: what it lists stays revoked; only what it omits may be out of date.
        this.#warn(`pki: CRL of '${crl.issuer}' is past its nextUpdate (${crl.nextUpdate.toISOString()})`);
      }
      byIssuer.set(crl.issuerKey, [...(byIssuer.get(crl.issuerKey) ?? []), crl]);
    });
    return byIssuer;
  }
}

/** Why the signer's key is outside the policy (null when inside): RSA ≥ 2048 bits (1024 under the legacy switch) with exponent 65537, or EC on P-256/384/521. */
function keyProblem(leaf: ParsedCertificate, allowRsa1024: boolean): string | null {
  const k = leaf.key;
  if (k.type === "rsa") {
    const bits = k.bits ?? 0;
    if (bits < 1024) return `The signing certificate's RSA key has ${bits} bits; at least 2048 are required.`;
    if (bits < 2048 && !allowRsa1024) return `The signing certificate's RSA key has ${bits} bits; at least 2048 are required (HOADON_ALLOW_RSA1024=true accepts legacy 1024-bit keys).`;
    if (k.exponent !== 65537n) return `The signing certificate's RSA public exponent is ${k.exponent ?? "unknown"}; only 65537 is accepted.`;
    return null;
  }
  if (k.type === "ec") return k.curve && CURVES.has(k.curve) ? null : `The signing certificate's EC key is on curve ${k.curve ?? "unknown"}; only P-256, P-384 and P-521 are accepted.`;
  return `The signing certificate's key type ${k.type} is not accepted (RSA or EC only).`;
}

/** The pure part of a link check: structure, names and key identifiers, CA rights, signature. */
function linkProblem(child: ParsedCertificate, issuer: ParsedCertificate): string | null {
  if (issuer.problems.length > 0) return `'${issuer.subject}' cannot be relied on as an issuer: ${issuer.problems.join("; ")}.`;
  const self = child.fingerprint === issuer.fingerprint;
  if (!self) {
    if (!issuer.isCA) return `'${issuer.subject}' is not a CA certificate (no basicConstraints CA:TRUE) and may not issue '${child.subject}'.`;
    if (issuer.keyUsage && !issuer.keyUsage.keyCertSign) return `'${issuer.subject}' has no keyCertSign key usage and may not issue '${child.subject}'.`;
    // OpenSSL's issuer test: canonical name match and authority/subject key identifiers.
    if (!child.x509.checkIssued(issuer.x509)) return `'${child.subject}' names an issuer that does not match '${issuer.subject}' (name or key identifier).`;
  }
  let verifies = false;
  try {
    verifies = child.x509.verify(issuer.publicKey);
  } catch {
    verifies = false;
  }
  return verifies ? null : `The signature on '${child.subject}' does not verify with the key of '${issuer.subject}'.`;
}

/** basicConstraints pathLenConstraint: non-self-issued intermediates between the issuer and the leaf. */
function pathLengthProblem(issuer: ParsedCertificate, path: readonly ParsedCertificate[]): string | null {
  if (issuer.pathLength === undefined) return null;
  const below = path.slice(1).filter((c) => !c.selfIssued).length;
  return below > issuer.pathLength
    ? `'${issuer.subject}' allows ${issuer.pathLength} intermediate CA certificate(s) below it; this chain has ${below}.`
    : null;
}

/** Stage 3: every certificate of the path, anchor included, is within its validity at `at`. */
function validityFaults(path: readonly ParsedCertificate[], at: Date, when: string): Fault[] {
  const faults: Fault[] = [];
  const t = at.getTime();
  path.forEach((c, i) => {
    const who = i === 0 ? "The signing certificate" : `The CA certificate '${c.subject}'`;
    if (t < c.notBefore.getTime()) {
      faults.push({ code: "CERT_EXPIRED", message: `${who} is not valid before ${c.notBefore.toISOString()}; the ${when} is ${at.toISOString()}.` });
    } else if (t > c.notAfter.getTime()) {
      faults.push({ code: "CERT_EXPIRED", message: `${who} expired on ${c.notAfter.toISOString()}; the ${when} is ${at.toISOString()}.` });
    }
  });
  return faults;
}

/** Stage 5: the subject's `UID=MST:` is exactly the expected tax code (a branch `-NNN` is another taxpayer). */
function bindsTaxCode(leaf: ParsedCertificate, taxCode: string): Result<ParsedCertificate> {
  if (leaf.taxCode === taxCode) return ok(leaf);
  const message =
    leaf.taxCode === null
      ? `The signing certificate carries no UID=MST:<tax code> in its subject; the seller is ${taxCode}.`
      : `The signing certificate is issued to MST ${leaf.taxCode}, not to ${taxCode}.`;
  return { ok: false, faults: [{ code: "CERT_TAX_CODE_MISMATCH", message }] };
}

function untrusted<T>(messages: string[]): Result<T> {
  return { ok: false, faults: messages.map((message) => ({ code: "CERT_UNTRUSTED" as const, message })) };
}

function usageNames(ku: Readonly<KeyUsage>): string {
  const names = (Object.keys(ku) as (keyof KeyUsage)[]).filter((k) => ku[k]);
  return names.length > 0 ? names.join(", ") : "none";
}

function parseOrThrow(der: Uint8Array, what: string): ParsedCertificate {
  try {
    return parseCertificate(der);
  } catch (e) {
    throw new Error(`${what}: ${messageOf(e)}`);
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
