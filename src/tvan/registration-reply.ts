/**
 * The answers to a T-VAN 100 (tvan.md §6), laid out and signed as production's (samples 05, 06,
 * 07, 13):
 *
 * - 102 (01/TB-TNĐT): received or not, `DLTBao Id="Id-<32 upper hex>"`, one authority signature
 *   (`Tct-…`, References DLTBao then `SigningTime-…`);
 * - 103 (01/TB-ĐKĐT): accepted or not, `DLTBao` and `STBao` (`Id-<32 lower hex>` each), two
 *   signatures: the head of office's `TTCQT-<DLTBao Id>` over its Object and DLTBao, then the
 *   office's `CQT-<DLTBao Id>` over its Object, DLTBao and STBao.
 */
import { gmt7 } from "../domain/gmt7.js";
import type { AuthorityKey } from "../xml/stamp.js";
import type { FormReason } from "./registration-form.js";
import { DECLARATION, el, hex32, newMessageId, type ReplyHead, signLayout, signParts, ttChung } from "./reply.js";

const FORM_TITLE = "Tờ khai đăng ký/thay đổi thông tin sử dụng hóa đơn điện tử";

/** What a 102 says. */
export interface Receipt {
  /** 1 received (new), 2 not received (new), 3 received (change), 4 not received (change). */
  thop: "1" | "2" | "3" | "4";
  /** So: MCQTQLy (00000 if unreadable) + YY + 10 digits. */
  number: string;
  /** DDanh: the seller's province, else Hà Nội. */
  place: string;
  /** The form's PBan (else the envelope's). */
  pban: string;
  /** TNNT: the name as on the form (else the seller's). */
  name: string;
  receivedAt: Date;
  reasons: FormReason[];
}

const RECEIPT_TITLES: Record<Receipt["thop"], string> = {
  "1": "Về việc tiếp nhận tờ khai đăng ký sử dụng HĐĐT theo quy định tại Nghị định 123/2020/NĐ-CP",
  "2": "Về việc không tiếp nhận tờ khai đăng ký sử dụng HĐĐT theo quy định tại Nghị định 123/2020/NĐ-CP",
  "3": "Về việc tiếp nhận tờ khai thay đổi thông tin sử dụng HĐĐT theo quy định tại Nghị định 123/2020/NĐ-CP",
  "4": "Về việc không tiếp nhận tờ khai thay đổi thông tin sử dụng HĐĐT theo quy định tại Nghị định 123/2020/NĐ-CP",
};

const reasonList = (reasons: FormReason[]) =>
  reasons.length ? "<DSLDKCNhan>" + reasons.map((r) => "<LDo>" + el("MLoi", r.mloi) + el("MTa", clip(r.text, 255)) + "</LDo>").join("") + "</DSLDKCNhan>" : "";

function clip(s: string, max: number): string {
  const cps = [...s];
  return cps.length <= max ? s : cps.slice(0, max - 1).join("") + "…";
}

/** 102: notice 01/TB-TNĐT, in production's field order (sample 06). */
export function reply102(head: ReplyHead, r: Receipt, key: AuthorityKey): string {
  const id = `Id-${hex32().toUpperCase()}`;
  const at = gmt7(r.receivedAt);
  const dltbao =
    `<DLTBao Id="${id}">` +
    el("PBan", r.pban) +
    el("MSo", "01/TB-TNĐT") +
    el("Ten", RECEIPT_TITLES[r.thop]) +
    el("So", r.number) +
    el("DDanh", r.place) +
    el("NTBao", at.slice(0, 10)) +
    el("MST", head.mst) +
    el("TNNT", r.name) +
    el("TTKhai", FORM_TITLE) +
    el("MGDDTu", head.answers) +
    el("TGGui", at) +
    el("THop", r.thop) +
    el("TGNhan", at) +
    reasonList(r.reasons) +
    "</DLTBao>";
  const before = DECLARATION + "<TDiep>" + ttChung("102", head, newMessageId()) + "<DLieu><TBao>" + dltbao + "<DSCKS><CQT>";
  return signParts(before, "</CQT></DSCKS></TBao></DLieu></TDiep>", [id], r.receivedAt, key);
}

/** What a 103 says. */
export interface Decision {
  accepted: boolean;
  pban: string;
  place: string;
  /** TCQT: the seller's tax office. */
  office: string;
  name: string;
  /** The form's NLap (YYYY-MM-DD). */
  formDate: string;
  /** The form's HThuc. */
  hthuc: "1" | "2";
  reasons: FormReason[];
  /** The cash-register range, on an acceptance with CMTMTTien 1. */
  range?: string;
  /** STBao/So: the yearly sequence. */
  number: string;
  /** When the head of office signs, the number is allocated, the office signs. */
  at: Date;
}

/** 103: notice 01/TB-ĐKĐT with its two signatures (sample 05's layout; tvan.md §3, §6). */
export function reply103(head: ReplyHead, d: Decision, official: AuthorityKey, office: AuthorityKey): string {
  const id = `Id-${hex32()}`;
  const stbaoId = `Id-${hex32()}`;
  const dltbao =
    `<DLTBao Id="${id}">` +
    el("PBan", d.pban) +
    el("MSo", "01/TB-ĐKĐT") +
    el("Ten", d.accepted ? "Thông báo về việc chấp nhận đăng ký sử dụng hóa đơn điện tử/biên lai điện tử" : "Thông báo về việc không chấp nhận đăng ký sử dụng hóa đơn điện tử/biên lai điện tử") +
    el("DDanh", d.place) +
    el("TCQTCTren", "Cục Thuế") +
    el("TCQT", d.office) +
    el("MST", head.mst) +
    el("TNNT", d.name) +
    el("Ngay", `${d.formDate}T00:00:00`) +
    el("HTDKy", d.hthuc) +
    el("TTXNCQT", d.accepted ? "1" : "2") +
    "<HThuc></HThuc>" +
    el("CDanh", "THỦ TRƯỞNG CƠ QUAN THUẾ") +
    (d.accepted ? "" : reasonList(d.reasons)) +
    (d.accepted && d.range ? el("MCCQT", d.range) : "") +
    "</DLTBao>";
  const stbao = `<STBao Id="${stbaoId}">` + el("So", d.number) + el("NTBao", gmt7(d.at)) + "</STBao>";
  const start = DECLARATION + "<TDiep>" + ttChung("103", head, newMessageId()) + "<DLieu><TBao>" + dltbao + stbao + "<DSCKS><TTCQT>";
  const end = "</DSCKS></TBao></DLieu></TDiep>";
  const role = (r: "TTCQT" | "CQT", refs: string[]) => ({
    sigId: `${r}-${id}`,
    objId: `Object-${r}-${id}`,
    refs: [`Object-${r}-${id}`, ...refs],
    property: { id: `SignatureProperty-${r}-${id}`, target: `#${r}-${id}` },
  });
  // The head signs first; the office's signature covers neither signature, so it can follow.
  const signedByHead = signLayout(start, `</TTCQT><CQT></CQT>${end}`, role("TTCQT", [id]), d.at, official);
  const cut = signedByHead.lastIndexOf("<CQT></CQT>");
  return signLayout(signedByHead.slice(0, cut) + "<CQT>", `</CQT>${end}`, role("CQT", [id, stbaoId]), d.at, office);
}
