/**
 * Public verification (api.md: /v1/verify…, and the buyer's page): anyone holding an invoice
 * learns whether the tax authority issued it, and its status, without an account.
 *
 * "Valid" means genuine: the authority issued this very invoice. The status is reported beside
 * it: a cancelled or replaced invoice is genuine, and the buyer is told plainly that it no longer
 * counts. Public answers carry no buyer data (no name, tax code or address).
 */
import { timingSafeEqual } from "node:crypto";
import { type Fault, type Outcome, refusalOf, refused } from "../errors.js";
import type { HeavyWork } from "../heavy-work.js";
import { C14N, digestBase64 } from "../xml/algorithms.js";
import { canonicalize } from "../xml/canonical.js";
import { authorityRules, type InvoiceDocument, readInvoiceDocument, readSellerSignature } from "../xml/invoice-document.js";
import { childElements, type ParsedXml, type ParseLimits, parseXml, textOf } from "../xml/parse.js";
import type { AuthorityKey } from "../xml/stamp.js";
import { readSignature, verifyProfile } from "../xml/verify.js";
import { CODE_PATTERN, isAuthenticCode } from "./code.js";
import { readInvoice } from "./invoice.js";
import type { InvoiceSource, InvoiceStatus, InvoiceSummary, NaturalKey } from "./model.js";
import { cmp, parseAmount } from "./money.js";
import type { InvoicesPort, RegistryPort } from "./ports.js";
import { codeIdentity, signedDataDigest } from "./submit.js";

/** What a public lookup tells about an invoice (api.md GET /v1/verify/{code}). */
export interface PublicInvoice {
  /** Genuine: the record's code authenticates its identity under the authority's secret. */
  valid: boolean;
  code: string;
  status: InvoiceStatus;
  sellerTaxCode: string;
  sellerName: string;
  form: string;
  symbol: string;
  number: number;
  issueDate: string;
  /** VND (converted with TGia), decimal string. */
  totalBeforeTax: string;
  totalTax: string;
  totalPayable: string;
  /** The currency the invoice was written in. */
  currency: string;
  /** coded (MCCQT issued here), uncoded (T-VAN 203), cashRegister (T-VAN 206: `code` is its own MCCQT). */
  source: InvoiceSource;
}

/** A cash-register invoice's own code (tvan.md §8.1): GET /v1/verify/{code} takes it too. */
export const REGISTER_CODE_PATTERN = /^M[1-9]-\d{2}-[0-9A-Z]{5}-\d{11}$/;

export interface VerifyDeps {
  store: InvoicesPort & Pick<RegistryPort, "sellerRegistration">;
  authority: AuthorityKey;
  codeSecret: Uint8Array;
  allowSha1: boolean;
  limits: ParseLimits;
  /** Where a large document waits for its turn before its parse and signatures (src/heavy-work.ts); absent: no wait. */
  lane?: Pick<HeavyWork, "turn">;
}

/** The record's own code checked against its stored identity: a row edited behind the service's back is not genuine. */
function recordIsAuthentic(deps: VerifyDeps, inv: InvoiceSummary): boolean {
  const { sellerTaxCode, form, symbol, number, issueDate, totalPayable, digest } = inv;
  return isAuthenticCode(deps.codeSecret, inv.code, { sellerTaxCode, form, symbol, number, issueDate, totalPayable, digest });
}

async function publicOf(deps: VerifyDeps, inv: InvoiceSummary): Promise<PublicInvoice> {
  const { seller } = await deps.store.sellerRegistration(inv.sellerTaxCode);
  return {
    // An invoice the authority received without issuing a code (203, 206) is genuine by its record:
    // it was stored only once its signatures, certificate and rules passed (docs/verification.md).
    valid: inv.source === "coded" ? recordIsAuthentic(deps, inv) : true,
    code: inv.source === "cashRegister" && inv.registerCode ? inv.registerCode : inv.code,
    source: inv.source,
    status: inv.status,
    sellerTaxCode: inv.sellerTaxCode,
    sellerName: seller?.name ?? "",
    form: inv.form,
    symbol: inv.symbol,
    number: inv.number,
    issueDate: inv.issueDate,
    totalBeforeTax: inv.totalBeforeTax,
    totalTax: inv.totalTax,
    totalPayable: inv.totalPayable,
    currency: inv.currency,
  };
}

