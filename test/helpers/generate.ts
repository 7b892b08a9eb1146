/**
 * A generator of varied valid invoices for the differential tests, reproducible from a seed:
 * RSA and EC keys, every allowed signature and digest algorithm, inclusive and exclusive C14N,
 * with and without the SigningTime Reference, the `ds:` prefix or the default namespace,
 * whitespace and line ends outside and inside DLHDon, unused namespace declarations on HDon
 * (inclusive C14N carries them into the digest, exclusive does not), Vietnamese text in NFC and
 * NFD, astral characters and every character that needs escaping. Each case is signed by the
 * project's signer (xml-crypto) or, in the interop suite, by xmlsec1.
 *
 * Mutations then derive copies from each signed case: some keep the canonical form (quote
 * style, empty-element form, character references, whitespace inside tags or outside the signed
 * data, CRLF), so every verifier must still accept them; the others change signed octets, so
 * every verifier must refuse them.
 */
import { buildInvoice, type InvoiceLine, type TaxRate } from "./invoice.js";
import type { SignOptions } from "./sign.js";

/** A small, fast, seedable PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const chance = (r: Rand, p: number) => r() < p;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

export interface SigningKey {
  name: string;
  type: "rsa" | "ec";
  taxCode: string;
  keyPem: string;
  certPem: string;
}

export interface Variant {
  key: string;
  algorithm: string;
  digest: string;
  c14n: "inclusive" | "exclusive";
  signingTime: boolean;
  prefix: "ds" | null;
  whitespaceInside: boolean;
  whitespaceOutside: boolean;
  crlf: boolean;
  rootNamespaces: boolean;
  dlhdonId: string;
  /** xml:lang / xml:space on HDon: C14N 1.0 carries them into DLHDon's and SignedInfo's canonical form. */
  xmlAttributes: boolean;
  /** Namespace declarations nested inside DLHDon (a prefix redeclared, xmlns=""). */
  nestedNamespaces: boolean;
}

export interface UnsignedCase {
  index: number;
  unsigned: string;
  key: SigningKey;
  sign: SignOptions;
  variant: Variant;
}

const DIGESTS = {
  sha256: "http://www.w3.org/2001/04/xmlenc#sha256",
  sha384: "http://www.w3.org/2001/04/xmldsig-more#sha384",
  sha512: "http://www.w3.org/2001/04/xmlenc#sha512",
  sha1: "http://www.w3.org/2000/09/xmldsig#sha1",
} as const;

const NAMES = [
  "Công ty TNHH Một thành viên Thương mại & Dịch vụ \"Ánh Dương\"",
  "Cửa hàng <Bình An> — bán lẻ",
  "Hợp tác xã Nông nghiệp Đồng Tháp 'Sen Hồng'",
  "Nguyễn Thị Ngọc Ánh",
  "Trần Văn Đức & Cộng sự",
  "Doanh nghiệp tư nhân Hưng Thịnh 💼",
  "Ngân hàng TMCP Ngoại thương Việt Nam".normalize("NFD"),
  "Tab\there and a > sign",
  "Trường Mầm non Hoa Sữa ]] > [[ 1 < 2",
];
const ITEMS = ["Phần mềm kế toán", "Dịch vụ tư vấn thuế", "Gạo ST25 (túi 5kg)", "Cà phê Buôn Ma Thuột", "Phí vận chuyển & bốc xếp", "Bánh chưng <Tết>", "Nước mắm Phú Quốc 40°N", "Ổ cứng SSD 1TB", "Điện thoại 📱"];
const UNITS = ["Cái", "Gói", "Kg", "Chiếc", "Giờ", "Bộ", "Lít"];
const RATES: TaxRate[] = ["0%", "5%", "8%", "10%", "KCT", "KKKNT", "KHAC:5.26"];
const IDS = ["SigningData", "DuLieuKy", "data", "HD-0001", "_x.y-z", "dữLiệu"];

/** Algorithms a key of this type can make, as the signer's short names. */
function algorithmsFor(type: "rsa" | "ec"): string[] {
  return type === "rsa" ? ["rsa-sha256", "rsa-sha256", "rsa-sha384", "rsa-sha512", "rsa-sha1"] : ["ecdsa-sha256", "ecdsa-sha256", "ecdsa-sha384", "ecdsa-sha512"];
}

