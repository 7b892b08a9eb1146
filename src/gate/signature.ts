/** Stage "signature": the digests over the canonical octets and the SignatureValue: the signature is mathematically valid (not yet trusted). */
import { type SignatureProfile, type VerifiedSignature, verifyProfile } from "../xml/verify.js";
import { refuse } from "./stages.js";

export function signatureStage(profile: SignatureProfile): VerifiedSignature {
  const verified = verifyProfile(profile);
  if (!verified.ok) return refuse("signature", verified.faults);
  return verified.value;
}
