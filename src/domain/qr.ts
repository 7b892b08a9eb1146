/**
 * DLQRCode (invoice-format.md §1): the invoice's identity as EMVCo QR data objects, the layout
 * of the EMV QR Code Specification for Payment Systems (merchant-presented mode):
 *
 *   00 02 01                   payload format indicator "01"
 *   99 LL …                    template 99 (an "unreserved template") holding
 *     00 LL VN.GDT.HDDT        its globally unique identifier (EMVCo: mandatory in templates 80–99)
 *     01 LL <seller MST>       NBan/MST
 *     02 LL <form>             KHMSHDon
 *     03 LL <symbol>           KHHDon
 *     04 LL <number>           SHDon, without zero padding
 *     05 08 <YYYYMMDD>         NLap
 *     06 LL <total>            TgTTTBSo in VND, canonical decimal ("3200000", "-20000")
 *   63 04 XXXX                 CRC-16/CCITT-FALSE of everything before XXXX (including "6304"), upper-case hex
 *
 * Each data object is ID (2 digits) ‖ length (2 digits, 01–99) ‖ value. Pure functions: the
 * pages and the stamp share them, and so can a Worker.
 */

/** What the QR states about an invoice: its natural key, date and total (never buyer data). */
export interface QrInvoice {
  sellerTaxCode: string;
  form: string;
  symbol: string;
  number: number;
  /** YYYY-MM-DD */
  issueDate: string;
  /** VND, decimal string */
  totalPayable: string;
}