/** Random whitespace that XML treats as whitespace (never NBSP or other Unicode spaces). */
function ws(r: Rand): string {
  return pick(r, ["\n", "\n  ", "\n\t", " ", "\n    ", "\r\n  "]);
}

/** Inserts whitespace text between elements: between every tag pair inside DLHDon, outside it, or both. */
function spread(xml: string, r: Rand, inside: boolean, outside: boolean): string {
  const start = xml.indexOf("<DLHDon ");
  const end = xml.indexOf("</DLHDon>") + "</DLHDon>".length;
  const pad = (s: string) => s.replace(/></g, () => `>${ws(r)}<`);
  const head = xml.slice(0, start);
  const body = xml.slice(start, end);
  const tail = xml.slice(end);
  return (outside ? pad(head) : head) + (inside ? pad(body) : body) + (outside ? pad(tail) : tail);
}

/** Makes the unsigned case `index` (deterministic for a given seed and index). */
export function generateCase(seed: number, index: number, keys: readonly SigningKey[]): UnsignedCase {
  const r = prng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const key = pick(r, keys);
  const algorithm = pick(r, algorithmsFor(key.type));
  const hash = algorithm.split("-")[1] as keyof typeof DIGESTS;
  const digest = hash === "sha1" ? DIGESTS.sha1 : chance(r, 0.8) ? DIGESTS[hash] : pick(r, [DIGESTS.sha256, DIGESTS.sha512]);
  const variant: Variant = {
    key: key.name,
    algorithm,
    digest,
    c14n: chance(r, 0.5) ? "inclusive" : "exclusive",
    signingTime: chance(r, 0.6),
    prefix: chance(r, 0.5) ? "ds" : null,
    whitespaceInside: chance(r, 0.35),
    whitespaceOutside: chance(r, 0.35),
    crlf: chance(r, 0.25),
    rootNamespaces: chance(r, 0.25),
    dlhdonId: pick(r, IDS),
    xmlAttributes: chance(r, 0.2),
    nestedNamespaces: chance(r, 0.2),
  };
  const lines: InvoiceLine[] = Array.from({ length: int(r, 1, 6) }, () => ({
    name: pick(r, ITEMS),
    unit: pick(r, UNITS),
    quantity: chance(r, 0.2) ? `${int(r, 1, 99)}.${int(r, 1, 999)}` : int(r, 1, 50),
    unitPrice: chance(r, 0.2) ? `${int(r, 1000, 99_999)}.5` : int(r, 1, 20) * 10_000,
    taxRate: pick(r, RATES),
  }));
  // Whole-đồng line amounts keep the VND totals whole (the rules need that; the verifiers do not care).
  for (const l of lines) if (typeof l.quantity === "string" || typeof l.unitPrice === "string") l.amount = String(int(r, 1, 9_999) * 1000);
  const buyer = chance(r, 0.3) ? null : { taxCode: chance(r, 0.7) ? "0310000024" : undefined, name: pick(r, NAMES), address: pick(r, ["Hà Nội", "TP. Hồ Chí Minh", "Đà Nẵng & Huế", "Cần Thơ <miền Tây>"]) };
  let unsigned = buildInvoice({
    sellerTaxCode: key.taxCode,
    sellerName: pick(r, NAMES),
    number: 1 + index,
    issueDate: "2026-11-20",
    buyer: buyer === null ? null : { name: buyer.name, address: buyer.address, ...(buyer.taxCode ? { taxCode: buyer.taxCode } : {}) },
    lines,
    dlhdonId: variant.dlhdonId,
    declaration: chance(r, 0.5),
  });
  if (variant.rootNamespaces) unsigned = unsigned.replace("<HDon>", `<HDon xmlns:x="urn:example:x" xmlns:ds2="http://www.w3.org/2000/09/xmldsig#">`);
  if (variant.xmlAttributes) unsigned = unsigned.replace(/<HDon(?=[\s>])/, pick(r, [`<HDon xml:lang="vi"`, `<HDon xml:space="preserve" xml:lang="vi-VN"`]));
  if (variant.nestedNamespaces) {
    unsigned = unsigned.replace("<NDHDon>", `<NDHDon xmlns:y="urn:example:y" xmlns:z="urn:example:z">`).replace("<NBan>", `<NBan xmlns:y="urn:example:y2" xmlns="">`);
  }
  unsigned = spread(unsigned, r, variant.whitespaceInside, variant.whitespaceOutside);
  const sign: SignOptions = {
    keyPem: key.keyPem,
    certPem: key.certPem,
    algorithm,
    digest,
    c14n: variant.c14n,
    signingTime: variant.signingTime ? `2026-11-20T${String(int(r, 7, 18)).padStart(2, "0")}:${String(int(r, 0, 59)).padStart(2, "0")}:00` : null,
    prefix: variant.prefix,
  };
  return { index, unsigned, key, sign, variant };
}

