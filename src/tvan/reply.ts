/**
 * The authority's T-VAN replies (invoice-format.md §7), built as text and signed where a notice
 * is carried:
 *
 * - 202: the stamped HDon in DLieu, as message 03 of ../shared/interop (its CQT signature is the
 *   invoice's own; the envelope is not signed, as in 03);
 * - 204: notice 01/TB-KTDL (LTBao 1: the invoice was refused a code) with production's header
 *   (tvan.md §10, sample 08: So, DDanh, NTBao, TNNT, TGGui, CCu, MGDDTu, SLuong) and 301: notice
 *   01/TB-HĐSS (the answer to an error notice 04/SS-HĐĐT), each `TBao/DLTBao Id=…` followed by
 *   `TBao/DSCKS/CQT/Signature` as production signs (tvan.md §3, samples 06, 08, 11, 13):
 *   `Id="Tct-<32 hex>"`, References to DLTBao then to the signature's own
 *   `Object Id="SigningTime-<32 hex>"`, C14N 1.0, no transforms;
 * - 999: the technical acknowledgement of a refused envelope, `DLieu/TBao Id=…` as message 02
 *   with TTTNhan 1 and the reasons, and the authority's signature over it in `DLieu/DSCKS/CQT`.
 *
 * xmlsec1 verifies them with `--id-attr:Id DLTBao --id-attr:Id TBao` (the Object's Id resolves inside its Signature).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { DOMParser } from "@xmldom/xmldom";
import { gmt7, gmt7Date } from "../domain/gmt7.js";
import type { Fault } from "../errors.js";
import { C14N, DSIG_NS, digestBase64, SHA256, signValue } from "../xml/algorithms.js";
import { canonicalize } from "../xml/c14n.js";
import type { AuthorityKey } from "../xml/stamp.js";
import { tvanError } from "./errors.js";

/** The tax authority's sender code. */
export const AUTHORITY_SENDER = "TCT";
export const DECLARATION = `<?xml version="1.0" encoding="UTF-8"?>`;

/** A reply's MTDiep: the sender code and the 32 upper-case hex digits of a UUIDv4. */
export function newMessageId(): string {
  return AUTHORITY_SENDER + randomUUID().replace(/-/g, "").toUpperCase();
}

export const hex32 = (): string => randomBytes(16).toString("hex");
/** A notice's DLTBao Id as production writes it: `Id-` + 32 upper-case hex. */
const noticeId = (): string => `Id-${hex32().toUpperCase()}`;

/** Escapes text content. */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** At most `max` characters (code points), as the format counts them. */
function clip(s: string, max: number): string {
  const cps = [...s];
  return cps.length <= max ? s : cps.slice(0, max - 1).join("") + "…";
}

/** The first `max` characters (identity fields are cut, not marked). */
const cut = (s: string, max: number): string => [...s].slice(0, max).join("");

export const el = (name: string, text: string): string => `<${name}>${esc(text)}</${name}>`;

/** What a reply's TTChung says: to whom, answering what. */
export interface ReplyHead {
  /** SLuong of the message answered (default 1): a 204 repeats it. */
  count?: number;
  /** PBan of the message answered (2.0.0 when it could not be read). */
  pban: string;
  /** MNGui of the message answered: the reply's MNNhan. */
  to: string;
  /** MTDiep of the message answered ("" when it could not be read). */
  answers: string;
  /** MST of the message answered. */
  mst: string;
}

export function ttChung(type: string, head: ReplyHead, messageId: string, count = 1): string {
  return (
    "<TTChung>" +
    el("PBan", head.pban) +
    el("MNGui", AUTHORITY_SENDER) +
    el("MNNhan", head.to) +
    el("MLTDiep", type) +
    el("MTDiep", messageId) +
    el("MTDTChieu", head.answers) +
    el("MST", head.mst) +
    el("SLuong", String(count)) +
    "</TTChung>"
  );
}

