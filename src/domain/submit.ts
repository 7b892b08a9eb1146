/**
 * The submission pipeline: one seller-signed HDon in, one stamped invoice (or one precise
 * refusal) out. It reads top to bottom in the gate's order of invoice-format.md §4:
 *
 *   size → parse → frame (one HDon, no MCCQT/CQT yet) → signature profile and algorithms →
 *   digests and signature value → certificate (chain, validity at signing time, revocation,
 *   UID=MST binding, registration) → schema → business rules → duplicates → code →
 *   authority signature → store
 *
 * The first failing stage is reported with all of its faults. Nothing is written before the
 * last step, and the last step is one transaction.
 */
import { ApiError, type Fault } from "../errors.js";
import type { TrustStore } from "../pki/trust.js";
import type { InvoiceSummary, Store } from "../storage/store.js";
import { C14N, digestBase64 } from "../xml/algorithms.js";
import { canonicalize } from "../xml/c14n.js";
import { readInvoiceDocument, readSellerSignature, refuseAuthorityParts } from "../xml/invoice-document.js";
import { childElements, parseXml, textOf, type ParseLimits } from "../xml/parse.js";
import { stamp, type AuthorityKey } from "../xml/stamp.js";
import { verifyProfile, type VerifiedSignature } from "../xml/verify.js";
import type { CodeIssuer } from "./code.js";
import { readInvoice } from "./invoice.js";
import { checkRules, vndTotals } from "./rules.js";

/** Everything the pipeline needs, built once at start. */
export interface SubmitDeps {
  store: Store;
  trust: TrustStore;
  authority: AuthorityKey;
  codes: CodeIssuer;
  clock: () => Date;
  allowSha1: boolean;
  limits: ParseLimits;
  /** How far a SigningTime may run ahead of our clock (clock skew between seller and authority). */
  maxClockSkewMs: number;
}

/** Who is submitting: an API key of one seller. */
export interface Submitter {
  keyId: string;
  sellerTaxCode: string;
}

export type SubmitOutcome = { status: "issued" | "replay"; invoice: InvoiceSummary; xml: string };

const refuse = (faults: Fault[]): never => {
  throw ApiError.fromFaults(faults);
};

