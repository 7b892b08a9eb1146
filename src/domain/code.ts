/**
 * The tax authority's code, MCCQT (invoice-format.md §5): 34 upper-case hex characters =
 * issuer id (1 byte) ‖ transaction number (7 bytes, unique per issuer) ‖ HMAC-SHA-256 (9 bytes)
 * under the authority's secret over the issuer, the transaction number and the invoice identity.
 * Codes need no global lock (numbers come in blocks from a sequence) and a made-up code can be
 * told from a real one without a database read.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

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

function mac(secret: Uint8Array, issuer: string, txnHex: string, id: CodeIdentity): Buffer {
  // JSON keeps the fields unambiguous (no field can run into the next).
  const message = JSON.stringify([issuer, txnHex, id.sellerTaxCode, id.form, id.symbol, id.number, id.issueDate, id.totalPayable, id.digest]);
  return createHmac("sha256", secret).update(message).digest().subarray(0, MAC_BYTES);
}

/** Formats the code for a transaction number. */
export function makeCode(secret: Uint8Array, issuer: string, txn: bigint, id: CodeIdentity): string {
  if (!/^[0-9A-F]{2}$/.test(issuer)) throw new Error("issuer id must be two upper-case hex characters");
  if (txn < 0n || txn > MAX_TRANSACTION) throw new Error("transaction number out of range");
  const txnHex = txn.toString(16).toUpperCase().padStart(TXN_BYTES * 2, "0");
  return issuer + txnHex + mac(secret, issuer, txnHex, id).toString("hex").toUpperCase();
}

/** Splits a code into its parts, or null when it is not 34 upper-case hex characters. */
export function parseCode(code: string): { issuer: string; transaction: bigint; mac: string } | null {
  if (!CODE_PATTERN.test(code)) return null;
  return { issuer: code.slice(0, 2), transaction: BigInt(`0x${code.slice(2, 2 + TXN_BYTES * 2)}`), mac: code.slice(2 + TXN_BYTES * 2) };
}

/** True when `code` is the authority's code for this invoice identity (constant-time MAC comparison). */
export function isAuthenticCode(secret: Uint8Array, code: string, id: CodeIdentity): boolean {
  const parts = parseCode(code);
  if (!parts) return false;
  const expected = mac(secret, parts.issuer, code.slice(2, 2 + TXN_BYTES * 2), id);
  const given = Buffer.from(parts.mac, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
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
