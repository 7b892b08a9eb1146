/**
 * XML signature verification for the fixed profile of invoice-format.md §4, without xpath and
 * without SignedXml: each Reference resolves through the Id map built at parse (which already
 * proved Ids unique), to an element the caller allows, by identity.
 * This module answers "is the signature mathematically valid"; whether the signer is trusted is
 * pki/'s question.
 */
import { type KeyObject, timingSafeEqual, X509Certificate } from "node:crypto";
import { GMT7_ISO_OFFSET } from "../domain/gmt7.js";
import { type Fault, ok, type Result } from "../errors.js";
import {
  allowedDigest,
  allowedSignatureMethod,
  C14N,
  CANONICALIZATIONS,
  DSIG_NS,
  digestBytes,
  ENVELOPED,
  EXC_C14N,
  EXC_C14N_WITH_COMMENTS,
  type HashName,
  type SignatureMethod,
  TRANSFORMS,
  verifySignatureValue,
} from "./algorithms.js";
import { CanonicalTooLarge, canonicalBytes } from "./canonical.js";
import { childElements, hasNonWhitespaceText, type ParsedXml, textOf, type XElement } from "./parse.js";

export interface ReferenceProfile {
  uri: string;
  target: XElement;
  enveloped: boolean;
  c14n: string;
  prefixList: string[];
  digest: HashName;
  digestValue: Buffer;
}

/** A Signature element read against the profile: everything needed to verify it, nothing checked cryptographically yet. */
export interface SignatureProfile {
  signature: XElement;
  signedInfo: XElement;
  c14n: string;
  c14nPrefixList: string[];
  method: SignatureMethod;
  references: ReferenceProfile[];
  signatureValue: Buffer;
  /** DER of each KeyInfo/X509Data/X509Certificate; the first is the signer's. */
  certificates: Buffer[];
  /** The parse the signature came from. */
  source?: ParsedXml;
}

export interface ProfileRules {
  allowSha1: boolean;
  maxReferences: number;
  /** Whether a Reference may point at this element (checked by identity, after Id resolution). */
  allowedTarget: (el: XElement, signature: XElement) => boolean;
  /** References that must be present: each predicate must match exactly one Reference target. */
  requiredTargets: ((el: XElement) => boolean)[];
}

export interface VerifiedSignature {
  profile: SignatureProfile;
  /** The public key that verified the SignatureValue, and the KeyInfo certificate it came from. */
  publicKey: KeyObject;
  signer: Buffer;
  /** The other KeyInfo certificates (candidate intermediates for the chain). */
  others: Buffer[];
  /** Canonical octets (UTF-8) of each verified Reference target, by Reference index. */
  canonical: Uint8Array[];
  /** SigningTime from an Object this signature covers, or null when none is covered. */
  signingTime: Date | null;
}

const profileFault = (message: string, path?: string): Fault => (path ? { code: "SIGNATURE_PROFILE", message, path } : { code: "SIGNATURE_PROFILE", message });
const algorithmFault = (message: string): Fault => ({ code: "ALGORITHM_NOT_ALLOWED", message });

const isDs = (el: XElement, name: string): boolean => el.localName === name && el.namespaceURI === DSIG_NS;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(s: string): Buffer | null {
  const compact = s.replace(/[ \t\r\n]+/g, "");
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) return null;
  return Buffer.from(compact, "base64");
}

