// @ts-check
/**
 * k6: the public lookup GET /v1/verify/{code} at a constant arrival rate (target: ≥ 10,000/s of
 * capacity). setup() registers the sellers and issues CODES invoices (signed here, as in
 * submit.js) whose codes the VUs then look up at random. Public requests are rate-limited per
 * client address: start the service with HOADON_RATE_LIMIT_PUBLIC=0 (no limit) for this test.
 *
 *   k6 run -e BASE_URL=… -e ADMIN_TOKEN=… -e RATE=10000 -e DURATION=2m load-tests/verify.js
 *   DATABASE_URL=… npm run load -- --script load-tests/verify.js --public-rate-limit 0 -- -e RATE=2000
 */
import { check } from "k6";
import http from "k6/http";
import { Counter } from "k6/metrics";
import { runSymbol } from "./lib/invoice.js";
import { durationSeconds, invoiceSource, registerSellers, sellerFiles } from "./lib/k6-setup.js";

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
  discardResponseBodies: true,
  scenarios: {
    verify: { executor: "constant-arrival-rate", rate: RATE, timeUnit: "1s", duration: DURATION, preAllocatedVUs: Math.max(20, Math.ceil(RATE / 50)), maxVUs: Math.max(100, RATE / 5) },
  },
  thresholds: {
    checks: ["rate==1"],
    http_req_failed: ["rate==0"],
    "http_req_duration{name:verify}": ["p(99)<100"],
    dropped_iterations: [`count<=${Math.floor(RATE * durationSeconds(DURATION) * 0.01)}`],
  },
};

/**
 * Issues `count` invoices through POST /v1/invoices and answers their codes (also used by mixed.js).
 * @param {Record<string, string>} keys
 * @param {number} count
 * @param {number} [first] the first invoice number
 */
export async function issueSome(keys, count, first = 1) {
  const source = await invoiceSource(sellers, keys, { symbol: runSymbol(Math.random()), lines: 12, first });
  /** @type {string[]} */
  const codes = [];
  for (let i = 0; i < count; i++) {
    const { body, headers } = await source.next(i);
    const res = http.post(`${BASE_URL}/v1/invoices`, body, { headers, responseType: "text", tags: { name: "setup" } });
    if (res.status === 201) codes.push(/** @type {string} */ (res.json("code")));
    else throw new Error(`setup: POST /v1/invoices ${res.status} ${res.body}`);
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
