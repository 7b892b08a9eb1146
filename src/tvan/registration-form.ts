/**
 * Reading the TKhai of a T-VAN 100: form 01/ĐKTĐ-HĐĐT, registration or change of e-invoice use
 * (tvan.md §4.1, §4.2). The tree is read against a table of the elements the page names; a
 * fault of form is production's MLoi 1012 (`Sai định dạng dữ liệu: <path>: <detail>`), an
 * element the page does not name holds the form for an officer (2007) instead.
 *
 * Decisions of tvan.md followed here: an empty optional element counts as absent; dates are
 * read in either form (a dateTime's date is taken); serials are compared without case,
 * separators or leading zeros.
 */
import { TAX_CODE_FORM } from "../domain/taxcode.js";
import { childElements, hasNonWhitespaceText, textOf } from "../xml/parse.js";
import type { XElement } from "../xml/scan.js";

/** A reason of a 102 or 103 (tvan.md §4.3, §6): production's MLoi with its text. */
export interface FormReason {
  mloi: string;
  text: string;
}

export interface FormCertificate {
  /** Seri normalized: upper case, no separators, no leading zeros. */
  serial: string;
  /** As written. */
  serialAsWritten: string;
  issuer: string;
  from: string;
  to: string;
  /** 1 add, 2 renew, 3 stop. */
  action: "1" | "2" | "3";
}

/** The form as read: what the rules and the answers use. */
export interface RegistrationForm {
  dltkhai: XElement;
  id: string;
  pban: string;
  /** 1 new, 2 change. */
  hthuc: "1" | "2";
  name: string;
  mst: string;
  office: string;
  officeCode: string;
  place: string;
  /** NLap, YYYY-MM-DD. */
  date: string;
  /** Every 0/1 flag of NDTKhai by its element name (absent optional flags are "0"). */
  flags: Record<string, "0" | "1">;
  certificates: FormCertificate[];
  /** Paths of elements this reader does not name, and of the lists an officer must see (2007). */
  unnamed: string[];
  /** The Signature elements in TKhai/DSCKS/NNT. */
  signatures: XElement[];
}

export type FormResult = { ok: true; form: RegistrationForm } | { ok: false; reasons: FormReason[]; partial: Partial<RegistrationForm> };

type Field = { t: "s"; max: number; re?: RegExp; values?: string[] } | { t: "d" } | { t: "n1"; values: string[] } | { t: "01" };
type Node = { req: boolean; field?: Field; kids?: Record<string, Node>; many?: boolean };

const s = (max: number, o: { re?: RegExp; values?: string[] } = {}): Field => ({ t: "s", max, ...o });
const req = (field: Field): Node => ({ req: true, field });
const opt = (field: Field): Node => ({ req: false, field });
const flag = (r = true): Node => ({ req: r, field: { t: "01" } });
const group = (r: boolean, kids: Record<string, Node>, many = false): Node => ({ req: r, kids, many });

/** A list of 2.1.0 (rows with STT, the row's fields, TNgay, DNgay, GChu). */
const rows = (row: string, fields: string[]): Node =>
  group(false, {
    [row]: group(
      true,
      Object.fromEntries([
        ["STT", opt(s(3, { re: /^\d{1,3}$/ }))],
        ...fields.map((f) => [f, opt(s(400))]),
        ["TNgay", opt({ t: "d" })],
        ["DNgay", opt({ t: "d" })],
        ["GChu", opt(s(255))],
      ]),
      true,
    ),
  });