/** Reads one ds:Signature against the profile rules (structure and algorithms, no cryptography). */
export function readSignature(sig: XElement, parsed: ParsedXml, rules: ProfileRules): Result<SignatureProfile> {
  const faults: Fault[] = [];
  const kids = childElements(sig);
  if (hasNonWhitespaceText(sig)) faults.push(profileFault("Text inside Signature."));
  const signedInfos = kids.filter((k) => isDs(k, "SignedInfo"));
  const values = kids.filter((k) => isDs(k, "SignatureValue"));
  const keyInfos = kids.filter((k) => isDs(k, "KeyInfo"));
  for (const k of kids) {
    if (!(isDs(k, "SignedInfo") || isDs(k, "SignatureValue") || isDs(k, "KeyInfo") || isDs(k, "Object"))) faults.push(profileFault(`Unexpected element ${k.tagName} in Signature.`));
  }
  if (signedInfos.length !== 1) faults.push(profileFault(`Signature must hold exactly one SignedInfo, found ${signedInfos.length}.`));
  if (values.length !== 1) faults.push(profileFault(`Signature must hold exactly one SignatureValue, found ${values.length}.`));
  if (keyInfos.length !== 1) faults.push(profileFault(`Signature must hold exactly one KeyInfo, found ${keyInfos.length}.`));
  if (kids[0] && !isDs(kids[0], "SignedInfo")) faults.push(profileFault("SignedInfo must come first in Signature."));
  if (faults.length) return { ok: false, faults };
  const signedInfo = signedInfos[0]!;

  // SignedInfo: CanonicalizationMethod, SignatureMethod, Reference+ (in that order).
  const siKids = childElements(signedInfo);
  if (hasNonWhitespaceText(signedInfo)) faults.push(profileFault("Text inside SignedInfo."));
  const [cm, sm, ...refs] = siKids;
  let c14n = C14N;
  let c14nPrefixList: string[] = [];
  let method: SignatureMethod | null = null;
  if (!cm || !isDs(cm, "CanonicalizationMethod")) faults.push(profileFault("SignedInfo must start with CanonicalizationMethod."));
  else {
    const alg = cm.getAttribute("Algorithm") ?? "";
    if (!CANONICALIZATIONS.has(alg)) faults.push(algorithmFault(`Canonicalization ${JSON.stringify(alg)} is not allowed.`));
    else c14n = alg;
    const pl = readPrefixList(cm, alg, faults);
    if (pl) c14nPrefixList = pl;
  }
  if (!sm || !isDs(sm, "SignatureMethod")) faults.push(profileFault("SignedInfo must name a SignatureMethod second."));
  else {
    const alg = sm.getAttribute("Algorithm") ?? "";
    method = allowedSignatureMethod(alg, rules.allowSha1);
    if (!method) faults.push(algorithmFault(`Signature algorithm ${JSON.stringify(alg)} is not allowed.`));
    if (childElements(sm).length || hasNonWhitespaceText(sm)) faults.push(profileFault("SignatureMethod must be empty (no HMACOutputLength or parameters)."));
  }
  if (refs.length === 0) faults.push(profileFault("SignedInfo has no Reference."));
  if (refs.length > rules.maxReferences) faults.push(profileFault(`At most ${rules.maxReferences} References are allowed, found ${refs.length}.`));

  const references: ReferenceProfile[] = [];
  const seenTargets = new Set<XElement>();
  for (const [i, ref] of refs.entries()) {
    const path = `Signature/SignedInfo/Reference[${i + 1}]`;
    if (!isDs(ref, "Reference")) {
      faults.push(profileFault(`Unexpected element ${ref.tagName} in SignedInfo.`, path));
      continue;
    }
    const r = readReference(ref, sig, parsed, rules, path, faults);
    if (!r) continue;
    if (seenTargets.has(r.target)) faults.push(profileFault("Two References to the same element.", path));
    seenTargets.add(r.target);
    references.push(r);
  }
  for (const required of rules.requiredTargets) {
    const n = references.filter((r) => required(r.target)).length;
    if (n !== 1 && !faults.length) faults.push(profileFault(n === 0 ? "No Reference covers the signed invoice data (DLHDon)." : "More than one Reference covers the same required element."));
  }

  const signatureValue = decodeBase64(textOf(values[0]!));
  if (childElements(values[0]!).length) faults.push(profileFault("SignatureValue must hold only base64 text."));

  const certificates: Buffer[] = [];
  const keyInfo = keyInfos[0]!;
  for (const k of childElements(keyInfo)) {
    if (isDs(k, "X509Data")) {
      for (const x of childElements(k)) {
        if (isDs(x, "X509Certificate")) {
          const der = decodeBase64(textOf(x));
          if (!der || childElements(x).length) faults.push(profileFault("An X509Certificate is not base64 DER."));
          else certificates.push(der);
        } else if (!(isDs(x, "X509SubjectName") || isDs(x, "X509IssuerSerial") || isDs(x, "X509SKI"))) {
          faults.push(profileFault(`Unexpected element ${x.tagName} in X509Data.`));
        }
      }
    } else if (!(isDs(k, "KeyName") || isDs(k, "KeyValue"))) {
      // RetrievalMethod and the like would make us fetch keys from elsewhere: never.
      faults.push(profileFault(`Unexpected element ${k.tagName} in KeyInfo.`));
    }
  }
  if (certificates.length === 0) faults.push(profileFault("KeyInfo must carry the signer's X509Certificate."));

  if (faults.length) return { ok: false, faults };
  if (!signatureValue) return { ok: false, faults: [{ code: "SIGNATURE_INVALID", message: "SignatureValue is not base64." }] };
  return ok({ signature: sig, signedInfo, c14n, c14nPrefixList, method: method!, references, signatureValue, certificates, source: parsed });
}

