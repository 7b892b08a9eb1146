/**
 * The verifiers the differential tests hold against each other, each answering "is the seller's
 * signature mathematically valid" (no trust decision):
 * - `fastPathVerdict`: the service's own gate up to the signature value (parse, frame, profile, digests
 *   and SignatureValue), with legacy SHA-1 allowed so that only the cryptography is compared;
 * - `signedXmlVerifies`: xml-crypto's generic SignedXml.checkSignature (xpath resolution, its own
 *   bundled @xmldom 0.8 parse of the bytes);
 * - xmlsec1 (libxml2 + OpenSSL), in verifyManyWithXmlsec1, for the interop suite.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOMParser } from "@xmldom/xmldom";
import { SignedXml } from "xml-crypto";
import type { Result } from "../../src/errors.js";
import { type InvoiceDocument, readInvoiceDocument, readSellerSignature } from "../../src/xml/invoice-document.js";
import { parseXml } from "../../src/xml/parse.js";
import { type VerifiedSignature, verifyProfile } from "../../src/xml/verify.js";
import { registerAlgorithms, SELLER_SIGNATURE_XPATH } from "./sign.js";

/** The service's path to a verified seller signature (parse, frame, profile, digests, SignatureValue): the document and the signature, or the first refusal. */
export function verifiedSeller(xml: string | Uint8Array, allowSha1: boolean): Result<{ doc: InvoiceDocument; verified: VerifiedSignature }> {
  const parsed = parseXml(xml, "HDon");
  if (!parsed.ok) return parsed;
  const doc = readInvoiceDocument(parsed.value);
  if (!doc.ok) return doc;
  const profile = readSellerSignature(doc.value, allowSha1);
  if (!profile.ok) return profile;
  const verified = verifyProfile(profile.value);
  return verified.ok ? { ok: true, value: { doc: doc.value, verified: verified.value } } : verified;
}

/** The service's verdict on the seller signature; `code` is the refusal's code when it refuses. */
export function fastPathVerdict(xml: string | Uint8Array): { ok: boolean; code?: string } {
  const v = verifiedSeller(xml, true);
  return v.ok ? { ok: true } : { ok: false, code: v.faults[0]!.code };
}


/**
 * True when xml-crypto's SignedXml verifies the seller signature (DSCKS/NBan/Signature), with the
 * KeyInfo certificate, or — faster, and stricter — with the certificate the case was signed with.
 */
export function signedXmlVerifies(xml: string, signerCertPem?: string): boolean {
  try {
    const dom = new DOMParser({ onError: () => {} }).parseFromString(xml, "application/xml");
    const sig = dom.getElementsByTagName("DSCKS")[0]?.getElementsByTagName("NBan")[0]?.getElementsByTagNameNS("http://www.w3.org/2000/09/xmldsig#", "Signature")[0];
    if (!sig) return false;
    const sx = registerAlgorithms(new SignedXml(signerCertPem ? { publicCert: signerCertPem } : { getCertFromKeyInfo: SignedXml.getCertFromKeyInfo }));
    sx.loadSignature(sig as never);
    return sx.checkSignature(xml);
  } catch {
    return false;
  }
}

export interface BatchXmlsec1Options {
  /** Trusted root PEM file(s) and untrusted intermediate PEM file(s). */
  trustedPem: string[];
  untrustedPem: string[];
  /** At most this many xmlsec1 processes at once (default 2). */
  concurrency?: number;
}

/**
 * Verifies many documents' seller signatures with xmlsec1, as few processes as it can: xmlsec1
 * takes many files and stops at the first that fails, so each run's output says which passed,
 * and the next run starts after the failure. Returns one verdict per document.
 */
export async function verifyManyWithXmlsec1(docs: readonly (string | Uint8Array)[], opts: BatchXmlsec1Options): Promise<boolean[]> {
  const dir = mkdtempSync(join(tmpdir(), "hoadon-diff-"));
  try {
    const files = docs.map((d, i) => {
      const f = join(dir, `d${i}.xml`);
      writeFileSync(f, d);
      return f;
    });
    const verdicts: boolean[] = new Array(docs.length).fill(false);
    // Split into chunks so that several processes work at once; each chunk walks its files.
    const chunk = 200;
    const queue: [number, number][] = [];
    for (let i = 0; i < files.length; i += chunk) queue.push([i, Math.min(files.length, i + chunk)]);
    const worker = async () => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        let [start] = job;
        const end = job[1];
        while (start < end) {
          const passed = await runVerify(files.slice(start, end), opts);
          for (let k = 0; k < passed; k++) verdicts[start + k] = true;
          // files[start + passed] failed (or the run stopped there): false, go on after it.
          start += passed + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 2 }, worker));
    return verdicts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one xmlsec1 --verify over files; returns how many passed before the first failure. */
function runVerify(files: string[], opts: BatchXmlsec1Options): Promise<number> {
  const args = ["--verify", "--id-attr:Id", "DLHDon", "--id-attr:Id", "Object"];
  for (const t of opts.trustedPem) args.push("--trusted-pem", t);
  for (const u of opts.untrustedPem) args.push("--untrusted-pem", u);
  args.push("--node-xpath", SELLER_SIGNATURE_XPATH, ...files);
  return new Promise((resolve, reject) => {
    const p = spawn("xmlsec1", args);
    let out = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString("utf8")));
    p.stderr.on("data", (b: Buffer) => (out += b.toString("utf8")));
    p.on("error", reject);
    p.on("close", (status) => {
      const oks = (out.match(/^OK$/gm) ?? []).length;
      if (status === 0 && oks !== files.length) reject(new Error(`xmlsec1: ${oks} OK for ${files.length} files:\n${out.slice(0, 2000)}`));
      else resolve(status === 0 ? files.length : oks);
    });
  });
}
