/** The authority's signing key from PEM text. Apart from secrets.ts (which reads and writes files) so that Workers can use it. */
import "reflect-metadata";
import { createPrivateKey, createPublicKey, X509Certificate as NodeX509 } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { type AuthorityKey, authorityMethod } from "./xml/stamp.js";

/** Builds the authority's key from PEM text: the method follows the key type (rsa-sha256 or ecdsa-sha256). */
export function authorityKeyFromPem(keyPem: string, certPem: string): AuthorityKey {
  const privateKey = createPrivateKey(keyPem);
  const cert = new NodeX509(certPem);
  // The public half of the key must be the certificate's key. Compared as SPKI bytes rather
  // than with checkPrivateKey, which workerd's node:crypto does not answer correctly.
  const spki = (k: ReturnType<typeof createPublicKey>) => Buffer.from(k.export({ type: "spki", format: "der" }));
  if (!spki(createPublicKey(privateKey)).equals(spki(cert.publicKey))) throw new Error("HOADON_SIGNING_KEY does not match HOADON_SIGNING_CERT");
  const parsed = new x509.X509Certificate(certPem);
  const certDer = Buffer.from(cert.raw);
  return { privateKey, method: authorityMethod(privateKey), certDer, certBase64: certDer.toString("base64"), certPem: cert.toString(), subjectName: parsed.subject };
}
