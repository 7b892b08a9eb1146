/**
 * The log's entries: one per issued code and per change of an invoice's status, in a compact
 * canonical binary form (docs/transparency-log.md). Nothing about the buyer.
 *
 *   u8  version (1)
 *   u8  type: 1 issued, 2 replaced, 3 adjusted, 4 cancelled (an invoice with the authority's
 *       code); 5 an invoice without a code received (T-VAN 203), 6 a cash-register invoice
 *       received (T-VAN 206); a later status change of those is 2–4 like any other
 *   u8 length + ASCII: the code (MCCQT); a cash-register invoice's own code (M1-26-…); for an
 *                      invoice without a code, the authority's record id of it
 *   u8 length + ASCII: the seller's tax code (MST)
 *   u8 length + ASCII: the form (KHMSHDon)
 *   u8 length + ASCII: the symbol (KHHDon)
 *   u32 big-endian: the number (SHDon)
 *   u8 length + ASCII: the issue date, YYYY-MM-DD
 *   u8 length + ASCII: the total payable in VND, a canonical decimal (no leading zeros, no
 *                      trailing fractional zeros, no "+", "0" for zero)
 *   32 bytes: SHA-256 of the signed DLHDon (the digest the code binds)
 *   u64 big-endian: the event's time, milliseconds since 1970-01-01T00:00:00Z
 *   u8 length + ASCII: the related code (the replacing or adjusting invoice; empty otherwise)
 *
 * Every field has exactly one encoding, so an entry's bytes (and its leaf hash) follow from the
 * facts alone; `decodeEntry` refuses any other byte string.
 */

import type { CodeIdentity } from "../domain/code.js";
import { LIFECYCLE } from "../domain/lifecycle.js";

/**
 * The entry types, whose position (from 1) is the type byte: an invoice's issue and the event of
 * each lifecycle transition (domain/lifecycle.ts, in the table's order), then the receipt of an
 * uncoded and of a cash-register invoice. Append only: test/unit/lifecycle.test.ts pins the bytes.
 */
export const ENTRY_TYPES = [
  LIFECYCLE.initial.event,
  LIFECYCLE.transitions.replace.event,
  LIFECYCLE.transitions.adjust.event,
  LIFECYCLE.transitions.cancel.event,
  "uncoded",
  "cashRegister",
] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

/**
 * An entry: what the code binds (CodeIdentity: natural key, issue date, total payable, the
 * SHA-256 of the signed DLHDon in base64 as the store keeps it), and the event.
 */
export interface LogEntry extends CodeIdentity {
  type: EntryType;
  code: string;
  at: Date;
  relatedCode: string | null;
}

const VERSION = 1;
const ASCII = /^[\x21-\x7e]*$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DECIMAL = /^-?(0|[1-9]\d*)(\.\d*[1-9])?$/;
/** The canonical base64 of 32 bytes: 43 characters, the last of which carries 4 bits, and "=". */
const B64_32 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export class EntryError extends Error {
  override readonly name = "EntryError";
}

/** The canonical form of a decimal string: "1234500.000" → "1234500", "-0.50" → "-0.5", "-0" → "0". */
export function canonicalDecimal(value: string): string {
  const m = /^([+-]?)(\d+)(?:\.(\d*))?$/.exec(value.trim());
  if (!m) throw new EntryError(`not a decimal: ${JSON.stringify(value)}`);
  const int = m[2]!.replace(/^0+(?=\d)/, "");
  const frac = (m[3] ?? "").replace(/0+$/, "");
  const body = frac ? `${int}.${frac}` : int;
  return m[1] === "-" && body !== "0" ? `-${body}` : body;
}

function checkText(value: string, field: string): string {
  if (value.length > 255 || !ASCII.test(value)) throw new EntryError(`${field}: not printable ASCII of at most 255 characters`);
  return value;
}

export function encodeEntry(e: LogEntry): Buffer {
  const type = ENTRY_TYPES.indexOf(e.type) + 1;
  if (type === 0) throw new EntryError(`type: ${JSON.stringify(e.type)}`);
  if (!Number.isInteger(e.number) || e.number < 0 || e.number > 0xffffffff) throw new EntryError("number: not a 32-bit unsigned integer");
  if (!DATE.test(e.issueDate)) throw new EntryError("issueDate: not YYYY-MM-DD");
  if (e.digest.length !== 44 || !B64_32.test(e.digest)) throw new EntryError("digest: not the base64 of 32 bytes");
  const ms = e.at.getTime();
  if (!Number.isSafeInteger(ms) || ms < 0) throw new EntryError("at: not a time after 1970");
  const fields = [
    checkText(e.code, "code"),
    checkText(e.sellerTaxCode, "sellerTaxCode"),
    checkText(e.form, "form"),
    checkText(e.symbol, "symbol"),
  ];
  const date = e.issueDate;
  const total = checkText(canonicalDecimal(e.totalPayable), "totalPayable");
  const related = checkText(e.relatedCode ?? "", "relatedCode");
  let len = 2 + 4 + 1 + date.length + 1 + total.length + 32 + 8 + 1 + related.length;
  for (const f of fields) len += 1 + f.length;
  const b = Buffer.allocUnsafe(len);
  let at = 0;
  b[at++] = VERSION;
  b[at++] = type;
  const text = (v: string) => {
    b[at++] = v.length;
    at += b.write(v, at, "latin1");
  };
  for (const f of fields) text(f);
  b.writeUInt32BE(e.number, at);
  at += 4;
  text(date);
  text(total);
  at += b.write(e.digest, at, "base64");
  b.writeBigUInt64BE(BigInt(ms), at);
  at += 8;
  text(related);
  if (at !== len) throw new EntryError("entry: encoding length");
  return b;
}

