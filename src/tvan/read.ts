/**
 * Reading what a T-VAN sender sends (invoice-format.md §7): the TDiep envelope, and the error
 * notice 04/SS-HĐĐT of a message 300 (Decision 1450: TBao/DLTBao/DSHDon/HDon{STT, MCQTCap,
 * KHMSHDon, KHHDon, SHDon, Ngay, LADHDDT, TCTBao, LDo}, signed by the seller in TBao/DSCKS/NNT).
 * The hardened parser reads the whole message once; the HDon of a 200 is then judged by the
 * submission gate through `focus`.
 *
 * Decisions where the spec is silent:
 * - The envelope (TDiep, TTChung, DLieu) carries no attributes and so no namespace declaration:
 *   inclusive C14N would carry one into the signed DLHDon, and the HDon returned in the 202
 *   would then no longer verify outside this envelope.
 * - TTChung holds each of PBan, MNGui, MNNhan, MLTDiep, MTDiep, MST, SLuong once (MTDTChieu
 *   optional, empty allowed), nothing else; MTDiep is MNGui followed by 32 upper-case hex digits
 *   (≤ 46 characters); SLuong is 1–1,000 and DLieu holds exactly SLuong elements of the type's
 *   kind, nothing else (tvan.md §2): one for a 200 (HDon) or a 300 (TBao), n for the kinds that
 *   carry several (KINDS). MNNhan is routing and not checked.
 * - A 206 alone adds CKSNNT after DLieu, and its DLieu carries one attribute, the Id (an XML
 *   name) its CKSNNT signature references (tvan.md §2, §8.2).
 * - Only the types of KINDS are received here.
 * - An error notice lists at most 1,000 invoices.
 */
import { TAX_CODE_FORM } from "../domain/taxcode.js";
import type { Fault, Result } from "../errors.js";
import { ok } from "../errors.js";
import type { XElement } from "../xml/parse.js";
import { childElements, hasNonWhitespaceText, type ParsedXml, type ParseLimits, parseXml, textOf } from "../xml/parse.js";
import { NCNAME } from "../xml/scan.js";

export interface Envelope {
  parsed: ParsedXml;
  pban: string;
  /** MNGui */
  sender: string;
  /** MLTDiep: one of KINDS. */
  type: MessageType;
  /** MTDiep */
  messageId: string;
  /** MST: the seller the message is about. */
  mst: string;
  /** The first element of DLieu: HDon (200) or TBao (300). */
  content: XElement;
  /** Every element of DLieu, SLuong of them. */
  items: XElement[];
  /** SLuong */
  count: number;
  /** The envelope's DLieu (a 206's carries the Id its CKSNNT signs). */
  dlieu: XElement;
  /** A 206's CKSNNT (the taxpayer's package signature), else null. */
  cksnnt: XElement | null;
}

/** What could be read of a refused envelope, to address the 999. */
export interface EnvelopeHead {
  pban: string | null;
  sender: string | null;
  messageId: string | null;
  mst: string | null;
}

export type EnvelopeResult = { ok: true; value: Envelope } | { ok: false; faults: Fault[]; head: EnvelopeHead };

const TTCHUNG = ["PBan", "MNGui", "MNNhan", "MLTDiep", "MTDiep", "MTDTChieu", "MST", "SLuong"] as const;
const REQUIRED = new Set(["PBan", "MNGui", "MNNhan", "MLTDiep", "MTDiep", "MST", "SLuong"]);
const VERSIONS = new Set(["2.0.0", "2.0.1", "2.1.0"]);
const SENDER = /^[0-9A-Za-z-]{1,14}$/;
/** What DLieu holds per MLTDiep received: the element's name, and whether SLuong may exceed 1. */
export const KINDS = {
  "100": { element: "TKhai", many: false },
  "200": { element: "HDon", many: false },
  "300": { element: "TBao", many: false },
  "203": { element: "HDon", many: true },
  "206": { element: "HDon", many: true },
  "400": { element: "BTHDLieu", many: true },
} as const satisfies Record<string, { element: string; many: boolean }>;
export type MessageType = keyof typeof KINDS;
/** tvan.md §2: at most 1,000 items per message. */
export const MAX_ITEMS = 1000;

const schema = (message: string, path: string): Fault => ({ code: "SCHEMA_INVALID", message, path });
const malformed = (message: string, path?: string): Fault => (path ? { code: "XML_MALFORMED", message, path } : { code: "XML_MALFORMED", message });
const noNs = (e: XElement): boolean => e.namespaceURI === null;

