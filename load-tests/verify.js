// @ts-check
/**
 * k6: the public lookup GET /v1/verify/{code} at a constant arrival rate (target: ≥ 10,000/s of
 * capacity). setup() registers the sellers and issues CODES invoices (signed here, as in
 * submit.js) whose codes the VUs then look up at random. Public requests are rate-limited per
 * client address: start the service with HOADON_RATE_LIMIT_PUBLIC=0 (no limit) for this test.
 *
 *   k6 run -e BASE_URL=… -e ADMIN_TOKEN=… -e RATE=10000 -e DURATION=2m load-tests/verify.js
 */
import http from "k6/http";
import { check } from "k6";
import { Counter } from "k6/metrics";
import { importSellerKey, runSymbol, signedInvoice } from "./lib/invoice.js";
import { registerSellers, sellerFiles } from "./lib/k6-setup.js";

const BASE_URL = __ENV.BASE_URL ?? "http://127.0.0.1:8080";
const ADMIN_TOKEN = __ENV.ADMIN_TOKEN ?? "";
const RATE = Number(__ENV.RATE ?? 2000);
const DURATION = __ENV.DURATION ?? "1m";
const CODES = Number(__ENV.CODES ?? 500);

const sellers = sellerFiles(open);
const found = new Counter("lookups_found");

/** @type {import("k6/options").Options} */
export const options = {
  setupTimeout: "10m",
  scenarios: {
    verify: { executor: "constant-arrival-rate", rate: RATE, timeUnit: "1s", duration: DURATION, preAllocatedVUs: Math.max(20, Math.ceil(RATE / 50)), maxVUs: Math.max(100, RATE / 5) },
  },
  thresholds: {
    http_req_failed: ["rate<0.001"],
    "http_req_duration{name:verify}": ["p(99)<100"],
    lookups_found: [`rate>=${RATE * 0.99}`],
  },
};

/**
 * Issues `count` invoices through POST /v1/invoices and answers their codes (also used by mixed.js).
 * @param {Record<string, string>} keys
 * @param {number} count
 */
export async function issueSome(keys, count) {
  const symbol = runSymbol(Math.random());
  const signing = await Promise.all(sellers.map((s) => importSellerKey(crypto.subtle, s.keyPem, s.certPem, s.kind)));
  /** @type {string[]} */
  const codes = [];
  for (let i = 0; i < count; i++) {
    const s = sellers[i % sellers.length];
    const key = signing[i % sellers.length];
    if (!s || !key) continue;
    const xml = await signedInvoice(crypto.subtle, key, { sellerTaxCode: s.taxCode, buyerTaxCode: s.buyer, symbol, number: Math.floor(i / sellers.length) + 1 });
    const res = http.post(`${BASE_URL}/v1/invoices`, xml, { headers: { authorization: `Bearer ${keys[s.taxCode]}`, "content-type": "application/xml" } });
    if (res.status === 201) codes.push(/** @type {string} */ (res.json("code")));
  }
  return codes;
}

export async function setup() {
  if (!ADMIN_TOKEN) throw new Error("ADMIN_TOKEN is required");
  const keys = registerSellers(BASE_URL, ADMIN_TOKEN, sellers);
  return { codes: await issueSome(keys, CODES) };
}

/** @param {{ codes: string[] }} data */
export default function (data) {
  const code = data.codes[Math.floor(Math.random() * data.codes.length)];
  const res = http.get(`${BASE_URL}/v1/verify/${code}`, { tags: { name: "verify" } });
  if (res.status === 200) found.add(1);
  check(res, { "200 found": (r) => r.status === 200 });
}