const TREE: Record<string, Node> = {
  TTChung: group(true, {
    PBan: req(s(6, { values: ["2.0.0", "2.0.1", "2.1.0"] })),
    MSo: req(s(15, { values: ["01/ĐKTĐ-HĐĐT"] })),
    Ten: req(s(100)),
    HThuc: req({ t: "n1", values: ["1", "2"] }),
    TNNT: req(s(400)),
    MST: req(s(14, { re: TAX_CODE_FORM })),
    CQTQLy: req(s(100)),
    MCQTQLy: req(s(5, { re: /^\d{5}$/ })),
    NLHe: req(s(50)),
    DCLHe: req(s(400)),
    DCTDTu: req(s(50)),
    DTLHe: req(s(20)),
    DDanh: req(s(50)),
    NLap: req({ t: "d" }),
    TNDDPLuat: opt(s(50)),
    DTDDPLuat: opt(s(20)),
    CCCDan: opt(s(12)),
    SHChieu: opt(s(20)),
    NSDDPLuat: opt({ t: "d" }),
    GTinh: opt({ t: "n1", values: ["0", "1"] }),
  }),
  NDTKhai: group(true, {
    HTHDon: group(true, { CMa: flag(), KCMa: flag(), CMTMTTien: flag(false) }),
    HTGDLHDDT: group(true, { NNTDBKKhan: flag(), NNTKTDNUBND: flag(), CDLTTDCQT: flag(), CDLQTCTN: flag(), CQXLTSCong: flag(false), NCCNN: flag(false) }),
    PThuc: group(true, { CDDu: flag(), CBTHop: flag() }),
    LHDSDung: group(true, {
      HDGTGT: flag(),
      HDBHang: flag(),
      HDBTSCong: flag(),
      HDBHDTQGia: flag(),
      HDKhac: flag(),
      CTu: flag(),
      HDGTGTTHBLai: flag(false),
      HDBHTHBLai: flag(false),
      HDTMai: flag(false),
      HDNCCNN: flag(false),
    }),
    // CTS 0..n (tvan.md §4.1): production sends an empty <DSCTSSDung /> with a change (sample 10).
    DSCTSSDung: group(false, {
      CTS: group(
        false,
        {
          STT: opt(s(3, { re: /^\d{1,3}$/ })),
          TTChuc: req(s(400)),
          Seri: req(s(40, { re: /^[0-9A-Fa-f: -]+$/ })),
          TNgay: req({ t: "d" }),
          DNgay: req({ t: "d" }),
          HThuc: req({ t: "n1", values: ["1", "2", "3"] }),
        },
        true,
      ),
    }),
    TTTCGP: rows("TCGP", ["TTCGP", "MSTTCGP"]),
    TTTCTN: rows("TCTN", ["TTCTN", "MSTTCTN"]),
    TTDVHTPT: rows("DVHTPT", ["TDVHTPT", "MSTDVHTPT"]),
    TTTNSDung: rows("TNSDung", ["MSTTCGP", "TTCGP", "Seri"]),
    TTDKTH: rows("DKTH", ["TLHDon", "KHMSHDon", "KHHDon", "MST", "Ten", "MDich"]),
  }),
};
/** Lists an officer must see before the form is accepted (tvan.md §4.4, 2007). */
const HELD_LISTS = new Set(["TTDVHTPT", "TTTNSDung", "TTDKTH"]);

const DATE = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}:\d{2}(\.\d+)?)?$/;

/** "5401:0109 31e8…" → "5401010931E8…" (no case, separators or leading zeros). */
export function normalizeSerial(serial: string): string {
  return serial.replace(/[^0-9A-Fa-f]/g, "").toUpperCase().replace(/^0+(?=.)/, "");
}

/** A date or dateTime as its date, or null. */
function dateOf(v: string): string | null {
  const m = DATE.exec(v);
  if (!m) return null;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== `${m[1]}-${m[2]}-${m[3]}` ? null : `${m[1]}-${m[2]}-${m[3]}`;
}

const noNs = (e: XElement) => e.namespaceURI === null;

