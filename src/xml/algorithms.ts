/**
 * The algorithm allow-list of the signature profile (invoice-format.md §4), as data.
 * Anything not named here is refused (ALGORITHM_NOT_ALLOWED): HMAC, MD5, unknown URIs.
 * ECDSA signature values in XMLDSig are r‖s (IEEE P1363), not DER; xml-crypto has no ECDSA, so the
 * classes below plug into its SignedXml too (the test oracle and the test signer use them).
 */
import { createSecretKey, createSign, createVerify, sign as cryptoSign, verify as cryptoVerify, type KeyLike, type KeyObject, hash as oneShotHash } from "node:crypto";

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

/** Base64 digest of a canonical string (one-shot: no Hash object to make and collect). */
export function digestBase64(hash: HashName, canonical: string | Uint8Array): string {
  return oneShotHash(hash, canonical, "base64");
}

/** The digest's octets. */
export function digestBytes(hash: HashName, canonical: string | Uint8Array): Buffer {
  return oneShotHash(hash, canonical, "buffer");
}

/** Verifies a SignatureValue over canonical SignedInfo; ECDSA values are r‖s. Never throws. */
export function verifySignatureValue(method: SignatureMethod, key: KeyObject, data: string | Uint8Array, signature: Uint8Array): boolean {
  try {
    if (key.asymmetricKeyType !== (method.key === "rsa" ? "rsa" : "ec")) return false;
    const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    if (method.key !== "ec") return cryptoVerify(method.hash, buf, key, signature);
    if (ON_WORKERD) return cryptoVerify(method.hash, buf, ecdsaP1363(key), signature);
    const der = ecdsaP1363ToDer(signature, scalarBytes(key));
    return der !== null && cryptoVerify(method.hash, buf, key, der);
  } catch {
    return false;
  }
}

// workerd's node:crypto (Cloudflare Workers) refuses a KeyObject inside `{key, dsaEncoding}`
// and takes the key's DER instead.
const ON_WORKERD = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === "Cloudflare-Workers";
const derKeys = new WeakMap<KeyObject, Buffer>();

/** The ECDSA key input with r‖s (ieee-p1363) signature encoding, as workerd accepts it. */
function ecdsaP1363(key: KeyObject): { key: KeyObject; dsaEncoding: "ieee-p1363" } {
  const type = key.type === "private" ? ("pkcs8" as const) : ("spki" as const);
  let der = derKeys.get(key);
  if (!der) derKeys.set(key, (der = key.export({ format: "der", type }) as Buffer));
  // Node's types know this shape for private keys only; workerd takes it for both halves.
  return { key: der, format: "der", type, dsaEncoding: "ieee-p1363" } as unknown as { key: KeyObject; dsaEncoding: "ieee-p1363" };
}

/**
 * On Node the key goes to sign and verify bare, and r‖s is converted to and from DER here: Node 24
 * spends 12–30 µs on any key given inside an options object (`{key, dsaEncoding}`: its key-type
 * checks throw and catch internally), more than a P-256 signature costs (load-tests/RESULTS.md).
 * @peculiar/x509's AsnEcSignatureFormatter does the same conversion through its ASN.1 schema in
 * 12–19 µs, which would spend what was saved; the two functions below take 1–1.5 µs.
 */
const CURVE_BYTES: Readonly<Record<string, number>> = { prime256v1: 32, secp384r1: 48, secp521r1: 66 };
const curveBytes = new WeakMap<KeyObject, number>();

/** The byte length of r (and of s) in a key's r‖s signatures; 0 for a curve not listed. */
function scalarBytes(key: KeyObject): number {
  let n = curveBytes.get(key);
  if (n === undefined) curveBytes.set(key, (n = CURVE_BYTES[key.asymmetricKeyDetails?.namedCurve ?? ""] ?? 0));
  return n;
}

/** An ECDSA-Sig-Value (DER SEQUENCE of INTEGER r, s) as r‖s of `size` bytes each (RFC 4050 §3.3, IEEE P1363). */
export function ecdsaDerToP1363(der: Uint8Array, size: number): Buffer {
  const fail = (): never => {
    throw new Error("not a DER ECDSA signature of this curve");
  };
  let i = 0;
  if (der[i++] !== 0x30) fail();
  const len = der[i++] ?? fail();
  if (len & 0x80) i += len & 0x7f;
  const out = Buffer.alloc(2 * size);
  for (let half = 0; half < 2; half++) {
    if (der[i++] !== 0x02) fail();
    const n = der[i++] ?? fail();
    let start = i;
    const end = i + n;
    if (n >= 0x80 || end > der.length) fail();
    while (start < end - 1 && der[start] === 0) start++;
    if (end - start > size) fail();
    out.set(der.subarray(start, end), half * size + size - (end - start));
    i = end;
  }
  if (i !== der.length) fail();
  return out;
}

/** r‖s of `size` bytes each as DER, or null when its length is not 2 × size (such a value never verifies). */
export function ecdsaP1363ToDer(sig: Uint8Array, size: number): Buffer | null {
  if (sig.length !== 2 * size) return null;
  const integer = (from: number): Uint8Array => {
    let start = from;
    while (start < from + size - 1 && sig[start] === 0) start++;
    const v = sig.subarray(start, from + size);
    const pad = v[0]! & 0x80 ? 1 : 0;
    const out = new Uint8Array(2 + pad + v.length);
    out[0] = 0x02;
    out[1] = pad + v.length;
    out.set(v, 2 + pad);
    return out;
  };
  const r = integer(0);
  const s = integer(size);
  const body = r.length + s.length;
  const head = body < 0x80 ? [0x30, body] : [0x30, 0x81, body];
  const der = Buffer.allocUnsafe(head.length + body);
  der.set(head, 0);
  der.set(r, head.length);
  der.set(s, head.length + r.length);
  return der;
}

const secretKeys = new WeakMap<Uint8Array, KeyObject>();

/** An HMAC or AES key as secretKeyOf hands it to node:crypto. */
export type SecretKey = KeyObject | Uint8Array;

/**
 * A secret (an HMAC or AES key) as node:crypto takes it fastest: a KeyObject made once per secret
 * on Node (given as bytes, Node 24 spends ≈ 10 µs a call on its key-type checks); the bytes on workerd.
 */
export function secretKeyOf(secret: Uint8Array): SecretKey {
  if (ON_WORKERD) return secret;
  let key = secretKeys.get(secret);
  if (!key) secretKeys.set(secret, (key = createSecretKey(secret)));
  return key;
}

/** Signs canonical SignedInfo; returns base64 (ECDSA as r‖s). */
export function signValue(method: SignatureMethod, key: KeyObject, data: string | Uint8Array): string {
  const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  if (method.key !== "ec") return cryptoSign(method.hash, buf, key).toString("base64");
  if (ON_WORKERD) return cryptoSign(method.hash, buf, ecdsaP1363(key)).toString("base64");
  const size = scalarBytes(key);
  if (size === 0) throw new Error(`signValue: no r‖s size for curve ${key.asymmetricKeyDetails?.namedCurve}`);
  return ecdsaDerToP1363(cryptoSign(method.hash, buf, key), size).toString("base64");
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