/** Reads and checks the TDiep envelope; a refusal carries what could be read to address the 999. */
export function readEnvelope(body: Uint8Array, limits: ParseLimits): EnvelopeResult {
  const head: EnvelopeHead = { pban: null, sender: null, messageId: null, mst: null };
  const parsed = parseXml(body, "TDiep", limits);
  if (!parsed.ok) return { ok: false, faults: parsed.faults, head };
  const root = parsed.value.root;
  const kids = childElements(root);
  const tt = kids[0];
  const dl = kids[1];
  // A 206 adds the taxpayer's package signature after DLieu (tvan.md §8.2): checked against MLTDiep below.
  const cksnnt = kids[2] && kids[2].localName === "CKSNNT" && noNs(kids[2]) ? kids[2] : null;
  if (kids.length !== (cksnnt ? 3 : 2) || !tt || !dl || tt.localName !== "TTChung" || dl.localName !== "DLieu" || !noNs(tt) || !noNs(dl) || hasNonWhitespaceText(root)) {
    return { ok: false, faults: [malformed("TDiep must hold TTChung and then DLieu (and CKSNNT for a 206), nothing else.")], head };
  }
  const fields = new Map<string, string>();
  const faults: Fault[] = [];
  for (const e of childElements(tt)) {
    const name = e.localName ?? "";
    if (!noNs(e) || !(TTCHUNG as readonly string[]).includes(name)) faults.push(schema(`Unexpected element ${e.tagName} in TTChung.`, `TTChung/${e.tagName}`));
    else if (fields.has(name)) faults.push(schema(`TTChung holds ${name} twice.`, `TTChung/${name}`));
    else if (childElements(e).length || e.attributes.length) faults.push(schema("expected text", `TTChung/${name}`));
    else fields.set(name, textOf(e));
  }
  const get = (n: string) => fields.get(n) ?? null;
  head.pban = VERSIONS.has(get("PBan") ?? "") ? get("PBan") : null;
  head.sender = SENDER.test(get("MNGui") ?? "") ? get("MNGui") : null;
  head.messageId = /^[0-9A-Za-z-]{1,46}$/.test(get("MTDiep") ?? "") ? get("MTDiep") : null;
  head.mst = TAX_CODE_FORM.test(get("MST") ?? "") ? get("MST") : null;

  const packaged = get("MLTDiep") === "206";
  for (const [e, where] of [
    [root, "TDiep"],
    [tt, "TTChung"],
    [dl, "DLieu"],
    ...(cksnnt ? ([[cksnnt, "CKSNNT"]] as const) : []),
  ] as const) {
    // A 206's DLieu carries its Id (what CKSNNT signs), nothing else.
    const allowed = packaged && e === dl && e.attributes.length === 1 && e.attributes[0]!.name === "Id" && NCNAME.test(e.attributes[0]!.value);
    if (e.attributes.length && !allowed) faults.push(schema(`${where} carries attributes (namespace declarations included); the envelope carries none${packaged ? " but DLieu's Id" : ""}.`, where));
  }
  if (packaged && !dl.getAttribute("Id")) faults.push(schema("DLieu of a 206 carries the Id its CKSNNT signature references.", "DLieu/@Id"));
  if (packaged && !cksnnt) faults.push(schema("A 206 carries the taxpayer's package signature in CKSNNT after DLieu.", "CKSNNT"));
  if (!packaged && cksnnt) faults.push(schema("Only a 206 carries CKSNNT.", "CKSNNT"));
  for (const n of REQUIRED) if (!fields.has(n)) faults.push(schema(`TTChung has no ${n}.`, `TTChung/${n}`));
  const pban = get("PBan");
  const sender = get("MNGui");
  const type = get("MLTDiep");
  const messageId = get("MTDiep");
  const mst = get("MST");
  if (pban !== null && !VERSIONS.has(pban)) faults.push(schema("PBan must be 2.0.0, 2.0.1 or 2.1.0.", "TTChung/PBan"));
  if (sender !== null && !SENDER.test(sender)) faults.push(schema("MNGui must be 1–14 letters, digits or '-'.", "TTChung/MNGui"));
  const kind = type !== null && Object.hasOwn(KINDS, type) ? KINDS[type as MessageType] : undefined;
  if (type !== null && !kind) faults.push(schema(`MLTDiep ${type}: only ${Object.keys(KINDS).join(", ")} are received here.`, "TTChung/MLTDiep"));
  if (messageId !== null && (sender === null || !messageId.startsWith(sender) || !/^[0-9A-F]{32}$/.test(messageId.slice(sender.length)) || messageId.length > 46)) {
    faults.push(schema("MTDiep must be MNGui followed by 32 upper-case hex digits.", "TTChung/MTDiep"));
  }
  if (mst !== null && !TAX_CODE_FORM.test(mst)) faults.push(schema("MST is not a tax code.", "TTChung/MST"));
  const slText = get("SLuong");
  const count = slText !== null && /^[1-9]\d{0,3}$/.test(slText) ? Number(slText) : null;
  if (slText !== null && (count === null || count > MAX_ITEMS)) faults.push(schema(`SLuong must be a whole number of 1–${MAX_ITEMS}.`, "TTChung/SLuong"));
  else if (kind && !kind.many && count !== 1) faults.push(schema(`SLuong of a ${type} must be 1.`, "TTChung/SLuong"));
  const content = childElements(dl);
  if (kind && count !== null && (content.length !== count || content.some((e) => e.localName !== kind.element || !noNs(e)) || hasNonWhitespaceText(dl))) {
    faults.push(schema(`DLieu of a ${type} must hold exactly SLuong (${count}) ${kind.element}, nothing else.`, "DLieu"));
  }
  if (faults.length) return { ok: false, faults, head };
  return ok({ parsed: parsed.value, pban: pban!, sender: sender!, type: type as MessageType, messageId: messageId!, mst: mst!, content: content[0]!, items: content, count: count!, dlieu: dl, cksnnt }) as EnvelopeResult;
}

