/**
 * `npm run load`: a k6 script of load-tests/ against the service on PostgreSQL, with the CPU
 * accounting of `npm run bench`. Starts the service as `npm start` runs it on DATABASE_URL (a data
 * directory of its own, a development P-256 authority key, scripts/load-harness.ts), runs
 * `k6 run` with BASE_URL and ADMIN_TOKEN, and reads from /proc the CPU of the service's process
 * tree, of PostgreSQL (this database's backends and the server-wide writers) and of k6 itself;
 * it divides them by the invoices k6 counted as issued (its `invoices_issued` counter). Every
 * --sample seconds it notes the load average and the CPU so far (a CSV with --timeline). Its exit
 * code is k6's: non-zero when a threshold failed.
 *
 *   createdb -h 127.0.0.1 -U postgres hoadon_k6
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/hoadon_k6 npm run load -- --script load-tests/submit.js -- -e RATE=500 -e DURATION=1m
 *
 * Options: --script FILE (default load-tests/submit.js), --k6 PATH (default k6 on PATH),
 * --port P (default a free one), --authority ec|rsa (default ec), --log-level (the service's, default
 * warn), --sample S (default 5), --timeline FILE.csv, --public-rate-limit N (the service's
 * HOADON_RATE_LIMIT_PUBLIC; 0 for verify.js and mixed.js), --fresh-database (a new database on
 * DATABASE_URL's server for this run, dropped after it: `npm run test:k6`, the CI smoke). What
 * follows `--` goes to `k6 run`.
 *
 * --sink measures the generator alone: instead of the service, a stand-in in this process answers
 * every request at once (201; an API key for the setup) without reading the invoices, so k6's CPU
 * per invoice is its own (build, sign, send) with nothing else competing; --k6-cpus LIST pins k6
 * to those cores (`taskset -c`), e.g. --k6-cpus 1 for "one k6 process on one core".
 * --per COUNTER: the k6 counter the CPU is divided by (default invoices_issued; verify.js counts
 * lookups_found).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { PostgresMeter, rssMiB, startService, treeCpu } from "./load-harness.js";

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    script: { type: "string", default: "load-tests/submit.js" },
    k6: { type: "string", default: "k6" },
    port: { type: "string" },
    authority: { type: "string", default: "ec" },
    "log-level": { type: "string", default: "warn" },
    sample: { type: "string", default: "5" },
    timeline: { type: "string" },
    "public-rate-limit": { type: "string" },
    "fresh-database": { type: "boolean", default: false },
    sink: { type: "boolean", default: false },
    "k6-cpus": { type: "string" },
    per: { type: "string", default: "invoices_issued" },
  },
});

const serverUrl = a.sink ? "postgres://sink/none" : process.env.DATABASE_URL;
if (!serverUrl) throw new Error("DATABASE_URL is required: the service runs on PostgreSQL (a database of its own)");
let databaseUrl = serverUrl;
let dropDatabase = async (): Promise<void> => {};
if (a["fresh-database"] && !a.sink) {
  const name = `hoadon_load_${randomBytes(5).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  databaseUrl = u.toString();
  dropDatabase = async () => {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end({ timeout: 2 });
  };
}
const database = new URL(databaseUrl).pathname.slice(1);
/** A port nobody listens on now (the service binds it a moment later). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
a.port ??= String(await freePort());
const adminToken = "hda_load-admin-token-0123456789abcdef";
/** The stand-in of --sink: every request answered 201 at once, its body drained unread. */
async function startSink(port: number): Promise<() => Promise<void>> {
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(201, { "content-type": "application/json" });
      res.end(req.url?.endsWith("/api-keys") ? '{"key":"hdk_sink"}' : "{}");
    });
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return () => new Promise<void>((r) => server.close(() => r()).closeAllConnections());
}

let servicePid = 0;
let stopService: () => Promise<void>;
if (a.sink) stopService = await startSink(Number(a.port));
else {
  const service = await startService({
    databaseUrl,
    authority: a.authority === "rsa" ? "rsa" : "ec",
    logLevel: a["log-level"]!,
    port: Number(a.port),
    adminToken,
    ...(a["public-rate-limit"] === undefined ? {} : { publicRateLimit: Number(a["public-rate-limit"]) }),
  }).catch(async (e: unknown) => {
    await dropDatabase();
    throw e;
  });
  servicePid = service.child.pid!;
  stopService = async () => {
    service.child.kill("SIGTERM");
    await new Promise((r) => (service.child.exitCode === null ? service.child.once("exit", r) : r(null)));
    rmSync(service.dir, { recursive: true, force: true });
  };
}
const work = mkdtempSync(join(tmpdir(), "hoadon-load-"));
const summaryFile = join(work, "summary.json");

