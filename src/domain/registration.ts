/**
 * T-VAN 100: registration or change of e-invoice use (01/ĐKTĐ-HĐĐT, tvan.md §4) → 102 (received
 * or not) → 103 (accepted or not), at once or by an officer.
 *
 *   form (1012, 1013, 1014) → the taxpayer's signature (1011) → the register (1015, 1009, 1010,
 *   9992, 9991) → 102 THop 1/3, or 2/4 with the failing stage's reasons
 *   → hold reasons (§4.4)? pending for an officer : 103 accepted in the same transaction
 *
 * An acceptance registers the form's signer certificate in the records the admin API writes
 * (it is stored whole: the form lists serials only), stops the serials listed with HThuc 3, and
 * gives the seller its tax office when it has none. Everything of one message is recorded in
 * the transaction that records its first answer.
 */
import { randomUUID } from "node:crypto";
import { type ParsedCertificate, parseCertificate } from "../pki/certificate.js";
import type { Envelope } from "../tvan/read.js";
import { type FormReason, normalizeSerial, type RegistrationForm, readRegistrationForm } from "../tvan/registration-form.js";
import { type Receipt, reply102, reply103 } from "../tvan/registration-reply.js";
import { noticeNumber, type ReplyHead } from "../tvan/reply.js";
import { DSIG_NS } from "../xml/algorithms.js";
import type { AuthorityKey } from "../xml/stamp.js";
import { readSignature, verifyProfile } from "../xml/verify.js";
import { gmt7Date } from "./gmt7.js";
import type { RegisteredSeller } from "./model.js";
import type { MessageReply, Reason, RegistrationContent, RegistrationRecord, RegistrationWork } from "./ports.js";
import type { SubmitDeps, Submitter } from "./submit.js";
import { checkTaxCode } from "./taxcode.js";

/** What a 100 needs beyond the gate's dependencies: the head of office's key that co-signs a 103. */
export type RegistrationDeps = SubmitDeps & { official?: AuthorityKey };

/** The officer's reasons for a refusal, with production's fixed texts (tvan.md §6). */
export const DECISION_REASONS: Record<string, string | null> = {
  "2003": "NNT không thuộc trường hợp sử dụng HĐĐT có mã không phải trả tiền dịch vụ",
  "2004": "NNT phải đăng ký phương thức chuyển dữ liệu là Chuyển đầy đủ nội dung từng hóa đơn",
  "2005": "NNT chọn loại hóa đơn sử dụng chưa phù hợp với phương pháp tính thuế đã đăng ký",
  "2007": null,
};

const r = (mloi: string, text: string): FormReason => ({ mloi, text });

