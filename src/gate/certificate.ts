/**
 * Stage "certificate": the signer-trust step, written once for every signed document the service
 * accepts from a seller (an invoice, a T-VAN error notice): (for a notice) SigningTime not in the
 * future — an invoice's SigningTime is bounded by its rules —, then the chain (to a trust anchor, valid at the signing time, not revoked, UID=MST: binding the
 * seller), then registration (the seller registered and active, the certificate registered to it
 * and not stopped), read from the registry (the cached one on the hot path).
 */
import { type CertificateRecord, LEGACY_ALLOWANCES, type LegacyAllowance, type RegisteredSeller } from "../domain/model.js";
import type { RegistryPort } from "../domain/ports.js";
import type { Fault } from "../errors.js";
import type { ParsedCertificate } from "../pki/certificate.js";
import type { TrustStore } from "../pki/trust.js";
import type { VerifiedSignature } from "../xml/verify.js";

/** Registration data the gate reads: a seller and its certificates. */
export interface Registry {
  seller(taxCode: string): Promise<Readonly<RegisteredSeller> | null>;
  certificate(taxCode: string, fingerprint: string): Promise<Readonly<CertificateRecord> | null>;
}

/** A Registry over the store: each seller's registration read once (from memory while the registry cache holds it), shared by every document of the request. */
export function storeRegistry(store: Pick<RegistryPort, "sellerRegistration">): Registry {
  const loaded = new Map<string, Promise<{ seller: Readonly<RegisteredSeller> | null; certs: Map<string, Readonly<CertificateRecord>> }>>();
  const load = (taxCode: string) => {
    let p = loaded.get(taxCode);
    if (!p) {
      p = store.sellerRegistration(taxCode).then((r) => ({ seller: r.seller, certs: new Map(r.certificates.map((c) => [c.fingerprint, c])) }));
      loaded.set(taxCode, p);
    }
    return p;
  };
  return {
    seller: async (taxCode) => (await load(taxCode)).seller,
    certificate: async (taxCode, fingerprint) => (await load(taxCode)).certs.get(fingerprint) ?? null,
  };
}

export interface SignerTrustDeps {
  trust: TrustStore;
  /** How far a SigningTime may run ahead of our clock (clock skew between seller and authority). */
  maxClockSkewMs: number;
}

export type SignerVerdict =
  | {
      ok: true;
      fingerprint: string;
      signingTime: Date;
      seller: Readonly<RegisteredSeller>;
      /** The legacy allowances the signature needed to pass (legacyAllowances). */
      legacy: LegacyAllowance[];
    }
  | { ok: false; faults: Fault[] };

const SIGNING_TIME_PATH = "Signature/Object/SignatureProperties/SignatureProperty/SigningTime";

/**
 * Whether the seller `taxCode` is trusted to have made `verified` at its SigningTime (receipt time
 * when it covers none), as of `receivedAt`. All faults are of the certificate stage.
 */
export async function trustSigner(
  deps: SignerTrustDeps,
  verified: VerifiedSignature,
  taxCode: string,
  receivedAt: Date,
  registry: Registry,
  opts: {
    /** Fault paths: an invoice's, or none (a T-VAN notice: its reply names no field). */
    paths: "invoice" | "none";
    /** Refuse a SigningTime ahead of the receipt beyond the skew here (SIGNATURE_INVALID): for documents whose rules do not bound it (a T-VAN notice). */
    refuseFutureSigningTime: boolean;
  },
): Promise<SignerVerdict> {
  const at = (f: Fault, path: string): Fault => (opts.paths === "invoice" ? { ...f, path } : f);
  const signingTime = verified.signingTime ?? receivedAt;
  if (opts.refuseFutureSigningTime && signingTime.getTime() > receivedAt.getTime() + deps.maxClockSkewMs) {
    return { ok: false, faults: [at({ code: "SIGNATURE_INVALID", message: "SigningTime is in the future." }, SIGNING_TIME_PATH)] };
  }
  const cert = deps.trust.verifySigner(verified.signer, verified.others, signingTime, taxCode);
  if (!cert.ok) return cert;
  const [seller, registered] = await Promise.all([registry.seller(taxCode), registry.certificate(taxCode, cert.value.fingerprint)]);
  if (!seller) return { ok: false, faults: [at({ code: "SELLER_NOT_REGISTERED", message: `Seller ${taxCode} is not registered.` }, "NDHDon/NBan/MST")] };
  if (seller.status !== "active") return { ok: false, faults: [{ code: "SELLER_SUSPENDED", message: `Seller ${taxCode} is ${seller.status}.` }] };
  if (!registered || (registered.stoppedAt && registered.stoppedAt.getTime() <= receivedAt.getTime())) {
    return { ok: false, faults: [{ code: "CERT_NOT_REGISTERED", message: registered ? "The signing certificate was stopped." : "The signing certificate is not registered to this seller." }] };
  }
  return { ok: true, fingerprint: cert.value.fingerprint, signingTime, seller, legacy: legacyAllowances(verified, cert.value) };
}

/**
 * The legacy allowances a trusted signature needed (api.md: such invoices are marked): "sha1"
 * when its SignatureMethod or a Reference's DigestMethod is SHA-1 (passes only under
 * HOADON_ALLOW_SHA1), "rsa1024" when the signer's RSA key has fewer than 2048 bits (passes only
 * under HOADON_ALLOW_RSA1024). Read from what was verified, not from the switches: an invoice is
 * marked for what it is, whichever switches happen to be on.
 */
export function legacyAllowances(verified: VerifiedSignature, signer: Pick<ParsedCertificate, "key">): LegacyAllowance[] {
  const p = verified.profile;
  const sha1 = p.method.hash === "sha1" || p.references.some((r) => r.digest === "sha1");
  const rsa1024 = signer.key.type === "rsa" && (signer.key.bits ?? 0) < 2048;
  return LEGACY_ALLOWANCES.filter((a) => (a === "sha1" ? sha1 : rsa1024));
}
