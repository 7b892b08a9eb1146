/**
 * `hoadon check [--json] [--no-trust] [--allow-sha1] [--trust-anchors F] [--intermediates F]
 *               [--crls F,…] [--at TIME] FILE…`: the gate, offline, on each file (an HDon, or a
 * TDiep carrying one).
 *
 * 1. Every Signature of the file, whatever its layout, on its own: its role by where it stands
 *    (DSCKS/NBan seller, DSCKS/CQT authority, DSCKS/NMua buyer, anything else other), valid or
 *    not and why, checked with xml-crypto's generic SignedXml and the certificate in its KeyInfo
 *    (every Reference's digest and the SignatureValue; no trust decision).
 * 2. The gate on the invoice, in the service's order (src/domain/submit.ts verifyInvoice, with
 *    the same stage functions): parse, frame, the seller's profile and algorithms, digests and
 *    value, then — unless --no-trust — the certificate stages (chain to the anchors, validity at
 *    the signing time, revocation, UID=MST:), then schema and business rules. Registration
 *    (seller, certificate) needs the service's database and is not checked here.
 * Exit 0 when every file passes, 1 otherwise (2: bad usage). With --json, one line per file:
 * {"file","ok","code","signatures":[{"role","valid","code"?,"message"?}],"faults":[…]}.
 */
import { createHash, createSign, createVerify, type KeyLike } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DOMParser } from "@xmldom/xmldom";
import { SignedXml } from "xml-crypto";
import { checkRules, DEFAULT_TIME_WINDOW } from "../domain/rules.js";
import { readInvoice } from "../domain/invoice.js";
import { gmt7Date } from "../domain/submit.js";
import type { ErrorCode, Fault } from "../errors.js";
import { TrustStore } from "../pki/trust.js";
import { loadTrust } from "../pki/trust-files.js";
import { DSIG_NS, XML_CRYPTO_ECDSA } from "../xml/algorithms.js";
import { readInvoiceDocument, readSellerSignature, refuseAuthorityParts } from "../xml/invoice-document.js";
import { focus, parseXml, textOf, type ParsedXml } from "../xml/parse.js";
import { verifyProfile } from "../xml/verify.js";
import type { CliIo } from "./index.js";

export type Role = "seller" | "authority" | "buyer" | "other";
export interface SignatureReport {
  role: Role;
  valid: boolean;
  code?: string;
  message?: string;
}
export interface FileReport {
  file: string;
  ok: boolean;
  code: string | null;
  signatures: SignatureReport[];
  faults: Fault[];
}

export interface CheckOptions {
  trust: TrustStore | null;
  allowSha1: boolean;
  at: Date;
}

const ROLE_OF: Record<string, Role> = { NBan: "seller", CQT: "authority", NMua: "buyer" };

/** Where a Signature stands: its parent's name under DSCKS, else "other". */
function roleOf(sig: Element): Role {
  const parent = sig.parentNode as Element | null;
  const grand = parent?.parentNode as Element | null;
  if (parent && grand && (grand.localName ?? grand.nodeName) === "DSCKS") return ROLE_OF[parent.localName ?? parent.nodeName] ?? "other";
  return "other";
}

/** xml-crypto has no sha384 digest and no rsa-sha384, which the profile allows. */
const SHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384";
const RSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384";
class Sha384 {
  getAlgorithmName = () => SHA384;
  getHash = (xml: string) => createHash("sha384").update(xml, "utf8").digest("base64");
}
class RsaSha384 {
  getAlgorithmName = () => RSA_SHA384;
  getSignature = (data: string, key: KeyLike) => createSign("RSA-SHA384").update(data).sign(key, "base64");
  verifySignature = (data: string, key: KeyLike, value: string) => createVerify("RSA-SHA384").update(data).verify(key, value, "base64");
}

/** Every Signature of the text, each verified on its own with xml-crypto and its KeyInfo certificate. */
export function checkSignatures(xml: string): SignatureReport[] {
  let dom: Document;
  try {
    dom = new DOMParser({ onError: () => {} }).parseFromString(xml, "application/xml") as unknown as Document;
  } catch {
    return [];
  }
  const sigs = Array.from(dom.getElementsByTagNameNS(DSIG_NS, "Signature"));
  return sigs.map((sig) => {
    const role = roleOf(sig as Element);
    try {
      const sx = new SignedXml({ getCertFromKeyInfo: SignedXml.getCertFromKeyInfo });
      Object.assign(sx.SignatureAlgorithms, XML_CRYPTO_ECDSA, { [RSA_SHA384]: RsaSha384 });
      Object.assign(sx.HashAlgorithms, { [SHA384]: Sha384 });
      sx.loadSignature(sig as never);
      if (sx.checkSignature(xml)) return { role, valid: true };
      const why = sx.getReferences().find((r) => r.validationError)?.validationError?.message ?? "the SignatureValue does not verify";
      return { role, valid: false, code: "SIGNATURE_INVALID", message: why };
    } catch (e) {
      return { role, valid: false, code: "SIGNATURE_INVALID", message: (e as Error).message.split("\n")[0]! };
    }
  });
}

