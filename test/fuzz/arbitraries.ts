/**
 * fast-check arbitraries for fuzzing the parser and POST /v1/invoices: byte-level mutations of a
 * valid signed invoice (flips, overwrites, insertions of random bytes and of XML tokens an
 * attacker would try, deletions, duplications and moves of ranges), and random XML structures
 * built from the invoice's own vocabulary plus names that are special to JavaScript objects.
 *
 * The budget: HOADON_FUZZ_RUNS (runs per property; CI uses the small default), HOADON_FUZZ_SEED
 * to replay. `npm run fuzz` is the long run.
 */
import fc from "fast-check";

/** Runs per property: a small fixed budget in CI, more with HOADON_FUZZ_RUNS (npm run fuzz). */
export const FUZZ_RUNS = Number(process.env.HOADON_FUZZ_RUNS ?? 150);

/** fast-check parameters shared by every property (seed printed on failure by fast-check). */
export function fuzzParams(runs = FUZZ_RUNS): fc.Parameters<unknown> {
  const seed = process.env.HOADON_FUZZ_SEED;
  return { numRuns: runs, ...(seed ? { seed: Number(seed) } : {}) };
}

const enc = new TextEncoder();

/** Tokens worth inserting anywhere: forbidden constructs, references, namespace and Id tricks, broken UTF-8. */
export const TOKENS: readonly Uint8Array[] = [
  "<!--",
  "-->",
  "<!---->",
  "<?x?>",
  '<?xml version="1.0"?>',
  "<!DOCTYPE HDon>",
  '<!DOCTYPE HDon [<!ENTITY a "b">]>',
  "<!ENTITY",
  "&a;",
  "&amp;",
  "&lt;",
  "&#0;",
  "&#x10FFFF;",
  "&#xD800;",
  "&#38;",
  "<![CDATA[",
  "]]>",
  "<![CDATA[x]]>",
  "\uFEFF",
  "\r\n",
  "\r",
  "\t",
  "\u00A0",
  "\u2028",
  "\u0085",
  " ",
  "'",
  '"',
  "<",
  ">",
  "&",
  "/",
  "=",
  ' xmlns="urn:x"',
  ' xmlns=""',
  ' xmlns:ds="http://www.w3.org/2000/09/xmldsig#"',
  ' xmlns:a="relative"',
  ' xmlns:a=""',
  ' Id="SigningData"',
  ' ID="SigningData"',
  ' xml:id="SigningData"',
  ' wsu:Id="SigningData" xmlns:wsu="urn:wsu"',
  ' Id="x" Id="y"',
  '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">',
  "</Signature>",
  '<DLHDon Id="SigningData">',
  "</DLHDon>",
  "<MCCQT>00B7ED1EE40D31479DAE6D8235E8549FB3</MCCQT>",
  "<CQT/>",
  "<__proto__/>",
  "<constructor>1</constructor>",
  "<a>",
  "</a>",
  "<a/>",
  "9".repeat(40),
  "-1",
  "0.0000001",
].map((t) => enc.encode(t)).concat([new Uint8Array([0xc0, 0xaf]), new Uint8Array([0xed, 0xa0, 0x80]), new Uint8Array([0xff]), new Uint8Array([0x00]), new Uint8Array([0xef, 0xbb, 0xbf])]);

export type ByteMutation =
  | { kind: "flip"; pos: number; bit: number }
  | { kind: "set"; pos: number; byte: number }
  | { kind: "insert"; pos: number; bytes: Uint8Array }
  | { kind: "token"; pos: number; token: number }
  | { kind: "delete"; pos: number; len: number }
  | { kind: "duplicate"; pos: number; len: number; to: number }
  | { kind: "move"; pos: number; len: number; to: number };

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("set" as const), pos: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("insert" as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  { arbitrary: fc.record({ kind: fc.constant("token" as const), pos: fc.nat(), token: fc.nat({ max: TOKENS.length - 1 }) }), weight: 4 },
  fc.record({ kind: fc.constant("delete" as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant("duplicate" as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 400 }), to: fc.nat() }),
  fc.record({ kind: fc.constant("move" as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 400 }), to: fc.nat() }),
);