/** KHMSHDon, KHHDon, SHDon, NLap of an HDon as sent: the 204 names the invoice it refuses (nothing here is trusted). */
export function invoiceIdentity(hdon: XElement): { form: string; symbol: string; number: string; issueDate: string } {
  const child = (e: XElement | undefined, name: string) => (e ? childElements(e).find((c) => c.localName === name && noNs(c)) : undefined);
  const tt = child(child(hdon, "DLHDon"), "TTChung");
  const text = (name: string) => {
    const e = child(tt, name);
    return e && childElements(e).length === 0 ? textOf(e).slice(0, 50) : "";
  };
  return { form: text("KHMSHDon"), symbol: text("KHHDon"), number: text("SHDon"), issueDate: text("NLap") };
}

// ---------------------------------------------------------------------------------------------
// The error notice 04/SS-HĐĐT

/** One invoice of an error notice, as written. */
export interface NoticeInvoice {
  stt: string;
  /** MCQTCap: the code the authority issued. */
  code: string;
  form: string;
  symbol: string;
  number: string;
  /** Ngay: the invoice's issue date. */
  issueDate: string;
  /** LADHDDT: 1 = an e-invoice with a code (Decree 123). */
  kind: string;
  /** TCTBao: 1 cancel, 2 adjust, 3 replace, 4 explain. */
  action: string;
  /** LDo */
  reason: string;
  /** This entry's own faults (a missing or malformed field). */
  faults: Fault[];
}

export interface ErrorNotice {
  dltbao: XElement;
  /** DLTBao/MST */
  mst: string;
  invoices: NoticeInvoice[];
  /** TBao/DSCKS/NNT/Signature elements (the seller's; exactly one is accepted). */
  sellerSignatures: XElement[];
}

const NOTICE_FIELDS = ["STT", "MCQTCap", "KHMSHDon", "KHHDon", "SHDon", "Ngay", "LADHDDT", "LADHĐĐT", "TCTBao", "LDo"] as const;
export const MAX_NOTICE_INVOICES = 1000;

/**
 * Reads the TBao of a message 300. Structural faults (no DLTBao with an Id, not form
 * 04/SS-HĐĐT, no invoices) refuse the message; a malformed invoice entry is that entry's fault.
 */
