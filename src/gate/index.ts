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
import type { Invoice } from "../domain/invoice.js";
import type { LegacyAllowance } from "../domain/model.js";
import type { TimeWindow } from "../domain/rules.js";
import { type Fault, RefusalError } from "../errors.js";
import type { HeavyWork } from "../heavy-work.js";
import { DSIG_NS } from "../xml/algorithms.js";
import { authorityRules, type InvoiceDocument, readInvoiceDocument, sellerRules } from "../xml/invoice-document.js";
import { childElements, focus, hasNonWhitespaceText, type ParsedXml, textOf } from "../xml/parse.js";
import type { ParseLimits, XElement } from "../xml/scan.js";
import { type ProfileRules, readSignature, type SignatureProfile, type VerifiedSignature, verifyProfile } from "../xml/verify.js";
import { type Registry, type SignerTrustDeps, trustSigner } from "./certificate.js";
import { cashRegisterFrameStage, frameStage } from "./frame.js";
import { parseStage } from "./parse.js";
import { profileStage } from "./profile.js";
import { rulesStage } from "./rules.js";
import { schemaStage } from "./schema.js";
import { signatureStage } from "./signature.js";
import { sizeStage } from "./size.js";
import { refuse, type StageName } from "./stages.js";

export { type Registry, type SignerTrustDeps, storeRegistry, trustSigner } from "./certificate.js";
export { GateRefusal, STAGE_NAMES, STAGES, type StageName, stageRow } from "./stages.js";

export interface GateDeps extends SignerTrustDeps, TimeWindow {
  allowSha1: boolean;
  limits: ParseLimits;
  /** Where a large document waits for its turn before its synchronous stages (src/heavy-work.ts); absent: no wait. */
  lane?: Pick<HeavyWork, "turn">;
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
  /** The legacy allowances the seller's signature needed (gate/certificate.ts legacyAllowances). */
  legacy?: LegacyAllowance[];
  invoice?: Invoice;
}

export interface RunOptions {
  /** The last stage to run (default "rules"). */
  until?: Exclude<StageName, "duplicates" | "code" | "stamp" | "store">;
  /** The seller whose API key submits: the invoice's seller must be it (FORBIDDEN otherwise). Absent in dry runs. */
  submitterTaxCode?: string;
  receivedAt: Date;
  registry: Registry;
  /**
   * A cash-register invoice of a T-VAN 206 (tvan.md §8): it carries the seller's own MCCQT and
   * needs no seller signature (verified, with its certificate, when present); never a CQT signature.
   */
  cashRegister?: boolean;
  /** An invoice without a code of a T-VAN 203 (tvan.md §7): its symbol starts with K. */
  uncoded?: boolean;
}

/** Runs the per-document stages on `body` up to `opts.until`; throws GateRefusal (a RefusalError) at the first that fails. */
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
    // A large document's parse, frame, profile and signature run in a turn of their own.
    const turn = deps.lane?.turn(typeof body === "string" ? body.length : body.byteLength);
    if (turn) await turn;
    state.parsed = parseStage(body, deps.limits);
  } else {
    state.parsed = body;
    if (done("size")) return state;
  }
  if (done("parse")) return state;
  state.doc = opts.cashRegister ? cashRegisterFrameStage(state.parsed) : frameStage(state.parsed);
  if (done("frame")) return state;
  const forbidden = (): void => {
    if (opts.submitterTaxCode !== undefined && state.sellerTaxCode !== opts.submitterTaxCode) {
      throw new RefusalError("FORBIDDEN", "This API key belongs to another seller than the invoice's (NBan/MST).");
    }
  };
  if (opts.cashRegister && state.doc.sellerSignatures.length === 0) {
    // A cash-register invoice needs no signature of its own (tvan.md §8.4): the package's CKSNNT,
    // judged before, stands for the seller; profile, signature and certificate have nothing to judge.
    state.sellerTaxCode = sellerTaxCodeOf(state.doc.dlhdon);
    forbidden();
    for (const stage of ["profile", "signature", "certificate"] as const) if (done(stage)) return state;
  } else {
    state.profile = profileStage(state.doc, deps.allowSha1);
    if (done("profile")) return state;
    state.verified = signatureStage(state.profile);
    if (done("signature")) return state;

    // From here on, business data comes only from the verified DLHDon.
    state.sellerTaxCode = sellerTaxCodeOf(state.doc.dlhdon);
    forbidden();
    // A SigningTime out of the window is the rules' to refuse (SIGNING_TIME_OUT_OF_RANGE), not a trust fault.
    const signer = await trustSigner(deps, state.verified, state.sellerTaxCode, opts.receivedAt, opts.registry, { paths: "invoice", refuseFutureSigningTime: false });
    if (!signer.ok) return refuse("certificate", signer.faults);
    state.certificateFingerprint = signer.fingerprint;
    state.signingTime = signer.signingTime;
    state.legacy = signer.legacy;
    if (done("certificate")) return state;
  }
  state.invoice = schemaStage(state.doc.dlhdon, { uncoded: opts.uncoded === true });
  if (done("schema")) return state;
  rulesStage(state.invoice, opts.receivedAt, state.verified?.signingTime ?? null, deps);
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