/** 100 → 102 (+ 103): the first answer, recorded with everything the message does. */
export async function answerRegistration(deps: RegistrationDeps, msg: Envelope, head: ReplyHead, submitter: Submitter, at: Date): Promise<MessageReply> {
  const official = deps.official;
  if (!official) throw new Error("answerRegistration: no head-of-office key (HOADON_OFFICIAL_KEY) configured");
  const read = readRegistrationForm(msg.content, msg.parsed.signatures);
  const seller = await deps.store.getSeller(submitter.sellerTaxCode);
  // The message is kept whole, as received (its form and the signature over it).
  const formBytes = msg.parsed.text;
  const signature = read.ok ? await checkFormSignature(deps, msg, read.form, at) : null;

  return deps.store.recordMessage({ sellerTaxCode: submitter.sellerTaxCode, messageId: msg.messageId, messageType: "100", receivedAt: at }, async (work) => {
    const w = work.registrations;
    const hthuc = read.ok ? read.form.hthuc : (read.partial.hthuc ?? "1");
    let reasons: FormReason[] = read.ok ? [] : read.reasons;
    if (read.ok) reasons = await formRules(w, read.form, msg.mst, at);
    if (read.ok && !reasons.length && signature && !signature.ok) reasons = [signature.reason];
    if (read.ok && !reasons.length) reasons = await registerRules(w, read.form, seller);

    const officeCode = read.ok ? read.form.officeCode : /^\d{5}$/.test(read.partial.officeCode ?? "") ? read.partial.officeCode! : "00000";
    const receipt: Receipt = {
      thop: reasons.length ? (hthuc === "2" ? "4" : "2") : hthuc === "2" ? "3" : "1",
      number: officeCode + noticeNumber(at, await w.nextNumber()),
      place: seller?.province ?? "Hà Nội",
      pban: (read.ok ? read.form.pban : read.partial.pban) || msg.pban,
      name: (read.ok ? read.form.name : read.partial.name) || seller?.name || "",
      receivedAt: at,
      reasons,
    };
    const first = reply102(head, receipt, deps.authority);
    const id = randomUUID();
    const base = { id, sellerTaxCode: submitter.sellerTaxCode, messageId: msg.messageId, kind: hthuc === "2" ? ("change" as const) : ("new" as const), receivedAt: at, formXml: formBytes };
    if (reasons.length || !read.ok || !signature?.ok) {
      await w.insert({ ...base, status: "notReceived", holdReasons: reasons, content: read.ok ? contentOf(read.form, null) : null, decidedAt: null });
      return { replyType: "102", reply: first };
    }
    const content = contentOf(read.form, signature.cert);
    const hold = holdReasons(read.form, seller);
    if (hold.length) {
      await w.insert({ ...base, status: "pending", holdReasons: hold, content, decidedAt: null });
      return { replyType: "102", reply: first };
    }
    await w.insert({ ...base, status: "accepted", holdReasons: [], content, decidedAt: at, decidedBy: "automatic" });
    await applyAcceptance(w, submitter.sellerTaxCode, content, at);
    const notice = await decisionNotice(w, head, content, seller, true, [], at, official, deps.authority);
    await w.addAnswer(submitter.sellerTaxCode, msg.messageId, { type: "103", messageId: notice.messageId, at, xml: notice.xml });
    return { replyType: "102", reply: first };
  });
}

/** The form's own rules (1013, 1014), once it reads. */
async function formRules(w: RegistrationWork, f: RegistrationForm, envelopeMst: string, at: Date): Promise<FormReason[]> {
  const out: FormReason[] = [];
  if (f.mst !== envelopeMst) out.push(r("1013", "Mã số thuế trên tờ khai không khớp với mã số thuế của thông điệp"));
  const bad = (detail: string) => out.push(r("1014", `Tờ khai không hợp lệ: ${detail}`));
  const fl = (k: string) => f.flags[k] === "1";
  if (f.date > gmt7Date(at)) bad("ngày lập tờ khai sau ngày nhận");
  if (!fl("CMa") && !fl("KCMa") && !fl("CMTMTTien")) bad("chưa chọn hình thức hóa đơn (CMa, KCMa, CMTMTTien)");
  if (!["HDGTGT", "HDBHang", "HDBTSCong", "HDBHDTQGia", "HDKhac", "CTu", "HDGTGTTHBLai", "HDBHTHBLai", "HDTMai", "HDNCCNN"].some(fl)) bad("chưa chọn loại hóa đơn sử dụng");
  if (fl("KCMa") && (Number(fl("CDLTTDCQT")) + Number(fl("CDLQTCTN")) !== 1 || (!fl("CDDu") && !fl("CBTHop")))) bad("hóa đơn không có mã phải chọn đúng một cách chuyển dữ liệu và một phương thức chuyển");
  if (f.hthuc === "1" && !f.certificates.some((c) => c.action === "1")) bad("tờ khai đăng ký mới phải có chứng thư số thêm mới (HThuc 1)");
  for (const c of f.certificates) if (c.action !== "3" && c.to < f.date) bad(`chứng thư số ${c.serialAsWritten} hết hạn trước ngày lập tờ khai`);
  const stops = f.certificates.filter((c) => c.action === "3");
  if (stops.length) {
    const known = await w.activeSerials(f.mst);
    for (const c of stops) if (!known.has(c.serial)) bad(`chứng thư số ${c.serialAsWritten} ngừng sử dụng nhưng chưa đăng ký`);
  }
  return out;
}

type SignatureCheck = { ok: true; cert: ParsedCertificate } | { ok: false; reason: FormReason };