/** GET /v1/verify/{code}: null when no invoice has this code (a made-up code is simply unknown). */
export async function lookupByCode(deps: VerifyDeps, code: string): Promise<PublicInvoice | null> {
  if (REGISTER_CODE_PATTERN.test(code)) {
    const inv = await deps.store.getInvoiceByRegisterCode(code);
    return inv ? publicOf(deps, inv) : null;
  }
  if (!CODE_PATTERN.test(code)) return null;
  const inv = await deps.store.getInvoice(code);
  // An uncoded or cash-register invoice's record id is not an authority code (tvan.md §13).
  return inv && inv.source === "coded" ? publicOf(deps, inv) : null;
}

/** The lookup without the code: the natural key and the total payable. */
export interface KeyLookup extends NaturalKey {
  /** The total payable in VND as the buyer reads it; compared as a decimal ("1000" = "1000.00"). */
  total: string;
}

/**
 * GET /v1/verify?seller&form&symbol&number&total: null when there is no such invoice or the
 * total differs — the two are not told apart, so the natural key alone (which is guessable)
 * reveals nothing, the way Mexico's SAT asks for the total.
 */
export async function lookupByKey(deps: VerifyDeps, q: KeyLookup): Promise<PublicInvoice | null> {
  const given = parseAmount(q.total);
  if (given === null) return null;
  const inv = await deps.store.findInvoiceByKey(q);
  if (!inv) return null;
  const stored = parseAmount(inv.totalPayable);
  if (stored === null || cmp(stored, given) !== 0) return null;
  return publicOf(deps, inv);
}

export type CheckName = "sellerSignature" | "authoritySignature" | "codeAuthentic" | "matchesRecord";

/** POST /v1/verify: each check, the failures named, and the record the code points at (if any). */
export interface DocumentVerification {
  /** Genuine: every check passed. The status is separate (a cancelled invoice is genuine and cancelled). */
  valid: boolean;
  /** The document's MCCQT (null when it has none that looks like a code). */
  code: string | null;
  checks: Record<CheckName, boolean> & { status: InvoiceStatus | null };
  /** Why each failed check failed, in check order. */
  failures: { check: CheckName; code: string; message: string }[];
  /** The stored invoice the document's code names, when there is one. */
  invoice: PublicInvoice | null;
}

const fail = (check: CheckName, f: Pick<Fault, "code" | "message">) => ({ check, code: f.code, message: f.message });

/**
 * Verifies a stamped invoice document: the seller's signature (mathematically valid over the
 * DLHDon), the authority's signature (valid, and made with this authority's certificate), the
 * code (its MAC over the identity read from the verified DLHDon), and the record (the stored
 * invoice under this code has the same DLHDon digest). Parsed by the gate's hardened parser.
 * Refused (XML_MALFORMED, XML_FORBIDDEN_CONSTRUCT, …) when the body is not an XML HDon at all.
 */
export async function verifyDocument(deps: VerifyDeps, body: Uint8Array): Promise<Outcome<{ verification: DocumentVerification }>> {
  const turn = deps.lane?.turn(body.byteLength);
  if (turn) await turn;
  const parsed = parseXml(body, "HDon", deps.limits);
  if (!parsed.ok) return refused(refusalOf(parsed.faults));
  return { ok: true, verification: await checkDocument(deps, parsed.value) };
}

