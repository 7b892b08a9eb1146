/** Stage "profile": the seller's one Signature read against the profile and the algorithm allow-list (no cryptography yet). */
import { type InvoiceDocument, readSellerSignature } from "../xml/invoice-document.js";
import type { SignatureProfile } from "../xml/verify.js";
import { refuse } from "./stages.js";

export function profileStage(doc: InvoiceDocument, allowSha1: boolean): SignatureProfile {
  const profile = readSellerSignature(doc, allowSha1);
  if (!profile.ok) return refuse("profile", profile.faults);
  return profile.value;
}
