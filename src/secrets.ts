/**
 * The authority's secrets: its signing key and certificate, the MAC key of the codes and the
 * bootstrap admin token. Configured values win; otherwise development values are generated once
 * under the data directory (mode 0600) and reused on later starts.
 */
import "reflect-metadata";
import { createHash, randomBytes, webcrypto } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import { hashSecret, newSecret } from "./auth.js";
import { authorityKeyFromPem } from "./authority.js";
import { type NoteSigner, parseSignerKey, signerFromSeed } from "./tlog/note.js";
import type { AuthorityKey } from "./xml/stamp.js";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

// Moved to authority.ts (no node:fs there, for Workers); still exported here for callers.
export { authorityKeyFromPem };

export interface Secrets {
  authority: AuthorityKey;
  /** The head of office's key and certificate (103's TTCQT signature, tvan.md §3). */
  official: AuthorityKey;
  codeSecret: Buffer;
  adminTokenHash: string;
  /** Set only on the start that generated the admin token: print it once. */
  newAdminToken: string | null;
  /** The transparency log's Ed25519 note key (tlog/note.ts); its name is the log's origin. */
  logSigner: NoteSigner;
}

export interface SecretSettings {
  dataDir: string;
  signingKey?: string | undefined;
  signingCert?: string | undefined;
  codeSecret?: string | undefined;
  adminToken?: string | undefined;
  /** The log's signer key (PRIVATE+KEY+…) or a file holding it. */
  logKey?: string | undefined;
  /** The origin (key name) of a log key generated here. */
  logOrigin?: string | undefined;
  officialKey?: string | undefined;
  officialCert?: string | undefined;
}

/** The log key: configured, else generated once under the data dir (beside the authority's key). */
function loadLogSigner(s: SecretSettings): NoteSigner {
  if (s.logKey) return parseSignerKey(s.logKey.startsWith("PRIVATE+KEY+") ? s.logKey : readFileSync(s.logKey, "utf8"));
  const path = join(s.dataDir, "log.key");
  if (!existsSync(path)) writeSecret(path, signerFromSeed(s.logOrigin ?? DEFAULT_LOG_ORIGIN, randomBytes(32)).secretText + "\n");
  const signer = parseSignerKey(readFileSync(path, "utf8"));
  if (s.logOrigin && signer.name !== s.logOrigin) throw new Error(`${path} is the key of log ${signer.name}, not of HOADON_LOG_ORIGIN ${s.logOrigin}`);
  return signer;
}

/** The origin of a development log (an .invalid name: never a real log's). */
export const DEFAULT_LOG_ORIGIN = "hoadon-dev.invalid/v1/log";

const readPemSetting = (v: string): string => (v.includes("-----BEGIN") ? v : readFileSync(v, "utf8"));

/** A self-signed development certificate for the authority (never for production). */
export async function generateDevAuthority(kind: "rsa" | "ec" = "rsa", name = "CN=Hoadon development tax authority, O=Development only, C=VN"): Promise<{ keyPem: string; certPem: string }> {
  const alg =
    kind === "rsa"
      ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 }
      : { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16).toString("hex").replace(/^[89a-f]/, "1"),
    name,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 10 * 365 * 86_400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true)],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END PRIVATE KEY-----\n`;
  return { keyPem, certPem: cert.toString("pem") + "\n" };
}

/** The subject of the development head-of-office certificate (tvan.md §3). */
export const DEV_OFFICIAL_NAME = "CN=Thủ trưởng cơ quan thuế (thử nghiệm), O=BỘ TÀI CHÍNH, C=VN";

function writeSecret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
}

/** Loads the configured secrets, generating development ones under the data dir when unset. */
export async function loadSecrets(s: SecretSettings): Promise<Secrets> {
  mkdirSync(s.dataDir, { recursive: true, mode: 0o700 });

  let keyPem: string;
  let certPem: string;
  if (s.signingKey && s.signingCert) {
    keyPem = readPemSetting(s.signingKey);
    certPem = readPemSetting(s.signingCert);
  } else {
    const keyPath = join(s.dataDir, "authority.key");
    const certPath = join(s.dataDir, "authority.pem");
    if (!existsSync(keyPath) || !existsSync(certPath)) {
      const dev = await generateDevAuthority();
      writeSecret(keyPath, dev.keyPem);
      writeFileSync(certPath, dev.certPem);
    }
    keyPem = readFileSync(keyPath, "utf8");
    certPem = readFileSync(certPath, "utf8");
  }

  // The head of office's pair (tvan.md §3): configured, or a development pair under the data dir.
  let official: AuthorityKey;
  if (s.officialKey && s.officialCert) official = authorityKeyFromPem(readPemSetting(s.officialKey), readPemSetting(s.officialCert));
  else {
    const keyPath = join(s.dataDir, "official.key");
    const certPath = join(s.dataDir, "official.pem");
    if (!existsSync(keyPath) || !existsSync(certPath)) {
      const dev = await generateDevAuthority("rsa", DEV_OFFICIAL_NAME);
      writeSecret(keyPath, dev.keyPem);
      writeFileSync(certPath, dev.certPem);
    }
    official = authorityKeyFromPem(readFileSync(keyPath, "utf8"), readFileSync(certPath, "utf8"));
  }

  let codeSecret: Buffer;
  if (s.codeSecret) codeSecret = createHash("sha256").update(s.codeSecret, "utf8").digest();
  else {
    const path = join(s.dataDir, "code-secret");
    if (!existsSync(path)) writeSecret(path, randomBytes(32).toString("hex") + "\n");
    codeSecret = Buffer.from(readFileSync(path, "utf8").trim(), "hex");
  }

  let adminTokenHash: string;
  let newAdminToken: string | null = null;
  if (s.adminToken) adminTokenHash = hashSecret(s.adminToken);
  else {
    // Only the hash is kept; the token itself is printed once, on the start that made it.
    const path = join(s.dataDir, "admin-token.sha256");
    if (!existsSync(path)) {
      newAdminToken = newSecret("hda");
      writeSecret(path, hashSecret(newAdminToken) + "\n");
    }
    adminTokenHash = readFileSync(path, "utf8").trim();
  }

  return { authority: authorityKeyFromPem(keyPem, certPem), official, codeSecret, adminTokenHash, newAdminToken, logSigner: loadLogSigner(s) };
}
