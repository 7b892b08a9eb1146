// @ts-check
/**
 * k6: a day's traffic at once: submissions (as submit.js) with public verifications, officers'
 * searches (GET /v1/invoices) and reports (GET /v1/reports/totals), each at its own constant
 * arrival rate. Start the service with HOADON_RATE_LIMIT_PUBLIC=0 to let the verifications in.
 *
 *   k6 run -e BASE_URL=… -e ADMIN_TOKEN=… -e RATE=800 -e DURATION=10m load-tests/mixed.js
 *   DATABASE_URL=… npm run load -- --script load-tests/mixed.js --public-rate-limit 0 -- -e RATE=100
 *
 * RATE is the submission rate; verifications run at 4 × RATE, searches at RATE / 20, reports at 1/s.
 */
import { check } from "k6";
import http from "k6/http";
import { Counter } from "k6/metrics";
import { runSymbol, todayGmt7 } from "./lib/invoice.js";
import { durationSeconds, invoiceSource, iterationInTest, registerSellers, sellerFiles } from "./lib/k6-setup.js";
import { issueSome } from "./verify.js";

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
  discardResponseBodies: true,
  scenarios: {
    submit: scenario(RATE, "submit"),
    verify: scenario(RATE * 4, "verify"),
    search: scenario(RATE / 20, "search"),
    report: scenario(1, "report"),
  },
  thresholds: {
    // Every answer as expected (checks); no more than 1 % of the iterations dropped (every VU busy).
    checks: ["rate==1"],
    http_req_failed: ["rate==0"],
    dropped_iterations: [`count<=${Math.floor(RATE * 5 * durationSeconds(DURATION) * 0.01)}`],
    "http_req_duration{name:submit}": ["p(99)<100"],
    "http_req_duration{name:verify}": ["p(99)<100"],
    "http_req_duration{name:search}": ["p(99)<300"],
    "http_req_duration{name:report}": ["p(99)<1000"],
  },
};

export async function setup() {
  if (!ADMIN_TOKEN) throw new Error("ADMIN_TOKEN is required");
  const keys = registerSellers(BASE_URL, ADMIN_TOKEN, sellers);
  // A few invoices to look up from the first second on (their own symbol); the submissions then add theirs.
  const codes = await issueSome(keys, 100);
  const officer = http.post(`${BASE_URL}/v1/officers`, JSON.stringify({ name: "Thử tải" }), {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    responseType: "text",
    tags: { name: "setup" },
  });
  if (officer.status !== 201) throw new Error(`setup: POST /v1/officers ${officer.status} ${officer.body}`);
  return { keys, symbol: runSymbol(Math.random()), codes, officer: /** @type {string} */ (officer.json("token")) };
}

/** @type {Awaited<ReturnType<typeof invoiceSource>> | null} */
let source = null;

/** @param {{ keys: Record<string, string>, symbol: string }} data */
export async function submit(data) {
  source ??= await invoiceSource(sellers, data.keys, { symbol: data.symbol, lines: 12 });
  const { body, headers } = await source.next(iterationInTest());
  const res = http.post(`${BASE_URL}/v1/invoices`, body, { headers, tags: { name: "submit" } });
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
