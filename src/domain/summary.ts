/**
 * T-VAN 400: summary tables of invoice data (01/TH-HĐĐT, tvan.md §9) → 204 LTBao 2, 4 (not
 * fuel), 5 (fuel) or 9, recorded with the accepted tables and rows in one transaction.
 *
 *   the package (registered CBTHop 1, seller active; all tables fuel or none) → else LTBao 9
 *   each table: its header (form, MST, period, first/supplement, the taxpayer's signature over
 *     DLBTHop, the period's sequence: SUMMARY_SEQUENCE) → refused whole with the header's reasons
 *   each row of an accepted header: code lists and conditions, amounts (TOTALS_MISMATCH), the
 *     invoice not reported or sent before (DUPLICATE_INVOICE), the invoice a cancellation or
 *     replacement names (RELATED_INVOICE_NOT_FOUND) → refused alone
 *
 * Accepted rows are kept with whether they count now: TThai 1 (cancelled) takes the invoice's
 * earlier rows out and counts nothing; 3 (replaced) takes the replaced invoice's out and counts
 * its own; 2 (adjusted) counts its own; 5 (correcting a summarising error) replaces the earlier
 * row of that invoice and rate; 4 (explanation) counts nothing. The day a row counts on is its
 * NLap, else the period's last day.
 */
import type { Fault } from "../errors.js";
import { storeRegistry, trustSigner } from "../gate/index.js";
import type { Envelope } from "../tvan/read.js";
import { noticeNumber, type PackageVerdict, type RefusedRow, type RefusedTable, type ReplyHead, reply204Package } from "../tvan/reply.js";
import { readSummaryTables, type SummaryRow, type SummaryTable } from "../tvan/summary.js";
import { DSIG_NS } from "../xml/algorithms.js";
import { focusAlone } from "../xml/parse.js";
import { readSignature, verifyProfile } from "../xml/verify.js";
import { gmt7Date } from "./gmt7.js";
import { isIsoDate } from "./invoice.js";
import type { RegisteredSeller } from "./model.js";
import { abs, add, cmp, type Decimal, mul, parseAmount, sub, toString } from "./money.js";
import { type MessageReply, type MessageWork, type NamedInvoice, type NewSummaryRow, WriteConflictError } from "./ports.js";
import type { SubmitDeps, Submitter } from "./submit.js";
import { taxRateOf } from "./taxcode.js";

const FORM = "01/TH-HĐĐT";
const ONE_DONG = 1_000_000n as Decimal;
const schema = (message: string, path: string): Fault => ({ code: "SCHEMA_INVALID", message, path });

interface Period {
  kind: "T" | "Q" | "N";
  start: string;
  end: string;
}

/** KDLieu under LKDLieu: `T` MM/YYYY, `Q` Q/YYYY, `N` DD/MM/YYYY (leading zeros optional). */
export function readPeriod(kind: string, text: string): Period | null {
  const pad = (n: number) => String(n).padStart(2, "0");
  const last = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
  let m: RegExpExecArray | null;
  if (kind === "T" && (m = /^(\d{1,2})\/(\d{4})$/.exec(text))) {
    const [y, mo] = [Number(m[2]), Number(m[1])];
    if (mo < 1 || mo > 12 || y < 1) return null;
    return { kind, start: `${m[2]}-${pad(mo)}-01`, end: `${m[2]}-${pad(mo)}-${pad(last(y, mo))}` };
  }
  if (kind === "Q" && (m = /^([1-4])\/(\d{4})$/.exec(text))) {
    const [y, q] = [Number(m[2]), Number(m[1])];
    if (y < 1) return null;
    return { kind, start: `${m[2]}-${pad(q * 3 - 2)}-01`, end: `${m[2]}-${pad(q * 3)}-${pad(last(y, q * 3))}` };
  }
  if (kind === "N" && (m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text))) {
    const d = `${m[3]}-${pad(Number(m[2]))}-${pad(Number(m[1]))}`;
    return isIsoDate(d) ? { kind, start: d, end: d } : null;
  }
  return null;
}

