// @ts-check
/**
 * k6: POST /v1/invoices at a constant arrival rate, every invoice distinct (a run symbol and its
 * number), built and signed in k6 itself by lib/invoice.js's invoiceFactory (P-256 sellers; one
 * SHA-256 and one ECDSA signature per invoice), so a run issues millions of invoices without a
 * pre-built corpus. Needs k6 ≥ 1.0 (global `crypto.subtle`, async iterations).
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:8080 -e ADMIN_TOKEN=hda_… -e RATE=500 -e DURATION=10m load-tests/submit.js
 *   DATABASE_URL=… npm run load -- --script load-tests/submit.js -- -e RATE=500 -e DURATION=10m   (service started, CPU measured)
 *
 * Env: RATE (per second, default 500), DURATION (default 1m) or INVOICES (a total: the run stops
 * after INVOICES), LINES (goods lines, default 12: ≈ 6 KB), VUS (pre-allocated, default RATE / 5),
 * P95 and P99 (ms bounds, default 100 and 200), DROPPED (the fraction of iterations that may be
 * dropped, default 0.01), WARMUP (seconds at a third of RATE before the measured scenario, default 0). RATE=0 is the closed model instead: VUS (default
 * 16) submissions in flight, each VU sending its next as soon as the last is answered, until
 * INVOICES are sent or MAX_DURATION (default 2h) has passed; its latency is then queueing.
 * Thresholds: every submission answered 201 (checks), no failed request, p95/p99 bounds, and no
 * more iterations dropped than DROPPED (an iteration is dropped when every VU is busy: the
 * service or the generator fell behind).
 */
import { check } from "k6";
import exec from "k6/execution";
import http from "k6/http";
import { Counter } from "k6/metrics";
import { runSymbol } from "./lib/invoice.js";
import { durationSeconds, invoiceSource, iterationInTest, registerSellers, sellerFiles } from "./lib/k6-setup.js";

const BASE_URL = __ENV.BASE_URL ?? "http://127.0.0.1:8080";
const ADMIN_TOKEN = __ENV.ADMIN_TOKEN ?? "";
const RATE = Number(__ENV.RATE ?? 500);
const INVOICES = __ENV.INVOICES ? Number(__ENV.INVOICES) : 0;
const DURATION = INVOICES && RATE > 0 ? `${Math.ceil(INVOICES / RATE)}s` : (__ENV.DURATION ?? "1m");
const LINES = Number(__ENV.LINES ?? 12);
const VUS = Number(__ENV.VUS ?? (RATE > 0 ? Math.max(10, Math.ceil(RATE / 5)) : 16));
const WARMUP = Number(__ENV.WARMUP ?? 0);
/** Warm-up invoices are numbered from here (scenarios count their iterations apart). */
const WARMUP_FIRST = 90_000_001;

const sellers = sellerFiles(open);
const issued = new Counter("invoices_issued");

/** @type {import("k6/options").Options} */
export const options = {
  discardResponseBodies: true,
  scenarios: {
    // WARMUP seconds at a third of RATE first: the service's JIT warms up outside the measured
    // scenario (its checks still count).
    ...(WARMUP > 0 && RATE > 0
      ? { warmup: { executor: "constant-arrival-rate", rate: Math.max(1, Math.round(RATE / 3)), timeUnit: "1s", duration: `${WARMUP}s`, preAllocatedVUs: VUS, maxVUs: Math.max(VUS, RATE) } }
      : {}),
    submit:
      RATE > 0
        ? { executor: "constant-arrival-rate", rate: RATE, timeUnit: "1s", duration: DURATION, startTime: `${WARMUP}s`, preAllocatedVUs: VUS, maxVUs: Math.max(VUS, RATE) }
        : { executor: "shared-iterations", vus: VUS, iterations: INVOICES || 1000, maxDuration: __ENV.MAX_DURATION ?? "2h" },
  },
  thresholds: {
    checks: ["rate==1"],
    http_req_failed: ["rate==0"],
    "http_req_duration{scenario:submit,name:submit}": [`p(95)<${Number(__ENV.P95 ?? 100)}`, `p(99)<${Number(__ENV.P99 ?? 200)}`],
    ...(RATE > 0 ? { "dropped_iterations{scenario:submit}": [`count<=${Math.floor(RATE * durationSeconds(DURATION) * Number(__ENV.DROPPED ?? 0.01))}`] } : {}),
  },
};

export function setup() {
  if (!ADMIN_TOKEN) throw new Error("ADMIN_TOKEN is required (the token npm start printed once)");
  return { keys: registerSellers(BASE_URL, ADMIN_TOKEN, sellers), symbol: runSymbol(Math.random()) };
}

/** @type {Record<string, Awaited<ReturnType<typeof invoiceSource>>>} */
const sources = {};

/** @param {{ keys: Record<string, string>, symbol: string }} data */
export default async function (data) {
  const i = iterationInTest();
  if (INVOICES && i >= INVOICES) return;
  const scenario = exec.scenario.name;
  sources[scenario] ??= await invoiceSource(sellers, data.keys, { symbol: data.symbol, lines: LINES, first: scenario === "warmup" ? WARMUP_FIRST : 1 });
  const { body, headers } = await sources[scenario].next(i);
  const res = http.post(`${BASE_URL}/v1/invoices`, body, { headers, tags: { name: "submit" } });
  if (res.status === 201) issued.add(1);
  check(res, { "201 issued": (r) => r.status === 201 });
}