/** The four checks of a parsed document. */
async function checkDocument(deps: VerifyDeps, parsed: ParsedXml): Promise<DocumentVerification> {
  const failures: DocumentVerification["failures"] = [];
  const checks: DocumentVerification["checks"] = { sellerSignature: false, authoritySignature: false, codeAuthentic: false, matchesRecord: false, status: null };

  const frame = readInvoiceDocument(parsed);
  if (!frame.ok) {
    // Not an invoice's shape (a second DLHDon, a Signature out of place, …): nothing can be believed.
    const f = frame.faults[0]!;
    for (const check of ["sellerSignature", "authoritySignature", "codeAuthentic", "matchesRecord"] as const) failures.push(fail(check, f));
    return { valid: false, code: null, checks, failures, invoice: null };
  }
  const doc = frame.value;
  const mccqtText = doc.mccqt ? textOf(doc.mccqt).trim() : "";
  if (REGISTER_CODE_PATTERN.test(mccqtText)) return verifyCashRegister(deps, doc, mccqtText);
  const code = CODE_PATTERN.test(mccqtText) ? mccqtText : null;

  // 1. The seller's signature: the signed data is what the seller signed.
  const digest = sellerDigest(deps, doc, checks, failures);

  // 2. The authority's signature, by this authority's own certificate.
  const authority = verifyAuthority(deps, doc);
  if (authority === null) checks.authoritySignature = true;
  else failures.push(fail("authoritySignature", authority));

  // 3. The code: its MAC binds the identity read from the verified DLHDon.
  if (!code) failures.push(fail("codeAuthentic", { code: "NOT_FOUND", message: doc.mccqt ? "MCCQT is not a code of 34 upper-case hex characters." : "The document carries no MCCQT." }));
  else if (digest === null) failures.push(fail("codeAuthentic", { code: "SIGNATURE_INVALID", message: "The invoice data is not covered by a valid seller signature, so the code cannot be checked against it." }));
  else {
    const inv = readInvoice(doc.dlhdon);
    if (!inv.ok) failures.push(fail("codeAuthentic", inv.faults[0]!));
    else {
      const key = { sellerTaxCode: inv.value.sellerTaxCode, form: inv.value.form, symbol: inv.value.symbol, number: inv.value.number };
      if (isAuthenticCode(deps.codeSecret, code, codeIdentity(key, inv.value, digest))) checks.codeAuthentic = true;
      else failures.push(fail("codeAuthentic", { code: "SIGNATURE_INVALID", message: "The code was not issued by the tax authority for this invoice's data." }));
    }
  }

  // 4. The record: the invoice stored under this code has exactly this signed data.
  const record = code ? await deps.store.getInvoice(code) : null;
  const notFound = code ? "No invoice was issued with this code." : "The document carries no code to look up.";
  return verdict(deps, code, checks, failures, record, digest, notFound, "The invoice data differs from the invoice issued with this code.");
}

/** Check 1: the seller's signature verifies (noted in `checks`, else in `failures`); the digest of the data it signed, or null. */
function sellerDigest(
  deps: VerifyDeps,
  doc: InvoiceDocument,
  checks: DocumentVerification["checks"],
  failures: DocumentVerification["failures"],
): string | null {
  const profile = readSellerSignature(doc, deps.allowSha1);
  const seller = profile.ok ? verifyProfile(profile.value) : profile;
  if (!seller.ok) {
    failures.push(fail("sellerSignature", seller.faults[0]!));
    return null;
  }
  checks.sellerSignature = true;
  return signedDataDigest(seller.value, doc.dlhdon);
}

/** Check 4 (the record under the code has exactly this signed data), then the verdict of all four. */
async function verdict(
  deps: VerifyDeps,
  code: string | null,
  checks: DocumentVerification["checks"],
  failures: DocumentVerification["failures"],
  record: InvoiceSummary | null,
  digest: string | null,
  notFound: string,
  differs: string,
): Promise<DocumentVerification> {
  if (!record) failures.push(fail("matchesRecord", { code: "NOT_FOUND", message: notFound }));
  else {
    checks.status = record.status;
    if (digest !== null && sameText(record.digest, digest)) checks.matchesRecord = true;
    else failures.push(fail("matchesRecord", { code: "SIGNATURE_INVALID", message: differs }));
  }
  const valid = checks.sellerSignature && checks.authoritySignature && checks.codeAuthentic && checks.matchesRecord;
  return { valid, code, checks, failures, invoice: record ? await publicOf(deps, record) : null };
}

