// @ts-check
/**
 * k6 only: registration of the load tests' sellers through the API (the admin token), shared by
 * submit.js, verify.js and mixed.js. Sellers and certificates that exist already (a second run
 * against the same database) are kept; a new API key is issued on every run.
 */
import http from "k6/http";
import { fail } from "k6";
import { LOAD_SELLERS } from "./invoice.js";

/**
 * The PEM files of the sellers, read in the init context (open() resolves from the script's directory).
 * @param {(path: string) => string} open k6's open()
 */
export function sellerFiles(open) {
  return LOAD_SELLERS.map((s) => ({ ...s, keyPem: open(`../certs/${s.key}`), certPem: open(`../certs/${s.cert}`) }));
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
  /** @type {Record<string, string>} */
  const keys = {};
  for (const s of sellers) {
    const body = JSON.stringify({ taxCode: s.taxCode, name: `Công ty TNHH Thử tải ${s.taxCode}`, address: "1 Tràng Tiền, Hà Nội", taxOffice: "Cục Thuế TP Hà Nội", province: "Hà Nội" });
    const seller = http.post(`${baseUrl}/v1/sellers`, body, { headers: { ...auth, "content-type": "application/json" } });
    if (seller.status !== 201 && seller.status !== 409) fail(`POST /v1/sellers ${s.taxCode}: ${seller.status} ${seller.body}`);
    const cert = http.post(`${baseUrl}/v1/sellers/${s.taxCode}/certificates`, s.certPem, { headers: { ...auth, "content-type": "application/x-pem-file" } });
    if (cert.status !== 201 && cert.status !== 409) fail(`POST certificates ${s.taxCode}: ${cert.status} ${cert.body}`);
    const key = http.post(`${baseUrl}/v1/sellers/${s.taxCode}/api-keys`, null, { headers: auth });
    if (key.status !== 201) fail(`POST api-keys ${s.taxCode}: ${key.status} ${key.body}`);
    keys[s.taxCode] = /** @type {string} */ (key.json("key"));
  }
  return keys;
}