/**
 * The taxpayer's signature over DLTKhai (tvan.md §4.2) with the gate's building blocks: the
 * profile and the mathematics (xml/verify.ts), the chain, validity at SigningTime, revocation and
 * `UID=MST:` (pki/trust.ts); the certificate registered to the seller or listed in the form with
 * HThuc 1 or 2. Any fault is 1011.
 */
async function checkFormSignature(deps: RegistrationDeps, msg: Envelope, f: RegistrationForm, at: Date): Promise<SignatureCheck> {
  const no = (text: string): SignatureCheck => ({ ok: false, reason: r("1011", text) });
  if (f.signatures.length === 0) return no("Tờ khai chưa có chữ ký số của người nộp thuế");
  if (f.signatures.length > 1 || msg.parsed.signatures.length > 1) return no("Tờ khai có nhiều hơn một chữ ký số");
  if (msg.parsed.duplicateIds.length) return no(`Trùng Id: ${msg.parsed.duplicateIds.slice(0, 3).join(", ")}`);
  const sig = f.signatures[0]!;
  const profile = readSignature(sig, msg.parsed, {
    allowSha1: deps.allowSha1,
    maxReferences: 2,
    allowedTarget: (el, s) => el === f.dltkhai || (el.localName === "Object" && el.namespaceURI === DSIG_NS && el.parentNode === s),
    requiredTargets: [(el) => el === f.dltkhai],
  });
  if (!profile.ok) return no(`Chữ ký số không đúng quy định: ${profile.faults[0]!.message}`);
  // An Object reference with the enveloped-signature transform verifies only under a .NET quirk (tvan.md §4.2).
  if (profile.value.references.some((ref) => ref.target !== f.dltkhai && ref.enveloped)) return no("Chữ ký số không đúng quy định: Object tham chiếu có biến đổi enveloped-signature");
  const verified = verifyProfile(profile.value);
  if (!verified.ok) return no(`Dữ liệu trong thẻ có Id = ${f.id} đã bị thay đổi trên đường truyền`);
  const signingTime = verified.value.signingTime ?? at;
  if (signingTime.getTime() > at.getTime() + deps.maxClockSkewMs) return no("Thời điểm ký sau thời điểm nhận");
  const cert = deps.trust.verifySigner(verified.value.signer, verified.value.others, signingTime, f.mst);
  if (!cert.ok) return no(`Chứng thư số không hợp lệ: ${cert.faults[0]!.code}: ${cert.faults[0]!.message}`);
  const listed = f.certificates.some((c) => c.action !== "3" && c.serial === normalizeSerial(cert.value.serial));
  const registered = await deps.store.findCertificate(f.mst, cert.value.fingerprint);
  const active = registered !== null && (!registered.stoppedAt || registered.stoppedAt.getTime() > at.getTime());
  if (!listed && !active) return no("Chứng thư số ký tờ khai chưa đăng ký với cơ quan thuế và không có trong danh sách chứng thư số của tờ khai");
  return { ok: true, cert: cert.value };
}

/** The register (1015, 1009, 1010, 9992, 9991). */
async function registerRules(w: RegistrationWork, f: RegistrationForm, seller: RegisteredSeller | null): Promise<FormReason[]> {
  if (seller?.status === "ceased") return [r("1015", "NNT đã chấm dứt hoạt động")];
  const accepted = await w.lastAccepted(f.mst);
  if (accepted?.content && accepted.content.officeCode !== f.officeCode) return [r("1009", "Cơ quan thuế quản lý của NNT không hợp lệ")];
  if (f.hthuc === "2" && !accepted) return [r("1010", "NNT chưa đăng ký sử dụng hóa đơn điện tử")];
  if (f.hthuc === "1" && accepted) return [r("9992", "Đã tồn tại tờ khai đăng ký sử dụng hóa đơn điện tử khác của người nộp thuế đã được cơ quan thuế chấp nhận")];
  if (await w.hasPending(f.mst)) return [r("9991", "Cơ quan thuế đang xử lý tờ khai của người nộp thuế")];
  return [];
}

