// @ts-check
/**
 * A seller's signed invoice (HDon with its XMLDSig signature in DSCKS/NBan), built and signed
 * with WebCrypto only: a plain ES module that k6 (`crypto.subtle`, no Buffer, no TextEncoder)
 * and Node (`globalThis.crypto.subtle`) both import. No Node API and no k6 module is used.
 *
 * The XML is written in canonical form (C14N 1.0: no empty-element tags, attributes in order,
 * only &amp; &lt; &gt; escaped in text), so the digest is taken over the very bytes built and no
 * canonicalizer is needed: DLHDon's DigestValue is SHA-256 of the DLHDon text as written, and
 * the SignatureValue signs SignedInfo as written plus the xmlns it inherits from Signature.
 * The signature follows the profile of invoice-format.md §4: one Reference to #<DLHDon Id> with
 * enveloped-signature + C14N, rsa-sha256 or ecdsa-sha256, KeyInfo/X509Data/X509Certificate.
 */

const DSIG_NS = "http://www.w3.org/2000/09/xmldsig#";
const C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const SHA256_URI = "http://www.w3.org/2001/04/xmlenc#sha256";
const RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";

// ------------------------------------------------------------------ encodings

/**
 * UTF-8 bytes of a string (k6 has no TextEncoder). Lone surrogates become U+FFFD.
 * @param {string} s
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function utf8(s) {
  const out = new Uint8Array(s.length * 3);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        out[n++] = 0xf0 | (cp >> 18);
        out[n++] = 0x80 | ((cp >> 12) & 0x3f);
        out[n++] = 0x80 | ((cp >> 6) & 0x3f);
        out[n++] = 0x80 | (cp & 0x3f);
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return out.slice(0, n);
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Standard base64 with padding.
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function base64(bytes) {
  let s = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    s += B64.charAt(v >> 18) + B64.charAt((v >> 12) & 63) + B64.charAt((v >> 6) & 63) + B64.charAt(v & 63);
  }
  if (i < bytes.length) {
    const v = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8);
    s += B64.charAt(v >> 18) + B64.charAt((v >> 12) & 63) + (i + 1 < bytes.length ? B64.charAt((v >> 6) & 63) : "=") + "=";
  }
  return s;
}

/**
 * Decodes standard base64 (whitespace ignored).
 * @param {string} s
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function fromBase64(s) {
  const clean = s.replace(/[^A-Za-z0-9+/]/g, "");
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < clean.length; i++) {
    acc = ((acc << 6) | B64.indexOf(clean.charAt(i))) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.slice(0, n);
}

/**
 * The base64 body of the first PEM block of `pem` (certificate or PKCS#8 key).
 * @param {string} pem
 * @returns {string}
 */
export function pemBody(pem) {
  const m = /-----BEGIN [A-Z ]+-----([\s\S]*?)-----END [A-Z ]+-----/.exec(pem);
  if (!m) throw new Error("not PEM");
  return (m[1] ?? "").replace(/\s+/g, "");
}

// ------------------------------------------------------------------ keys

/**
 * @typedef {object} SellerKey
 * @property {"rsa" | "ec"} kind
 * @property {CryptoKey} privateKey
 * @property {string} certBase64 the signer's certificate (DER, base64)
 */

/**
 * Imports a seller's PKCS#8 PEM key and its certificate for signing.
 * @param {SubtleCrypto} subtle `crypto.subtle` of k6 or Node
 * @param {string} keyPem
 * @param {string} certPem
 * @param {"rsa" | "ec"} kind
 * @returns {Promise<SellerKey>}
 */
export async function importSellerKey(subtle, keyPem, certPem, kind) {
  const der = fromBase64(pemBody(keyPem));
  const algorithm = kind === "rsa" ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } : { name: "ECDSA", namedCurve: "P-256" };
  const privateKey = await subtle.importKey("pkcs8", der, algorithm, false, ["sign"]);
  return { kind, privateKey, certBase64: pemBody(certPem) };
}

// ------------------------------------------------------------------ the invoice