/** The template's globally unique identifier: Vietnam's General Department of Taxation, e-invoices. */
export const QR_GUID = "VN.GDT.HDDT";
const TEMPLATE = "99";
/** invoice-format.md §1: DLQRCode holds at most 512 characters. */
export const QR_MAX_LENGTH = 512;

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR) of the string's UTF-8 bytes. */
export function crc16(s: string): number {
  let crc = 0xffff;
  for (const byte of new TextEncoder().encode(s)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, "0");

/** One data object, or null when the value is empty or longer than 99 characters. */
function tlv(id: string, value: string): string | null {
  if (value.length === 0 || value.length > 99) return null;
  return id + String(value.length).padStart(2, "0") + value;
}

/**
 * The DLQRCode payload of an invoice, or null when a value does not fit a data object (a total
 * of more than 99 characters could never be printed anyway). Only printable ASCII goes in: the
 * fields are tax codes, symbols, digits and a date.
 */
export function buildQrPayload(inv: QrInvoice): string | null {
  const fields = [
    tlv("00", QR_GUID),
    tlv("01", inv.sellerTaxCode),
    tlv("02", inv.form),
    tlv("03", inv.symbol),
    tlv("04", String(inv.number)),
    tlv("05", inv.issueDate.replace(/-/g, "")),
    tlv("06", inv.totalPayable),
  ];
  if (fields.some((f) => f === null) || ![inv.sellerTaxCode, inv.form, inv.symbol, inv.totalPayable].every((v) => /^[\x21-\x7e]+$/.test(v))) return null;
  const template = tlv(TEMPLATE, fields.join(""));
  if (template === null) return null;
  const body = `000201${template}6304`;
  return body + hex4(crc16(body));
}

export type QrParse = { ok: true; invoice: QrInvoice } | { ok: false; reason: string };

/** Splits a string into data objects; null when the lengths do not add up. */
function objects(s: string): { id: string; value: string }[] | null {
  const out: { id: string; value: string }[] = [];
  let i = 0;
  while (i < s.length) {
    const head = s.slice(i, i + 4);
    if (!/^\d{4}$/.test(head)) return null;
    const len = Number(head.slice(2));
    if (len === 0 || i + 4 + len > s.length) return null;
    out.push({ id: head.slice(0, 2), value: s.slice(i + 4, i + 4 + len) });
    i += 4 + len;
  }
  return out;
}

/**
 * Reads a DLQRCode payload back: the layout above, each ID once, the CRC right. Strict: an
 * unknown sub-field of template 99 is refused, and so is any top-level object but 00, 99 and 63.
 */
export function parseQrPayload(s: string): QrParse {
  const fail = (reason: string): QrParse => ({ ok: false, reason });
  if (s.length > QR_MAX_LENGTH) return fail("longer than 512 characters");
  if (!/^[\x20-\x7e]*$/.test(s)) return fail("not printable ASCII");
  if (!/6304[0-9A-F]{4}$/.test(s)) return fail("no CRC (63 04 XXXX) at the end");
  if (hex4(crc16(s.slice(0, -4))) !== s.slice(-4)) return fail("the CRC does not match");
  const top = objects(s.slice(0, -8));
  if (!top) return fail("the data objects' lengths do not add up");
  if (top[0]?.id !== "00" || top[0].value !== "01") return fail("the payload format indicator (00 02 01) does not come first");
  const ids = top.map((o) => o.id);
  if (new Set(ids).size !== ids.length) return fail("a data object occurs twice");
  if (ids.some((id) => id !== "00" && id !== TEMPLATE)) return fail("an unexpected data object");
  const template = top.find((o) => o.id === TEMPLATE);
  if (!template) return fail("no template 99");
  const sub = objects(template.value);
  if (!sub) return fail("template 99's lengths do not add up");
  const f = new Map<string, string>();
  for (const o of sub) {
    if (f.has(o.id)) return fail(`template 99 holds ${o.id} twice`);
    if (!/^0[0-6]$/.test(o.id)) return fail(`template 99 holds an unknown field ${o.id}`);
    f.set(o.id, o.value);
  }
  if (f.get("00") !== QR_GUID) return fail(`the template's identifier is not ${QR_GUID}`);
  const [mst, form, symbol, number, date, total] = ["01", "02", "03", "04", "05", "06"].map((id) => f.get(id));
  if (!mst || !form || !symbol || !number || !date || !total) return fail("template 99 lacks a field");
  if (!/^[1-9]\d{0,7}$/.test(number)) return fail("the number is not 1–99,999,999");
  const d = /^(\d{4})(\d{2})(\d{2})$/.exec(date);
  if (!d) return fail("the date is not YYYYMMDD");
  if (!/^-?\d+(\.\d+)?$/.test(total)) return fail("the total is not a decimal");
  return { ok: true, invoice: { sellerTaxCode: mst, form, symbol, number: Number(number), issueDate: `${d[1]}-${d[2]}-${d[3]}`, totalPayable: total } };
}

/** An http(s) base URL without query, fragment or credentials, normalized to end in "/"; null when it is not one (HOADON_PUBLIC_URL). */
export function publicBase(v: string): string | null {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return null;
  }
  if (!/^https?:$/.test(u.protocol) || u.search || u.hash || u.username || u.password || v.includes("?") || v.includes("#")) return null;
  return u.href.endsWith("/") ? u.href : `${u.href}/`;
}

/**
 * What the QR on the pages holds: the buyer's check under the public base URL with the code, so
 * that a phone camera opens the verdict. The code is all the page needs (it looks the record up
 * and checks the code against it); the query stays short, keeping the QR small and easy to scan.
 */
export function buyerCheckUrl(base: string, code: string): string {
  return `${base}?code=${encodeURIComponent(code)}`;
}

/**
 * What a buyer pasted into the code box: a code, the URL of a QR above (its `code`), or the
 * DLQRCode data of the XML (its natural key and total). Null when it is none of these.
 */
export function readPastedCode(text: string): { code: string } | { invoice: QrInvoice } | { badQr: string } | null {
  const t = text.trim();
  if (/^000201/.test(t)) {
    const qr = parseQrPayload(t);
    return qr.ok ? { invoice: qr.invoice } : { badQr: qr.reason };
  }
  if (/^https?:\/\//i.test(t)) {
    try {
      const code = new URL(t).searchParams.get("code");
      return code ? { code: code.replace(/\s+/g, "").toUpperCase() } : null;
    } catch {
      return null;
    }
  }
  return { code: t.replace(/\s+/g, "").toUpperCase() };
}