function readPrefixList(parent: XElement, alg: string, faults: Fault[]): string[] | null {
  const kids = childElements(parent);
  if (kids.length === 0) return null;
  const only = kids[0]!;
  if (
    kids.length === 1 &&
    (alg === EXC_C14N || alg === EXC_C14N_WITH_COMMENTS) &&
    only.localName === "InclusiveNamespaces" &&
    only.namespaceURI === EXC_C14N &&
    childElements(only).length === 0
  ) {
    return (only.getAttribute("PrefixList") ?? "").split(/[ \t\r\n]+/).filter(Boolean);
  }
  faults.push(profileFault(`Unexpected content in ${parent.localName}.`));
  return null;
}

function readReference(ref: XElement, sig: XElement, parsed: ParsedXml, rules: ProfileRules, path: string, faults: Fault[]): ReferenceProfile | null {
  const before = faults.length;
  if (hasNonWhitespaceText(ref)) faults.push(profileFault("Text inside Reference.", path));
  const uri = ref.getAttribute("URI");
  let target: XElement | undefined;
  if (uri === null || uri === "") faults.push(profileFault("A Reference must name an element by a same-document URI (#Id); empty or missing URI.", path));
  else if (!uri.startsWith("#") || uri.length < 2 || uri.includes("(")) faults.push(profileFault(`Reference URI ${JSON.stringify(uri)} is not a same-document #Id.`, path));
  else {
    const id = uri.slice(1);
    if (parsed.duplicateIds.includes(id)) faults.push(profileFault(`Id ${JSON.stringify(id)} occurs more than once in the document.`, path));
    target = parsed.ids.get(id);
    if (!target) faults.push(profileFault(`Reference URI ${JSON.stringify(uri)} names no element.`, path));
    else if (!rules.allowedTarget(target, sig)) faults.push(profileFault(`Reference URI ${JSON.stringify(uri)} points at ${target.tagName}, which this signature may not cover.`, path));
  }
  const kids = childElements(ref);
  let k = 0;
  let enveloped = false;
  let c14n: string | null = null;
  let prefixList: string[] = [];
  if (kids[k] && isDs(kids[k]!, "Transforms")) {
    const transforms = childElements(kids[k]!);
    if (transforms.length === 0) faults.push(profileFault("Empty Transforms.", path));
    for (const t of transforms) {
      const alg = isDs(t, "Transform") ? (t.getAttribute("Algorithm") ?? "") : "";
      if (!TRANSFORMS.has(alg)) {
        faults.push(profileFault(`Transform ${JSON.stringify(alg)} is not allowed (only enveloped-signature and C14N).`, path));
        continue;
      }
      if (alg === ENVELOPED) {
        if (enveloped || c14n) faults.push(profileFault("enveloped-signature must come once, before canonicalization.", path));
        enveloped = true;
        if (childElements(t).length) faults.push(profileFault("enveloped-signature takes no parameters.", path));
      } else {
        if (c14n) faults.push(profileFault("At most one canonicalization transform.", path));
        c14n = alg;
        const pl = readPrefixList(t, alg, faults);
        if (pl) prefixList = pl;
      }
    }
    k++;
  }
  const dm = kids[k];
  const dv = kids[k + 1];
  let digest: HashName | null = null;
  if (!dm || !isDs(dm, "DigestMethod")) faults.push(profileFault("Reference lacks DigestMethod.", path));
  else {
    const alg = dm.getAttribute("Algorithm") ?? "";
    digest = allowedDigest(alg, rules.allowSha1);
    if (!digest) faults.push(algorithmFault(`Digest algorithm ${JSON.stringify(alg)} is not allowed.`));
  }
  if (!dv || !isDs(dv, "DigestValue")) faults.push(profileFault("Reference lacks DigestValue.", path));
  if (kids.length > k + 2) faults.push(profileFault("Unexpected element after DigestValue.", path));
  const digestValue = dv ? decodeBase64(textOf(dv)) : null;
  if (dv && (!digestValue || childElements(dv).length)) faults.push(profileFault("DigestValue is not base64.", path));
  if (faults.length > before) return null;
  return { uri: uri!, target: target!, enveloped, c14n: c14n ?? C14N, prefixList, digest: digest!, digestValue: digestValue! };
}

const MAX_SIGNER_CANDIDATES = 4;
const certKeyCache = new Map<string, KeyObject>();

function publicKeyOf(der: Buffer): KeyObject | null {
  const key = der.toString("base64");
  const hit = certKeyCache.get(key);
  if (hit) return hit;
  try {
    const pk = new X509Certificate(der).publicKey;
    if (certKeyCache.size > 10_000) certKeyCache.clear();
    certKeyCache.set(key, pk);
    return pk;
  } catch {
    return null;
  }
}