/** Why an officer must decide (tvan.md §4.4); empty: accepted at once. */
export function holdReasons(f: RegistrationForm, seller: RegisteredSeller | null): Reason[] {
  const out: Reason[] = [];
  const fl = (k: string) => f.flags[k] === "1";
  if (fl("NNTDBKKhan") || fl("NNTKTDNUBND")) out.push({ mloi: "2003", text: DECISION_REASONS["2003"]! });
  if (fl("CBTHop")) out.push({ mloi: "2004", text: DECISION_REASONS["2004"]! });
  const taxCode = checkTaxCode(f.mst);
  if (taxCode.ok && taxCode.kind === "individual" && fl("HDGTGT")) out.push({ mloi: "2005", text: DECISION_REASONS["2005"]! });
  const special = ["HDBTSCong", "HDBHDTQGia", "CQXLTSCong", "NCCNN", "HDNCCNN"].filter(fl);
  if (special.length) out.push({ mloi: "2007", text: `Loại hóa đơn hoặc đối tượng cần cơ quan thuế xem xét: ${special.join(", ")}` });
  if (f.unnamed.length) out.push({ mloi: "2007", text: `Tờ khai có thông tin cần cơ quan thuế xem xét: ${f.unnamed.slice(0, 5).join(", ")}` });
  if (seller?.status === "suspended") out.push({ mloi: "2007", text: "NNT đang bị tạm ngừng sử dụng hóa đơn" });
  return out;
}

function contentOf(f: RegistrationForm, signer: ParsedCertificate | null): RegistrationContent & { signer?: string } {
  return {
    hthuc: f.hthuc,
    pban: f.pban,
    name: f.name,
    office: f.office,
    officeCode: f.officeCode,
    place: f.place,
    date: f.date,
    flags: f.flags,
    certificates: f.certificates.map((c) => ({ serial: c.serial, issuer: c.issuer, from: c.from, to: c.to, action: c.action })),
    ...(signer ? { signer: Buffer.from(signer.der).toString("base64") } : {}),
  };
}

/** What an acceptance changes (tvan.md §4.5). */
export async function applyAcceptance(w: RegistrationWork, seller: string, content: RegistrationContent & { signer?: string }, at: Date): Promise<void> {
  if (content.signer) {
    const cert = parseCertificate(Buffer.from(content.signer, "base64"));
    const listed = content.certificates.some((c) => c.action !== "3" && c.serial === normalizeSerial(cert.serial));
    if (listed) await w.registerCertificate(seller, cert, at);
  }
  for (const c of content.certificates) if (c.action === "3") await w.stopSerial(seller, c.serial, at);
  if (content.office) await w.setOfficeIfNone(seller, content.office);
}

/** A 103 for a registration's content. */
export async function decisionNotice(
  w: RegistrationWork,
  head: ReplyHead,
  content: RegistrationContent,
  seller: Pick<RegisteredSeller, "province"> | null,
  accepted: boolean,
  reasons: Reason[],
  at: Date,
  official: AuthorityKey,
  office: AuthorityKey,
): Promise<{ xml: string; messageId: string }> {
  const xml = reply103(
    head,
    {
      accepted,
      pban: content.pban,
      place: seller?.province ?? "Hà Nội",
      office: content.office,
      name: content.name,
      formDate: content.date,
      hthuc: content.hthuc,
      reasons,
      number: String(await w.nextNumber()),
      at,
      // Cash-register invoices (CMTMTTien 1): the seller's range, assigned at the first such acceptance (tvan.md §4.5, §8.1).
      ...(accepted && content.flags["CMTMTTien"] === "1" ? { range: await w.cashRegisterRange(head.mst, at) } : {}),
    },
    official,
    office,
  );
  return { xml, messageId: /<MTDiep>([^<]*)<\/MTDiep>/.exec(xml)![1]! };
}

/** The reply head of a registration's message (a 103 sent later answers the 100). */
export function headOfRegistration(reg: RegistrationRecord, sender: string): ReplyHead {
  return { pban: reg.content?.pban ?? "2.0.0", to: sender, answers: reg.messageId, mst: reg.sellerTaxCode };
}