/** The HDon to gate: the file itself, or the HDon a TDiep carries, focused as the T-VAN channel does. */
function invoiceInput(text: string): { input: string | ParsedXml } | { faults: Fault[] } {
  const root = /<\s*([A-Za-z_][\w.-]*:)?(HDon|TDiep)\b/.exec(text)?.[2];
  if (root !== "TDiep") return { input: text };
  const parsed = parseXml(text, "TDiep");
  if (!parsed.ok) return { faults: parsed.faults };
  const dlieu = parsed.value.root.elements.find((n) => n.localName === "DLieu");
  const hdon = dlieu?.elements.find((n) => n.localName === "HDon");
  if (!hdon) return { faults: [{ code: "SCHEMA_INVALID", message: "the TDiep carries no DLieu/HDon", path: "DLieu/HDon" }] };
  return { input: focus(parsed.value, hdon) };
}

/** The gate's stages on one invoice: the faults of the first failing stage, or none. */
export function gate(input: string | ParsedXml, o: CheckOptions): Fault[] {
  let doc: ParsedXml;
  if (typeof input === "string") {
    const parsed = parseXml(input, "HDon");
    if (!parsed.ok) return parsed.faults;
    doc = parsed.value;
  } else doc = input;
  const frame = readInvoiceDocument(doc);
  if (!frame.ok) return frame.faults;
  const authority = refuseAuthorityParts(frame.value);
  if (authority.length) return authority;
  const profile = readSellerSignature(frame.value, o.allowSha1);
  if (!profile.ok) return profile.faults;
  const verified = verifyProfile(profile.value);
  if (!verified.ok) return verified.faults;
  const signingTime = verified.value.signingTime ?? o.at;
  if (o.trust) {
    const mstEl = frame.value.dlhdon.getElementsByTagName("NBan")[0]?.getElementsByTagName("MST")[0];
    const mst = mstEl ? textOf(mstEl) : "";
    const cert = o.trust.verifySigner(verified.value.signer, verified.value.others, signingTime, mst);
    if (!cert.ok) return cert.faults;
  }
  const invoice = readInvoice(frame.value.dlhdon);
  if (!invoice.ok) return invoice.faults;
  // Received at `--at`: NLap and SigningTime are bounded against it as the service bounds them.
  return checkRules(invoice.value, { today: gmt7Date(o.at), receipt: { at: o.at, signingTime: verified.value.signingTime, window: DEFAULT_TIME_WINDOW } });
}

export function checkFile(file: string, bytes: Uint8Array, o: CheckOptions): FileReport {
  const text = Buffer.from(bytes).toString("utf8");
  const signatures = checkSignatures(text);
  const inv = invoiceInput(text);
  const faults = "faults" in inv ? inv.faults : gate(inv.input, o);
  return { file, ok: faults.length === 0, code: faults[0]?.code ?? null, signatures, faults };
}

function human(r: FileReport, out: (l: string) => void): void {
  out(`${r.file}: ${r.ok ? "OK" : `REFUSED ${r.code}`}`);
  for (const s of r.signatures) out(`  signature (${s.role}): ${s.valid ? "valid" : `INVALID — ${s.message}`}`);
  for (const f of r.faults) out(`  ${f.code}${f.path ? ` at ${f.path}` : ""}: ${f.message}`);
}

export async function run(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        "no-trust": { type: "boolean" },
        "allow-sha1": { type: "boolean" },
        "trust-anchors": { type: "string" },
        intermediates: { type: "string" },
        crls: { type: "string" },
        at: { type: "string" },
      },
    });
  } catch (e) {
    io.err(`hoadon check: ${(e as Error).message}`);
    return 2;
  }
  const v = parsed.values;
  if (parsed.positionals.length === 0) {
    io.err("usage: hoadon check [--json] [--no-trust] [--allow-sha1] [--trust-anchors F] [--intermediates F] [--crls F,…] [--at TIME] FILE…");
    return 2;
  }
  const at = v.at ? new Date(v.at) : new Date();
  if (Number.isNaN(at.getTime())) {
    io.err(`hoadon check: --at ${v.at}: not a time (ISO 8601)`);
    return 2;
  }
  let trust: TrustStore | null = null;
  if (!v["no-trust"]) {
    const material = loadTrust({
      anchorsPath: v["trust-anchors"] ?? "certs/trust-anchors.pem",
      ...(v.intermediates ? { intermediatesPath: v.intermediates } : v["trust-anchors"] ? {} : { intermediatesPath: "certs/intermediates.pem" }),
      ...(v.crls ? { crlPaths: v.crls.split(",").filter(Boolean) } : {}),
    } as Parameters<typeof loadTrust>[0]);
    trust = new TrustStore(material, { warn: (m) => io.err(`hoadon check: ${m}`) });
  }
  let allOk = true;
  for (const file of parsed.positionals) {
    let report: FileReport;
    try {
      report = checkFile(file, readFileSync(file), { trust, allowSha1: !!v["allow-sha1"], at });
    } catch (e) {
      report = { file, ok: false, code: "BAD_REQUEST" satisfies ErrorCode, signatures: [], faults: [{ code: "BAD_REQUEST", message: (e as Error).message }] };
    }
    allOk &&= report.ok;
    if (v.json) io.out(JSON.stringify(report));
    else human(report, io.out);
  }
  return allOk ? 0 : 1;
}
