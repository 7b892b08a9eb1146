/**
 * T-VAN packages of invoices the authority does not code (tvan.md §7, §8), answered by a 204
 * (01/TB-KTDL) and stored with their answer in one transaction:
 *
 *   203 (invoices without a code): the package (registered KCMa 1 + CDDu 1, seller active → else
 *       LTBao 9) → each HDon through the gate (seller signature, certificate, schema, rules; KHHDon
 *       `K…`, no MCCQT or CQT) → duplicates and related invoice in the store → LTBao 2, or 3 listing
 *       the invalid ones; the rest stored, source `uncoded`.
 *   206 (cash-register invoices): the taxpayer's package signature CKSNNT (any fault → −1, nothing
 *       accepted) → the package (registered CMTMTTien 1 with a range, seller active → else LTBao 9)
 *       → each HDon through the gate with its own MCCQT (its own signature optional, verified when
 *       present) and the code's rules (§8.1) → duplicates (natural key, the code across sellers)
 *       → LTBao 2, or 7 listing the invalid ones; the rest stored, source `cashRegister`.
 *
 * The gate's work (CPU) runs before the transaction; the registration, duplicates, related
 * invoices and the write run inside it, with the answer recorded. An uncoded or cash-register
 * invoice is stored under a record id (34 random hex characters, no authority code).
 */
import { randomBytes } from "node:crypto";
import { type Fault, faultsOf } from "../errors.js";
import { runGate, storeRegistry, trustSigner } from "../gate/index.js";
import { tvanError } from "../tvan/errors.js";
import { type Envelope, invoiceIdentity } from "../tvan/read.js";
import { type NoticeHeader, noticeNumber, type RefusedItem, type ReplyHead, reply204Package, replyMinus1 } from "../tvan/reply.js";
import { C14N, DSIG_NS, digestBase64 } from "../xml/algorithms.js";
import { canonicalize } from "../xml/canonical.js";
import { childElements, focusAlone, hasNonWhitespaceText, textOf } from "../xml/parse.js";
import { readSignature, verifyProfile } from "../xml/verify.js";
import { INITIAL_STATUS } from "./lifecycle.js";
import { LEGACY_ALLOWANCES, type LegacyAllowance, type NewInvoice, type RegisteredSeller } from "./model.js";
import type { MessageReply, MessageWork, PackageOutcome } from "./ports.js";
import { vndTotals } from "./rules.js";
import { gateOutcome, relatedKeyOf, relatedLinkOf, type SubmitDeps, type Submitter, signedDataDigest } from "./submit.js";

type Kind = "uncoded" | "cashRegister";

/** One HDon of a package after the gate: ready to store, or refused with its faults. */
type Judged = { ok: true; inv: NewInvoice } | { ok: false; faults: Fault[] };

/** The record id an uncoded or cash-register invoice is stored under (not an authority code). */
const recordId = (): string => randomBytes(17).toString("hex").toUpperCase();

/** KHHDon of an invoice without a code (§7) and of a cash-register invoice (§8.4). */
const SYMBOL: Record<Kind, { pattern: RegExp; text: string }> = {
  uncoded: { pattern: /^K\d{2}[TDLMNBGHX][A-Z]{2}$/, text: "An invoice without a code has a symbol (KHHDon) starting with K." },
  cashRegister: { pattern: /^C\d{2}M[A-Z]{2}$/, text: "A cash-register invoice has a symbol (KHHDon) C + YY + M + 2 letters." },
};
/** The cash-register code (§8.1). */
/** A cash-register invoice's own code (tvan.md §8.1): M<type>-<yy>-<range>-<11 digits>. */
export const REGISTER_CODE = /^M([1-9])-(\d{2})-([0-9A-Z]{5})-\d{11}$/;

