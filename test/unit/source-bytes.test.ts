/**
 * SourceBytes (src/xml/source-bytes.ts): a text position's byte offset in the body it was decoded
 * from, measured from the nearest position already known. Held against the UTF-8 length of the
 * text before it, for texts of one-, two-, three- and four-byte characters, with and without a
 * byte-order mark, positions asked in any order.
 */
import { describe, expect, it } from "vitest";
import { bomLength, SourceBytes } from "../../src/xml/source-bytes.js";
import { prng } from "../helpers/generate.js";

const ALPHABET = ["a", "<", ">", "\n", "é", "ư", "Đ", "ệ", "中", "\u2028", "𝔸", "😀"];

function randomText(r: () => number, length: number): string {
  let s = "";
  while (s.length < length) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

/** Positions that split no surrogate pair. */
function boundaries(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i <= text.length; i++) {
    const c = text.charCodeAt(i - 1);
    if (!(c >= 0xd800 && c <= 0xdbff)) out.push(i);
  }
  return out;
}

describe("SourceBytes", () => {
  it("answers every position's byte offset as the UTF-8 length of the text before it, in any order of asking", () => {
    const r = prng(7);
    for (let round = 0; round < 60; round++) {
      const text = randomText(r, 1 + Math.floor(r() * 400));
      const bom = round % 2 === 0 ? "\uFEFF" : "";
      const body = Buffer.from(bom + text);
      const decoded = new TextDecoder().decode(body);
      expect(decoded).toBe(text);
      const source = new SourceBytes(decoded, body, bomLength(body));
      const positions = boundaries(text).sort(() => r() - 0.5);
      for (const p of positions) expect(source.offset(p)).toBe(bom.length * 3 + Buffer.byteLength(text.slice(0, p)));
      // And again, now that all are known.
      for (const p of positions) expect(source.offset(p)).toBe(bom.length * 3 + Buffer.byteLength(text.slice(0, p)));
    }
  });

  it("slices the body's bytes of a stretch of text, a view and not a copy", () => {
    const text = "<a>Hà Nội 😀</a><b/>";
    const body = Buffer.from(text);
    const source = new SourceBytes(text, body, 0);
    const from = text.indexOf("Hà");
    const to = text.indexOf("</a>");
    const slice = source.slice(from, to);
    expect(Buffer.from(slice).toString("utf8")).toBe("Hà Nội 😀");
    expect(slice.buffer).toBe(body.buffer);
  });

  it("refuses a position outside the text", () => {
    const source = new SourceBytes("abc", Buffer.from("abc"), 0);
    expect(() => source.offset(4)).toThrow(RangeError);
    expect(() => source.offset(-1)).toThrow(RangeError);
  });

  it("counts a byte-order mark only when the body starts with one", () => {
    expect(bomLength(Buffer.from("\uFEFF<a/>"))).toBe(3);
    expect(bomLength(Buffer.from("<a/>\uFEFF"))).toBe(0);
    expect(bomLength(Buffer.from([0xef, 0xbb]))).toBe(0);
  });
});