/** The line ends of a signed case as sent: CRLF when the variant says so (XML reads CRLF as LF). */
export function finish(signed: string, variant: Variant): string {
  return variant.crlf ? signed.replace(/\r?\n/g, "\r\n") : signed;
}

export interface Mutation {
  name: string;
  /** Whether the mutation keeps every signed octet (all verifiers must accept) or changes one (all must refuse). */
  keepsSignature: boolean;
  apply: (xml: string, r: Rand) => string | null;
}

const inside = (xml: string) => [xml.indexOf("<DLHDon "), xml.indexOf("</DLHDon>")] as const;

/** Replaces the `n`-th match (chosen at random) of `re` in `xml` through `fn`; null when nothing matches. */
function replaceOne(xml: string, re: RegExp, r: Rand, fn: (m: RegExpExecArray) => string, from = 0, to = xml.length): string | null {
  const g = new RegExp(re.source, re.flags.includes("g") ? re.flags : re.flags + "g");
  const found: RegExpExecArray[] = [];
  for (let m = g.exec(xml); m; m = g.exec(xml)) {
    if (m.index >= from && m.index < to) found.push(m);
    if (m[0].length === 0) g.lastIndex++;
  }
  if (!found.length) return null;
  const m = pick(r, found);
  return xml.slice(0, m.index) + fn(m) + xml.slice(m.index + m[0].length);
}

const flipBase64 = (c: string) => (c === "A" ? "B" : "A");

