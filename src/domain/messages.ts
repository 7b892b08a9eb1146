/**
 * The T-VAN channel (POST /v1/messages, invoice-format.md §7): the messages accounting software
 * already speaks, answered as the tax authority answers them.
 *
 *   200 (one HDon for a code)  → the submission gate → 202 (the stamped HDon) or 204 (01/TB-KTDL)
 *   300 (error notice 04/SS-HĐĐT, signed by the seller) → cancellations applied → 301 (01/TB-HĐSS)
 *   100 (registration) → 102 (+ 103): registration.ts
 *   203 (invoices without a code), 206 (cash-register invoices) → 204 (or −1): packages.ts
 *   400 (summary tables) → 204: summary.ts
 *   a malformed envelope, or one about another seller → 999 with TTTNhan 1
 *
 * Every answer is recorded with its message id (per seller) before it is returned, so a repeated
 * MTDiep gets the same bytes; a 300's cancellations commit in the transaction that records its
 * 301. A refused envelope (999) is not a message: nothing is recorded for it. A transient failure
 * (database unavailable, internal error) is an HTTP error, not an answer: the sender retries with
 * the same MTDiep.
 *
 * Decisions where the spec is silent:
 * - TCTBao 1 (cancel) cancels the invoice; 2 (adjust), 3 (replace) and 4 (explain) are accepted
 *   for the record without changing the invoice (the adjusting or replacing invoice, when it comes,
 *   makes that transition), but 2 and 3 are not accepted for an invoice already replaced or
 *   cancelled.
 * - An entry is matched by MCQTCap and must agree with KHMSHDon, KHHDon, SHDon (zero padding
 *   allowed) and Ngay; only LADHDDT 1 (e-invoices with a code) can be held here.
 * - A notice whose seller signature, certificate or seller status fails, or whose DLTBao/MST is
 *   not the envelope's, accepts none of its invoices: the reasons go in DLTBao/DSLDKTNhan.
 * - A notice is known by what the seller signed (DLTBao's digest, as an invoice by DLHDon's):
 *   once trusted and answered, the same notice under a new MTDiep (a replay, re-signed or not)
 *   gets the first 301 byte for byte, as a replayed invoice gets its original answer, and
 *   nothing is judged or recorded for it. A notice refused before its signature was trusted
 *   sets no precedent: it is judged again when sent again (as a refused invoice is).
 */
import { type Fault, faultsOf } from "../errors.js";
import { storeRegistry, trustSigner } from "../gate/index.js";
import { type Envelope, type EnvelopeHead, type ErrorNotice, invoiceIdentity, type MessageType, type NoticeInvoice, readEnvelope, readErrorNotice } from "../tvan/read.js";
import { type NoticeResult, noticeNumber, type ReplyHead, reply202, reply204, reply301, reply999 } from "../tvan/reply.js";
import { DSIG_NS } from "../xml/algorithms.js";
import { focus } from "../xml/parse.js";
import { readSignature, verifyProfile } from "../xml/verify.js";
import { cancelInvoice } from "./cancel.js";
import { may, type Transition } from "./lifecycle.js";
import type { RegisteredSeller } from "./model.js";
import { answerCashRegister, answerUncoded } from "./packages.js";
import type { MessageReply, MessageWork } from "./ports.js";
import { answerRegistration, type RegistrationDeps } from "./registration.js";
import { type SubmitDeps, type Submitter, signedDataDigest, submitInvoice } from "./submit.js";
import { answerSummary } from "./summary.js";

/** Answers one T-VAN message with the reply's XML. */
export async function receiveMessage(deps: RegistrationDeps, body: Uint8Array, submitter: Submitter): Promise<string> {
  const at = deps.clock();
  const env = readEnvelope(body, deps.limits);
  if (!env.ok) return reply999(headOf(env.head, submitter), env.faults, at, deps.authority);
  const msg = env.value;
  const head: ReplyHead = { pban: msg.pban, to: msg.sender, answers: msg.messageId, mst: msg.mst, count: msg.count };
  if (msg.mst !== submitter.sellerTaxCode) {
    return reply999(head, [{ code: "FORBIDDEN", message: `This API key belongs to seller ${submitter.sellerTaxCode}, not ${msg.mst}.`, path: "TTChung/MST" }], at, deps.authority);
  }
  const known = await deps.store.findMessageReply(submitter.sellerTaxCode, msg.messageId);
  if (known) return known.reply;
  const answered = await ANSWER[msg.type](deps, msg, head, submitter, at);
  return answered.reply;
}

