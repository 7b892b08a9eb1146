// @ts-check
/**
 * k6: POST /v1/invoices at a constant arrival rate, every invoice distinct, built and signed in
 * k6 itself (WebCrypto) by lib/invoice.js, so a run issues millions of invoices without a
 * pre-built corpus. Needs k6 ≥ 1.0 (global `crypto.subtle` with RSASSA-PKCS1-v1_5 and ECDSA,
 * async iterations). Written against k6's documented APIs (@types/k6); no k6 binary was
 * available where it was written, so `npm run bench` (Node) is the driver that produced the
 * figures of RESULTS.md.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:8080 -e ADMIN_TOKEN=hda_… -e RATE=1000 -e DURATION=10m load-tests/submit.js
 *
 * Thresholds: no failed request, p99 ≤ 100 ms, and invoices_issued (201s) at ≥ 99% of RATE.
 */
import http from "k6/http";
import { check } from "k6";
import exec from "k6/execution";
import { Counter } from "k6/metrics";
import { importSellerKey, runSymbol, signedInvoice } from "./lib/invoice.js";
import { registerSellers, sellerFiles } from "./lib/k6-setup.js";

const BASE_URL = __ENV.BASE_URL ?? "http://127.0.0.1:8080";
const ADMIN_TOKEN = __ENV.ADMIN_TOKEN ?? "";
const RATE = Number(__ENV.RATE ?? 500);
const DURATION = __ENV.DURATION ?? "1m";
const LINES = Number(__ENV.LINES ?? 32);

const sellers = sellerFiles(open);
const issued = new Counter("invoices_issued");

/** @type {import("k6/options").Options} */
export const options = {
  scenarios: {
    submit: {
      executor: "constant-arrival-rate",
      rate: RATE,
      timeUnit: "1s",
      duration: DURATION,
      preAllocatedVUs: Math.max(20, Math.ceil(RATE / 10)),
      maxVUs: Math.max(100, RATE),
    },
  },
  thresholds: {
    http_req_failed: ["rate<0.001"],
    "http_req_duration{name:submit}": ["p(99)<100"],
    invoices_issued: [`rate>=${RATE * 0.99}`],
    dropped_iterations: ["count<1"],
  },
};

export function setup() {
  if (!ADMIN_TOKEN) throw new Error("ADMIN_TOKEN is required (the token npm start printed once)");
  return { keys: registerSellers(BASE_URL, ADMIN_TOKEN, sellers), symbol: runSymbol(Math.random()) };
}

/** @type {import("./lib/invoice.js").SellerKey[] | null} */
let signing = null;

/** @param {{ keys: Record<string, string>, symbol: string }} data */
export default async function (data) {
  signing ??= await Promise.all(sellers.map((s) => importSellerKey(crypto.subtle, s.keyPem, s.certPem, s.kind)));
  // iterationInTest is unique across all VUs: seller i mod 2, number ⌊i / 2⌋ + 1 under this run's symbol.
  const i = exec.scenario.iterationInTest;
  const s = sellers[i % sellers.length];
  const key = signing[i % sellers.length];
  if (!s || !key) return;
  const xml = await signedInvoice(crypto.subtle, key, { sellerTaxCode: s.taxCode, buyerTaxCode: s.buyer, symbol: data.symbol, number: Math.floor(i / sellers.length) + 1, lines: LINES });
  const res = http.post(`${BASE_URL}/v1/invoices`, xml, {
    headers: { authorization: `Bearer ${data.keys[s.taxCode]}`, "content-type": "application/xml" },
    tags: { name: "submit" },
    responseType: "none",
  });
  if (res.status === 201) issued.add(1);
  check(res, { "201 issued": (r) => r.status === 201 });
}