/** 400 → 204. */
export async function answerSummary(deps: SubmitDeps, msg: Envelope, head: ReplyHead, submitter: Submitter, at: Date): Promise<MessageReply> {
  const [seller, sequence] = await Promise.all([deps.store.getSeller(msg.mst), deps.store.nextNoticeNumber()]);
  const header = { messageType: "400", number: noticeNumber(at, sequence), sellerName: seller?.name ?? "", receivedAt: at };
  const tables = readSummaryTables(msg.items, msg.parsed);
  const today = gmt7Date(at);
  // The header's own rules and the signature (CPU and the registry: before the transaction).
  const judged = await Promise.all(tables.map(async (t) => ({ t, ...(await judgeHeader(deps, msg, t, today, at)) })));
  const answer = (v: PackageVerdict): MessageReply => ({ replyType: "204", reply: reply204Package(head, header, v, at, deps.authority) });

  // Two messages with the same table number for one period, sent at once: the second's insert
  // meets the first's row (unique per seller, period and number) and its transaction rolls back
  // whole; judged again it sees the first and is refused out of sequence (4009) instead of a 500.
  const record = () => deps.store.recordMessage({ sellerTaxCode: submitter.sellerTaxCode, messageId: msg.messageId, messageType: "400", receivedAt: at }, async (work) => {
    const pkg = await packageFaults(work, seller, msg.mst, tables);
    if (pkg.length) return answer({ ltbao: "9", faults: pkg });
    const fuel = tables[0]!.header.get("LHHoa") === "1";
    const refused: RefusedTable[] = [];
    const seen = new Set<string>();
    for (const j of judged) {
      const t = j.t;
      const headerFaults = [...j.faults];
      if (!headerFaults.length) headerFaults.push(...(await sequenceFaults(work, msg.mst, t, j.period!, fuel)));
      if (headerFaults.length) {
        refused.push(refusedTable(t, headerFaults, []));
        continue;
      }
      const rows: NewSummaryRow[] = [];
      const bad: RefusedRow[] = [];
      const printed = t.header.get("HDDIn") === "1";
      const named = t.rows.flatMap((r) => namedBy(r));
      const known = await work.summaries.known(msg.mst, named);
      for (const r of t.rows) {
        const faults = [...r.faults];
        if (!faults.length) faults.push(...rowFaults(r, fuel, printed, j.period!));
        if (!faults.length && !fuel && !printed) faults.push(...duplicateFaults(r, known, seen));
        if (faults.length) {
          bad.push(refusedRow(r, faults));
          continue;
        }
        rows.push(newRow(t.position, r, fuel, j.period!));
      }
      await work.summaries.insertTable({
        sellerTaxCode: msg.mst,
        messageId: msg.messageId,
        position: t.position,
        fuel,
        lhhoa: Number(t.header.get("LHHoa")),
        periodKind: j.period!.kind,
        periodStart: j.period!.start,
        periodEnd: j.period!.end,
        number: Number(t.header.get("SBTHDLieu")),
        supplement: t.header.get("LDau") === "0" ? Number(t.header.get("BSLThu")) : null,
        printed,
        receivedAt: at,
        xml: msg.parsed.text.slice(t.element.start, t.element.end),
      });
      // What a row takes out of the totals is taken out before its own is added.
      for (const r of rows) {
        const own: NamedInvoice | null = r.form && r.symbol && r.number ? { form: r.form, symbol: r.symbol, number: r.number } : null;
        const related: NamedInvoice | null = r.relatedForm && r.relatedSymbol && r.relatedNumber ? { form: r.relatedForm, symbol: r.relatedSymbol, number: r.relatedNumber } : null;
        if (r.status === 1 && own) await work.summaries.uncount(msg.mst, own, null);
        if (r.status === 3 && related) await work.summaries.uncount(msg.mst, related, null);
        if (r.status === 5 && own) await work.summaries.uncount(msg.mst, own, r.taxRate);
      }
      await work.summaries.insertRows(msg.mst, msg.messageId, rows);
      if (bad.length) refused.push(refusedTable(t, [], bad));
    }
    if (!refused.length) return answer({ ltbao: "2" });
    return answer({ ltbao: fuel ? "5" : "4", tables: refused });
  });
  try {
    return await record();
  } catch (error) {
    if (!(error instanceof WriteConflictError)) throw error;
    return record();
  }
}