/** One reason of a notice: the fault's code as MLoi with its MTLoi and HDXLy, the fault itself in GChu. */
function ldo(f: Fault, form: "notice" | "ack"): string {
  const e = tvanError(f.code);
  const detail = clip(f.path ? `${f.message} (${f.path})` : f.message, 255);
  return form === "ack"
    ? "<LDo>" + el("MLoi", e.mloi) + el("MTa", clip(`${e.mtloi} ${detail}`, 255)) + el("HDXLy", e.hdxly) + "</LDo>"
    : "<LDo>" + el("MLoi", e.mloi) + el("MTLoi", e.mtloi) + el("HDXLy", e.hdxly) + el("GChu", detail) + "</LDo>";
}

/** 202: the stamped invoice, answering the 200 that sent it. */
export function reply202(head: ReplyHead, stampedHdon: string): string {
  // The stored invoice of a direct submission keeps the seller's XML declaration: not inside DLieu.
  const hdon = stampedHdon.replace(/^\uFEFF?<\?xml[^>]*\?>\s*/, "");
  return DECLARATION + "<TDiep>" + ttChung("202", head, newMessageId()) + "<DLieu>" + hdon + "</DLieu></TDiep>";
}

/** The invoice a 204 is about, as it was sent (identification only, not trusted). */
export interface InvoiceIdentity {
  form: string;
  symbol: string;
  number: string;
  issueDate: string;
}

/** CCu of a 204 (tvan.md §10): what it answers, by the message's MLTDiep. */
export const NOTICE_GROUNDS: Record<string, string> = {
  "200": "Thông điệp chuyển dữ liệu hóa đơn điện tử để được cấp mã đến CQT",
  "203": "Thông điệp chuyển dữ liệu hóa đơn điện tử không mã đến CQT",
  "206": "Thông điệp chuyển dữ liệu hóa đơn điện tử có mã khởi tạo từ máy tính tiền đến CQT",
  "400": "Thông điệp chuyển bảng tổng hợp dữ liệu hóa đơn điện tử đến CQT",
};

/** What every 204 states of itself and of the message it answers (tvan.md §10's header). */
export interface NoticeHeader {
  /** MLTDiep of the message answered: its CCu. */
  messageType: string;
  /** So: YY + 10-digit sequence. */
  number: string;
  /** TNNT: the seller's registered name. */
  sellerName: string;
  /** The receipt time: NTBao (its date), TGGui. */
  receivedAt: Date;
}

/** `So` of a 01/TB-KTDL: the year's last two digits (GMT+7) and the sequence number on 10 digits. */
export function noticeNumber(at: Date, sequence: bigint): string {
  return gmt7Date(at).slice(2, 4) + String(sequence % 10_000_000_000n).padStart(10, "0");
}

/** The 204's DLTBao up to its LTBao's block: production's header, in production's order (sample 08). */
function noticeHead(id: string, head: ReplyHead, h: NoticeHeader, ltbao: string): string {
  return (
    `<DLTBao Id="${id}">` +
    el("PBan", head.pban) +
    el("MSo", "01/TB-KTDL") +
    el("Ten", "Thông báo về việc kết quả kiểm tra dữ liệu hóa đơn điện tử") +
    el("So", h.number) +
    el("DDanh", "Hà Nội") +
    el("NTBao", gmt7Date(h.receivedAt)) +
    el("MST", head.mst) +
    el("TNNT", h.sellerName) +
    el("TGGui", gmt7(h.receivedAt)) +
    el("LTBao", ltbao) +
    el("CCu", NOTICE_GROUNDS[h.messageType] ?? "") +
    el("MGDDTu", head.answers) +
    el("SLuong", String(head.count ?? 1))
  );
}