/** Runs one invoice through the gate; throws ApiError with the first failing stage's faults. */
export async function submitInvoice(deps: SubmitDeps, body: Uint8Array, submitter: Submitter): Promise<SubmitOutcome> {
  const receivedAt = deps.clock();

  // 1. Size, well-formed parse, forbidden constructs, one HDon root.
  const parsed = parseXml(body, "HDon", deps.limits);
  if (!parsed.ok) return refuse(parsed.faults);

  // 2. The frame: where DLHDon and the signatures stand; no MCCQT or CQT signature yet.
  const frame = readInvoiceDocument(parsed.value);
  if (!frame.ok) return refuse(frame.faults);
  const doc = frame.value;
  const authorityParts = refuseAuthorityParts(doc);
  if (authorityParts.length) return refuse(authorityParts);

  // 3. The seller's signature profile and algorithm allow-list.
  const profile = readSellerSignature(doc, deps.allowSha1);
  if (!profile.ok) return refuse(profile.faults);

  // 4. Digests and signature value: the signature is mathematically valid (not yet trusted).
  const verified = verifyProfile(profile.value);
  if (!verified.ok) return refuse(verified.faults);
  const signingTime = verified.value.signingTime ?? receivedAt;
  if (signingTime.getTime() > receivedAt.getTime() + deps.maxClockSkewMs) {
    return refuse([{ code: "SIGNATURE_INVALID", message: "SigningTime is in the future.", path: "Signature/Object/SignatureProperties/SignatureProperty/SigningTime" }]);
  }

  // From here on, business data comes only from the verified DLHDon.
  const sellerTaxCode = sellerTaxCodeOf(doc.dlhdon);
  if (sellerTaxCode !== submitter.sellerTaxCode) {
    throw new ApiError("FORBIDDEN", "This API key belongs to another seller than the invoice's (NBan/MST).");
  }

  // 5. The certificate: chain, validity at the signing time, revocation, UID=MST binding …
  const cert = deps.trust.verifySigner(verified.value.signer, verified.value.others, signingTime, sellerTaxCode);
  if (!cert.ok) return refuse(cert.faults);
  // … and registration: the seller is registered and active, the certificate registered to it and not stopped.
  const [seller, registered] = await Promise.all([
    deps.store.getSeller(sellerTaxCode),
    deps.store.findCertificate(sellerTaxCode, cert.value.fingerprint),
  ]);
  if (!seller) return refuse([{ code: "SELLER_NOT_REGISTERED", message: `Seller ${sellerTaxCode} is not registered.`, path: "NDHDon/NBan/MST" }]);
  if (seller.status !== "active") return refuse([{ code: "SELLER_SUSPENDED", message: `Seller ${sellerTaxCode} is ${seller.status}.` }]);
  if (!registered || (registered.stoppedAt && registered.stoppedAt.getTime() <= receivedAt.getTime())) {
    return refuse([{ code: "CERT_NOT_REGISTERED", message: registered ? "The signing certificate was stopped." : "The signing certificate is not registered to this seller." }]);
  }

  // 6. Schema of the verified DLHDon.
  const invoice = readInvoice(doc.dlhdon);
  if (!invoice.ok) return refuse(invoice.faults);
  const inv = invoice.value;

  // 7. Business rules (§3.2–3.3).
  const ruleFaults = checkRules(inv, { today: gmt7Date(receivedAt) });
  if (ruleFaults.length) return refuse(firstStage(ruleFaults));

  // 8. Duplicates: the same signed data under the same key is a replay; other data is a conflict.
  const dlhdonC14n = reuseInclusiveCanonical(verified.value, doc.dlhdon) ?? canonicalize(doc.dlhdon, C14N);
  const digest = digestBase64("sha256", dlhdonC14n);
  const key = { sellerTaxCode, form: inv.form, symbol: inv.symbol, number: inv.number };
  const existing = await deps.store.findInvoiceByKey(key);
  if (existing) return replayOrConflict(deps, existing, digest);

  // 9. The code, 10. the authority's signature, 11. store (one transaction).
  const totals = vndTotals(inv);
  const code = await deps.codes.issue({ ...key, issueDate: inv.issueDate, totalPayable: totals.totalPayable, digest });
  const stamped = stamp(doc, code, receivedAt, deps.authority, digest);
  const outcome = await deps.store.issueInvoice({
    ...key,
    code,
    status: "issued",
    buyerTaxCode: inv.buyer?.taxCode ?? null,
    issueDate: inv.issueDate,
    currency: inv.currency,
    ...totals,
    digest,
    xml: stamped.xml,
    issuedAt: receivedAt,
    certificateFingerprint: cert.value.fingerprint,
    submittedBy: submitter.keyId,
  });
  if (outcome.kind === "issued") return { status: "issued", invoice: outcome.invoice, xml: stamped.xml };
  // Lost a race with a concurrent submission of the same key.
  const winner = outcome.kind === "replay" ? outcome.invoice : await deps.store.getInvoice(outcome.existingCode);
  if (!winner) throw new ApiError("INTERNAL");
  return replayOrConflict(deps, winner, digest);
}

async function replayOrConflict(deps: SubmitDeps, existing: InvoiceSummary, digest: string): Promise<SubmitOutcome> {
  if (existing.digest !== digest) {
    throw new ApiError("DUPLICATE_INVOICE", `Invoice ${existing.form}/${existing.symbol}/${existing.number} was already issued with code ${existing.code}.`, [
      { code: "DUPLICATE_INVOICE", message: `Existing code ${existing.code}.`, path: existing.code },
    ]);
  }
  const xml = await deps.store.getInvoiceXml(existing.code);
  if (xml === null) throw new ApiError("INTERNAL");
  return { status: "replay", invoice: existing, xml };
}

/** The seller's tax code, read from the verified DLHDon (NDHDon/NBan/MST). */
function sellerTaxCodeOf(dlhdon: Element): string {
  const nd = childElements(dlhdon).find((e) => e.localName === "NDHDon" && e.namespaceURI === null);
  const nban = nd && childElements(nd).find((e) => e.localName === "NBan" && e.namespaceURI === null);
  const mst = nban && childElements(nban).find((e) => e.localName === "MST" && e.namespaceURI === null);
  // Not trimmed: the schema refuses padding, so a padded MST can never match a key or a certificate.
  return mst ? textOf(mst) : "";
}

/** The seller's own C14N 1.0 octets of DLHDon, when its Reference used exactly that (no second canonicalization). */
function reuseInclusiveCanonical(v: VerifiedSignature, dlhdon: Element): string | null {
  const i = v.profile.references.findIndex((r) => r.target === dlhdon);
  return i >= 0 && v.profile.references[i]!.c14n === C14N ? v.canonical[i]! : null;
}

/** Rules report in stage order; the refusal names the first stage's code with that stage's faults. */
function firstStage(faults: Fault[]): Fault[] {
  const code = faults[0]!.code;
  return faults.filter((f) => f.code === code);
}

/** Today's date in GMT+7 (invoice-format.md §3.2: NLap is judged against the day of receipt there). */
export function gmt7Date(at: Date): string {
  return new Date(at.getTime() + 7 * 3600_000).toISOString().slice(0, 10);
}
