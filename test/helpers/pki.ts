/**
 * Real test certificates issued at run time with @peculiar/x509 (node's WebCrypto), so each test
 * makes its own sellers, CAs and CRLs instead of relying on checked-in blobs.
 */
import "reflect-metadata";
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, webcrypto } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const UID_OID = "0.9.2342.19200300.100.1.1";
const DAY = 86_400_000;

export type KeyType = "rsa" | "ec";
export type KeyUsageName = keyof typeof x509.KeyUsageFlags;

/** A certificate and its private key, PEM (key: PKCS#8). */
export interface IssuerMaterial {
  certPem: string;
  keyPem: string;
}

export interface IssuedCert extends IssuerMaterial {
  der: Uint8Array;
  /** Upper-case hex, as `openssl x509 -serial` prints it. */
  serialHex: string;
}

export interface CertParams {
  /** Subject as a JSON name (most general RDN first, e.g. `[{C: ["VN"]}, {CN: ["x"]}]`) or a string. */
  subject: x509.JsonName | string;
  keyType?: KeyType;
  notBefore?: Date;
  notAfter?: Date;
  /** Names of the keyUsage bits; null leaves the extension out. */
  keyUsage?: KeyUsageName[] | null;
  /** basicConstraints CA:TRUE (critical). */
  ca?: boolean;
  pathLength?: number;
  /** The issuer; absent means self-signed. */
  issuer?: IssuerMaterial;
  extensions?: x509.Extension[];
  serialHex?: string;
  /**
   * A subject key made by node:crypto, for sizes, exponents and curves WebCrypto will not make
   * (the key policy's refusals: RSA-1024, exponent 3, secp256k1). Needs an issuer.
   */
  nodeKey?: NodeKeySpec;
}

export type NodeKeySpec = { type: "rsa"; bits: number; exponent?: number } | { type: "ec"; curve: string };

/** Issues one certificate (self-signed when no issuer is given). */
export async function issueCertificate(p: CertParams): Promise<IssuedCert> {
  const keyType = p.keyType ?? "rsa";
  const issuer = p.issuer ? await importIssuer(p.issuer) : null;
  if (p.nodeKey && !issuer) throw new Error("issueCertificate: nodeKey needs an issuer");
  const made = p.nodeKey
    ? p.nodeKey.type === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: p.nodeKey.bits, publicExponent: p.nodeKey.exponent ?? 65537 })
      : generateKeyPairSync("ec", { namedCurve: p.nodeKey.curve })
    : null;
  const keys = made ? null : ((await webcrypto.subtle.generateKey(keyAlgorithm(keyType), true, ["sign", "verify"])) as CryptoKeyPair);
  const publicKey: CryptoKey | ArrayBuffer = made ? new Uint8Array(made.publicKey.export({ type: "spki", format: "der" })).buffer : keys!.publicKey;
  const signingKey = issuer ? issuer.key : keys!.privateKey;
  const subjectName = typeof p.subject === "string" ? new x509.Name(p.subject) : new x509.Name(p.subject);

  const extensions: x509.Extension[] = [];
  if (p.ca) extensions.push(new x509.BasicConstraintsExtension(true, p.pathLength, true));
  const usages: KeyUsageName[] | null = p.keyUsage === undefined ? (p.ca ? ["keyCertSign", "cRLSign"] : ["digitalSignature", "nonRepudiation"]) : p.keyUsage;
  if (usages !== null) {
    const bits = usages.reduce((acc, u) => acc | x509.KeyUsageFlags[u], 0);
    extensions.push(new x509.KeyUsagesExtension(bits, true));
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(publicKey, false, webcrypto as unknown as Crypto));
  if (issuer) {
    const skid = issuer.cert.getExtension(x509.SubjectKeyIdentifierExtension);
    if (skid) extensions.push(new x509.AuthorityKeyIdentifierExtension(skid.keyId, false));
  }
  extensions.push(...(p.extensions ?? []));

  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: p.serialHex ?? randomSerial(),
      subject: subjectName,
      // The issuer's own subject bytes, so the names match exactly whatever made the issuer.
      issuer: issuer ? issuer.cert.subjectName : subjectName,
      notBefore: p.notBefore ?? new Date(now - DAY),
      notAfter: p.notAfter ?? new Date(now + 730 * DAY),
      publicKey,
      signingKey,
      signingAlgorithm: issuer ? issuer.algorithm : signingAlgorithm(keyType),
      extensions,
    },
    webcrypto as unknown as Crypto,
  );
  const keyPem = made ? String(made.privateKey.export({ type: "pkcs8", format: "pem" })) : x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", keys!.privateKey), "PRIVATE KEY") + "\n";
  const der = new Uint8Array(cert.rawData);
  return {
    certPem: cert.toString("pem") + "\n",
    keyPem,
    der,
    serialHex: cert.serialNumber.toUpperCase(),
  };
}