/** 204: notice 01/TB-KTDL, LTBao 1: the invoice was refused a code, with every fault of the failing stage. */
export function reply204(head: ReplyHead, h: NoticeHeader, invoice: InvoiceIdentity, faults: Fault[], at: Date, key: AuthorityKey): string {
  const block =
    "<LCMa>" +
    el("KHMSHDon", invoice.form) +
    el("KHHDon", invoice.symbol) +
    el("SHDon", invoice.number) +
    el("NLap", invoice.issueDate) +
    "<DSLDo>" +
    faults.map((f) => ldo(f, "notice")).join("") +
    "</DSLDo></LCMa>";
  return notice204(head, h, "1", block, at, key);
}

/** A 204 of any LTBao: the header, the LTBao's block (tvan.md §10), the authority's signature. */
function notice204(head: ReplyHead, h: NoticeHeader, ltbao: string, block: string, at: Date, key: AuthorityKey): string {
  const id = noticeId();
  const dltbao = noticeHead(id, head, h, ltbao) + block + "</DLTBao>";
  const before = DECLARATION + "<TDiep>" + ttChung("204", head, newMessageId(), head.count ?? 1) + "<DLieu><TBao>" + dltbao + "<DSCKS><CQT>";
  return signParts(before, "</CQT></DSCKS></TBao></DLieu></TDiep>", [id], at, key);
}

/** One invalid item of a package (a 203's or 206's HDon): its place in DLieu, its identity as written, its faults. */
export interface RefusedItem {
  /** 1-based position in DLieu. */
  position: number;
  identity: InvoiceIdentity;
  faults: Fault[];
}

/** The answer to a package (203, 206, 400) as tvan.md §10 lays it out. */
export type PackageVerdict =
  /** Every item valid. */
  | { ltbao: "2" }
  /** 203: the invalid invoices (LHDKMa); the rest accepted. */
  | { ltbao: "3"; refused: RefusedItem[] }
  /** 206: the invalid invoices (LHDMTTien); the rest accepted. */
  | { ltbao: "7"; refused: RefusedItem[] }
  /** Nothing accepted: the package's reasons (KHLKhac). */
  | { ltbao: "9"; faults: Fault[] }
  /** 400: the summary tables with faults (LBTHKXDau, fuel: LBTHXDau); the rest accepted. */
  | { ltbao: "4" | "5"; tables: RefusedTable[] };

/** A summary table of a 400 with faults: its header's (the whole table refused) or its rows'. */
export interface RefusedTable {
  /** 1-based position in DLieu. */
  position: number;
  /** KDLieu, LDau, BSLThu, SBTHDLieu as written. */
  period: string;
  first: string;
  supplement: string;
  number: string;
  headerFaults: Fault[];
  rows: RefusedRow[];
}

/** A row of a summary table with its faults, its identity as written. */
export interface RefusedRow {
  /** The row's STT, else its position. */
  stt: string;
  form: string;
  symbol: string;
  number: string;
  issueDate: string;
  buyer: string;
  product: string;
  productName: string;
  period: string;
  faults: Fault[];
}

/** 204 answering a 203, 206 or 400: LTBao 2, 3, 7 or 9 with its block. */
export function reply204Package(head: ReplyHead, h: NoticeHeader, v: PackageVerdict, at: Date, key: AuthorityKey): string {
  return notice204(head, h, v.ltbao, packageBlock(v), at, key);
}