/** 203 → 204 LTBao 2, 3 or 9. */
export async function answerUncoded(deps: SubmitDeps, msg: Envelope, head: ReplyHead, submitter: Submitter, at: Date): Promise<MessageReply> {
  const header = await noticeHeader(deps, msg, at);
  const judged = await judgeInvoices(deps, msg, submitter, at, "uncoded", null);
  return deps.store.recordMessage({ sellerTaxCode: submitter.sellerTaxCode, messageId: msg.messageId, messageType: "203", receivedAt: at }, async (work) => {
    const pkg = await packageFaults(work, header.seller, msg.mst, "uncoded");
    if (pkg.length) return answer(deps, head, header, { ltbao: "9", faults: pkg }, at);
    const refused = await store(work, msg, judged, "uncoded");
    return answer(deps, head, header, refused.length ? { ltbao: "3", refused } : { ltbao: "2" }, at);
  });
}

/** 206 → −1 (package signature), or 204 LTBao 2, 7 or 9. */
export async function answerCashRegister(deps: SubmitDeps, msg: Envelope, head: ReplyHead, submitter: Submitter, at: Date): Promise<MessageReply> {
  const header = await noticeHeader(deps, msg, at);
  const record = (answer: (work: MessageWork) => Promise<MessageReply>) =>
    deps.store.recordMessage({ sellerTaxCode: submitter.sellerTaxCode, messageId: msg.messageId, messageType: "206", receivedAt: at }, answer);
  const signer = await checkPackageSignature(deps, msg, at);
  if (!signer.ok && signer.minus1) {
    const f = signer.faults[0]!;
    const [mloi, mta] = f.code === "CERT_TAX_CODE_MISMATCH" ? ["2013", "Thông tin mã số thuế không khớp trong chữ ký số"] : [tvanError(f.code).mloi, tvanError(f.code).mtloi];
    const reply = replyMinus1(head, mloi, mta);
    return record(async () => ({ replyType: "-1", reply }));
  }
  const judged = signer.ok ? await judgeInvoices(deps, msg, submitter, at, "cashRegister", signer) : [];
  return record(async (work) => {
    const pkg = signer.ok ? await packageFaults(work, header.seller, msg.mst, "cashRegister") : signer.faults;
    if (pkg.length) return answer(deps, head, header, { ltbao: "9", faults: pkg }, at);
    const range = await work.cashRegisterRange(msg.mst);
    // The code's own rules (§8.1), now that the range is read in this transaction.
    const checked = judged.map((j): Judged => {
      if (!j.ok) return j;
      const fault = registerCodeFault(j.inv, range);
      return fault ? { ok: false, faults: [fault] } : j;
    });
    const refused = await store(work, msg, checked, "cashRegister");
    return answer(deps, head, header, refused.length ? { ltbao: "7", refused } : { ltbao: "2" }, at);
  });
}

async function noticeHeader(deps: SubmitDeps, msg: Envelope, at: Date): Promise<NoticeHeader & { seller: RegisteredSeller | null }> {
  const [seller, sequence] = await Promise.all([deps.store.getSeller(msg.mst), deps.store.nextNoticeNumber()]);
  return { messageType: msg.type, number: noticeNumber(at, sequence), sellerName: seller?.name ?? "", receivedAt: at, seller };
}

function answer(deps: SubmitDeps, head: ReplyHead, header: NoticeHeader, v: Parameters<typeof reply204Package>[2], at: Date): MessageReply {
  return { replyType: "204", reply: reply204Package(head, header, v, at, deps.authority) };
}

/**
 * The package's conditions (→ LTBao 9, nothing accepted): the seller active, and registered for
 * this kind by its last accepted form (tvan.md §4.5): KCMa and CDDu for 203, CMTMTTien (and a
 * range) for 206.
 */