/** The package (→ LTBao 9): the seller active, registered with CBTHop 1; a message's tables all fuel or none. */
async function packageFaults(work: MessageWork, seller: RegisteredSeller | null, mst: string, tables: SummaryTable[]): Promise<Fault[]> {
  if (!seller) return [{ code: "SELLER_NOT_REGISTERED", message: `Seller ${mst} is not registered.` }];
  if (seller.status !== "active") return [{ code: "SELLER_SUSPENDED", message: `Seller ${mst} is ${seller.status}.` }];
  const form = await work.registrations.lastAccepted(mst);
  if (form?.content?.flags["CBTHop"] !== "1") return [{ code: "NOT_REGISTERED_FOR_KIND", message: `Seller ${mst} has no accepted registration of summary tables (CBTHop 1).` }];
  const kinds = new Set(tables.map((t) => t.header.get("LHHoa") === "1"));
  if (kinds.size > 1) return [{ code: "SCHEMA_INVALID", message: "A message's summary tables are all fuel (LHHoa 1) or all not.", path: "DLieu/BTHDLieu/DLBTHop/TTChung/LHHoa" }];
  return [];
}

/** The header's rules and the taxpayer's signature over DLBTHop: any fault refuses the table. */
async function judgeHeader(deps: SubmitDeps, msg: Envelope, t: SummaryTable, today: string, at: Date): Promise<{ faults: Fault[]; period?: Period }> {
  if (t.faults.length) return { faults: t.faults };
  const P = `DLieu/BTHDLieu[${t.position}]/DLBTHop/TTChung`;
  const h = (k: string) => t.header.get(k);
  const faults: Fault[] = [];
  for (const k of ["PBan", "MSo", "Ten", "SBTHDLieu", "LKDLieu", "KDLieu", "LDau", "NLap", "TNNT", "MST", "HDDIn", "LHHoa"]) if (h(k) === undefined) faults.push(schema("required element is missing", `${P}/${k}`));
  if (faults.length) return { faults };
  if (h("MSo") !== FORM) faults.push(schema(`MSo must be ${FORM}.`, `${P}/MSo`));
  if (h("MST") !== msg.mst) faults.push({ code: "FORBIDDEN", message: `The table is about MST ${h("MST")}, the message about ${msg.mst}.`, path: `${P}/MST` });
  if (!/^[1-9]\d{0,4}$/.test(h("SBTHDLieu")!)) faults.push(schema("SBTHDLieu is a table number of 1–99999.", `${P}/SBTHDLieu`));
  if (!/^[01]$/.test(h("LDau")!)) faults.push(schema("LDau is 1 (first table) or 0 (supplement).", `${P}/LDau`));
  if (h("LDau") === "0" && !/^[1-9]\d{0,2}$/.test(h("BSLThu") ?? "")) faults.push(schema("A supplement (LDau 0) carries its number BSLThu, 1–999.", `${P}/BSLThu`));
  if (h("LDau") === "1" && h("BSLThu") !== undefined) faults.push(schema("A first table (LDau 1) carries no BSLThu.", `${P}/BSLThu`));
  if (!isIsoDate(h("NLap")!)) faults.push(schema("not a date YYYY-MM-DD", `${P}/NLap`));
  if (!/^[01]$/.test(h("HDDIn")!)) faults.push(schema("HDDIn is 0 (e-invoices) or 1 (printed to order).", `${P}/HDDIn`));
  if (!/^[129]$/.test(h("LHHoa")!)) faults.push(schema("LHHoa is 1 (fuel), 2 (air transport) or 9 (other).", `${P}/LHHoa`));
  const period = /^[TQN]$/.test(h("LKDLieu")!) ? readPeriod(h("LKDLieu")!, h("KDLieu")!) : null;
  if (!period) faults.push(schema("KDLieu does not fit LKDLieu (T: MM/YYYY, Q: Q/YYYY, N: DD/MM/YYYY).", `${P}/KDLieu`));
  else if (period.start > today) faults.push(schema(`The period ${h("KDLieu")} has not begun on the day of receipt.`, `${P}/KDLieu`));
  if (h("LHHoa") === "1" && h("LKDLieu") !== "N") faults.push(schema("A fuel table (LHHoa 1) is daily (LKDLieu N).", `${P}/LKDLieu`));
  if (faults.length) return { faults };
  const signature = await tableSignature(deps, msg, t, at);
  return signature.length ? { faults: signature } : { faults: [], period: period! };
}