export function readErrorNotice(tbao: XElement, parsed: ParsedXml): Result<ErrorNotice> {
  const P = "DLieu/TBao";
  const kids = childElements(tbao);
  const dltbaos = kids.filter((k) => k.localName === "DLTBao" && noNs(k));
  const dscks = kids.filter((k) => k.localName === "DSCKS" && noNs(k));
  const faults: Fault[] = [];
  if (dltbaos.length !== 1) faults.push(schema("TBao must hold exactly one DLTBao.", `${P}/DLTBao`));
  if (dscks.length > 1) faults.push(schema("TBao holds more than one DSCKS.", `${P}/DSCKS`));
  for (const k of kids) if (!((k.localName === "DLTBao" || k.localName === "DSCKS") && noNs(k))) faults.push(schema(`Unexpected element ${k.tagName} in TBao.`, `${P}/${k.tagName}`));
  if (faults.length) return { ok: false, faults };
  const dltbao = dltbaos[0]!;
  if (!dltbao.getAttribute("Id")) faults.push(schema("DLTBao carries no Id for the seller's signature to reference.", `${P}/DLTBao/@Id`));
  const field = (e: XElement, name: string): string | null => {
    const found = childElements(e).filter((c) => c.localName === name && noNs(c));
    return found.length === 1 && childElements(found[0]!).length === 0 ? textOf(found[0]!) : null;
  };
  if (field(dltbao, "MSo") !== "04/SS-HĐĐT") faults.push(schema("MSo must be 04/SS-HĐĐT.", `${P}/DLTBao/MSo`));
  const mst = field(dltbao, "MST");
  if (mst === null) faults.push(schema("DLTBao has no MST.", `${P}/DLTBao/MST`));
  const list = childElements(dltbao).filter((c) => c.localName === "DSHDon" && noNs(c));
  const entries = list.length === 1 ? childElements(list[0]!) : [];
  if (list.length !== 1 || entries.length === 0) faults.push(schema("DLTBao must hold one DSHDon with at least one HDon.", `${P}/DLTBao/DSHDon`));
  if (entries.length > MAX_NOTICE_INVOICES) faults.push(schema(`An error notice lists at most ${MAX_NOTICE_INVOICES} invoices.`, `${P}/DLTBao/DSHDon`));
  if (faults.length) return { ok: false, faults };

  const invoices = entries.map((h, i): NoticeInvoice => {
    const path = `${P}/DLTBao/DSHDon/HDon[${i + 1}]`;
    const own: Fault[] = [];
    if (h.localName !== "HDon" || !noNs(h)) own.push(schema(`Unexpected element ${h.tagName} in DSHDon.`, path));
    const f = (name: string) => field(h, name) ?? "";
    for (const c of childElements(h)) if (!(NOTICE_FIELDS as readonly string[]).includes(c.localName ?? "")) own.push(schema(`Unexpected element ${c.tagName}.`, `${path}/${c.tagName}`));
    const kind = field(h, "LADHDDT") ?? field(h, "LADHĐĐT") ?? "";
    const inv: NoticeInvoice = {
      stt: f("STT"),
      code: f("MCQTCap"),
      form: f("KHMSHDon"),
      symbol: f("KHHDon"),
      number: f("SHDon"),
      issueDate: f("Ngay"),
      kind,
      action: f("TCTBao"),
      reason: f("LDo"),
      faults: own,
    };
    if (!/^[1-4]$/.test(inv.action)) own.push(schema("TCTBao must be 1 (cancel), 2 (adjust), 3 (replace) or 4 (explain).", `${path}/TCTBao`));
    if (!/^[1-4]$/.test(kind)) own.push(schema("LADHDDT must be 1–4.", `${path}/LADHDDT`));
    if (!/^\d{4}-\d{2}-\d{2}$/.test(inv.issueDate)) own.push(schema("Ngay must be a date YYYY-MM-DD.", `${path}/Ngay`));
    if (!/[^ \t\r\n]/.test(inv.reason) || [...inv.reason].length > 255) own.push(schema("LDo (the reason) is required, at most 255 characters.", `${path}/LDo`));
    for (const name of ["KHMSHDon", "KHHDon", "SHDon"]) if (field(h, name) === null) own.push(schema(`${name} is required.`, `${path}/${name}`));
    return inv;
  });

  // The seller's signature stands in TBao/DSCKS/NNT; a Signature anywhere else in the message is refused by the caller's profile check.
  const nnt = dscks[0] ? childElements(dscks[0]).filter((g) => g.localName === "NNT" && noNs(g)) : [];
  const sellerSignatures = nnt.flatMap((g) => childElements(g).filter((s) => parsed.signatures.includes(s)));
  return ok({ dltbao, mst: mst!, invoices, sellerSignatures });
}