export type SignatureRole = "seller" | "buyer" | "authority" | "other";

export interface SignatureVerdict {
  /** Where it stands: the path of its parent from the document's root (HDon/DSCKS/NBan, TDiep/DLieu/TBao/DSCKS/CQT, TDiep/CKSNNT, …). */
  place: string;
  role: SignatureRole;
  /**
   * Mathematically valid under the profile of its place: an invoice's seller and authority
   * signatures under invoice-format.md §4 and §6 (the gate's own frame and profile); a
   * taxpayer's DSCKS/NNT signature on a TKhai or TBao as the service's T-VAN channel reads it
   * (its DLTKhai or DLTBao and its own SigningTime Object, nothing else); any other signature
   * with References to elements of this document (its own Objects included), the signed data of
   * its document (DLTBao, DLTKhai, … beside its DSCKS; DLieu beside a CKSNNT) covered; allowed
   * transforms and algorithms, Ids unique in the whole document, always.
   */
  valid: boolean;
  faults: Fault[];
  signingTime: Date | null;
}

/**
 * Who signs, by the element a Signature stands in: DSCKS/NBan (an invoice's seller), DSCKS/NNT (the
 * taxpayer of a TKhai or TBao), CKSNNT (the taxpayer of a 206), DSCKS/NMua (the buyer), DSCKS/CQT
 * and DSCKS/TTCQT (the tax office and its head); anything else is "other".
 */
const ROLE_OF_GROUP: Readonly<Record<string, SignatureRole>> = { NBan: "seller", NNT: "seller", NMua: "buyer", CQT: "authority", TTCQT: "authority" };

/**
 * Every ds:Signature of a document with its own verdict (no trust decision: see trustSigner), in
 * document order, whatever the layout: an HDon, a TDiep carrying invoices (200, 202, 203, 206),
 * notices (TBao of 102, 103, 204, 300), a registration (TKhai), or signatures anywhere else.
 * An InvoiceDocument (the gate's frame) is read as its HDon.
 */
export function signatureVerdicts(doc: InvoiceDocument | ParsedXml, allowSha1: boolean): SignatureVerdict[] {
  const parsed = "dlhdon" in doc ? doc.parsed : doc;
  const frames = new Map<XElement, InvoiceFrame>();
  if ("dlhdon" in doc) frames.set(doc.parsed.root, { ok: true, doc });
  return parsed.signatures.map((sig) => {
    const group = sig.parentNode;
    const place = pathOf(group);
    const hdon = invoiceOf(sig);
    let role: SignatureRole;
    let rules: ProfileRules | Fault[];
    if (hdon) {
      let frame = frames.get(hdon);
      if (!frame) frames.set(hdon, (frame = invoiceFrame(parsed, hdon)));
      const inGroup = group !== null && group.parentNode !== null && group.parentNode.localName === "DSCKS" && group.parentNode.parentNode === hdon;
      role = inGroup && group.localName !== "NNT" && group.localName !== "TTCQT" ? (ROLE_OF_GROUP[group.localName] ?? "other") : "other";
      if (!frame.ok) rules = frame.faults;
      else if (role === "seller") {
        // As the gate's profile stage: the one Signature under NBan, nothing else there.
        const alone = group!.elements.length === 1 && !hasNonWhitespaceText(group!);
        rules = alone ? sellerRules(frame.doc, allowSha1) : [{ code: "SIGNATURE_PROFILE", message: "DSCKS/NBan may hold only the seller's one Signature.", path: "DSCKS/NBan" }];
      } else if (role === "authority" && frame.doc.mccqt) rules = authorityRules(frame.doc, allowSha1);
      else rules = otherRules(sig, allowSha1, null);
    } else {
      const dscks = group?.parentNode;
      const inGroup = group !== null && dscks !== null && dscks !== undefined && dscks.localName === "DSCKS" && dscks.namespaceURI === null;
      role = inGroup ? (ROLE_OF_GROUP[group.localName] ?? "other") : group?.localName === "CKSNNT" && group.namespaceURI === null ? "seller" : "other";
      // The signed data of its document: the one DL… element beside DSCKS (DLTBao, DLTKhai), or the DLieu a CKSNNT stands beside.
      const holder = inGroup ? dscks.parentNode : role === "seller" ? group!.parentNode : null;
      const data = holder ? holder.elements.filter((e) => e.namespaceURI === null && (inGroup ? /^DL/.test(e.localName) : e.localName === "DLieu")) : [];
      const signed = data.length === 1 ? data[0]! : null;
      // The taxpayer's signature on a TKhai (100) or TBao (300): the profile the service applies to it
      // (domain/registration.ts, domain/messages.ts) — its data and its own SigningTime Object, nothing else.
      rules = inGroup && group.localName === "NNT" && signed ? ownDataRules(signed, allowSha1) : otherRules(sig, allowSha1, signed);
    }
    if (Array.isArray(rules)) return { place, role, valid: false, faults: rules, signingTime: null };
    if (parsed.duplicateIds.length) {
      return { place, role, valid: false, faults: [{ code: "SIGNATURE_PROFILE", message: `Duplicate Id values: ${parsed.duplicateIds.slice(0, 5).join(", ")}.` }], signingTime: null };
    }
    const profile = readSignature(sig, parsed, rules);
    const verified = profile.ok ? verifyProfile(profile.value) : profile;
    return { place, role, valid: verified.ok, faults: verified.ok ? [] : verified.faults, signingTime: verified.ok ? verified.value.signingTime : null };
  });
}

