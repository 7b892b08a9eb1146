// @ts-check
/**
 * k6: a day's traffic at once: submissions (as submit.js) with public verifications, officers'
 * searches (GET /v1/invoices) and reports (GET /v1/reports/totals), each at its own constant
 * arrival rate. Start the service with HOADON_RATE_LIMIT_PUBLIC=0 to let the verifications in.
 *
 *   k6 run -e BASE_URL=… -e ADMIN_TOKEN=… -e RATE=800 -e DURATION=10m load-tests/mixed.js
 *
 * RATE is the submission rate; verifications run at 4 × RATE, searches at RATE / 20, reports at 1/s.
 */
import http from "k6/http";
import { check } from "k6";
import exec from "k6/execution";
import { Counter } from "k6/metrics";
import { importSellerKey, runSymbol, signedInvoice, todayGmt7 } from "./lib/invoice.js";
import { registerSellers, sellerFiles } from "./lib/k6-setup.js";

const BASE_URL = __ENV.BASE_URL ?? "http://127.0.0.1:8080";
const ADMIN_TOKEN = __ENV.ADMIN_TOKEN ?? "";
const RATE = Number(__ENV.RATE ?? 200);
const DURATION = __ENV.DURATION ?? "1m";

const sellers = sellerFiles(open);
const issued = new Counter("invoices_issued");

/** @param {number} rate @param {string} fn */
const scenario = (rate, fn) => ({
  executor: /** @type {const} */ ("constant-arrival-rate"),
  exec: fn,
  rate: Math.max(1, Math.round(rate)),
  timeUnit: "1s",
  duration: DURATION,
  preAllocatedVUs: Math.max(5, Math.ceil(rate / 10)),
  maxVUs: Math.max(50, Math.ceil(rate)),
});

/** @type {import("k6/options").Options} */
export const options = {
  setupTimeout: "10m",
  scenarios: {
    submit: scenario(RATE, "submit"),
    verify: scenario(RATE * 4, "verify"),
    search: scenario(RATE / 20, "search"),
    report: scenario(1, "report"),
  },
  thresholds: {
    http_req_failed: ["rate<0.001"],
    "http_req_duration{name:submit}": ["p(99)<100"],
    "http_req_duration{name:verify}": ["p(99)<100"],
    "http_req_duration{name:search}": ["p(99)<300"],
    "http_req_duration{name:report}": ["p(99)<1000"],
    invoices_issued: [`rate>=${RATE * 0.99}`],
  },
};

export async function setup() {
  if (!ADMIN_TOKEN) throw new Error("ADMIN_TOKEN is required");
  const keys = registerSellers(BASE_URL, ADMIN_TOKEN, sellers);
  const symbol = runSymbol(Math.random());
  // A few invoices to look up from the first second on; the submissions then add theirs.
  const signing = await Promise.all(sellers.map((s) => importSellerKey(crypto.subtle, s.keyPem, s.certPem, s.kind)));
  /** @type {string[]} */
  const codes = [];
  for (let i = 0; i < 100; i++) {
    const s = sellers[i % sellers.length];
    const key = signing[i % sellers.length];
    if (!s || !key) continue;
    const xml = await signedInvoice(crypto.subtle, key, { sellerTaxCode: s.taxCode, buyerTaxCode: s.buyer, symbol, number: 90_000_000 + i });
    const res = http.post(`${BASE_URL}/v1/invoices`, xml, { headers: { authorization: `Bearer ${keys[s.taxCode]}`, "content-type": "application/xml" } });
    if (res.status === 201) codes.push(/** @type {string} */ (res.json("code")));
  }
  const officer = http.post(`${BASE_URL}/v1/officers`, JSON.stringify({ name: "Thử tải" }), { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" } });
  return { keys, symbol, codes, officer: /** @type {string} */ (officer.json("token")) };
}

/** @type {import("./lib/invoice.js").SellerKey[] | null} */
let signing = null;

/** @param {{ keys: Record<string, string>, symbol: string }} data */
export async function submit(data) {
  signing ??= await Promise.all(sellers.map((s) => importSellerKey(crypto.subtle, s.keyPem, s.certPem, s.kind)));
  const i = exec.scenario.iterationInTest;
  const s = sellers[i % sellers.length];
  const key = signing[i % sellers.length];
  if (!s || !key) return;
  const xml = await signedInvoice(crypto.subtle, key, { sellerTaxCode: s.taxCode, buyerTaxCode: s.buyer, symbol: data.symbol, number: Math.floor(i / sellers.length) + 1 });
  const res = http.post(`${BASE_URL}/v1/invoices`, xml, { headers: { authorization: `Bearer ${data.keys[s.taxCode]}`, "content-type": "application/xml" }, tags: { name: "submit" }, responseType: "none" });
  if (res.status === 201) issued.add(1);
  check(res, { "submit 201": (r) => r.status === 201 });
}

/** @param {{ codes: string[] }} data */
export function verify(data) {
  const code = data.codes[Math.floor(Math.random() * data.codes.length)];
  const res = http.get(`${BASE_URL}/v1/verify/${code}`, { tags: { name: "verify" } });
  check(res, { "verify 200": (r) => r.status === 200 });
}

/** @param {{ officer: string }} data */
export function search(data) {
  const s = sellers[Math.floor(Math.random() * sellers.length)];
  const today = todayGmt7();
  const res = http.get(`${BASE_URL}/v1/invoices?seller=${s?.taxCode}&from=${today}&to=${today}&limit=50`, { headers: { authorization: `Bearer ${data.officer}` }, tags: { name: "search" } });
  check(res, { "search 200": (r) => r.status === 200 });
}

/** @param {{ officer: string }} data */
export function report(data) {
  const today = todayGmt7();
  const res = http.get(`${BASE_URL}/v1/reports/totals?from=${today.slice(0, 8)}01&to=${today}&groupBy=seller`, { headers: { authorization: `Bearer ${data.officer}` }, tags: { name: "report" } });
  check(res, { "report 200": (r) => r.status === 200 });
}
