/**
 * The tax authority's code, MCCQT (invoice-format.md §5): 34 upper-case hex characters =
 * issuer id (1 byte) ‖ 16 bytes that look random: E_k(transaction number (7 bytes) ‖ MAC (9 bytes)).
 *
 * - The MAC is HMAC-SHA-256 under the authority's code secret over the issuer, the transaction
 *   number and the invoice identity, truncated to 72 bits.
 * - E_k is AES-128 on exactly one block (the 16 bytes fill it: no padding, no mode, no IV), under
 *   k = HMAC-SHA-256(secret, "hoadon/mccqt/aes-128/v2" ‖ issuer) truncated to 128 bits: a key of
 *   its own per issuer, never the MAC key itself (one key, one purpose).
 *
 * Why this construction ("encode-then-encipher", Bellare & Rogaway 2000):
 * - Hiding: AES is a pseudo-random permutation, and its inputs never repeat (the transaction number
 *   is unique per issuer), so the outputs are indistinguishable from distinct random blocks: a code
 *   shows neither the transaction number nor how many codes lie between two of them.
 * - Uniqueness: a permutation maps distinct blocks to distinct blocks, so distinct transaction
 *   numbers give distinct codes by construction, with no database and no global lock (numbers
 *   still come in blocks from the store's sequence, per issuer).
 * - Authenticity: a forger must find a block that deciphers to (t ‖ MAC(t, identity)); without
 *   the secret each try succeeds with probability 2^-72, the MAC's strength. Changing any
 *   character (issuer included: another key, and the MAC covers it) deciphers to noise.
 * - Verification needs only the secret: decipher, recompute the MAC over the identity shown.
 * One AES block, not a stream cipher or a format-preserving mode: 16 bytes are exactly one block,
 * and a stream cipher would need a nonce the code has no room for (and would leak XOR relations).
 *
 * Codes issued before (the "clear" layout: issuer ‖ transaction number in clear ‖ MAC) keep
 * verifying: `isAuthenticCode` accepts a code whose MAC matches in either layout. A code's layout
 * cannot be read off it, only tried; each try is a 72-bit MAC check, so accepting both at most
 * doubles a forger's 2^-72.
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from "node:crypto";
import { type SecretKey, secretKeyOf } from "../xml/algorithms.js";

/** What a code binds: the natural key, the date, the amount and the digest of the signed data. */
export interface CodeIdentity {
  sellerTaxCode: string;
  form: string;
  symbol: string;
  number: number;
  issueDate: string;
  totalPayable: string;
  digest: string;
}

const TXN_BYTES = 7;
const MAC_BYTES = 9;
export const MAX_TRANSACTION = (1n << BigInt(TXN_BYTES * 8)) - 1n;
export const CODE_PATTERN = /^[0-9A-F]{34}$/;
const ISSUER_PATTERN = /^[0-9A-F]{2}$/;
/** One AES block, zero IV: CBC over a single block is the bare block cipher (and Workers' node:crypto has CBC). */
const ZERO_IV = Buffer.alloc(16);

function mac(secret: Uint8Array, issuer: string, txnHex: string, id: CodeIdentity): Buffer {
  // JSON keeps the fields unambiguous (no field can run into the next).
  const message = JSON.stringify([issuer, txnHex, id.sellerTaxCode, id.form, id.symbol, id.number, id.issueDate, id.totalPayable, id.digest]);
  return createHmac("sha256", secretKeyOf(secret)).update(message).digest().subarray(0, MAC_BYTES);
}

// Derived keys by secret and issuer, as node:crypto takes them (secretKeyOf): one HMAC per issuer for the life of the secret.
const keyCache = new WeakMap<Uint8Array, Map<string, SecretKey>>();

/** The AES-128 key of an issuer's codes, derived from the code secret. */
function cipherKey(secret: Uint8Array, issuer: string): SecretKey {
  let byIssuer = keyCache.get(secret);
  if (!byIssuer) keyCache.set(secret, (byIssuer = new Map()));
  let key = byIssuer.get(issuer);
  if (!key) {
    key = secretKeyOf(createHmac("sha256", secretKeyOf(secret)).update(`hoadon/mccqt/aes-128/v2\u0000${issuer}`).digest().subarray(0, 16));
    byIssuer.set(issuer, key);
  }
  return key;
}