/** Reads TKhai (DLieu/TKhai of a 100); 1012 for every fault of form found. */
export function readRegistrationForm(tkhai: XElement, signatures: readonly XElement[]): FormResult {
  const reasons: FormReason[] = [];
  const fault = (path: string, detail: string) => reasons.push({ mloi: "1012", text: `Sai định dạng dữ liệu: ${path}: ${detail}` });
  const unnamed: string[] = [];
  const values = new Map<string, string>();
  const certificates: FormCertificate[] = [];

  const kids = childElements(tkhai);
  const dltkhais = kids.filter((k) => k.localName === "DLTKhai" && noNs(k));
  const dscks = kids.filter((k) => k.localName === "DSCKS" && noNs(k));
  if (hasNonWhitespaceText(tkhai) || tkhai.attributes.length) fault("TKhai", "chỉ chứa DLTKhai và DSCKS, không có thuộc tính");
  for (const k of kids) if (!((k.localName === "DLTKhai" || k.localName === "DSCKS") && noNs(k))) fault(`TKhai/${k.tagName}`, "phần tử không hợp lệ");
  if (dltkhais.length !== 1) fault("TKhai/DLTKhai", "phải có đúng một DLTKhai");
  if (dscks.length !== 1) fault("TKhai/DSCKS", "phải có đúng một DSCKS");
  const dltkhai = dltkhais[0];
  const id = dltkhai?.getAttribute("Id") ?? "";
  if (dltkhai) {
    if (!id) fault("TKhai/DLTKhai/@Id", "thiếu Id");
    for (const a of dltkhai.attributes) if (a.name !== "Id") fault(`TKhai/DLTKhai/@${a.name}`, "thuộc tính không hợp lệ");
    walk(dltkhai, TREE, "TKhai/DLTKhai", "");
  }
  // DSCKS: NNT holds the taxpayer's Signature and nothing else; CCKSKhac may follow.
  const sigs: XElement[] = [];
  if (dscks[0]) {
    for (const g of childElements(dscks[0])) {
      if (!noNs(g) || (g.localName !== "NNT" && g.localName !== "CCKSKhac")) fault(`TKhai/DSCKS/${g.tagName}`, "phần tử không hợp lệ");
    }
    const nnt = childElements(dscks[0]).filter((g) => g.localName === "NNT" && noNs(g));
    if (nnt.length !== 1) fault("TKhai/DSCKS/NNT", "phải có đúng một NNT");
    for (const g of nnt) {
      if (hasNonWhitespaceText(g) || g.attributes.length) fault("TKhai/DSCKS/NNT", "chỉ chứa chữ ký số (Signature)");
      for (const c of childElements(g)) {
        if (signatures.includes(c)) sigs.push(c);
        else fault(`TKhai/DSCKS/NNT/${c.tagName}`, "chỉ chứa chữ ký số (Signature)");
      }
    }
  }

  function walk(el: XElement, table: Record<string, Node>, path: string, key: string): void {
    if (hasNonWhitespaceText(el)) fault(path, "không được chứa văn bản");
    const seen = new Map<string, number>();
    for (const c of childElements(el)) {
      const name = c.localName ?? c.tagName;
      const node = noNs(c) ? table[name] : undefined;
      const here = `${path}/${c.tagName}`;
      if (c !== el && c.attributes.length) fault(here, "không được có thuộc tính");
      if (!node) {
        unnamed.push(here);
        continue;
      }
      seen.set(name, (seen.get(name) ?? 0) + 1);
      if (!node.many && seen.get(name)! > 1) fault(here, "lặp lại");
      const k = key ? `${key}/${name}` : name;
      if (HELD_LISTS.has(name)) unnamed.push(here);
      if (node.kids) {
        if (name === "CTS") readCts(c, here);
        else walk(c, node.kids, here, k);
      } else if (node.field) {
        if (childElements(c).length) fault(here, "phải là giá trị, không chứa phần tử con");
        else {
          const v = textOf(c).trim();
          if (v === "") {
            if (node.req) fault(here, "không được để trống");
          } else {
            const bad = check(node.field, v);
            if (bad) fault(here, bad);
            else values.set(k, node.field.t === "d" ? dateOf(v)! : v);
          }
        }
      }
    }
    for (const [name, node] of Object.entries(table)) {
      if (node.req && !seen.has(name)) fault(`${path}/${name}`, "thiếu");
      if (!seen.has(name) && node.field?.t === "01") values.set(key ? `${key}/${name}` : name, "0");
    }
  }

  function readCts(c: XElement, here: string): void {
    const before = reasons.length;
    const local = new Map<string, string>();
    const table = TREE.NDTKhai!.kids!.DSCTSSDung!.kids!.CTS!.kids!;
    const seen = new Set<string>();
    for (const f of childElements(c)) {
      const name = f.localName ?? "";
      const node = noNs(f) ? table[name] : undefined;
      if (!node) {
        fault(`${here}/${f.tagName}`, "phần tử không hợp lệ");
        continue;
      }
      if (seen.has(name)) fault(`${here}/${name}`, "lặp lại");
      seen.add(name);
      if (childElements(f).length) {
        fault(`${here}/${name}`, "phải là giá trị, không chứa phần tử con");
        continue;
      }
      const v = textOf(f).trim();
      const bad = v === "" ? (node.req ? "không được để trống" : null) : check(node.field!, v);
      if (bad) fault(`${here}/${name}`, bad);
      else local.set(name, v);
    }
    for (const [name, node] of Object.entries(table)) if (node.req && !seen.has(name)) fault(`${here}/${name}`, "thiếu");
    if (reasons.length === before) {
      certificates.push({
        serial: normalizeSerial(local.get("Seri")!),
        serialAsWritten: local.get("Seri")!,
        issuer: local.get("TTChuc")!,
        from: dateOf(local.get("TNgay")!)!,
        to: dateOf(local.get("DNgay")!)!,
        action: local.get("HThuc") as "1" | "2" | "3",
      });
    }
  }

  const get = (k: string) => values.get(k) ?? "";
  const flags: Record<string, "0" | "1"> = {};
  for (const [k, v] of values) if (k.startsWith("NDTKhai/") && (v === "0" || v === "1") && !k.includes("DSCTSSDung")) flags[k.split("/").pop()!] = v as "0" | "1";
  const partial: Partial<RegistrationForm> = { hthuc: get("TTChung/HThuc") === "2" ? "2" : "1", mst: get("TTChung/MST"), name: get("TTChung/TNNT"), officeCode: get("TTChung/MCQTQLy"), pban: get("TTChung/PBan") };
  if (reasons.length || !dltkhai) return { ok: false, reasons, partial };
  return {
    ok: true,
    form: {
      dltkhai,
      id,
      pban: get("TTChung/PBan"),
      hthuc: get("TTChung/HThuc") as "1" | "2",
      name: get("TTChung/TNNT"),
      mst: get("TTChung/MST"),
      office: get("TTChung/CQTQLy"),
      officeCode: get("TTChung/MCQTQLy"),
      place: get("TTChung/DDanh"),
      date: get("TTChung/NLap"),
      flags,
      certificates,
      unnamed,
      signatures: sigs,
    },
  };
}

function check(f: Field, v: string): string | null {
  switch (f.t) {
    case "s":
      if ([...v].length > f.max) return `dài quá ${f.max} ký tự`;
      if (f.values && !f.values.includes(v)) return `phải là một trong ${f.values.join(", ")}`;
      if (f.re && !f.re.test(v)) return "sai định dạng";
      return null;
    case "d":
      return dateOf(v) ? null : "không phải ngày hợp lệ (YYYY-MM-DD)";
    case "n1":
      return f.values.includes(v) ? null : `phải là một trong ${f.values.join(", ")}`;
    case "01":
      return v === "0" || v === "1" ? null : "phải là 0 hoặc 1";
  }
}