/** The taxpayer's signature over DLBTHop, as a form's (tvan.md §4.2): profile, mathematics, chain, UID, registered. */
async function tableSignature(deps: SubmitDeps, msg: Envelope, t: SummaryTable, at: Date): Promise<Fault[]> {
  const path = `DLieu/BTHDLieu[${t.position}]/DSCKS/NNT/Signature`;
  if (t.signatures.length === 0) return [{ code: "SIGNATURE_MISSING", message: "The summary table carries no taxpayer signature.", path }];
  // Each table is judged alone: another table's Ids neither resolve this one's References nor count as its duplicates.
  const alone = focusAlone(msg.parsed, t.element);
  if (t.signatures.length > 1 || alone.signatures.length > 1) return [{ code: "SIGNATURE_PROFILE", message: "A summary table carries one Signature, in DSCKS/NNT.", path }];
  if (alone.duplicateIds.length) return [{ code: "SIGNATURE_PROFILE", message: `Duplicate Id values: ${alone.duplicateIds.slice(0, 5).join(", ")}.`, path }];
  const profile = readSignature(t.signatures[0]!, alone, {
    allowSha1: deps.allowSha1,
    maxReferences: 2,
    allowedTarget: (el, s) => el === t.dlbthop || (el.localName === "Object" && el.namespaceURI === DSIG_NS && el.parentNode === s),
    requiredTargets: [(el) => el === t.dlbthop],
  });
  if (!profile.ok) return profile.faults;
  const verified = verifyProfile(profile.value);
  if (!verified.ok) return verified.faults;
  const signer = await trustSigner(deps, verified.value, msg.mst, at, storeRegistry(deps.store), { paths: "none", refuseFutureSigningTime: true });
  return signer.ok ? [] : signer.faults;
}

/** Per seller, period and kind: the first table LDau 1 number 1; each supplement LDau 0 with the next number and supplement number. */
async function sequenceFaults(work: MessageWork, mst: string, t: SummaryTable, period: Period, fuel: boolean): Promise<Fault[]> {
  const last = await work.summaries.lastInPeriod({ sellerTaxCode: mst, fuel, periodKind: period.kind, periodStart: period.start });
  const number = Number(t.header.get("SBTHDLieu"));
  const first = t.header.get("LDau") === "1";
  const supplement = first ? null : Number(t.header.get("BSLThu"));
  const fault = (why: string): Fault[] => [{ code: "SUMMARY_SEQUENCE", message: why, path: `DLieu/BTHDLieu[${t.position}]/DLBTHop/TTChung/SBTHDLieu` }];
  if (!last) return first && number === 1 ? [] : fault(`The first table of period ${t.header.get("KDLieu")} is number 1 with LDau 1.`);
  if (first) return fault(`Period ${t.header.get("KDLieu")} has its first table already: send a supplement (LDau 0).`);
  if (number !== last.number + 1 || supplement !== (last.supplement ?? 0) + 1) return fault(`The next table of period ${t.header.get("KDLieu")} is number ${last.number + 1}, supplement ${(last.supplement ?? 0) + 1}.`);
  return [];
}

/** The invoices a row names: its own, and the related one. */
function namedBy(r: SummaryRow): NamedInvoice[] {
  const f = (k: string) => r.fields.get(k);
  const out: NamedInvoice[] = [];
  if (f("KHMSHDon") && f("KHHDon") && f("SHDon")) out.push({ form: f("KHMSHDon")!, symbol: f("KHHDon")!, number: f("SHDon")! });
  if (f("KHMSHDCLQuan") && f("KHHDCLQuan") && f("SHDCLQuan")) out.push({ form: f("KHMSHDCLQuan")!, symbol: f("KHHDCLQuan")!, number: f("SHDCLQuan")! });
  return out;
}

const amount = (r: SummaryRow, k: string): Decimal | null => {
  const v = r.fields.get(k);
  return v === undefined ? null : parseAmount(v);
};

