// @ts-check
/**
 * k6 only: what submit.js, verify.js and mixed.js share. The sellers of K6_SELLERS (both signing
 * with P-256) are registered through the API (the admin token) in setup(); sellers and
 * certificates that exist already (a second run against the same database) are kept; a new API
 * key is issued on every run. Each VU then builds its invoices with invoiceFactory.
 */
import { fail } from "k6";
import { sha256 } from "k6/crypto";
import encoding from "k6/encoding";
import exec from "k6/execution";
import http from "k6/http";
import { importSellerKey, invoiceFactory, K6_SELLERS } from "./invoice.js";

/**
 * @typedef {(typeof K6_SELLERS)[number] & { keyPem: string, certPem: string }} SellerFiles
 */

/**
 * The PEM files of the sellers, read in the init context (by absolute URL: k6 ≥ 1.x warns that a
 * relative open() will resolve from the calling module instead of the script).
 * @param {(path: string) => string} open k6's open()
 * @returns {SellerFiles[]}
 */
export function sellerFiles(open) {
  const certs = (/** @type {string} */ f) => open(import.meta.resolve(`../../certs/${f}`));
  return K6_SELLERS.map((s) => ({ ...s, keyPem: certs(s.key), certPem: certs(s.cert) }));
}

/**
 * Registers every seller, its certificate and a fresh API key; answers { taxCode: apiKey }.
 * @param {string} baseUrl
 * @param {string} adminToken
 * @param {{ taxCode: string, certPem: string }[]} sellers
 * @returns {Record<string, string>}
 */
export function registerSellers(baseUrl, adminToken, sellers) {
  const auth = { authorization: `Bearer ${adminToken}` };
  // A second run against the same database finds the sellers and certificates there (409): not a
  // failed request. The scripts discard response bodies; the key's is read here.
  const existing = { responseCallback: http.expectedStatuses(201, 409), responseType: /** @type {const} */ ("text"), tags: { name: "setup" } };
  /** @type {Record<string, string>} */
  const keys = {};
  for (const s of sellers) {
    const body = JSON.stringify({ taxCode: s.taxCode, name: `Công ty TNHH Thử tải ${s.taxCode}`, address: "1 Tràng Tiền, Hà Nội", taxOffice: "Cục Thuế TP Hà Nội", province: "Hà Nội" });
    const seller = http.post(`${baseUrl}/v1/sellers`, body, { ...existing, headers: { ...auth, "content-type": "application/json" } });
    if (seller.status !== 201 && seller.status !== 409) fail(`POST /v1/sellers ${s.taxCode}: ${seller.status} ${seller.body}`);
    const cert = http.post(`${baseUrl}/v1/sellers/${s.taxCode}/certificates`, s.certPem, { ...existing, headers: { ...auth, "content-type": "application/x-pem-file" } });
    if (cert.status !== 201 && cert.status !== 409) fail(`POST certificates ${s.taxCode}: ${cert.status} ${cert.body}`);
    const key = http.post(`${baseUrl}/v1/sellers/${s.taxCode}/api-keys`, null, { headers: auth, responseType: "text", tags: { name: "setup" } });
    if (key.status !== 201) fail(`POST api-keys ${s.taxCode}: ${key.status} ${key.body}`);
    keys[s.taxCode] = /** @type {string} */ (key.json("key"));
  }
  return keys;
}

/**
 * UTF-8 bytes of a string, natively: k6's b64encode encodes a string's UTF-8 bytes (a byte loop in
 * k6's JavaScript costs ≈ 2 µs a byte).
 * @param {string} s
 */
export const nativeUtf8 = (s) => new Uint8Array(encoding.b64decode(encoding.b64encode(s, "std"), "std"));

/** @type {import("./invoice.js").FactoryNatives} */
export const K6_NATIVES = { encode: nativeUtf8, sha256Base64: (b) => /** @type {string} */ (sha256(b.buffer, "base64")), base64: (b) => encoding.b64encode(b.buffer, "std") };

/**
 * A VU's invoice source: invoice i of the run (i unique across VUs, e.g. iterationInTest) is
 * seller i mod n's invoice number ⌊i / n⌋ + first under the run's symbol, with its headers.
 * @param {SellerFiles[]} sellers
 * @param {Record<string, string>} apiKeys
 * @param {{ symbol: string, lines: number, first?: number }} o
 */
export async function invoiceSource(sellers, apiKeys, o) {
  const factories = await Promise.all(
    sellers.map(async (s) =>
      invoiceFactory(
        crypto.subtle,
        await importSellerKey(crypto.subtle, s.keyPem, s.certPem, s.kind),
        { sellerTaxCode: s.taxCode, buyerTaxCode: s.buyer, symbol: o.symbol, lines: o.lines },
        K6_NATIVES,
      ),
    ),
  );
  const headers = sellers.map((s) => ({ authorization: `Bearer ${apiKeys[s.taxCode]}`, "content-type": "application/xml" }));
  const n = sellers.length;
  return {
    /** @param {number} i */
    async next(i) {
      const body = await /** @type {import("./invoice.js").InvoiceFactory} */ (factories[i % n]).invoice(Math.floor(i / n) + (o.first ?? 1));
      return { body: body.buffer, headers: /** @type {Record<string, string>} */ (headers[i % n]) };
    },
  };
}

/** The VU's unique invoice index in this test (k6/execution). */
export const iterationInTest = () => exec.scenario.iterationInTest;

/**
 * Seconds of a k6 duration ("1h2m3s" → 3723), for thresholds that count over the run.
 * @param {string} d
 */
export const durationSeconds = (d) => [...d.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)].reduce((t, m) => t + Number(m[1]) * (m[2] === "h" ? 3600 : m[2] === "m" ? 60 : 1), 0);
