/**
 * The algorithm allow-list of the signature profile (invoice-format.md §4), as data.
 * Anything not named here is refused (ALGORITHM_NOT_ALLOWED): HMAC, MD5, unknown URIs.
 * ECDSA signature values in XMLDSig are r‖s (IEEE P1363), not DER; xml-crypto has no ECDSA, so the
 * classes below plug into its SignedXml too (the test oracle and the test signer use them).
 */
import { createHash, createSign, createVerify, sign as cryptoSign, verify as cryptoVerify, type KeyLike, type KeyObject } from "node:crypto";

export const C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
export const C14N_WITH_COMMENTS = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
export const EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#";
export const EXC_C14N_WITH_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
export const ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
export const DSIG_NS = "http://www.w3.org/2000/09/xmldsig#";

export const CANONICALIZATIONS: ReadonlySet<string> = new Set([C14N, C14N_WITH_COMMENTS, EXC_C14N, EXC_C14N_WITH_COMMENTS]);
/** Transforms allowed inside a Reference: enveloped-signature and the canonicalizations. */
export const TRANSFORMS: ReadonlySet<string> = new Set([ENVELOPED, ...CANONICALIZATIONS]);

export type HashName = "sha1" | "sha256" | "sha384" | "sha512";

export const DIGESTS: Readonly<Record<string, HashName>> = {
  "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
  "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
  "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
  "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
};

export interface SignatureMethod {
  uri: string;
  key: "rsa" | "ec";
  hash: HashName;
}

export const SIGNATURE_METHODS: Readonly<Record<string, SignatureMethod>> = Object.fromEntries(
  (
    [
      ["http://www.w3.org/2000/09/xmldsig#rsa-sha1", "rsa", "sha1"],
      ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "rsa", "sha256"],
      ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", "rsa", "sha384"],
      ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", "rsa", "sha512"],
      ["http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", "ec", "sha256"],
      ["http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", "ec", "sha384"],
      ["http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", "ec", "sha512"],
    ] as const
  ).map(([uri, key, hash]) => [uri, { uri, key, hash }]),
);

export const RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
export const ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
export const SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256";

/**
 * Looks up a signature method under the allow-list. SHA-1 (as rsa-sha1 or as a digest) passes
 * only when the operator enabled legacy SHA-1. URIs must match exactly: whitespace is not trimmed.
 */
export function allowedSignatureMethod(uri: string, allowSha1: boolean): SignatureMethod | null {
  const m = Object.hasOwn(SIGNATURE_METHODS, uri) ? SIGNATURE_METHODS[uri]! : null;
  if (!m || (m.hash === "sha1" && !allowSha1)) return null;
  return m;
}

/** Looks up a digest method under the allow-list (same SHA-1 rule as signatures). */
export function allowedDigest(uri: string, allowSha1: boolean): HashName | null {
  const h = Object.hasOwn(DIGESTS, uri) ? DIGESTS[uri]! : null;
  if (!h || (h === "sha1" && !allowSha1)) return null;
  return h;
}

/** Base64 digest of a canonical string. */
export function digestBase64(hash: HashName, canonical: string | Uint8Array): string {
  return createHash(hash).update(canonical).digest("base64");
}

/** Verifies a SignatureValue over canonical SignedInfo; ECDSA values are r‖s. Never throws. */
export function verifySignatureValue(method: SignatureMethod, key: KeyObject, data: string | Uint8Array, signature: Uint8Array): boolean {
  try {
    if (key.asymmetricKeyType !== (method.key === "rsa" ? "rsa" : "ec")) return false;
    return cryptoVerify(method.hash, typeof data === "string" ? Buffer.from(data, "utf8") : data, method.key === "ec" ? ecdsaP1363(key) : key, signature);
  } catch {
    return false;
  }
}

// workerd's node:crypto (Cloudflare Workers) refuses a KeyObject inside `{key, dsaEncoding}`
// and takes the key's DER instead; Node takes the KeyObject as it is (no export on its hot path).
const ON_WORKERD = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === "Cloudflare-Workers";
const derKeys = new WeakMap<KeyObject, Buffer>();

/** The ECDSA key input with r‖s (ieee-p1363) signature encoding, as each runtime accepts it. */
function ecdsaP1363(key: KeyObject): { key: KeyObject; dsaEncoding: "ieee-p1363" } {
  if (!ON_WORKERD) return { key, dsaEncoding: "ieee-p1363" };
  const type = key.type === "private" ? ("pkcs8" as const) : ("spki" as const);
  let der = derKeys.get(key);
  if (!der) derKeys.set(key, (der = key.export({ format: "der", type }) as Buffer));
  // Node's types know this shape for private keys only; workerd takes it for both halves.
  return { key: der, format: "der", type, dsaEncoding: "ieee-p1363" } as unknown as { key: KeyObject; dsaEncoding: "ieee-p1363" };
}

/** Signs canonical SignedInfo; returns base64 (ECDSA as r‖s). */
export function signValue(method: SignatureMethod, key: KeyObject, data: string | Uint8Array): string {
  const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const sig = cryptoSign(method.hash, buf, method.key === "ec" ? ecdsaP1363(key) : key);
  return sig.toString("base64");
}

/** ECDSA for xml-crypto's SignedXml (the test oracle and the tests' own signer). */
class XmlCryptoEcdsa {
  constructor(
    private readonly uri: string,
    private readonly hash: HashName,
  ) {}
  getAlgorithmName(): string {
    return this.uri;
  }
  getSignature(signedInfo: string | Uint8Array, privateKey: KeyLike): string {
    const signer = createSign(this.hash);
    signer.update(signedInfo);
    return signer.sign({ key: privateKey, dsaEncoding: "ieee-p1363" } as never, "base64");
  }
  verifySignature(material: string, key: KeyLike, signatureValue: string): boolean {
    const verifier = createVerify(this.hash);
    verifier.update(material);
    return verifier.verify({ key, dsaEncoding: "ieee-p1363" } as never, signatureValue, "base64");
  }
}

/** The ECDSA classes keyed by URI, for `SignedXml.SignatureAlgorithms`. */
export const XML_CRYPTO_ECDSA: Record<string, new () => XmlCryptoEcdsa> = Object.fromEntries(
  Object.values(SIGNATURE_METHODS)
    .filter((m) => m.key === "ec")
    .map((m) => [m.uri, class extends XmlCryptoEcdsa {
      constructor() {
        super(m.uri, m.hash);
      }
    }]),
);