type InvoiceFrame = { ok: true; doc: Pick<InvoiceDocument, "dlhdon" | "mccqt"> } | { ok: false; faults: Fault[] };

/**
 * The frame of the HDon a signature stands in, as the gate's frame stage reads it. A frame the gate
 * refuses for where signatures or DLHDon stand (SIGNATURE_PROFILE, SIGNATURE_MISSING: wrapping
 * signals) makes every signature of that HDon invalid with those faults; one refused for other
 * reasons (an unknown element, say) still has its one DLHDon, and its signatures are judged against it.
 */
function invoiceFrame(parsed: ParsedXml, hdon: XElement): InvoiceFrame {
  const read = readInvoiceDocument(hdon === parsed.root ? parsed : focus(parsed, hdon));
  if (read.ok) return { ok: true, doc: read.value };
  const wrapping = read.faults.filter((f) => f.code === "SIGNATURE_PROFILE" || f.code === "SIGNATURE_MISSING");
  if (wrapping.length) return { ok: false, faults: wrapping };
  const dlhdon = hdon.elements.filter((e) => e.localName === "DLHDon" && e.namespaceURI === null);
  if (dlhdon.length !== 1) return { ok: false, faults: [{ code: "SIGNATURE_PROFILE", message: "The HDon holds no single DLHDon for its signatures to cover." }] };
  const mccqt = hdon.elements.filter((e) => e.localName === "MCCQT" && e.namespaceURI === null);
  return { ok: true, doc: { dlhdon: dlhdon[0]!, mccqt: mccqt.length === 1 ? mccqt[0]! : null } };
}

/** References to elements of this document outside the signature (or its own Objects); `data`, when given, covered exactly once. */
function otherRules(sig: XElement, allowSha1: boolean, data: XElement | null): ProfileRules {
  return {
    allowSha1,
    maxReferences: 4,
    allowedTarget: (el) => (el !== sig && !isInside(el, sig)) || (el.localName === "Object" && el.namespaceURI === DSIG_NS && el.parentNode === sig),
    requiredTargets: data ? [(el) => el === data] : [],
  };
}

/** One Reference to `data` and at most one to the signature's own Object (the seller profile's shape, for the data of another document). */
function ownDataRules(data: XElement, allowSha1: boolean): ProfileRules {
  return {
    allowSha1,
    maxReferences: 2,
    allowedTarget: (el, sig) => el === data || (el.localName === "Object" && el.namespaceURI === DSIG_NS && el.parentNode === sig),
    requiredTargets: [(el) => el === data],
  };
}

/** The nearest HDon (no namespace) around a node, or null. */
function invoiceOf(node: XElement): XElement | null {
  for (let p = node.parentNode; p; p = p.parentNode) if (p.localName === "HDon" && p.namespaceURI === null) return p;
  return null;
}

function pathOf(el: XElement | null): string {
  const names: string[] = [];
  for (let p = el; p; p = p.parentNode) names.unshift(p.tagName);
  return names.join("/");
}

function isInside(node: XElement, ancestor: XElement): boolean {
  for (let p: XElement | null = node; p; p = p.parentNode) if (p === ancestor) return true;
  return false;
}