export interface SellerCertParams {
  taxCode: string;
  keyType?: KeyType;
  notBefore?: Date;
  notAfter?: Date;
  keyUsage?: KeyUsageName[] | null;
  ca?: boolean;
  issuer?: IssuerMaterial;
  /** Overrides the default subject (which carries UID=MST:<taxCode>). */
  subject?: x509.JsonName | string;
  nodeKey?: NodeKeySpec;
  extensions?: x509.Extension[];
}

/** A seller's signing certificate with `UID=MST:<taxCode>`; by default issued by the development issuing CA. */
export async function issueSellerCert(p: SellerCertParams): Promise<IssuedCert> {
  const issuer = p.issuer ?? (await defaultHierarchy()).issuing;
  const params: CertParams = {
    subject: p.subject ?? [
      { C: ["VN"] },
      { O: [`Test seller ${p.taxCode}`] },
      { CN: [`CONG TY TEST ${p.taxCode}`] },
      { [UID_OID]: [`MST:${p.taxCode}`] },
    ],
    keyType: p.keyType ?? "rsa",
    issuer,
  };
  if (p.notBefore) params.notBefore = p.notBefore;
  if (p.notAfter) params.notAfter = p.notAfter;
  if (p.keyUsage !== undefined) params.keyUsage = p.keyUsage;
  if (p.ca) params.ca = true;
  if (p.nodeKey) params.nodeKey = p.nodeKey;
  if (p.extensions) params.extensions = p.extensions;
  return issueCertificate(params);
}

export interface TestCa {
  root: IssuedCert;
  issuing: IssuedCert;
  /** The root as a PEM bundle (what HOADON_TRUST_ANCHORS points to). */
  anchorsPem: string;
  /** The issuing CA as a PEM bundle (what HOADON_INTERMEDIATES points to). */
  intermediatesPem: string;
}

/** A fresh root + issuing CA pair in memory. */
export async function makeTestCa(opts: { name?: string; keyType?: KeyType; notBefore?: Date; notAfter?: Date } = {}): Promise<TestCa> {
  const name = opts.name ?? `Hoadon Test ${randomBytes(3).toString("hex")}`;
  const root = await issueCertificate({
    subject: [{ C: ["VN"] }, { O: [name] }, { CN: [`${name} Root CA`] }],
    keyType: opts.keyType ?? "ec",
    ca: true,
    pathLength: 1,
    notBefore: opts.notBefore ?? new Date(Date.now() - 365 * DAY),
    notAfter: opts.notAfter ?? new Date(Date.now() + 3650 * DAY),
  });
  const issuing = await issueCertificate({
    subject: [{ C: ["VN"] }, { O: [name] }, { CN: [`${name} Issuing CA`] }],
    keyType: opts.keyType ?? "ec",
    ca: true,
    pathLength: 0,
    issuer: root,
    notBefore: opts.notBefore ?? new Date(Date.now() - 365 * DAY),
    notAfter: opts.notAfter ?? new Date(Date.now() + 3650 * DAY),
  });
  return { root, issuing, anchorsPem: root.certPem, intermediatesPem: issuing.certPem };
}

/** The hierarchy the helpers issue from by default, as a trust store would be configured for it. */
export interface Hierarchy {
  source: "certs" | "memory";
  /** The issuing CA whose key signs default seller certificates. */
  issuing: IssuerMaterial;
  anchorsPem: string;
  intermediatesPem: string;
}

const CERTS_DIR = fileURLToPath(new URL("../../certs/", import.meta.url));
let memoryHierarchy: Promise<Hierarchy> | null = null;

/** True once the development CA under certs/ exists (made by certs/make-certs.sh). */
export function devCaAvailable(): boolean {
  return ["issuing-ca.pem", "issuing-ca.key", "trust-anchors.pem"].every((f) => existsSync(CERTS_DIR + f));
}