/** Canonical text: only &, <, > escaped (C14N 1.0 §2.3; CR never occurs here). */
const text = (/** @type {string | number} */ s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const el = (/** @type {string} */ name, /** @type {string | number} */ value) => `<${name}>${text(value)}</${name}>`;

/** Today's date in GMT+7 (NLap is judged against the day of receipt there). */
export function todayGmt7(now = new Date()) {
  return new Date(now.getTime() + 7 * 3600_000).toISOString().slice(0, 10);
}

/**
 * @typedef {object} InvoiceParams
 * @property {string} sellerTaxCode NBan/MST: must be the certificate's UID
 * @property {string} [sellerName]
 * @property {string} [buyerTaxCode] a valid MST (default 0310000024)
 * @property {string} [symbol] KHHDon, e.g. "C26TAA" (default C<yy>TAA from the issue date)
 * @property {number} number SHDon, 1 … 99,999,999
 * @property {string} [issueDate] NLap, YYYY-MM-DD (default: today in GMT+7)
 * @property {number} [lines] number of goods lines (default 32: DLHDon about 9.5 KB, the signed invoice about 11.5 KB)
 * @property {number} [seed] varies the amounts (default: the number)
 */

/**
 * The DLHDon element in canonical form, and its totals. Amounts are whole đồng; VAT 8% and 10%
 * groups rounded half up, as invoice-format.md §3.3 computes them.
 * @param {InvoiceParams} p
 * @returns {{ dlhdon: string, totalPayable: number }}
 */
export function buildDlhdon(p) {
  return dlhdonWith(p, String(p.number));
}

/**
 * buildDlhdon with SHDon's text given apart (invoiceFactory writes a placeholder there).
 * @param {InvoiceParams} p
 * @param {string} numberText
 * @returns {{ dlhdon: string, totalPayable: number }}
 */
function dlhdonWith(p, numberText) {
  const issueDate = p.issueDate ?? todayGmt7();
  const symbol = p.symbol ?? `C${issueDate.slice(2, 4)}TAA`;
  const n = p.lines ?? 32;
  const seed = p.seed ?? p.number;
  /** @type {Record<string, number>} */
  const base = {};
  let items = "";
  for (let i = 0; i < n; i++) {
    const rate = i % 3 === 0 ? "8%" : "10%";
    const quantity = 1 + ((seed + i) % 7);
    const unitPrice = 125_000 + ((seed * 31 + i * 1000) % 500_000);
    const amount = quantity * unitPrice;
    base[rate] = (base[rate] ?? 0) + amount;
    items +=
      "<HHDVu>" +
      el("TChat", 1) +
      el("STT", i + 1) +
      el("THHDVu", `Mặt hàng số ${i + 1} — linh kiện điện tử & phụ kiện <loại A>`) +
      el("DVTinh", "Cái") +
      el("SLuong", quantity) +
      el("DGia", unitPrice) +
      el("ThTien", amount) +
      el("TSuat", rate) +
      "</HHDVu>";
  }
  let before = 0;
  let vat = 0;
  let groups = "";
  for (const [rate, amount] of Object.entries(base)) {
    const percent = Number(rate.slice(0, -1));
    const tax = Math.floor((amount * percent + 50) / 100);
    before += amount;
    vat += tax;
    groups += "<LTSuat>" + el("TSuat", rate) + el("ThTien", amount) + el("TThue", tax) + "</LTSuat>";
  }
  const total = before + vat;
  const dlhdon =
    '<DLHDon Id="SigningData">' +
    "<TTChung>" +
    el("PBan", "2.0.0") +
    el("THDon", "Hóa đơn giá trị gia tăng") +
    el("KHMSHDon", "1") +
    el("KHHDon", symbol) +
    el("SHDon", numberText) +
    el("NLap", issueDate) +
    el("DVTTe", "VND") +
    el("TGia", "1") +
    el("HTTToan", "Tiền mặt/Chuyển khoản") +
    "</TTChung>" +
    "<NDHDon>" +
    "<NBan>" +
    el("Ten", p.sellerName ?? `Công ty TNHH Thử tải ${p.sellerTaxCode}`) +
    el("MST", p.sellerTaxCode) +
    el("DChi", "Số 1 Đường Thử Nghiệm, Phường Dịch Vọng Hậu, Quận Cầu Giấy, Hà Nội") +
    "</NBan>" +
    "<NMua>" +
    el("Ten", "Công ty Cổ phần Thử nghiệm Hóa đơn Sài Gòn") +
    el("MST", p.buyerTaxCode ?? "0310000024") +
    el("DChi", "Số 2 Đường Kiểm Thử, Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh") +
    "</NMua>" +
    `<DSHHDVu>${items}</DSHHDVu>` +
    "<TToan>" +
    `<THTTLTSuat>${groups}</THTTLTSuat>` +
    el("TgTCThue", before) +
    el("TgTThue", vat) +
    el("TTCKTMai", 0) +
    el("TgTTTBSo", total) +
    el("TgTTTBChu", "Số tiền viết bằng chữ (hóa đơn thử tải)") +
    "</TToan>" +
    "</NDHDon>" +
    "</DLHDon>";
  return { dlhdon, totalPayable: total };
}

/**
 * SignedInfo's content in canonical form around its DigestValue.
 * @param {"rsa" | "ec"} kind
 */
function signedInfoParts(kind) {
  const method = kind === "rsa" ? RSA_SHA256 : ECDSA_SHA256;
  return [
    `<CanonicalizationMethod Algorithm="${C14N}"></CanonicalizationMethod>` +
      `<SignatureMethod Algorithm="${method}"></SignatureMethod>` +
      `<Reference URI="#SigningData"><Transforms><Transform Algorithm="${ENVELOPED}"></Transform><Transform Algorithm="${C14N}"></Transform></Transforms>` +
      `<DigestMethod Algorithm="${SHA256_URI}"></DigestMethod><DigestValue>`,
    "</DigestValue></Reference>",
  ];
}

/** WebCrypto's ECDSA signature is r‖s (IEEE P1363), which is what XMLDSig wants. */
const signAlgorithm = (/** @type {"rsa" | "ec"} */ kind) => (kind === "rsa" ? { name: "RSASSA-PKCS1-v1_5" } : { name: "ECDSA", hash: "SHA-256" });

/**
 * A complete seller-signed HDon, ready for POST /v1/invoices.
 * @param {SubtleCrypto} subtle
 * @param {SellerKey} key
 * @param {InvoiceParams} p
 * @returns {Promise<string>}
 */
export async function signedInvoice(subtle, key, p) {
  const { dlhdon } = buildDlhdon(p);
  const digest = base64(new Uint8Array(await subtle.digest("SHA-256", utf8(dlhdon))));
  const [head, tail] = signedInfoParts(key.kind);
  const inner = head + digest + tail;
  // Canonically SignedInfo's start tag carries the xmlns it inherits from Signature.
  const canonicalSignedInfo = `<SignedInfo xmlns="${DSIG_NS}">${inner}</SignedInfo>`;
  const value = base64(new Uint8Array(await subtle.sign(signAlgorithm(key.kind), key.privateKey, utf8(canonicalSignedInfo))));
  return (
    "<HDon>" +
    dlhdon +
    "<DSCKS><NBan>" +
    `<Signature xmlns="${DSIG_NS}"><SignedInfo>${inner}</SignedInfo>` +
    `<SignatureValue>${value}</SignatureValue>` +
    `<KeyInfo><X509Data><X509Certificate>${key.certBase64}</X509Certificate></X509Data></KeyInfo>` +
    "</Signature></NBan></DSCKS></HDon>"
  );
}

const b64Length = (/** @type {number} */ n) => 4 * Math.ceil(n / 3);

/**
 * @typedef {object} InvoiceFactory
 * @property {(number: number) => Promise<Uint8Array<ArrayBuffer>>} invoice the signed HDon of
 *   invoice `number` (1 … 99,999,999) as UTF-8 bytes, the whole buffer: post `bytes.buffer`
 */

/**
 * @typedef {object} FactoryNatives what k6 does natively and faster than its JavaScript
 * @property {(s: string) => Uint8Array} [encode] UTF-8 encoder of the fixed parts (default utf8,
 *   which costs k6 ≈ 15 ms for an invoice's 6 KB: once per VU and seller, but per VU)
 * @property {(bytes: Uint8Array<ArrayBuffer>) => string | Promise<string>} [sha256Base64] base64 of
 *   SHA-256 of the whole buffer (default crypto.subtle.digest; k6/crypto's synchronous sha256 costs
 *   k6 a fifth of that)
 * @property {(bytes: Uint8Array<ArrayBuffer>) => string} [base64] base64 of the whole buffer (default base64)
 */

/**
 * The generator of the load tests: signedInvoice's invoices at the cost of one SHA-256 and one
 * signature each. Everything but SHDon is fixed per factory (the amounts are those of `p.seed`,
 * default 1), so the UTF-8 bytes of the invoice around SHDon, the DigestValue and the
 * SignatureValue are encoded once; an invoice is DLHDon's bytes (already canonical) copied with
 * SHDon's digits written in and digested, canonical SignedInfo's bytes with the digest written in
 * and signed, and the whole copied together (the base64 texts are encoded by `natives.encode` too). For the same parameters, `invoice(n)` is byte for
 * byte `signedInvoice(…, { ...p, number: n, seed })` (whose ECDSA signatures differ only by their
 * randomness). k6 runs byte loops slowly (≈ 0.3 µs a byte), so no loop here runs over more than
 * the 44 characters of a digest or the 64 to 256 bytes of a signature.
 * @param {SubtleCrypto} subtle
 * @param {SellerKey} key
 * @param {Omit<InvoiceParams, "number">} p
 * @param {FactoryNatives} [natives]
 * @returns {Promise<InvoiceFactory>}
 */
export async function invoiceFactory(subtle, key, p, natives = {}) {
  const encode = natives.encode ?? utf8;
  const sha256Base64 = natives.sha256Base64 ?? (async (/** @type {Uint8Array<ArrayBuffer>} */ b) => base64(new Uint8Array(await subtle.digest("SHA-256", b))));
  const toBase64 = natives.base64 ?? base64;
  const MARK = "\u0001"; // never in an invoice: a control character XML 1.0 forbids
  const { dlhdon } = dlhdonWith({ ...p, number: 0, seed: p.seed ?? 1 }, MARK);
  const [before, after] = /** @type {[string, string]} */ (dlhdon.split(MARK));
  const [head, tail] = signedInfoParts(key.kind);
  const algorithm = signAlgorithm(key.kind);
  // The signature's length is fixed per key (64 bytes r‖s for P-256, the modulus for RSA).
  const sigLength = b64Length(new Uint8Array(await subtle.sign(algorithm, key.privateKey, new Uint8Array(1))).length);
  const DIGEST = 44; // base64 of 32 bytes
  const hdon = encode("<HDon>");
  const dlA = encode(before);
  const dlB = encode(after);
  const partB = encode(`<DSCKS><NBan><Signature xmlns="${DSIG_NS}"><SignedInfo>` + head);
  const partC = encode(tail + "</SignedInfo><SignatureValue>");
  const partD = encode(`</SignatureValue><KeyInfo><X509Data><X509Certificate>${key.certBase64}</X509Certificate></X509Data></KeyInfo></Signature></NBan></DSCKS></HDon>`);
  const siHead = encode(`<SignedInfo xmlns="${DSIG_NS}">` + head);
  const siTail = encode(tail + "</SignedInfo>");
  const signedInfo = new Uint8Array(siHead.length + DIGEST + siTail.length);
  signedInfo.set(siHead, 0);
  signedInfo.set(siTail, siHead.length + DIGEST);
  return {
    async invoice(number) {
      const digits = encode(String(number));
      const dl = new Uint8Array(dlA.length + digits.length + dlB.length);
      dl.set(dlA, 0);
      dl.set(digits, dlA.length);
      dl.set(dlB, dlA.length + digits.length);
      const digest = encode(await sha256Base64(dl));
      const si = signedInfo.slice(); // a copy per invoice: concurrent calls share the factory
      si.set(digest, siHead.length);
      const sig = encode(toBase64(new Uint8Array(await subtle.sign(algorithm, key.privateKey, si))));
      const out = new Uint8Array(hdon.length + dl.length + partB.length + DIGEST + partC.length + sigLength + partD.length);
      let at = 0;
      out.set(hdon, at);
      out.set(dl, (at += hdon.length));
      out.set(partB, (at += dl.length));
      out.set(digest, (at += partB.length));
      out.set(partC, (at += DIGEST));
      out.set(sig, (at += partC.length));
      out.set(partD, at + sigLength);
      return out;
    },
  };
}

/** The two sellers of certs/ the Node bench registers and signs as (RSA-2048 and P-256). */
export const LOAD_SELLERS = [
  { taxCode: "0100000010", kind: /** @type {const} */ ("rsa"), key: "seller-0100000010-rsa.key", cert: "seller-0100000010-rsa.pem", buyer: "0310000024" },
  { taxCode: "0310000024", kind: /** @type {const} */ ("ec"), key: "seller-0310000024-ec.key", cert: "seller-0310000024-ec.pem", buyer: "0100000010" },
];

/** The sellers k6 signs as: both with P-256 keys (the cheapest signature for the generator). */
export const K6_SELLERS = [
  { taxCode: "0100000010", kind: /** @type {const} */ ("ec"), key: "seller-0100000010-ec.key", cert: "seller-0100000010-ec.pem", buyer: "0310000024" },
  { taxCode: "0310000024", kind: /** @type {const} */ ("ec"), key: "seller-0310000024-ec.key", cert: "seller-0310000024-ec.pem", buyer: "0100000010" },
];

/**
 * A symbol for one run (C<yy><letter><two letters>): invoices of different runs against one
 * database do not collide on the natural key (form, symbol, number) while numbers restart at 1.
 * @param {number} random a number in [0, 1)
 * @param {string} [issueDate]
 */
export function runSymbol(random, issueDate = todayGmt7()) {
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const kinds = "TDLMNBGHX";
  const r = Math.floor(random * kinds.length * 26 * 26);
  return `C${issueDate.slice(2, 4)}${kinds[r % kinds.length]}${letters[Math.floor(r / kinds.length) % 26]}${letters[Math.floor(r / kinds.length / 26) % 26]}`;
}