/**
 * A cash-register invoice (T-VAN 206) carries its seller's own code and no authority signature:
 * - sellerSignature: its own signature verifies when it has one (none is required: the taxpayer
 *   signed the package it came in, checked at receipt);
 * - authoritySignature: it carries none (a CQT signature on it is not the authority's: fails);
 * - codeAuthentic: the code was recorded by the authority for an invoice of this seller, type, symbol and number;
 * - matchesRecord: the recorded invoice has exactly this DLHDon (its digest).
 */
async function verifyCashRegister(deps: VerifyDeps, doc: InvoiceDocument, code: string): Promise<DocumentVerification> {
  const failures: DocumentVerification["failures"] = [];
  const checks: DocumentVerification["checks"] = { sellerSignature: false, authoritySignature: false, codeAuthentic: false, matchesRecord: false, status: null };
  let digest: string | null = null;
  if (doc.sellerSignatures.length === 0) {
    checks.sellerSignature = true;
    digest = digestBase64("sha256", canonicalize(doc.dlhdon, C14N));
  } else digest = sellerDigest(deps, doc, checks, failures);
  if (doc.authoritySignatures.length === 0 && !childElements(doc.dscks).some((g) => g.localName === "CQT")) checks.authoritySignature = true;
  else failures.push(fail("authoritySignature", { code: "SIGNATURE_PROFILE", message: "A cash-register invoice carries no tax authority signature; this one is not the authority's." }));
  const record = await deps.store.getInvoiceByRegisterCode(code);
  const inv = readInvoice(doc.dlhdon, { uncoded: true });
  if (!record) failures.push(fail("codeAuthentic", { code: "NOT_FOUND", message: "No cash-register invoice was received with this code." }));
  else if (!inv.ok) failures.push(fail("codeAuthentic", inv.faults[0]!));
  else if (record.sellerTaxCode !== inv.value.sellerTaxCode || record.form !== inv.value.form || record.symbol !== inv.value.symbol || record.number !== inv.value.number) {
    failures.push(fail("codeAuthentic", { code: "SIGNATURE_INVALID", message: "The code was recorded for another invoice." }));
  } else checks.codeAuthentic = true;
  return verdict(deps, code, checks, failures, record, digest, "No cash-register invoice was received with this code.", "The invoice data differs from the invoice received with this code.");
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The one CQT signature: the profile of §6, every digest and the value, and the signer is this authority's certificate. Null when it passes. */
function verifyAuthority(deps: VerifyDeps, doc: InvoiceDocument): Pick<Fault, "code" | "message"> | null {
  if (!doc.mccqt) return { code: "SIGNATURE_MISSING", message: "The document carries no MCCQT for the authority's signature to cover." };
  if (doc.authoritySignatures.length !== 1) {
    return doc.authoritySignatures.length
      ? { code: "SIGNATURE_PROFILE", message: "More than one Signature under DSCKS/CQT." }
      : { code: "SIGNATURE_MISSING", message: "No tax authority signature under DSCKS/CQT." };
  }
  if (doc.parsed.duplicateIds.length) return { code: "SIGNATURE_PROFILE", message: `Duplicate Id values: ${doc.parsed.duplicateIds.slice(0, 5).join(", ")}.` };
  const profile = readSignature(doc.authoritySignatures[0]!, doc.parsed, authorityRules(doc, false));
  if (!profile.ok) return profile.faults[0]!;
  const verified = verifyProfile(profile.value);
  if (!verified.ok) return verified.faults[0]!;
  // Anyone can make a mathematically valid "CQT" signature with a key of their own: only this
  // authority's certificate counts.
  const ours = deps.authority.certDer;
  if (verified.value.signer.length !== ours.length || !timingSafeEqual(verified.value.signer, ours)) {
    return { code: "CERT_UNTRUSTED", message: "The CQT signature was not made with the tax authority's certificate." };
  }
  return null;
}