export function decodeEntry(bytes: Uint8Array): LogEntry {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > b.length) throw new EntryError("entry: truncated");
  };
  const u8 = () => {
    need(1);
    return b[at++]!;
  };
  const text = (field: string) => {
    const n = u8();
    need(n);
    const s = b.toString("latin1", at, at + n);
    at += n;
    if (!ASCII.test(s)) throw new EntryError(`entry: ${field} is not printable ASCII`);
    return s;
  };
  if (u8() !== VERSION) throw new EntryError("entry: unknown version");
  const type = ENTRY_TYPES[u8() - 1];
  if (!type) throw new EntryError("entry: unknown type");
  const code = text("code");
  const sellerTaxCode = text("sellerTaxCode");
  const form = text("form");
  const symbol = text("symbol");
  need(4);
  const number = b.readUInt32BE(at);
  at += 4;
  const issueDate = text("issueDate");
  const totalPayable = text("totalPayable");
  need(40);
  const digest = b.toString("base64", at, at + 32);
  const ms = b.readBigUInt64BE(at + 32);
  at += 40;
  const relatedCode = text("relatedCode");
  if (at !== b.length) throw new EntryError("entry: trailing bytes");
  if (!DATE.test(issueDate) || !DECIMAL.test(totalPayable) || ms > BigInt(Number.MAX_SAFE_INTEGER)) throw new EntryError("entry: a field is not in its canonical form");
  const e: LogEntry = { type, code, sellerTaxCode, form, symbol, number, issueDate, totalPayable, digest, at: new Date(Number(ms)), relatedCode: relatedCode || null };
  // One encoding per fact: re-encoding must give the same bytes.
  if (!encodeEntry(e).equals(b)) throw new EntryError("entry: not in its canonical form");
  return e;
}

/** An entry bundle (C2SP tlog-tiles): big-endian uint16 length-prefixed entries. */
export function encodeBundle(entries: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.length > 0xffff) throw new EntryError("entry longer than 65535 bytes");
    const len = Buffer.alloc(2);
    len.writeUInt16BE(e.length);
    parts.push(len, Buffer.from(e.buffer, e.byteOffset, e.byteLength));
  }
  return Buffer.concat(parts);
}

export function decodeBundle(bytes: Uint8Array): Buffer[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Buffer[] = [];
  let at = 0;
  while (at < b.length) {
    if (at + 2 > b.length) throw new EntryError("bundle: truncated length");
    const n = b.readUInt16BE(at);
    if (at + 2 + n > b.length) throw new EntryError("bundle: truncated entry");
    out.push(b.subarray(at + 2, at + 2 + n));
    at += 2 + n;
  }
  return out;
}

/** The first `width` entries of a bundle, as bytes (a partial bundle is a prefix of the full one). */
export function bundlePrefix(bytes: Uint8Array, width: number): Buffer | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  for (let k = 0; k < width; k++) {
    if (at + 2 > b.length) return null;
    at += 2 + b.readUInt16BE(at);
  }
  return at <= b.length ? b.subarray(0, at) : null;
}

// Tile paths (C2SP tlog-tiles) --------------------------------------------------------------

/** N as zero-padded 3-digit path elements, all but the last prefixed with x: 1234067 → x001/x234/067. */
export function encodeTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`tile index ${n}`);
  const groups: string[] = [];
  let rest = n;
  do {
    groups.unshift(String(rest % 1000).padStart(3, "0"));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join("/");
}

export function tilePath(level: number | "entries", n: number, width = 256): string {
  return `tile/${level}/${encodeTileIndex(n)}${width < 256 ? `.p/${width}` : ""}`;
}

/**
 * Parses what follows `tile/`: `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`; null for anything
 * that is not exactly one canonical path.
 */
export function parseTilePath(path: string): { level: number | "entries"; n: number; width: number } | null {
  const m = /^(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*)([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(path);
  if (!m) return null;
  const level = m[1] === "entries" ? "entries" : Number(m[1]);
  if (level !== "entries" && level > 63) return null;
  const groups = [...m[2]!.split("/").filter(Boolean).map((g) => g.slice(1)), m[3]!];
  // No leading all-zero group: 000/… would be a second name for the same tile.
  if (groups.length > 1 && groups[0] === "000") return null;
  if (groups.length > 6) return null;
  const n = Number(groups.join(""));
  const width = m[4] === undefined ? 256 : Number(m[4]);
  if (m[4] !== undefined && width > 255) return null;
  return { level, n, width };
}