/** Who answers each message type received (read.ts KINDS). */
const ANSWER: Record<MessageType, (deps: RegistrationDeps, msg: Envelope, head: ReplyHead, submitter: Submitter, at: Date) => Promise<MessageReply>> = {
  "100": answerRegistration,
  "200": answerInvoice,
  "203": answerUncoded,
  "206": answerCashRegister,
  "400": answerSummary,
  "300": answerNotice,
};

function headOf(h: EnvelopeHead, submitter: Submitter): ReplyHead {
  return { pban: h.pban ?? "2.0.0", to: h.sender ?? submitter.sellerTaxCode, answers: h.messageId ?? "", mst: h.mst ?? submitter.sellerTaxCode };
}

/** 200 → the submission gate on the HDon in place → 202 or 204. */
async function answerInvoice(deps: SubmitDeps, msg: Envelope, head: ReplyHead, submitter: Submitter, at: Date): Promise<MessageReply> {
  let reply: MessageReply;
  const out = await submitInvoice(deps, focus(msg.parsed, msg.content), submitter);
  if (out.ok) reply = { replyType: "202", reply: reply202(head, out.xml) };
  else {
    const [seller, sequence] = await Promise.all([deps.store.getSeller(submitter.sellerTaxCode), deps.store.nextNoticeNumber()]);
    const faults = faultsOf(out.error);
    const header = { messageType: "200", number: noticeNumber(at, sequence), sellerName: seller?.name ?? "", receivedAt: at };
    reply = { replyType: "204", reply: reply204(head, header, invoiceIdentity(msg.content), faults, at, deps.authority) };
  }
  return deps.store.recordMessage({ sellerTaxCode: submitter.sellerTaxCode, messageId: msg.messageId, messageType: "200", receivedAt: at }, async () => reply);
}

/** 300 → the seller's signature over the notice, then each invoice in one transaction with the recorded 301. */
async function answerNotice(deps: SubmitDeps, msg: Envelope, head: ReplyHead, submitter: Submitter, at: Date): Promise<MessageReply> {
  const notice = readErrorNotice(msg.content, msg.parsed);
  if (!notice.ok) return { replyType: "999", reply: reply999(head, notice.faults, at, deps.authority) };
  const seller = await deps.store.getSeller(msg.mst);
  const signature: NoticeSignature =
    notice.value.mst !== msg.mst
      ? { faults: [{ code: "FORBIDDEN", message: `The notice is about MST ${notice.value.mst}, the message about ${msg.mst}.`, path: "DLieu/TBao/DLTBao/MST" }], signedDigest: null }
      : await checkNoticeSignature(deps, msg, notice.value, at);
  const formFaults = signature.faults;
  // A trusted notice is known by what the seller signed: a copy of it under a new MTDiep gets the
  // first 301 and is not recorded (recordMessage), as a replayed invoice gets its original answer.
  const received = { sellerTaxCode: submitter.sellerTaxCode, messageId: msg.messageId, messageType: "300", receivedAt: at, signedDigest: signature.signedDigest };
  return deps.store.recordMessage(received, async (work) => {
    const results: NoticeResult[] = [];
    for (const inv of notice.value.invoices) results.push(await judgeEntry(work, seller, submitter, inv, formFaults.length > 0, at));
    return { replyType: "301", reply: reply301(head, seller?.name ?? null, formFaults, results, at, deps.authority) };
  });
}

/** The verdict on a notice's seller signature, and when it is trusted, the digest of what it signed. */
interface NoticeSignature {
  faults: Fault[];
  /** SHA-256 (base64) of DLTBao under C14N 1.0, as an invoice's digest (submit.ts signedDataDigest); null unless trusted. */
  signedDigest: string | null;
}

/**
 * The seller's signature over DLTBao, as for an invoice (invoice-format.md §4): one Signature in
 * TBao/DSCKS/NNT covering DLTBao and optionally its own SigningTime Object, mathematically valid,
 * by a certificate that chains, was valid at the signing time, carries the seller's MST and is
 * registered to the seller, who is active.
 */