/** The default issuer: the development CA of certs/ when present, else one in-memory test CA per process. */
export async function defaultHierarchy(): Promise<Hierarchy> {
  if (devCaAvailable()) {
    const read = (f: string) => readFileSync(CERTS_DIR + f, "utf8");
    return {
      source: "certs",
      issuing: { certPem: read("issuing-ca.pem"), keyPem: read("issuing-ca.key") },
      anchorsPem: read("trust-anchors.pem"),
      intermediatesPem: existsSync(CERTS_DIR + "intermediates.pem") ? read("intermediates.pem") : read("issuing-ca.pem"),
    };
  }
  memoryHierarchy ??= makeTestCa({ name: "Hoadon Default Test" }).then((ca) => ({
    source: "memory" as const,
    issuing: ca.issuing,
    anchorsPem: ca.anchorsPem,
    intermediatesPem: ca.intermediatesPem,
  }));
  return memoryHierarchy;
}

/** A CRL signed by the issuer's key (PEM). Pass another key in `issuer.keyPem` to forge one. */
export async function makeCrl(
  issuer: IssuerMaterial,
  revokedSerials: string[],
  opts: { thisUpdate?: Date; nextUpdate?: Date; revocationDate?: Date } = {},
): Promise<string> {
  const imported = await importIssuer(issuer);
  const thisUpdate = opts.thisUpdate ?? new Date(Date.now() - 3_600_000);
  const crl = await x509.X509CrlGenerator.create(
    {
      issuer: imported.cert.subjectName,
      thisUpdate,
      nextUpdate: opts.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * DAY),
      entries: revokedSerials.map((serialNumber) => ({
        serialNumber,
        revocationDate: opts.revocationDate ?? thisUpdate,
        reason: x509.X509CrlReason.keyCompromise,
      })),
      signingKey: imported.key,
      signingAlgorithm: imported.algorithm,
    },
    webcrypto as unknown as Crypto,
  );
  // openssl's label; @peculiar would write "CRL".
  return x509.PemConverter.encode(crl.rawData, "X509 CRL") + "\n";
}

/** PEM → DER bytes of the first block. */
export function pemToDer(pem: string): Uint8Array {
  return new Uint8Array(x509.PemConverter.decodeFirst(pem));
}

function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10; // positive, no leading zero byte: the hex is what openssl prints
  return b.toString("hex");
}

function keyAlgorithm(t: KeyType): RsaHashedKeyGenParams | EcKeyGenParams {
  return t === "rsa"
    ? { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }
    : { name: "ECDSA", namedCurve: "P-256" };
}

function signingAlgorithm(t: KeyType): Algorithm | EcdsaParams {
  return t === "rsa" ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as Algorithm : ({ name: "ECDSA", hash: "SHA-256" } as EcdsaParams);
}

interface ImportedIssuer {
  cert: x509.X509Certificate;
  key: CryptoKey;
  algorithm: Algorithm | EcdsaParams;
}

const CURVES: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };

/** Imports an issuer's PEM key whatever its wrapping (PKCS#8, PKCS#1, SEC1), as openssl may write any. */
async function importIssuer(m: IssuerMaterial): Promise<ImportedIssuer> {
  const cert = new x509.X509Certificate(m.certPem);
  const keyObject: KeyObject = createPrivateKey(m.keyPem);
  const pkcs8 = keyObject.export({ type: "pkcs8", format: "der" });
  if (keyObject.asymmetricKeyType === "rsa") {
    const key = await webcrypto.subtle.importKey("pkcs8", pkcs8, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
    return { cert, key, algorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as Algorithm };
  }
  if (keyObject.asymmetricKeyType === "ec") {
    const curve = CURVES[keyObject.asymmetricKeyDetails?.namedCurve ?? ""];
    if (!curve) throw new Error(`unsupported issuer curve ${keyObject.asymmetricKeyDetails?.namedCurve}`);
    const key = await webcrypto.subtle.importKey("pkcs8", pkcs8, { name: "ECDSA", namedCurve: curve }, false, ["sign"]);
    const hash = curve === "P-256" ? "SHA-256" : curve === "P-384" ? "SHA-384" : "SHA-512";
    return { cert, key, algorithm: { name: "ECDSA", hash } as EcdsaParams };
  }
  throw new Error(`unsupported issuer key type ${keyObject.asymmetricKeyType}`);
}
