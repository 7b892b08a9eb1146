/**
 * The gate for one document, stage by stage in the order of invoice-format.md §4 (stages.ts):
 *
 *   size → parse → frame → profile → signature → certificate → schema → rules
 *
 * `runGate` runs them on a body (or an HDon already parsed inside a T-VAN message) up to a named
 * stage, for the submission (POST /v1/invoices, the batch, T-VAN 200) and for dry runs (a CLI
 * check, a what-if): the first failing stage throws a GateRefusal with all of its faults.
 * `signatureVerdicts` reports every ds:Signature of a document with its own verdict (mathematical
 * validity under the profile of its place), for tools that show a document's signatures.
 * The stages after these (duplicates, code, stamp, store) judge verified invoices together:
 * domain/submit.ts commitInvoices.
 */
import { ApiError } from "../errors.js";
import type { Invoice } from "../domain/invoice.js";
import type { TimeWindow } from "../domain/rules.js";
import { DSIG_NS } from "../xml/algorithms.js";
import { authorityRules, sellerRules, type InvoiceDocument } from "../xml/invoice-document.js";
import { childElements, textOf, type ParsedXml } from "../xml/parse.js";
import type { ParseLimits, XElement } from "../xml/scan.js";
import { readSignature, verifyProfile, type ProfileRules, type SignatureProfile, type VerifiedSignature } from "../xml/verify.js";
import { trustSigner, type Registry, type SignerTrustDeps } from "./certificate.js";
import { frameStage } from "./frame.js";
import { parseStage } from "./parse.js";
import { profileStage } from "./profile.js";
import { rulesStage } from "./rules.js";
import { schemaStage } from "./schema.js";
import { signatureStage } from "./signature.js";
import { sizeStage } from "./size.js";
import { atOrBefore, refuse, type StageName } from "./stages.js";

export { STAGES, STAGE_NAMES, GateRefusal, stageRow, type StageName, type StageRow } from "./stages.js";
export { storeRegistry, trustSigner, type Registry, type SignerTrustDeps, type SignerVerdict } from "./certificate.js";

export interface GateDeps extends SignerTrustDeps, TimeWindow {
  allowSha1: boolean;
  limits: ParseLimits;
}

/** What the stages that ran found out (each field set once its stage passed). */
export interface GateState {
  /** The last stage that passed. */
  passed: StageName | null;
  parsed?: ParsedXml;
  doc?: InvoiceDocument;
  profile?: SignatureProfile;
  verified?: VerifiedSignature;
  /** NDHDon/NBan/MST of the verified DLHDon. */
  sellerTaxCode?: string;
  certificateFingerprint?: string;
  signingTime?: Date;
  invoice?: Invoice;
}

export interface RunOptions {
  /** The last stage to run (default "rules"). */
  until?: Exclude<StageName, "duplicates" | "code" | "stamp" | "store">;
  /** The seller whose API key submits: the invoice's seller must be it (FORBIDDEN otherwise). Absent in dry runs. */
  submitterTaxCode?: string;
  receivedAt: Date;
  registry: Registry;
}

/** Runs the per-document stages on `body` up to `opts.until`; throws GateRefusal (an ApiError) at the first that fails. */
export async function runGate(deps: GateDeps, body: Uint8Array | string | ParsedXml, opts: RunOptions): Promise<GateState> {
  const until = opts.until ?? "rules";
  const state: GateState = { passed: null };
  const done = (stage: StageName): boolean => {
    state.passed = stage;
    return stage === until;
  };
  if (typeof body === "string" || body instanceof Uint8Array) {
    sizeStage(body, deps.limits);
    if (done("size")) return state;
    state.parsed = parseStage(body, deps.limits);
  } else {
    state.parsed = body;
    if (done("size")) return state;
  }
  if (done("parse")) return state;
  state.doc = frameStage(state.parsed);
  if (done("frame")) return state;
  state.profile = profileStage(state.doc, deps.allowSha1);
  if (done("profile")) return state;
  state.verified = signatureStage(state.profile);
  if (done("signature")) return state;

  // From here on, business data comes only from the verified DLHDon.
  state.sellerTaxCode = sellerTaxCodeOf(state.doc.dlhdon);
  if (opts.submitterTaxCode !== undefined && state.sellerTaxCode !== opts.submitterTaxCode) {
    throw new ApiError("FORBIDDEN", "This API key belongs to another seller than the invoice's (NBan/MST).");
  }
  // A SigningTime out of the window is the rules' to refuse (SIGNING_TIME_OUT_OF_RANGE), not a trust fault.
  const signer = await trustSigner(deps, state.verified, state.sellerTaxCode, opts.receivedAt, opts.registry, { paths: "invoice", refuseFutureSigningTime: false });
  if (!signer.ok) return refuse("certificate", signer.faults);
  state.certificateFingerprint = signer.fingerprint;
  state.signingTime = signer.signingTime;
  if (done("certificate")) return state;
  state.invoice = schemaStage(state.doc.dlhdon);
  if (done("schema")) return state;
  rulesStage(state.invoice, opts.receivedAt, state.verified.signingTime, deps);
  done("rules");
  return state;
}

/** The seller's tax code, read from the verified DLHDon (NDHDon/NBan/MST). */
export function sellerTaxCodeOf(dlhdon: XElement): string {
  const child = (e: XElement | undefined, name: string) => (e ? childElements(e).find((c) => c.localName === name && c.namespaceURI === null) : undefined);
  const mst = child(child(child(dlhdon, "NDHDon"), "NBan"), "MST");
  // Not trimmed: the schema refuses padding, so a padded MST can never match a key or a certificate.
  return mst ? textOf(mst) : "";
}

export interface SignatureVerdict {
  /** Where it stands: DSCKS/NBan, DSCKS/NMua, DSCKS/CQT, DSCKS/CCKSKhac, or elsewhere. */
  place: string;
  role: "seller" | "buyer" | "authority" | "other";
  /** Mathematically valid under the profile of its place (seller and authority: invoice-format.md §4 and §6; others: References to elements of this document, allowed transforms and algorithms). */
  valid: boolean;
  faults: { code: string; message: string; path?: string }[];
  signingTime: Date | null;
}

/** Every ds:Signature of an HDon with its own verdict (no trust decision: see trustSigner). */
export function signatureVerdicts(doc: InvoiceDocument, allowSha1: boolean): SignatureVerdict[] {
  return doc.parsed.signatures.map((sig) => {
    const group = sig.parentNode;
    const place = group && group.parentNode === doc.dscks ? `DSCKS/${group.localName}` : "elsewhere";
    const role = place === "DSCKS/NBan" ? "seller" : place === "DSCKS/CQT" ? "authority" : place === "DSCKS/NMua" ? "buyer" : "other";
    const rules: ProfileRules =
      role === "seller" ? sellerRules(doc, allowSha1) : role === "authority" && doc.mccqt ? authorityRules(doc, allowSha1) : { allowSha1, maxReferences: 4, allowedTarget: (el) => el !== sig && !isInside(el, sig) || (el.localName === "Object" && el.namespaceURI === DSIG_NS && el.parentNode === sig), requiredTargets: [] };
    const profile = readSignature(sig, doc.parsed, rules);
    const verified = profile.ok ? verifyProfile(profile.value) : profile;
    return { place, role, valid: verified.ok, faults: verified.ok ? [] : verified.faults, signingTime: verified.ok ? verified.value.signingTime : null };
  });
}

function isInside(node: XElement, ancestor: XElement): boolean {
  for (let p: XElement | null = node; p; p = p.parentNode) if (p === ancestor) return true;
  return false;
}