async function checkNoticeSignature(deps: SubmitDeps, msg: Envelope, notice: ErrorNotice, at: Date): Promise<NoticeSignature> {
  const refused = (...faults: Fault[]): NoticeSignature => ({ faults, signedDigest: null });
  const sigs = notice.sellerSignatures;
  if (msg.parsed.signatures.length > sigs.length) return refused({ code: "SIGNATURE_PROFILE", message: "A Signature stands outside TBao/DSCKS/NNT." });
  if (sigs.length === 0) return refused({ code: "SIGNATURE_MISSING", message: "The error notice carries no seller signature (TBao/DSCKS/NNT/Signature).", path: "DLieu/TBao/DSCKS/NNT" });
  if (sigs.length > 1) return refused({ code: "SIGNATURE_PROFILE", message: "More than one Signature under TBao/DSCKS/NNT." });
  if (msg.parsed.duplicateIds.length) return refused({ code: "SIGNATURE_PROFILE", message: `Duplicate Id values: ${msg.parsed.duplicateIds.slice(0, 5).join(", ")}.` });
  const profile = readSignature(sigs[0]!, msg.parsed, {
    allowSha1: deps.allowSha1,
    maxReferences: 2,
    allowedTarget: (el, sig) => el === notice.dltbao || (el.localName === "Object" && el.namespaceURI === DSIG_NS && el.parentNode === sig),
    requiredTargets: [(el) => el === notice.dltbao],
  });
  if (!profile.ok) return refused(...profile.faults);
  const verified = verifyProfile(profile.value);
  if (!verified.ok) return refused(...verified.faults);
  // The signer-trust step of the gate's certificate stage, on the cached registry (as for invoices).
  const signer = await trustSigner(deps, verified.value, msg.mst, at, storeRegistry(deps.store), { paths: "none", refuseFutureSigningTime: true });
  if (!signer.ok) return refused(...signer.faults);
  return { faults: [], signedDigest: signedDataDigest(verified.value, notice.dltbao) };
}

/**
 * What an error notice's TCTBao announces for the invoice (tvan.md: 2 adjust, 3 replace): the
 * invoice must still allow it. 1 (cancel) cancels here; 4 (explain) changes nothing.
 */
const NOTICE_TRANSITIONS: Partial<Record<string, Transition>> = { "2": "adjust", "3": "replace" };

/** One entry of an error notice, inside the transaction that records the 301. */
async function judgeEntry(work: MessageWork, seller: RegisteredSeller | null, submitter: Submitter, e: NoticeInvoice, formRefused: boolean, at: Date): Promise<NoticeResult> {
  const base = { stt: e.stt, code: e.code, form: e.form, symbol: e.symbol, number: e.number, issueDate: e.issueDate, kind: e.kind, action: e.action };
  const refused = (...faults: Fault[]): NoticeResult => ({ ...base, accepted: false, faults });
  if (formRefused) return refused();
  if (e.faults.length) return refused(...e.faults);
  const notFound = (message: string) => refused({ code: "RELATED_INVOICE_NOT_FOUND", message, path: e.code || "MCQTCap" });
  if (e.kind !== "1") return notFound(`LADHDDT ${e.kind}: only e-invoices with a code (LADHDDT 1) are held here.`);
  const inv = /^[0-9A-F]{34}$/.test(e.code) ? await work.getInvoice(e.code) : null;
  const same =
    inv !== null &&
    inv.sellerTaxCode === submitter.sellerTaxCode &&
    inv.form === e.form &&
    inv.symbol === e.symbol &&
    /^\d{1,8}$/.test(e.number) &&
    inv.number === Number(e.number) &&
    inv.issueDate === e.issueDate;
  if (!inv || !same) return notFound(`MCQTCap ${e.code} with ${e.form}/${e.symbol}/${e.number} of ${e.issueDate} names no invoice of seller ${submitter.sellerTaxCode}.`);
  if (e.action === "1") {
    const done = await cancelInvoice(work, { getSeller: async () => seller }, { role: "seller", id: submitter.keyId, sellerTaxCode: submitter.sellerTaxCode }, inv.code, e.reason, at);
    if (!done.ok) return refused(done.error.details[0] ?? { code: done.error.code, message: done.error.message });
    return { ...base, accepted: true, faults: [] };
  }
  const change = NOTICE_TRANSITIONS[e.action];
  if (change && !may(change, inv.status)) {
    return refused({ code: "RELATED_INVOICE_STATE", message: `Invoice ${inv.code} is ${inv.status}.`, path: inv.code });
  }
  return { ...base, accepted: true, faults: [] };
}