function packageBlock(v: PackageVerdict): string {
  const reasons = (faults: Fault[]) => "<DSLDo>" + faults.map((f) => ldo(f, "notice")).join("") + "</DSLDo>";
  switch (v.ltbao) {
    case "2":
      return "";
    case "9":
      return "<KHLKhac>" + reasons(v.faults) + "</KHLKhac>";
    case "3":
      return (
        "<LHDKMa><DSHDon>" +
        v.refused
          .map(
            (r) =>
              "<HDon>" +
              el("STT", String(r.position)) +
              el("KHMSHDon", cut(r.identity.form, 1)) +
              el("KHHDon", cut(r.identity.symbol, 6)) +
              el("SHDon", cut(r.identity.number, 8)) +
              el("NLap", cut(r.identity.issueDate, 10)) +
              reasons(r.faults) +
              "</HDon>",
          )
          .join("") +
        "</DSHDon></LHDKMa>"
      );
    case "7":
      return "<LHDMTTien><DSLDo>" + v.refused.map(cashRegisterReason).join("") + "</DSLDo></LHDMTTien>";
    case "4":
    case "5": {
      const fuel = v.ltbao === "5";
      const row = (r: RefusedRow) =>
        fuel
          ? "<MHang>" + el("STT", cut(r.stt, 4)) + el("MHHDVu", cut(r.product, 50)) + el("THHDVu", cut(r.productName, 500)) + el("KDChinh", cut(r.period, 10)) + reasons(r.faults) + "</MHang>"
          : "<HDon>" +
            el("STT", cut(r.stt, 4)) +
            el("KHMSHDon", cut(r.form, 11)) +
            el("KHHDon", cut(r.symbol, 8)) +
            el("SHDon", cut(r.number, 8)) +
            el("NLap", cut(r.issueDate, 10)) +
            el("TNMua", cut(r.buyer, 400)) +
            reasons(r.faults) +
            "</HDon>";
      const table = (t: RefusedTable) =>
        "<BTHop>" +
        el("STT", String(t.position)) +
        el("KDLieu", cut(t.period, 10)) +
        el("LDau", cut(t.first, 1)) +
        el("BSLThu", cut(t.supplement, 3)) +
        el("SBTHDLieu", cut(t.number, 5)) +
        (t.headerFaults.length ? "<DSLDTTChung>" + t.headerFaults.map((f) => ldo(f, "notice").replace(/^<LDo>/, "<LDTTChung>").replace(/<\/LDo>$/, "</LDTTChung>")).join("") + "</DSLDTTChung>" : "") +
        (t.rows.length ? (fuel ? "<DSLMHang>" : "<DSLHDon>") + t.rows.map(row).join("") + (fuel ? "</DSLMHang>" : "</DSLHDon>") : "") +
        "</BTHop>";
      return (fuel ? "<LBTHXDau><DSBTHop>" : "<LBTHKXDau><DSBTHop>") + v.tables.map(table).join("") + (fuel ? "</DSBTHop></LBTHXDau>" : "</DSBTHop></LBTHKXDau>");
    }
  }
}

/**
 * One LDo of LHDMTTien (LTBao 7) per invalid invoice, production's layout: MTLoi =
 * `KHMSHDon;KHHDon;SHDon;` and the texts of its fault codes joined by ` | `, clipped to 255; MLoi
 * and HDXLy of its first fault; GChu the faults themselves.
 */
function cashRegisterReason(r: RefusedItem): string {
  const first = tvanError(r.faults[0]!.code);
  const texts = [...new Set(r.faults.map((f) => tvanError(f.code).mtloi))].join(" | ");
  const id = `${r.identity.form};${r.identity.symbol};${r.identity.number};`;
  const detail = r.faults.map((f) => (f.path ? `${f.message} (${f.path})` : f.message)).join(" | ");
  return "<LDo>" + el("STT", String(r.position)) + el("MLoi", first.mloi) + el("MTLoi", clip(id + texts, 255)) + el("HDXLy", first.hdxly) + el("GChu", clip(detail, 255)) + "</LDo>";
}

/**
 * −1 (tvan.md §11): the invalid-format reply to a 206 whose package signature fails, unsigned as
 * production's; no MST, no SLuong; HSGoc the service's case id (a lower-case UUIDv4).
 */