// k6 reads every K6_* variable as an option of its own: pass ours as -e only.
// --address: k6's REST API on a free port (the default 6565 is taken when two k6 run at once).
const args = [
  "run", "--address", "127.0.0.1:0", "--summary-export", summaryFile, "--summary-trend-stats", "avg,min,med,max,p(90),p(95),p(99)",
  "-e", `BASE_URL=http://127.0.0.1:${a.port}`, "-e", `ADMIN_TOKEN=${adminToken}`, ...positionals, a.script!,
];
console.log(`load: ${a.k6} ${args.join(" ").replace(adminToken, "…")}`);
// k6's output is passed on; its progress lines ("… 1234 complete and 0 interrupted iterations")
// tell how many iterations were done at each sample.
const k6 = a["k6-cpus"] ? spawn("taskset", ["-c", a["k6-cpus"], a.k6!, ...args], { stdio: ["ignore", "pipe", "inherit"] }) : spawn(a.k6!, args, { stdio: ["ignore", "pipe", "inherit"] });
const k6Pid = k6.pid!;
let iterations = 0;
let pending = "";
k6.stdout.on("data", (chunk: Buffer) => {
  process.stdout.write(chunk);
  pending += chunk.toString("utf8");
  const lines = pending.split(/\r|\n/);
  pending = lines.pop() ?? "";
  for (const line of lines) {
    const m = /(\d+) complete and (\d+) interrupted iterations/.exec(line);
    if (m) iterations = Number(m[1]);
  }
});
const pgMeter = a.sink ? null : new PostgresMeter(database);
const cpu = () => ({ at: performance.now(), service: servicePid ? treeCpu(servicePid) : 0, pg: pgMeter?.sample() ?? 0, k6: treeCpu(k6Pid) });
const start = { ...cpu(), k6: 0 };
let last = start;
const loads: number[] = [];
const rss: number[] = [servicePid ? rssMiB(servicePid) : 0];
const timeline = ["second,load1,iterations,service_cpu_s,postgres_cpu_s,k6_cpu_s,service_rss_mib"];
/** The first sample with iterations under way: k6's CPU after it leaves out the VUs' start-up. */
let warm: { k6: number; iterations: number } | null = null;
const sampler = setInterval(() => {
  const now = cpu();
  // k6's tree is gone once it exits; keep the last figure seen alive.
  if (now.k6 > 0) last = now;
  if (!warm && iterations > 0 && now.k6 > 0) warm = { k6: now.k6, iterations };
  loads.push(loadavg()[0]!);
  rss.push(servicePid ? rssMiB(servicePid) : 0);
  timeline.push(
    [
      Math.round((now.at - start.at) / 1000),
      loadavg()[0]!.toFixed(2),
      iterations,
      ((now.service - start.service) / 1000).toFixed(1),
      ((now.pg - start.pg) / 1000).toFixed(1),
      ((last.k6 - start.k6) / 1000).toFixed(1),
      rss.at(-1),
    ].join(","),
  );
}, Number(a.sample) * 1000);

const code: number = await new Promise((resolve) => k6.on("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0))));
clearInterval(sampler);
// k6's own CPU, exactly: what this process reaped when k6 exited (its only child to have exited).
const end = { ...cpu(), k6: reapedCpu() };
await stopService();
await dropDatabase();

/** CPU ms of the children this process waited for (cutime + cstime). */
function reapedCpu(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[13]) + Number(f[14])) * 10;
}

interface Summary {
  metrics: Record<string, { count?: number; rate?: number; passes?: number; fails?: number; value?: number; [stat: string]: number | undefined }>;
}
let summary: Summary | null = null;
try {
  summary = JSON.parse(readFileSync(summaryFile, "utf8")) as Summary;
} catch {
  console.log("load: k6 wrote no summary");
}
rmSync(work, { recursive: true, force: true });
if (summary) {
  const m = summary.metrics;
  const issued = m[a.per!]?.count ?? 0;
  const requests = m.http_reqs?.count ?? 0;
  const f = (x: number, d = 3) => x.toFixed(d);
  const per = (ms: number) => ms / Math.max(1, issued);
  const svc = per(end.service - start.service);
  const pg = per(end.pg - start.pg);
  const gen = per(end.k6 - start.k6);
  const named = ["http_req_duration{scenario:submit,name:submit}", "http_req_duration{name:submit}", "http_req_duration{name:verify}"].find((k) => m[k]);
  const d = (named ? m[named] : m.http_req_duration) ?? {};
  const seconds = (end.at - start.at) / 1000;
  const failedShare = f(m.http_req_failed?.value ?? m.http_req_failed?.rate ?? 0, 4);
  console.log(`load: ${issued} ${a.per}, ${requests} requests, ${m.checks?.fails ?? 0} failed checks, http_req_failed ${failedShare}, ${f(seconds, 1)} s (${Math.round(issued / seconds)}/s)`);
  const ms = (v: number | undefined) => f(v ?? Number.NaN, 1);
  console.log(`load: latency ms (${named ?? "http_req_duration"}): p50 ${ms(d.med)}  p90 ${ms(d["p(90)"])}  p95 ${ms(d["p(95)"])}  p99 ${ms(d["p(99)"])}  max ${ms(d.max)}`);
  if (issued > 0 && !a.sink) {
    console.log(`load: CPU per ${a.per}: service ${f(svc)} ms + PostgreSQL ${f(pg)} ms = ${f(svc + pg)} ms → capacity ${Math.round(2000 / (svc + pg))}/s on 2 cores`);
  }
  if (issued > 0) {
    console.log(`load: CPU per ${a.per}: k6 ${f(gen)} ms → ${Math.round(1000 / gen)}/s on one core`);
    const w = warm as { k6: number; iterations: number } | null; // set by the sampler
    if (w && last.k6 > w.k6 && iterations > w.iterations) {
      const steady = (last.k6 - w.k6) / (iterations - w.iterations);
      console.log(`load: k6 CPU per iteration after its start-up (VUs initialised, from ${w.iterations} to ${iterations} iterations): ${f(steady)} ms → ${Math.round(1000 / steady)}/s on one core`);
    }
  }
  const sorted = [...loads].sort((x, y) => x - y);
  if (sorted.length) console.log(`load: load average (1 min) over the run: min ${f(sorted[0]!, 2)}  median ${f(sorted[Math.floor(sorted.length / 2)]!, 2)}  max ${f(sorted.at(-1)!, 2)}`);
  console.log(`load: service RSS MiB: ${rss[0]} at start, ${Math.min(...rss.slice(1))}–${Math.max(...rss.slice(1))} during the run`);
}
if (a.timeline) writeFileSync(a.timeline, timeline.join("\n") + "\n");
process.exit(code);
