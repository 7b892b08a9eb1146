/**
 * The body's own bytes beside its decoded text: where a position of the text falls in the UTF-8
 * the seller sent, so that the canonical form "as it stands" (canonical.ts) is a slice of those
 * bytes instead of the element's text encoded again. A two-byte JS string (Vietnamese text) costs
 * 2–3 ns a character to encode as UTF-8 on Node 24; DLHDon is most of an invoice.
 *
 * A position's byte offset is measured from the nearest one already known (at first the text's
 * two ends), over the characters between them only, and then known too: DLHDon's start is a few
 * dozen characters from the front, its end a few thousand from the back. Positions must stand
 * between two characters, never inside a surrogate pair: element boundaries (a '<', or just
 * after a '>') always do.
 */
export class SourceBytes {
  // Known (character index, byte offset) pairs, in ascending order.
  private readonly chars: number[];
  private readonly offsets: number[];

  /**
   * `body` decodes to `text` after its first `bom` bytes (3 for a UTF-8 byte-order mark, which
   * the decoder drops; else 0).
   */
  constructor(
    readonly text: string,
    readonly body: Uint8Array,
    bom: number,
  ) {
    this.chars = [0, text.length];
    this.offsets = [bom, body.length];
  }

  /** The byte offset in `body` of text position `p` (0 ≤ p ≤ text.length). */
  offset(p: number): number {
    const chars = this.chars;
    let lo = 0;
    let hi = chars.length - 1;
    if (!(p >= 0 && p <= chars[hi]!)) throw new RangeError(`SourceBytes: position ${p} is outside the text`);
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (chars[mid]! <= p) lo = mid;
      else hi = mid;
    }
    if (chars[lo] === p) return this.offsets[lo]!;
    if (chars[hi] === p) return this.offsets[hi]!;
    const b =
      p - chars[lo]! <= chars[hi]! - p
        ? this.offsets[lo]! + Buffer.byteLength(this.text.slice(chars[lo], p))
        : this.offsets[hi]! - Buffer.byteLength(this.text.slice(p, chars[hi]));
    chars.splice(hi, 0, p);
    this.offsets.splice(hi, 0, b);
    return b;
  }

  /** The bytes of text[from, to): a view of the body, not a copy. */
  slice(from: number, to: number): Uint8Array {
    return this.body.subarray(this.offset(from), this.offset(to));
  }
}

/** Bytes of a UTF-8 byte-order mark at the start of `body` (the decoder drops it): 3 or 0. */
export const bomLength = (body: Uint8Array): number => (body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0);