export const MUTATIONS: readonly Mutation[] = [
  // Canonical form unchanged: every verifier must still accept.
  { name: "single quotes around the DLHDon Id", keepsSignature: true, apply: (x) => x.replace(/<DLHDon Id="([^"]*)"/, "<DLHDon Id='$1'") },
  {
    name: "an empty SignedInfo element written as a start-end pair",
    keepsSignature: true,
    apply: (x, r) => replaceOne(x, /<((?:ds:)?(?:CanonicalizationMethod|SignatureMethod|DigestMethod|Transform)) ([^>]*)\/>/, r, (m) => `<${m[1]} ${m[2]}></${m[1]}>`),
  },
  {
    name: "a character of signed text written as a character reference",
    keepsSignature: true,
    apply: (x, r) => {
      const [a, b] = inside(x);
      return replaceOne(x, />[^<&\s]*([^<&\s\x00-\x7f])/u, r, (m) => m[0].slice(0, -m[1]!.length) + `&#x${m[1]!.codePointAt(0)!.toString(16).toUpperCase()};`, a, b);
    },
  },
  { name: "whitespace inside start and end tags", keepsSignature: true, apply: (x, r) => replaceOne(x, /<(\/?)(TTChung|NDHDon|NBan|TToan|DSHHDVu)>/, r, (m) => `<${m[1]}${m[2]}${pick(r, [" ", "\n", "\t "])}>`) },
  { name: "CRLF line ends everywhere", keepsSignature: true, apply: (x) => (x.includes("\n") ? x.replace(/\r?\n/g, "\r\n") : null) },
  { name: "whitespace between HDon's children (outside the signed data)", keepsSignature: true, apply: (x) => x.replace("</DLHDon>", "</DLHDon>\n  \t") },
  { name: "&gt; in signed text written as a literal '>'", keepsSignature: true, apply: (x, r) => { const [a, b] = inside(x); return replaceOne(x, /&gt;/, r, () => ">", a, b); } },
  { name: "&quot; in signed text written as a literal '\"'", keepsSignature: true, apply: (x, r) => { const [a, b] = inside(x); return replaceOne(x, /&quot;/, r, () => '"', a, b); } },
  {
    name: "a signed text written as a CDATA section",
    keepsSignature: true,
    apply: (x, r) => {
      const [a, b] = inside(x);
      return replaceOne(x, /<(Ten|THDon|THHDVu|DChi|HTTToan)>([^<]+)<\/\1>/, r, (m) => {
        const raw = m[2]!
          .replace(/&#x([0-9a-fA-F]+);/g, (_e, h: string) => String.fromCodePoint(parseInt(h, 16)))
          .replace(/&#([0-9]+);/g, (_e, d: string) => String.fromCodePoint(Number(d)))
          .replace(/&lt;/g, "<")
          .replace(/&gt;/g, ">")
          .replace(/&quot;/g, '"')
          .replace(/&apos;/g, "'")
          .replace(/&amp;/g, "&");
        return raw.includes("]]>") ? m[0] : `<${m[1]}><![CDATA[${raw}]]></${m[1]}>`;
      }, a, b);
    },
  },
  // Signed octets changed: every verifier must refuse.
  { name: "a digit of a signed amount changed", keepsSignature: false, apply: (x, r) => replaceOne(x, /<(TgTTTBSo|ThTien|DGia)>(\d)/, r, (m) => `<${m[1]}>${(Number(m[2]) + 1) % 10}`) },
  { name: "a letter of a signed name changed", keepsSignature: false, apply: (x, r) => { const [a, b] = inside(x); return replaceOne(x, /<Ten>(.)/, r, (m) => `<Ten>${m[1] === "X" ? "Y" : "X"}`, a, b); } },
  { name: "a DigestValue character flipped", keepsSignature: false, apply: (x, r) => replaceOne(x, /<((?:ds:)?DigestValue)>(.)/, r, (m) => `<${m[1]}>${flipBase64(m[2]!)}`) },
  { name: "a SignatureValue character flipped", keepsSignature: false, apply: (x, r) => replaceOne(x, /<((?:ds:)?SignatureValue)>(\s*)(.)/, r, (m) => `<${m[1]}>${m[2]}${flipBase64(m[3]!)}`) },
  {
    name: "the SigningTime changed",
    keepsSignature: false,
    apply: (x) => (/<(?:ds:)?SigningTime>/.test(x) ? x.replace(/(<(?:ds:)?SigningTime>\d{4}-\d{2}-\d)(\d)/, (_m, p: string, d: string) => `${p}${(Number(d) + 1) % 10}`) : null),
  },
  {
    name: "xml:space added to HDon after signing (inclusive C14N carries it into the signed data)",
    keepsSignature: false,
    apply: (x) => (x.includes("xml-exc-c14n") || /<HDon[^>]*xml:space/.test(x) ? null : x.replace(/<HDon(?=[\s>])/, `<HDon xml:space="preserve"`)),
  },
  { name: "an attribute added to DLHDon", keepsSignature: false, apply: (x) => x.replace(/<DLHDon /, '<DLHDon a="1" ') },
  { name: "whitespace added between elements inside DLHDon", keepsSignature: false, apply: (x, r) => { const [a, b] = inside(x); return replaceOne(x, /<\/(Ten|MST|DChi|SHDon)></, r, (m) => `</${m[1]}> <`, a, b); } },
  {
    name: "the DLHDon Id and the Reference URI renamed together",
    keepsSignature: false,
    apply: (x) => {
      const m = /<DLHDon Id="([^"]*)"/.exec(x);
      return m ? x.replace(`Id="${m[1]}"`, `Id="${m[1]}2"`).replace(`URI="#${m[1]}"`, `URI="#${m[1]}2"`) : null;
    },
  },
  {
    name: "an escaped character in signed text unescaped differently (&amp; → &#38;amp;)",
    keepsSignature: false,
    apply: (x) => {
      const [a, b] = inside(x);
      const i = x.indexOf("&amp;", a);
      return i === -1 || i > b ? null : x.slice(0, i) + "&#38;amp;" + x.slice(i + 5);
    },
  },
];

/**
 * `n` mutations for a case: one that keeps the signature and one that breaks it first (with
 * n = 1, `keepFirst` says which), then any.
 */
export function mutationsFor(r: Rand, n: number, keepFirst = true): Mutation[] {
  const keep = MUTATIONS.filter((m) => m.keepsSignature);
  const brk = MUTATIONS.filter((m) => !m.keepsSignature);
  const firsts = keepFirst ? [pick(r, keep), pick(r, brk)] : [pick(r, brk), pick(r, keep)];
  const chosen = new Set<Mutation>(firsts.slice(0, Math.max(1, Math.min(2, n))));
  while (chosen.size < Math.min(n, MUTATIONS.length)) chosen.add(pick(r, MUTATIONS));
  return [...chosen];
}