/**
 * Checks every Reference digest and then the SignatureValue with the KeyInfo certificate's key.
 * Returns the canonical octets of each target (the pipeline reuses them) and the covered SigningTime.
 */
export function verifyProfile(p: SignatureProfile): Result<VerifiedSignature> {
  const faults: Fault[] = [];
  const canonical: Uint8Array[] = [];
  for (const [i, r] of p.references.entries()) {
    let c: Uint8Array;
    try {
      c = canonicalBytes(r.target, r.c14n, { prefixList: r.prefixList, exclude: r.enveloped ? p.signature : null });
    } catch (e) {
      if (!(e instanceof CanonicalTooLarge)) throw e;
      return { ok: false, faults: [{ code: "XML_FORBIDDEN_CONSTRUCT", message: e.message, path: `Signature/SignedInfo/Reference[${i + 1}]` }] };
    }
    canonical.push(c);
    if (c.length === 0) faults.push({ code: "SIGNATURE_INVALID", message: `Reference ${r.uri} canonicalizes to nothing.`, path: `Signature/SignedInfo/Reference[${i + 1}]` });
    const actual = digestBytes(r.digest, c);
    if (actual.length !== r.digestValue.length || !timingSafeEqual(actual, r.digestValue)) {
      faults.push({ code: "SIGNATURE_INVALID", message: `The digest of ${r.uri} does not match: the signed content was changed.`, path: `Signature/SignedInfo/Reference[${i + 1}]` });
    }
  }
  // The signer's certificate is normally the first in KeyInfo; some software lists the chain in
  // another order, so a few more are tried (bounded: each try is one public-key operation).
  let signedInfo: Uint8Array;
  try {
    signedInfo = canonicalBytes(p.signedInfo, p.c14n, { prefixList: p.c14nPrefixList });
  } catch (e) {
    if (!(e instanceof CanonicalTooLarge)) throw e;
    return { ok: false, faults: [{ code: "XML_FORBIDDEN_CONSTRUCT", message: e.message, path: "Signature/SignedInfo" }] };
  }
  let signer = -1;
  let publicKey: KeyObject | null = null;
  for (let i = 0; i < Math.min(p.certificates.length, MAX_SIGNER_CANDIDATES) && signer < 0; i++) {
    const key = publicKeyOf(p.certificates[i]!);
    if (i === 0 && !key) faults.push({ code: "SIGNATURE_INVALID", message: "The KeyInfo certificate cannot be parsed." });
    if (key && verifySignatureValue(p.method, key, signedInfo, p.signatureValue)) {
      signer = i;
      publicKey = key;
    }
  }
  if (signer < 0 && !faults.length) faults.push({ code: "SIGNATURE_INVALID", message: "The SignatureValue does not verify with the KeyInfo certificate's key." });
  if (faults.length) return { ok: false, faults };
  const st = coveredSigningTime(p);
  if (!st.ok) return st;
  return ok({ profile: p, publicKey: publicKey!, signer: p.certificates[signer]!, others: p.certificates.filter((_, i) => i !== signer), canonical, signingTime: st.value });
}

/** xsd:dateTime collapses XML's white space (space, tab, CR, LF), not JS trim()'s Unicode spaces. */
const XML_SPACE_AT_ENDS = /^[ \t\r\n]+|[ \t\r\n]+$/g;
const SIGNING_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/;

/** SigningTime is believed only from an Object that a verified Reference covers; without offset it is GMT+7. */
function coveredSigningTime(p: SignatureProfile): Result<Date | null> {
  const found: string[] = [];
  for (const r of p.references) {
    if (!isDs(r.target, "Object")) continue;
    for (const props of childElements(r.target)) {
      if (props.localName !== "SignatureProperties") continue;
      for (const prop of childElements(props)) {
        if (prop.localName !== "SignatureProperty") continue;
        for (const t of childElements(prop)) if (t.localName === "SigningTime") found.push(textOf(t).replace(XML_SPACE_AT_ENDS, ""));
      }
    }
  }
  if (found.length === 0) return ok(null);
  if (found.length > 1) return { ok: false, faults: [profileFault("More than one SigningTime.")] };
  const m = SIGNING_TIME.exec(found[0]!);
  const at = m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? GMT7_ISO_OFFSET}`) : null;
  if (!at || Number.isNaN(at.getTime())) return { ok: false, faults: [profileFault(`SigningTime ${JSON.stringify(found[0])} is not a date-time.`)] };
  return ok(at);
}
