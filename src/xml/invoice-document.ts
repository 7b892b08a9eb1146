/**
 * The shape of an HDon document around the signatures (invoice-format.md §1 and §4): where the
 * signed data sits, where each signature may stand, and the seller's signature profile.
 */
import type { Fault, Result } from "../errors.js";
import { ok } from "../errors.js";
import { DSIG_NS } from "./algorithms.js";
import { childElements, hasNonWhitespaceText, type ParsedXml, type XElement } from "./parse.js";
import { NCNAME } from "./scan.js";
import { type ProfileRules, readSignature, type SignatureProfile } from "./verify.js";

export interface InvoiceDocument {
  parsed: ParsedXml;
  /** The one HDon/DLHDon: the only place business data is read from. */
  dlhdon: XElement;
  dlhdonId: string;
  dlqrcode: XElement | null;
  mccqt: XElement | null;
  dscks: XElement;
  /** DSCKS/NBan/Signature elements (exactly one is accepted by the seller profile). */
  sellerSignatures: XElement[];
  /** DSCKS/CQT/Signature elements. */
  authoritySignatures: XElement[];
}

const ROOT_CHILDREN = new Set(["DLHDon", "DLQRCode", "MCCQT", "DSCKS"]);
const DSCKS_CHILDREN = new Set(["NBan", "NMua", "CQT", "CCKSKhac"]);

const structural = (code: Fault["code"], message: string, path?: string): Fault => (path ? { code, message, path } : { code, message });

/**
 * Reads the document's frame: exactly one DLHDon (with an Id) directly under HDon, at most one
 * DLQRCode and MCCQT, one DSCKS, no unknown elements beside them, every Signature inside DSCKS.
 */
export function readInvoiceDocument(parsed: ParsedXml): Result<InvoiceDocument> {
  const faults: Fault[] = [];
  const root = parsed.root;
  if (hasNonWhitespaceText(root)) faults.push(structural("XML_MALFORMED", "Text directly inside HDon."));
  const byName = new Map<string, XElement[]>();
  for (const el of childElements(root)) {
    const name = el.namespaceURI === null ? el.localName : `{${el.namespaceURI}}${el.localName}`;
    // A stray Signature is reported once, as the signature profile fault it is (below).
    if (el.localName === "Signature" && el.namespaceURI === DSIG_NS) continue;
    if (!ROOT_CHILDREN.has(name)) {
      faults.push(structural("SCHEMA_INVALID", `Unexpected element ${el.tagName} in HDon.`, el.tagName));
      continue;
    }
    byName.set(name, [...(byName.get(name) ?? []), el]);
  }
  // A second DLHDon is a wrapping attempt wherever it stands (below), not a schema matter.
  for (const name of ROOT_CHILDREN) if (name !== "DLHDon" && (byName.get(name)?.length ?? 0) > 1) faults.push(structural("SCHEMA_INVALID", `HDon holds more than one ${name}.`, name));
  const dlhdon = byName.get("DLHDon")?.[0];
  if (!dlhdon) faults.push(structural("SCHEMA_INVALID", "HDon has no DLHDon.", "DLHDon"));
  const dlhdonId = dlhdon?.getAttribute("Id") ?? "";
  if (dlhdon && !dlhdonId) faults.push(structural("SIGNATURE_PROFILE", "DLHDon carries no Id for the signature to reference.", "DLHDon/@Id"));
  // An Id is an xsd:ID, an XML name: nothing in it needs escaping where the authority's signature refers to it.
  else if (dlhdon && !NCNAME.test(dlhdonId)) faults.push(structural("SIGNATURE_PROFILE", "DLHDon's Id must be an XML name (xsd:ID: letters, digits, '.', '-', '_').", "DLHDon/@Id"));
  // A second DLHDon anywhere (inside a signature Object, say) could only serve to confuse a reader.
  if (parsed.root.getElementsByTagName("DLHDon").length + (parsed.root.tagName === "DLHDon" ? 1 : 0) > 1) faults.push(structural("SIGNATURE_PROFILE", "More than one DLHDon element in the document."));

  const mccqt = byName.get("MCCQT")?.[0] ?? null;
  const dscks = byName.get("DSCKS")?.[0];
  if (!dscks) faults.push(structural("SIGNATURE_MISSING", "HDon has no DSCKS (signatures).", "DSCKS"));
  else {
    for (const group of childElements(dscks)) {
      if (group.namespaceURI !== null || !DSCKS_CHILDREN.has(group.localName)) faults.push(structural("SIGNATURE_PROFILE", `Unexpected element ${group.tagName} in DSCKS.`));
    }
  }
  const sellerSignatures: XElement[] = [];
  const authoritySignatures: XElement[] = [];
  for (const sig of parsed.signatures) {
    // A Signature stands directly in one of DSCKS's groups, nowhere else.
    const group = sig.parentNode;
    if (!dscks || !group || group.parentNode !== dscks) {
      faults.push(structural("SIGNATURE_PROFILE", "A Signature stands outside DSCKS/NBan, NMua, CQT or CCKSKhac."));
      continue;
    }
    if (group.localName === "NBan") sellerSignatures.push(sig);
    else if (group.localName === "CQT") authoritySignatures.push(sig);
  }
  // Text where only elements belong is malformed XML (400); after it, wrapping signals: the refusal
  // names SIGNATURE_PROFILE whatever else is wrong with the frame.
  if (faults.length) return { ok: false, faults: faults.sort((a, b) => frameRank(a) - frameRank(b)) };
  return ok({ parsed, dlhdon: dlhdon!, dlhdonId, dlqrcode: byName.get("DLQRCode")?.[0] ?? null, mccqt, dscks: dscks!, sellerSignatures, authoritySignatures });
}