/** Applies mutations in order; positions wrap around the current length. */
export function mutate(input: Uint8Array, ops: readonly ByteMutation[]): Uint8Array {
  let b = Buffer.from(input);
  for (const op of ops) {
    const n = b.length;
    if (n === 0) break;
    const at = op.pos % n;
    switch (op.kind) {
      case "flip":
        b[at] = b[at]! ^ (1 << op.bit);
        break;
      case "set":
        b[at] = op.byte;
        break;
      case "insert":
        b = Buffer.concat([b.subarray(0, at), op.bytes, b.subarray(at)]);
        break;
      case "token":
        b = Buffer.concat([b.subarray(0, at), TOKENS[op.token]!, b.subarray(at)]);
        break;
      case "delete":
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(n, at + op.len))]);
        break;
      case "duplicate": {
        const piece = Buffer.from(b.subarray(at, Math.min(n, at + op.len)));
        const to = op.to % (n + 1);
        b = Buffer.concat([b.subarray(0, to), piece, b.subarray(to)]);
        break;
      }
      case "move": {
        const piece = Buffer.from(b.subarray(at, Math.min(n, at + op.len)));
        const rest = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(n, at + op.len))]);
        const to = op.to % (rest.length + 1);
        b = Buffer.concat([rest.subarray(0, to), piece, rest.subarray(to)]);
        break;
      }
    }
  }
  return b;
}

const NAMES = ["HDon", "DLHDon", "DLQRCode", "MCCQT", "DSCKS", "NBan", "NMua", "CQT", "CCKSKhac", "TTChung", "NDHDon", "TToan", "MST", "TgTTTBSo", "TTKhac", "a", "x:y", "__proto__", "constructor", "prototype"];
const DS_NAMES = ["Signature", "SignedInfo", "Reference", "Transforms", "Transform", "DigestValue", "SignatureValue", "KeyInfo", "X509Data", "X509Certificate", "Object", "SigningTime"];
const ATTRS = ["Id", "ID", "id", "xml:id", "URI", "Algorithm", "Target", "__proto__", "a"];

export interface XmlNode {
  name: string;
  ds: boolean;
  attrs: [string, string][];
  children: (XmlNode | string)[];
}

const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom("SigningData", "#SigningData", "http://www.w3.org/2000/09/xmldsig#enveloped-signature", "1100000", "0100000010", "", " ", "\n", "Hóa đơn & <thuế>", "9".repeat(30)),
);

/** Random trees of invoice-like elements (at most ~6 levels), with XMLDSig elements mixed in. */
export const xmlTree: fc.Arbitrary<XmlNode> = fc.letrec<{ node: XmlNode }>((tie) => ({
  node: fc.record({
    name: fc.oneof(fc.constantFrom(...NAMES), fc.constantFrom(...DS_NAMES)),
    ds: fc.boolean(),
    attrs: fc.array(fc.tuple(fc.constantFrom(...ATTRS), text), { maxLength: 3 }),
    children: fc.array(fc.oneof({ depthSize: "small", withCrossShrink: true }, text, tie("node")), { maxLength: 4 }),
  }),
})).node;

const escapeText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const escapeAttr = (s: string) => escapeText(s).replace(/"/g, "&quot;");

/** Serializes a random tree under an HDon root (escaping text, deduplicating attribute names). */
export function serializeTree(root: XmlNode): string {
  const write = (n: XmlNode, nsDeclared: boolean): string => {
    const declare = n.ds && !nsDeclared;
    const seen = new Set<string>();
    const attrs = n.attrs.filter(([k]) => !seen.has(k) && seen.add(k)).map(([k, v]) => ` ${k}="${escapeAttr(v)}"`);
    if (n.name.includes(":")) attrs.push(` xmlns:${n.name.split(":")[0]}="urn:x"`);
    if (declare) attrs.push(' xmlns="http://www.w3.org/2000/09/xmldsig#"');
    const inner = n.children.map((c) => (typeof c === "string" ? escapeText(c) : write(c, nsDeclared || declare))).join("");
    return `<${n.name}${attrs.join("")}>${inner}</${n.name}>`;
  };
  return `<HDon>${write(root, false)}</HDon>`;
}