export function replyMinus1(head: ReplyHead, mloi: string, mta: string): string {
  return (
    "<TDiep><TTChung>" +
    el("PBan", head.pban) +
    el("MNGui", AUTHORITY_SENDER) +
    el("MNNhan", head.to) +
    el("MLTDiep", "-1") +
    el("MTDiep", newMessageId()) +
    el("MTDTChieu", head.answers) +
    "</TTChung><DLieu>" +
    el("MLoi", mloi) +
    el("MTa", clip(mta, 255)) +
    el("HSGoc", randomUUID()) +
    "</DLieu></TDiep>"
  );
}

/** One invoice of a 301: what the error notice said of it, and whether the authority accepted it. */
export interface NoticeResult {
  stt: string;
  code: string;
  form: string;
  symbol: string;
  number: string;
  issueDate: string;
  /** LADHDDT as sent. */
  kind: string;
  /** TCTBao as sent: 1 cancel, 2 adjust, 3 replace, 4 explain. */
  action: string;
  accepted: boolean;
  faults: Fault[];
}

/** 301: notice 01/TB-HĐSS, the result of each invoice of an error notice 04/SS-HĐĐT (TTTNCCQT 1 accepted, 2 not). */
export function reply301(head: ReplyHead, sellerName: string | null, formFaults: Fault[], results: NoticeResult[], at: Date, key: AuthorityKey): string {
  const id = noticeId();
  const hdon = (r: NoticeResult) =>
    "<HDon>" +
    el("STT", r.stt) +
    el("MCQTCap", r.code) +
    el("KHMSHDon", r.form) +
    el("KHHDon", r.symbol) +
    el("SHDon", r.number) +
    el("NLap", r.issueDate) +
    el("LADHDDT", r.kind) +
    el("TCTBao", r.action) +
    el("TTTNCCQT", r.accepted ? "1" : "2") +
    (r.faults.length ? "<DSLDKTNhan>" + r.faults.map((f) => ldo(f, "notice")).join("") + "</DSLDKTNhan>" : "") +
    "</HDon>";
  const dltbao =
    `<DLTBao Id="${id}">` +
    el("PBan", head.pban) +
    el("MSo", "01/TB-HĐSS") +
    el("Ten", "Thông báo về việc tiếp nhận và kết quả xử lý về việc hóa đơn điện tử đã lập có sai sót") +
    (sellerName ? el("TNNT", sellerName) : "") +
    el("MST", head.mst) +
    el("MGDDTu", head.answers) +
    el("TGNhan", gmt7(at)) +
    (formFaults.length ? "<DSLDKTNhan>" + formFaults.map((f) => ldo(f, "notice")).join("") + "</DSLDKTNhan>" : "") +
    "<DSHDon>" +
    results.map(hdon).join("") +
    "</DSHDon></DLTBao>";
  const before = DECLARATION + "<TDiep>" + ttChung("301", head, newMessageId()) + "<DLieu><TBao>" + dltbao + "<DSCKS><CQT>";
  return signParts(before, "</CQT></DSCKS></TBao></DLieu></TDiep>", [id], at, key);
}

/** 999 with TTTNhan 1: the envelope was refused, with the reasons. */
export function reply999(head: ReplyHead, faults: Fault[], at: Date, key: AuthorityKey): string {
  const id = `Id-${hex32()}`;
  const tbao =
    `<TBao Id="${id}">` +
    el("MTDiep", head.answers) +
    el("MNGui", head.to) +
    el("NNhan", gmt7(at)) +
    el("TTTNhan", "1") +
    "<DSLDo>" +
    faults.map((f) => ldo(f, "ack")).join("") +
    "</DSLDo></TBao>";
  const before = DECLARATION + "<TDiep>" + ttChung("999", head, newMessageId()) + "<DLieu>" + tbao + "<DSCKS><CQT>";
  return signParts(before, "</CQT></DSCKS></DLieu></TDiep>", [id], at, key);
}

// ---------------------------------------------------------------------------------------------
// The authority's signature over parts of a reply