function encipher(key: SecretKey, block: Buffer): Buffer {
  const c = createCipheriv("aes-128-cbc", key, ZERO_IV).setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

function decipher(key: SecretKey, block: Buffer): Buffer {
  const d = createDecipheriv("aes-128-cbc", key, ZERO_IV).setAutoPadding(false);
  return Buffer.concat([d.update(block), d.final()]);
}

function txnHexOf(txn: bigint): string {
  return txn.toString(16).toUpperCase().padStart(TXN_BYTES * 2, "0");
}

function checkArgs(issuer: string, txn: bigint): void {
  if (!ISSUER_PATTERN.test(issuer)) throw new Error("issuer id must be two upper-case hex characters");
  if (txn < 0n || txn > MAX_TRANSACTION) throw new Error("transaction number out of range");
}

/** Formats the code for a transaction number: the issuer, then (number ‖ MAC) enciphered. */
export function makeCode(secret: Uint8Array, issuer: string, txn: bigint, id: CodeIdentity): string {
  checkArgs(issuer, txn);
  const txnHex = txnHexOf(txn);
  const block = Buffer.concat([Buffer.from(txnHex, "hex"), mac(secret, issuer, txnHex, id)]);
  return issuer + encipher(cipherKey(secret, issuer), block).toString("hex").toUpperCase();
}

/**
 * The code of the earlier layout (issuer ‖ transaction number in clear ‖ MAC), no longer issued:
 * kept so that tests can make the codes issued before and show they still verify.
 */
export function makeClearCode(secret: Uint8Array, issuer: string, txn: bigint, id: CodeIdentity): string {
  checkArgs(issuer, txn);
  const txnHex = txnHexOf(txn);
  return issuer + txnHex + mac(secret, issuer, txnHex, id).toString("hex").toUpperCase();
}

/** The issuer and transaction number a code of the current layout carries (with the secret), or null when not 34 upper-case hex. */
export function openCode(secret: Uint8Array, code: string): { issuer: string; transaction: bigint; mac: Buffer } | null {
  if (!CODE_PATTERN.test(code)) return null;
  const issuer = code.slice(0, 2);
  const block = decipher(cipherKey(secret, issuer), Buffer.from(code.slice(2), "hex"));
  return { issuer, transaction: BigInt(`0x${block.subarray(0, TXN_BYTES).toString("hex")}`), mac: block.subarray(TXN_BYTES) };
}

const macEquals = (given: Buffer, expected: Buffer) => given.length === expected.length && timingSafeEqual(given, expected);

/** True when `code` is the authority's code for this invoice identity, in the current layout or the earlier clear one (constant-time MAC comparisons). */
export function isAuthenticCode(secret: Uint8Array, code: string, id: CodeIdentity): boolean {
  const opened = openCode(secret, code);
  if (!opened) return false;
  const issuer = opened.issuer;
  const enciphered = macEquals(opened.mac, mac(secret, issuer, txnHexOf(opened.transaction), id));
  // Both layouts are always checked, so the time taken does not tell which one matched.
  const clearTxn = code.slice(2, 2 + TXN_BYTES * 2);
  const clear = macEquals(Buffer.from(code.slice(2 + TXN_BYTES * 2), "hex"), mac(secret, issuer, clearTxn, id));
  return enciphered || clear;
}

/**
 * Hands out codes, reserving transaction numbers from the store in blocks so that issuing a code
 * costs no database round trip most of the time. Concurrent callers share one pending reservation.
 */
export class CodeIssuer {
  private next = 0n;
  private end = 0n;
  private pending: Promise<void> | null = null;

  constructor(
    private readonly issuer: string,
    private readonly secret: Uint8Array,
    private readonly reserve: (size: number) => Promise<bigint>,
    private readonly blockSize = 1000,
  ) {}

  /** A fresh code for this identity. */
  async issue(id: CodeIdentity): Promise<string> {
    while (this.next >= this.end) {
      this.pending ??= this.reserve(this.blockSize)
        .then((first) => {
          this.next = first;
          this.end = first + BigInt(this.blockSize);
        })
        .finally(() => {
          this.pending = null;
        });
      await this.pending;
    }
    const txn = this.next++;
    return makeCode(this.secret, this.issuer, txn, id);
  }
}
