/**
 * Reading the summary tables of a T-VAN 400 (01/TH-HĐĐT, `DLieu/BTHDLieu`, tvan.md §9) as
 * written: the header (`DLBTHop/TTChung`) and each row (`NDBTHDLieu/DSDLieu/DLieu`) as text by
 * field name, with the faults of the reading itself (an unknown or repeated element, markup where
 * text belongs). The rules are the domain's (domain/summary.ts); nothing here is trusted yet.
 */
import type { Fault } from "../errors.js";
import { childElements, hasNonWhitespaceText, type ParsedXml, textOf, type XElement } from "../xml/parse.js";

export const HEADER_FIELDS = ["PBan", "MSo", "Ten", "SBTHDLieu", "LKDLieu", "KDLieu", "LDau", "BSLThu", "NLap", "TNNT", "MST", "HDDIn", "LHHoa"] as const;
export const ROW_FIELDS = [
  "STT", "KHMSHDon", "KHHDon", "SHDon", "NLap", "TNMua", "MSTNMua", "MKHang", "MHHDVu", "THHDVu", "DVTinh", "SLuong",
  "TTCThue", "TSuat", "TgTThue", "TgTTToan", "TThai", "LHDCLQuan", "KHMSHDCLQuan", "KHHDCLQuan", "SHDCLQuan",
  "LKDLDChinh", "KDLDChinh", "STBao", "NTBao", "GChu",
] as const;
/** The most rows a table may carry (a message is ≤ 2 MB anyway). */
export const MAX_ROWS = 100_000;

export interface SummaryRow {
  /** 1-based position in DSDLieu. */
  position: number;
  /** Field → text as written (an empty element counts as absent). */
  fields: Map<string, string>;
  faults: Fault[];
}

export interface SummaryTable {
  /** 1-based position in the envelope's DLieu. */
  position: number;
  element: XElement;
  dlbthop: XElement | null;
  header: Map<string, string>;
  /** BTHDLieu/DSCKS/NNT/Signature elements. */
  signatures: XElement[];
  /** Faults that refuse the whole table (its structure, its header). */
  faults: Fault[];
  rows: SummaryRow[];
}

const schema = (message: string, path: string): Fault => ({ code: "SCHEMA_INVALID", message, path });
const kids = (e: XElement | null | undefined, name: string): XElement[] => (e ? childElements(e).filter((c) => c.localName === name && c.namespaceURI === null) : []);

/** Text fields of `el` by name, each at most once, text only; `allowed` lists the names. */
function fieldsOf(el: XElement, allowed: readonly string[], path: string, faults: Fault[]): Map<string, string> {
  const out = new Map<string, string>();
  const seen = new Set<string>();
  for (const c of childElements(el)) {
    const name = c.localName;
    if (c.namespaceURI !== null || !allowed.includes(name)) {
      faults.push(schema(`Unexpected element ${c.tagName}.`, `${path}/${c.tagName}`));
      continue;
    }
    if (seen.has(name)) faults.push(schema(`${name} appears more than once.`, `${path}/${name}`));
    seen.add(name);
    if (childElements(c).length || c.attributes.length) {
      faults.push(schema("expected text", `${path}/${name}`));
      continue;
    }
    const text = textOf(c);
    if (text !== "") out.set(name, text);
  }
  return out;
}

/** Reads every BTHDLieu of a 400's DLieu. */
export function readSummaryTables(items: readonly XElement[], parsed: ParsedXml): SummaryTable[] {
  return items.map((el, i): SummaryTable => {
    const P = `DLieu/BTHDLieu[${i + 1}]`;
    const faults: Fault[] = [];
    for (const c of childElements(el)) if (!((c.localName === "DLBTHop" || c.localName === "DSCKS") && c.namespaceURI === null)) faults.push(schema(`Unexpected element ${c.tagName} in BTHDLieu.`, `${P}/${c.tagName}`));
    const dl = kids(el, "DLBTHop");
    const dscks = kids(el, "DSCKS");
    if (dl.length !== 1) faults.push(schema("BTHDLieu holds exactly one DLBTHop.", `${P}/DLBTHop`));
    if (dscks.length > 1) faults.push(schema("BTHDLieu holds at most one DSCKS.", `${P}/DSCKS`));
    const dlbthop = dl.length === 1 ? dl[0]! : null;
    if (dlbthop && !dlbthop.getAttribute("Id")) faults.push(schema("DLBTHop carries no Id for the taxpayer's signature to reference.", `${P}/DLBTHop/@Id`));
    const tt = kids(dlbthop, "TTChung");
    const nd = kids(dlbthop, "NDBTHDLieu");
    if (dlbthop) {
      for (const c of childElements(dlbthop)) {
        if (!((c.localName === "TTChung" || c.localName === "NDBTHDLieu") && c.namespaceURI === null)) faults.push(schema(`Unexpected element ${c.tagName} in DLBTHop.`, `${P}/DLBTHop/${c.tagName}`));
      }
      if (tt.length !== 1) faults.push(schema("DLBTHop holds exactly one TTChung.", `${P}/DLBTHop/TTChung`));
      if (nd.length !== 1) faults.push(schema("DLBTHop holds exactly one NDBTHDLieu.", `${P}/DLBTHop/NDBTHDLieu`));
      if (hasNonWhitespaceText(dlbthop)) faults.push(schema("Text directly inside DLBTHop.", `${P}/DLBTHop`));
    }
    const header = tt.length === 1 ? fieldsOf(tt[0]!, HEADER_FIELDS, `${P}/DLBTHop/TTChung`, faults) : new Map<string, string>();
    const lists = kids(nd[0], "DSDLieu");
    if (nd.length === 1 && (lists.length !== 1 || childElements(nd[0]!).length !== 1)) faults.push(schema("NDBTHDLieu holds exactly one DSDLieu.", `${P}/DLBTHop/NDBTHDLieu/DSDLieu`));
    const rowEls = lists.length === 1 ? childElements(lists[0]!) : [];
    if (lists.length === 1 && rowEls.length === 0) faults.push(schema("DSDLieu holds at least one row (DLieu).", `${P}/DLBTHop/NDBTHDLieu/DSDLieu`));
    if (rowEls.length > MAX_ROWS) faults.push(schema(`A table holds at most ${MAX_ROWS} rows.`, `${P}/DLBTHop/NDBTHDLieu/DSDLieu`));
    const rows = faults.length
      ? []
      : rowEls.map((r, k): SummaryRow => {
          const path = `${P}/DLBTHop/NDBTHDLieu/DSDLieu/DLieu[${k + 1}]`;
          const own: Fault[] = [];
          if (r.localName !== "DLieu" || r.namespaceURI !== null) own.push(schema(`Unexpected element ${r.tagName} in DSDLieu.`, path));
          return { position: k + 1, fields: fieldsOf(r, ROW_FIELDS, path, own), faults: own };
        });
    const nnt = kids(dscks[0], "NNT");
    const signatures = nnt.flatMap((g) => childElements(g).filter((s) => parsed.signatures.includes(s)));
    return { position: i + 1, element: el, dlbthop, header, signatures, faults, rows };
  });
}