/** Where a signature's Ids and References go: production's layouts differ by notice (tvan.md §3). */
export interface SignatureLayout {
  sigId: string;
  objId: string;
  /** The Ids the References point at, in order (the Object's among them). */
  refs: string[];
  /** SignatureProperty's Id (absent: none) and Target. */
  property: { id?: string; target: string };
}

interface SignatureValues extends SignatureLayout {
  method: string;
  digests: string[];
  signatureValue: string;
  subjectName: string;
  certBase64: string;
  signingTime: string;
}

// One template serves both the DOM the digests are computed on and the bytes emitted, so the two cannot drift.
function signatureXml(v: SignatureValues): string {
  const ref = (uri: string, digest: string) => `<Reference URI="#${uri}"><DigestMethod Algorithm="${SHA256}"/><DigestValue>${digest}</DigestValue></Reference>`;
  const prop = `<SignatureProperty${v.property.id ? ` Id="${v.property.id}"` : ""} Target="${v.property.target}">`;
  return (
    `<Signature xmlns="${DSIG_NS}" Id="${v.sigId}"><SignedInfo>` +
    `<CanonicalizationMethod Algorithm="${C14N}"/><SignatureMethod Algorithm="${v.method}"/>` +
    v.refs.map((t, i) => ref(t, v.digests[i] ?? "")).join("") +
    `</SignedInfo><SignatureValue>${v.signatureValue}</SignatureValue>` +
    `<KeyInfo><X509Data><X509SubjectName>${esc(v.subjectName)}</X509SubjectName><X509Certificate>${v.certBase64}</X509Certificate></X509Data></KeyInfo>` +
    `<Object Id="${v.objId}"><SignatureProperties>${prop}<SigningTime>${v.signingTime}</SigningTime></SignatureProperty></SignatureProperties></Object>` +
    `</Signature>`
  );
}

/**
 * The reply `before + Signature + after`, the Signature covering the elements whose Id is in
 * `targets` and then its own SigningTime Object, with production's Ids (`Tct-…`, `SigningTime-…`).
 */
export function signParts(before: string, after: string, targets: string[], at: Date, key: AuthorityKey): string {
  const objId = `SigningTime-${hex32()}`;
  return signLayout(before, after, { sigId: `Tct-${hex32()}`, objId, refs: [...targets, objId], property: { target: "signatureProperties" } }, at, key);
}

/**
 * The reply `before + Signature + after` with the signature laid out as `layout` says. The reply
 * is parsed once with an unsigned template in place to canonicalize each target in its context;
 * the emitted bytes are the same text.
 */
export function signLayout(before: string, after: string, layout: SignatureLayout, at: Date, key: AuthorityKey): string {
  const v: SignatureValues = {
    ...layout,
    method: key.method.uri,
    digests: [],
    signatureValue: "",
    subjectName: key.subjectName,
    certBase64: key.certDer.toString("base64"),
    signingTime: gmt7(at),
  };
  const doc = new DOMParser().parseFromString(before + signatureXml(v) + after, "application/xml") as unknown as Document;
  const byId = new Map<string, Element>();
  const all = doc.getElementsByTagName("*");
  for (let i = 0; i < all.length; i++) {
    const e = all.item(i)!;
    const id = e.getAttribute("Id");
    if (id) byId.set(id, e);
  }
  const signature = byId.get(v.sigId)!;
  const signedInfo = signature.getElementsByTagNameNS(DSIG_NS, "SignedInfo").item(0)!;
  v.digests = layout.refs.map((id) => {
    const target = byId.get(id);
    if (!target) throw new Error(`signLayout: no element with Id ${id}`);
    return digestBase64("sha256", canonicalize(target, C14N));
  });
  const digestValues = signedInfo.getElementsByTagNameNS(DSIG_NS, "DigestValue");
  v.digests.forEach((d, i) => digestValues.item(i)!.appendChild(doc.createTextNode(d)));
  v.signatureValue = signValue(key.method, key.privateKey, canonicalize(signedInfo, C14N));
  return before + signatureXml(v) + after;
}