async function packageFaults(work: MessageWork, seller: RegisteredSeller | null, mst: string, kind: Kind): Promise<Fault[]> {
  if (!seller) return [{ code: "SELLER_NOT_REGISTERED", message: `Seller ${mst} is not registered.` }];
  if (seller.status !== "active") return [{ code: "SELLER_SUSPENDED", message: `Seller ${mst} is ${seller.status}.` }];
  const form = await work.registrations.lastAccepted(mst);
  const flag = (k: string) => form?.content?.flags[k] === "1";
  if (kind === "uncoded" && !(flag("KCMa") && flag("CDDu"))) {
    return [{ code: "NOT_REGISTERED_FOR_KIND", message: `Seller ${mst} has no accepted registration of invoices without a code sent in full (KCMa 1, CDDu 1).` }];
  }
  if (kind === "cashRegister" && (!flag("CMTMTTien") || !(await work.cashRegisterRange(mst)))) {
    return [{ code: "NOT_REGISTERED_FOR_KIND", message: `Seller ${mst} has no accepted registration of cash-register invoices (CMTMTTien 1) with an assigned range.` }];
  }
  return [];
}

/** Each HDon through the gate, in order (CPU: before the transaction). */
async function judgeInvoices(deps: SubmitDeps, msg: Envelope, submitter: Submitter, at: Date, kind: Kind, packageSigner: { fingerprint: string; legacy: LegacyAllowance[] } | null): Promise<Judged[]> {
  const registry = storeRegistry(deps.store);
  const out: Judged[] = [];
  for (const hdon of msg.items) {
    const options = { receivedAt: at, registry, submitterTaxCode: submitter.sellerTaxCode, cashRegister: kind === "cashRegister", uncoded: kind === "uncoded" };
    const run = await gateOutcome(() => runGate(deps, focusAlone(msg.parsed, hdon), options));
    if (!run.ok) {
      out.push({ ok: false, faults: faultsOf(run.error) });
      continue;
    }
    const g = run.state;
    const doc = g.doc!;
    const inv = g.invoice!;
    const key = { sellerTaxCode: g.sellerTaxCode!, form: inv.form, symbol: inv.symbol, number: inv.number };
    if (!SYMBOL[kind].pattern.test(inv.symbol)) {
      out.push({ ok: false, faults: [{ code: "SCHEMA_INVALID", message: SYMBOL[kind].text, path: "TTChung/KHHDon" }] });
      continue;
    }
    const relatedKey = relatedKeyOf({ invoice: inv, key });
    if (inv.related && !relatedKey) {
      const message = `LHDCLQuan ${inv.related.relatedType}: only an e-invoice (LHDCLQuan 1) of this seller can be replaced or adjusted here.`;
      out.push({ ok: false, faults: [{ code: "RELATED_INVOICE_NOT_FOUND", message, path: "TTChung/TTHDLQuan" }] });
      continue;
    }
    const fingerprint = g.certificateFingerprint ?? packageSigner?.fingerprint;
    // Marked with every legacy allowance it needed: its own signature's, and the package's it came under.
    const legacy = LEGACY_ALLOWANCES.filter((a) => g.legacy?.includes(a) || packageSigner?.legacy.includes(a));
    if (!fingerprint) throw new Error("judgeInvoices: an invoice without a signer");
    out.push({
      ok: true,
      inv: {
        ...key,
        code: recordId(),
        status: INITIAL_STATUS,
        buyerTaxCode: inv.buyer?.taxCode ?? null,
        issueDate: inv.issueDate,
        currency: inv.currency,
        ...vndTotals(inv),
        digest: g.verified ? signedDataDigest(g.verified, doc.dlhdon) : digestBase64("sha256", canonicalize(doc.dlhdon, C14N)),
        // The HDon as sent: the envelope declares no namespace, so its bytes stand alone.
        xml: msg.parsed.text.slice(hdon.start, hdon.end),
        issuedAt: at,
        certificateFingerprint: fingerprint,
        submittedBy: submitter.keyId,
        related: relatedLinkOf({ invoice: inv }, relatedKey),
        source: kind,
        messageId: msg.messageId,
        legacy,
        ...(kind === "cashRegister" ? { registerCode: textOf(doc.mccqt!) } : {}),
      },
    });
  }
  return out;
}