/** A row's code lists, conditions and amounts. */
function rowFaults(r: SummaryRow, fuel: boolean, printed: boolean, period: Period): Fault[] {
  const path = (k: string) => `DSDLieu/DLieu[${r.position}]/${k}`;
  const f = (k: string) => r.fields.get(k);
  const out: Fault[] = [];
  const status = f("TThai");
  if (status === undefined || !/^[0-5]$/.test(status)) return [schema("TThai is 0 (new), 1 (cancelled), 2 (adjusted), 3 (replaced), 4 (explanation) or 5 (correcting).", path("TThai"))];
  const counts = ["0", "2", "3", "5"].includes(status);
  if (fuel) {
    for (const k of ["MHHDVu", "THHDVu"]) if (f(k) === undefined) out.push(schema("required for a fuel row", path(k)));
  } else {
    for (const k of ["KHMSHDon", "KHHDon", "SHDon", "NLap"]) if (f(k) === undefined) out.push(schema("required: the invoice the row reports", path(k)));
    if (!printed) {
      if (f("KHMSHDon") !== undefined && !/^[1-9]$/.test(f("KHMSHDon")!)) out.push(schema("KHMSHDon of an e-invoice is one digit 1–9.", path("KHMSHDon")));
      if (f("KHHDon") !== undefined && !/^K\d{2}[TDLMNBGHX][A-Z]{2}$/.test(f("KHHDon")!)) out.push(schema("KHHDon of an invoice without a code: K + YY + one of TDLMNBGHX + two letters.", path("KHHDon")));
      else if (f("KHHDon") !== undefined && f("NLap") !== undefined && f("KHHDon")!.slice(1, 3) !== f("NLap")!.slice(2, 4)) {
        out.push({ code: "SYMBOL_YEAR_MISMATCH", message: "The year in KHHDon is not NLap's.", path: path("KHHDon") });
      }
      if (f("SHDon") !== undefined && !/^\d{1,8}$/.test(f("SHDon")!)) out.push(schema("SHDon is 1–8 digits.", path("SHDon")));
    }
  }
  const nlap = f("NLap");
  if (nlap !== undefined) {
    if (!isIsoDate(nlap)) out.push(schema("not a date YYYY-MM-DD", path("NLap")));
    else if (["0", "2", "3"].includes(status) && (nlap < period.start || nlap > period.end)) out.push(schema(`NLap ${nlap} lies outside the period.`, path("NLap")));
    else if (["1", "4", "5"].includes(status) && nlap > period.end) out.push(schema(`NLap ${nlap} is after the period.`, path("NLap")));
  }
  if (f("LHDCLQuan") !== undefined && !/^[1-4]$/.test(f("LHDCLQuan")!)) out.push(schema("LHDCLQuan is 1–4.", path("LHDCLQuan")));
  const rate = f("TSuat");
  if (rate !== undefined && !/^(0%|5%|8%|10%|KCT|KKKNT|KHAC:\d{1,2}(\.\d{1,2})?%?)$/.test(rate)) out.push(schema("not a tax rate", path("TSuat")));
  if (counts && !fuel && rate === undefined) out.push(schema("required: the rate the row's amounts are at", path("TSuat")));
  for (const k of ["TTCThue", "TgTThue", "TgTTToan"]) {
    if (f(k) === undefined) {
      if (counts) out.push(schema("required: the row's amounts", path(k)));
    } else if (amount(r, k) === null) out.push(schema("not an amount", path(k)));
  }
  if (out.length) return out;
  const before = amount(r, "TTCThue");
  const tax = amount(r, "TgTThue");
  const total = amount(r, "TgTTToan");
  if (before !== null && tax !== null && total !== null && cmp(abs(sub(total, add(before, tax))), ONE_DONG) > 0) {
    out.push({ code: "TOTALS_MISMATCH", message: `TgTTToan ${toString(total)} is not TTCThue + TgTThue = ${toString(add(before, tax))} (±1).`, path: path("TgTTToan") });
  }
  const r100 = rate && rate.endsWith("%") ? taxRateOf(rate) : null;
  if (!fuel && r100 !== null && before !== null && tax !== null) {
    const expected = mul(before, r100, 0);
    if (cmp(abs(sub(tax, expected)), ONE_DONG) > 0) out.push({ code: "TOTALS_MISMATCH", message: `TgTThue ${toString(tax)} is not TTCThue × ${rate} = ${toString(expected)} (±1).`, path: path("TgTThue") });
  }
  return out;
}