const frameRank = (f: Fault): number => (f.code === "XML_MALFORMED" ? 0 : f.code === "SIGNATURE_PROFILE" ? 1 : 2);

/** A submission must not carry what only the authority adds: MCCQT or a CQT signature. */
export function refuseAuthorityParts(doc: InvoiceDocument): Fault[] {
  const faults: Fault[] = [];
  if (doc.mccqt) faults.push(structural("CODE_ALREADY_PRESENT", "The submission already carries an MCCQT; the code is added by the tax authority.", "MCCQT"));
  if (doc.authoritySignatures.length || childElements(doc.dscks).some((g) => g.localName === "CQT")) {
    faults.push(structural("CODE_ALREADY_PRESENT", "The submission already carries a tax authority (CQT) signature.", "DSCKS/CQT"));
  }
  return faults;
}

/** The seller profile: one Signature under DSCKS/NBan covering DLHDon and, optionally, its own SigningTime Object. */
export function readSellerSignature(doc: InvoiceDocument, allowSha1: boolean): Result<SignatureProfile> {
  if (doc.sellerSignatures.length === 0) {
    return { ok: false, faults: [{ code: "SIGNATURE_MISSING", message: "No seller signature under DSCKS/NBan.", path: "DSCKS/NBan/Signature" }] };
  }
  const faults: Fault[] = [];
  if (doc.sellerSignatures.length > 1) faults.push(structural("SIGNATURE_PROFILE", "More than one Signature under DSCKS/NBan.", "DSCKS/NBan"));
  const nban = doc.sellerSignatures[0]!.parentNode!;
  if (childElements(nban).length !== doc.sellerSignatures.length || hasNonWhitespaceText(nban)) faults.push(structural("SIGNATURE_PROFILE", "DSCKS/NBan may hold only the seller's Signature.", "DSCKS/NBan"));
  if (doc.parsed.duplicateIds.length) faults.push(structural("SIGNATURE_PROFILE", `Duplicate Id values: ${doc.parsed.duplicateIds.slice(0, 5).join(", ")}.`));
  if (faults.length) return { ok: false, faults };
  return readSignature(doc.sellerSignatures[0]!, doc.parsed, sellerRules(doc, allowSha1));
}

/** The Reference rules of the seller's signature. */
export function sellerRules(doc: Pick<InvoiceDocument, "dlhdon">, allowSha1: boolean): ProfileRules {
  return {
    allowSha1,
    maxReferences: 2,
    allowedTarget: (el, sig) => el === doc.dlhdon || (el.localName === "Object" && el.namespaceURI === DSIG_NS && el.parentNode === sig),
    requiredTargets: [(el) => el === doc.dlhdon],
  };
}

/** The Reference rules of the authority's (CQT) signature: DLHDon, MCCQT and its own SigningTime Object. */
export function authorityRules(doc: Pick<InvoiceDocument, "dlhdon" | "mccqt">, allowSha1: boolean): ProfileRules {
  return {
    allowSha1,
    maxReferences: 3,
    allowedTarget: (el, sig) =>
      el === doc.dlhdon || el === doc.mccqt || (el.localName === "Object" && el.namespaceURI === DSIG_NS && el.parentNode === sig),
    requiredTargets: [(el) => el === doc.dlhdon, (el) => el === doc.mccqt],
  };
}