/** §8.1: M, the invoice type, the year of issue, the seller's range, 11 digits. */
function registerCodeFault(inv: NewInvoice, range: string | null): Fault | null {
  const m = REGISTER_CODE.exec(inv.registerCode ?? "");
  const bad = (why: string): Fault => ({ code: "CASH_REGISTER_CODE_INVALID", message: `MCCQT ${inv.registerCode}: ${why}`, path: "MCCQT" });
  if (!m) return bad("not M<type>-<YY>-<range of 5>-<11 digits>.");
  if (m[1] !== inv.form) return bad(`the type ${m[1]} is not KHMSHDon ${inv.form}.`);
  if (m[2] !== inv.issueDate.slice(2, 4)) return bad(`the year ${m[2]} is not NLap's.`);
  if (m[3] !== range) return bad(`the range ${m[3]} is not the one assigned to the seller.`);
  return null;
}

/**
 * The duplicates stage and the write, in the transaction that records the answer: items under a
 * natural key (or a cash-register code) an earlier item of the package holds are duplicates; the
 * store decides against everything the seller sent before. Returns the refused items.
 */
async function store(work: MessageWork, msg: Envelope, judged: Judged[], kind: Kind): Promise<RefusedItem[]> {
  const faults: (Fault[] | null)[] = judged.map((j) => (j.ok ? null : j.faults));
  const seen = new Map<string, number>();
  const fresh: { index: number; inv: NewInvoice }[] = [];
  judged.forEach((j, i) => {
    if (!j.ok) return;
    const keys = [`${j.inv.form}|${j.inv.symbol}|${j.inv.number}`, ...(j.inv.registerCode ? [`code|${j.inv.registerCode}`] : [])];
    const earlier = keys.map((k) => seen.get(k)).find((x) => x !== undefined);
    if (earlier !== undefined) {
      const orCode = j.inv.registerCode ? ` or code ${j.inv.registerCode}` : "";
      const message = `The same invoice ${j.inv.form}/${j.inv.symbol}/${j.inv.number}${orCode} is item ${earlier + 1} of this message.`;
      faults[i] = [{ code: "DUPLICATE_INVOICE", message, path: `DLieu/HDon[${earlier + 1}]` }];
      return;
    }
    for (const k of keys) seen.set(k, i);
    fresh.push({ index: i, inv: j.inv });
  });
  const outcomes = await work.issueInvoices(fresh.map((f) => f.inv));
  for (const [k, o] of outcomes.entries()) {
    const { index, inv } = fresh[k]!;
    const fault = await outcomeFault(work, o, inv, kind);
    if (fault) faults[index] = [fault];
  }
  const refused: RefusedItem[] = [];
  faults.forEach((f, i) => {
    if (f) refused.push({ position: i + 1, identity: invoiceIdentity(msg.items[i]!), faults: f });
  });
  return refused;
}

/** What a store outcome means for the sender: nothing (stored, or the same invoice stored before from the same source) or a fault. */
async function outcomeFault(work: MessageWork, o: PackageOutcome, inv: NewInvoice, kind: Kind): Promise<Fault | null> {
  const named = `${inv.form}/${inv.symbol}/${inv.number}`;
  switch (o.kind) {
    case "stored":
      return null;
    case "replay":
      // Sent before in another message, byte for byte the same signed data: already accepted.
      return o.invoice.source === kind ? null : { code: "DUPLICATE_INVOICE", message: `Invoice ${named} was already received (${o.invoice.source}).`, path: o.invoice.code };
    case "conflict":
      return { code: "DUPLICATE_INVOICE", message: `Invoice ${named} was already received as another invoice (record ${o.existingCode}).`, path: o.existingCode };
    case "register_code_taken": {
      const holder = o.holderSellerTaxCode === inv.sellerTaxCode ? await work.getInvoice(o.holderCode) : null;
      // The same cash-register invoice sent again: its code is its own.
      if (holder && holder.digest === inv.digest && holder.form === inv.form && holder.symbol === inv.symbol && holder.number === inv.number) return null;
      const record = o.holderSellerTaxCode === inv.sellerTaxCode ? ` (record ${o.holderCode})` : "";
      return { code: "DUPLICATE_INVOICE", message: `The cash-register code ${inv.registerCode} is already used by another invoice${record}.`, path: "MCCQT" };
    }
    case "related_not_found":
      return { code: "RELATED_INVOICE_NOT_FOUND", message: `TTHDLQuan names an invoice seller ${inv.sellerTaxCode} did not send with that issue date.`, path: "TTChung/TTHDLQuan" };
    case "related_state":
      return { code: "RELATED_INVOICE_STATE", message: `The related invoice ${o.relatedCode} is ${o.status}.`, path: o.relatedCode };
  }
}