/** TThai 0: the invoice and rate not reported before, the invoice not sent (200, 203, 206); TThai 1, 2, 3 with LHDCLQuan 1: the named invoice known. */
function duplicateFaults(r: SummaryRow, known: { rows: Set<string>; invoices: Set<string> }, seen: Set<string>): Fault[] {
  const f = (k: string) => r.fields.get(k) ?? "";
  const path = (k: string) => `DSDLieu/DLieu[${r.position}]/${k}`;
  const own = `${f("KHMSHDon")}|${f("KHHDon")}|${f("SHDon")}`;
  const status = f("TThai");
  if (status === "0") {
    const key = `${own}|${f("TSuat")}`;
    if (known.rows.has(key) || seen.has(key)) return [{ code: "DUPLICATE_INVOICE", message: `Invoice ${own.replaceAll("|", "/")} at ${f("TSuat")} was reported before.`, path: path("SHDon") }];
    if (known.invoices.has(`sent|${own}`)) return [{ code: "DUPLICATE_INVOICE", message: `Invoice ${own.replaceAll("|", "/")} was sent to the authority already (200, 203 or 206).`, path: path("SHDon") }];
    seen.add(key);
    seen.add(own);
    return [];
  }
  if (["1", "2", "3"].includes(status) && f("LHDCLQuan") === "1") {
    const named = status === "1" ? own : f("KHHDCLQuan") ? `${f("KHMSHDCLQuan")}|${f("KHHDCLQuan")}|${f("SHDCLQuan")}` : null;
    if (named && !known.invoices.has(named) && !known.invoices.has(`sent|${named}`) && !seen.has(named)) {
      return [{ code: "RELATED_INVOICE_NOT_FOUND", message: `Invoice ${named.replaceAll("|", "/")} is not among the seller's invoices and summary rows.`, path: path(status === "1" ? "SHDon" : "SHDCLQuan") }];
    }
  }
  return [];
}

function newRow(tablePosition: number, r: SummaryRow, fuel: boolean, period: Period): NewSummaryRow {
  const f = (k: string) => r.fields.get(k) ?? null;
  const status = Number(f("TThai"));
  const dec = (k: string) => {
    const d = amount(r, k);
    return d === null ? null : toString(d);
  };
  return {
    tablePosition,
    position: r.position,
    status,
    form: fuel ? null : f("KHMSHDon"),
    symbol: fuel ? null : f("KHHDon"),
    number: fuel ? null : f("SHDon"),
    issueDate: f("NLap"),
    buyerTaxCode: f("MSTNMua"),
    productCode: f("MHHDVu"),
    taxRate: f("TSuat"),
    amountBeforeTax: dec("TTCThue"),
    tax: dec("TgTThue"),
    total: dec("TgTTToan"),
    relatedKind: f("LHDCLQuan") === null ? null : Number(f("LHDCLQuan")),
    relatedForm: f("KHMSHDCLQuan"),
    relatedSymbol: f("KHHDCLQuan"),
    relatedNumber: f("SHDCLQuan"),
    reportDate: f("NLap") ?? period.end,
    counted: [0, 2, 3, 5].includes(status),
  };
}

function refusedTable(t: SummaryTable, headerFaults: Fault[], rows: RefusedRow[]): RefusedTable {
  const h = (k: string) => t.header.get(k) ?? "";
  return { position: t.position, period: h("KDLieu"), first: h("LDau"), supplement: h("BSLThu"), number: h("SBTHDLieu"), headerFaults, rows };
}

function refusedRow(r: SummaryRow, faults: Fault[]): RefusedRow {
  const f = (k: string) => r.fields.get(k) ?? "";
  return {
    stt: f("STT") || String(r.position),
    form: f("KHMSHDon"),
    symbol: f("KHHDon"),
    number: f("SHDon"),
    issueDate: f("NLap"),
    buyer: f("TNMua"),
    product: f("MHHDVu"),
    productName: f("THHDVu"),
    period: f("KDLDChinh"),
    faults,
  };
}