type PackageSigner = { ok: true; fingerprint: string; legacy: LegacyAllowance[] } | { ok: false; faults: Fault[]; /** −1 (the signature or its certificate) rather than LTBao 9 (the seller). */ minus1: boolean };

/**
 * The taxpayer's package signature of a 206 (tvan.md §8.3): one Signature in CKSNNT, nothing
 * else there; References to the envelope's DLieu (by identity; the enveloped-signature transform
 * production adds is a no-op) and optionally its own Object; mathematically valid; the signer's
 * certificate chained, valid at SigningTime, not revoked, naming the MST, registered to the
 * seller; SigningTime not after the receipt.
 */
async function checkPackageSignature(deps: SubmitDeps, msg: Envelope, at: Date): Promise<PackageSigner> {
  const no = (code: Fault["code"], message: string): PackageSigner => ({ ok: false, faults: [{ code, message, path: "CKSNNT/Signature" }], minus1: true });
  const cksnnt = msg.cksnnt!;
  const sigs = msg.parsed.signatures.filter((s) => s.parentNode === cksnnt);
  if (sigs.length === 0) return no("SIGNATURE_MISSING", "The package carries no taxpayer signature in CKSNNT.");
  if (sigs.length > 1 || childElements(cksnnt).length !== 1 || hasNonWhitespaceText(cksnnt)) return no("SIGNATURE_PROFILE", "CKSNNT holds exactly one Signature, nothing else.");
  const sig = sigs[0]!;
  // Invoices of a package may repeat each other's Ids (each is judged alone); what this signature names may not be ambiguous.
  const own = new Set([msg.dlieu.getAttribute("Id"), ...[sig, ...sig.getElementsByTagName("*")].flatMap((e) => e.attributes.filter((a) => a.localName === "Id").map((a) => a.value))]);
  const ambiguous = msg.parsed.duplicateIds.filter((id) => own.has(id));
  if (ambiguous.length) return no("SIGNATURE_PROFILE", `Duplicate Id values: ${ambiguous.slice(0, 5).join(", ")}.`);
  const profile = readSignature(sig, msg.parsed, {
    allowSha1: deps.allowSha1,
    maxReferences: 2,
    allowedTarget: (el, s) => el === msg.dlieu || (el.localName === "Object" && el.namespaceURI === DSIG_NS && el.parentNode === s),
    requiredTargets: [(el) => el === msg.dlieu],
  });
  if (!profile.ok) return { ok: false, faults: profile.faults, minus1: true };
  const verified = verifyProfile(profile.value);
  if (!verified.ok) return { ok: false, faults: verified.faults, minus1: true };
  const signer = await trustSigner(deps, verified.value, msg.mst, at, storeRegistry(deps.store), { paths: "none", refuseFutureSigningTime: true });
  if (!signer.ok) return { ok: false, faults: signer.faults, minus1: !signer.faults.some((f) => f.code === "SELLER_NOT_REGISTERED" || f.code === "SELLER_SUSPENDED") };
  return { ok: true, fingerprint: signer.fingerprint, legacy: signer.legacy };
}
