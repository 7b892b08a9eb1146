/**
 * `npm run bench`: the load test of load-tests/submit.js driven from Node, for machines without
 * k6. Worker threads build and sign distinct invoices with the same builder (load-tests/lib/
 * invoice.js, WebCrypto); the main thread sends them with undici at a constant arrival rate
 * (open model: latency counts from the moment a request was due, so a slow server cannot hide
 * its queue) and reports:
 *
 *   throughput, latency percentiles, the CPU time of the service and of PostgreSQL per issued
 *   invoice (from /proc: the service's process tree, split into its main thread and the others,
 *   and every process named postgres plus what the postmaster reaped), the crypto floor measured
 *   in the same run (RSA-2048 verify + the authority's signature + SHA-256 of the invoice) and the
 *   ratio, the service's memory, and a per-second timeline (CSV) for the chart of
 *   load-tests/RESULTS.md.
 *
 * It starts the service itself (node src/server.ts, its own data directory, an authority key of
 * --authority ec|rsa) on DATABASE_URL, or drives --base-url with --admin-token instead.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/hoadon_bench npm run bench -- --invoices 1000000 --rate 700
 *
 * Options: --invoices N (default 20000), --rate R per second (default 500; 0 = as fast as
 * --concurrency allows), --concurrency C requests in flight at most (default 256), --signers W
 * worker threads (default 1), --lines L goods lines per invoice (default 32, ≈11.5 KB),
 * --authority ec|rsa (default ec), --timeline file.csv, --base-url, --admin-token,
 * --log-level (the service's, default warn), --verify-lookups M (then M public lookups of the codes
 * issued, GET /v1/verify/{code}, with the service's public rate limit off), --profile DIR (the service writes a V8 CPU profile
 * there when it stops: `node --cpu-prof`), --heap-profile FILE (every allocation of the service sampled,
 * garbage included, written to FILE when it stops: scripts/heap-sampler.mjs; with --heap-promoted, only what outlived the
 * young generation: promoted, then collected by a full collection or still alive), --node-options="…" (the service's Node flags; default
 * --max-semi-space-size=128, as `npm start`).
 */
import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import postgres from "postgres";
import { Pool } from "undici";
import { LOAD_SELLERS, runSymbol } from "../load-tests/lib/invoice.js";
import { ECDSA_SHA256, RSA_SHA256, SIGNATURE_METHODS, signValue } from "../src/xml/algorithms.js";
import { PostgresMeter, readCert, register, rssMiB, startService, threadCpu, treeCpu } from "./load-harness.js";

interface SignerJob {
  /** Invoice indexes [from, to) step `step`, this worker's share. */
  from: number;
  to: number;
  step: number;
  symbol: string;
  lines: number;
}

// ------------------------------------------------------------------ the crypto floor

/** Per invoice: RSA-2048 verify of the seller's signature + the authority's signature + SHA-256 of the invoice bytes (ms). */
function cryptoFloor(authorityKeyPem: string, invoice: string, rounds = 2000): { ms: number; verify: number; sign: number; sha: number } {
  const sellerKey = createPrivateKey(readCert("seller-0100000010-rsa.key"));
  const sellerPub = createPublicKey(readCert("seller-0100000010-rsa.pem"));
  const authority = createPrivateKey(authorityKeyPem);
  const data = Buffer.from(invoice);
  const sig = cryptoSign("sha256", data.subarray(0, 600), sellerKey);
  const time = (f: () => void) => {
    for (let i = 0; i < 50; i++) f();
    const t = performance.now();
    for (let i = 0; i < rounds; i++) f();
    return (performance.now() - t) / rounds;
  };
  const verify = time(() => cryptoVerify("sha256", data.subarray(0, 600), sellerPub, sig));
  // As the stamp signs (src/xml/algorithms.ts signValue), r‖s for ECDSA included.
  const method = SIGNATURE_METHODS[authority.asymmetricKeyType === "ec" ? ECDSA_SHA256 : RSA_SHA256]!;
  const sign = time(() => signValue(method, authority, data.subarray(0, 600)));
  const sha = time(() => createHash("sha256").update(data).digest());
  return { ms: verify + sign + sha, verify, sign, sha };
}

// ------------------------------------------------------------------ the run

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      invoices: { type: "string", default: "20000" },
      rate: { type: "string", default: "500" },
      concurrency: { type: "string", default: "256" },
      signers: { type: "string", default: "1" },
      lines: { type: "string", default: "32" },
      authority: { type: "string", default: "ec" },
      timeline: { type: "string" },
      "base-url": { type: "string" },
      "admin-token": { type: "string" },
      "log-level": { type: "string", default: "warn" },
      port: { type: "string", default: "18080" },
      profile: { type: "string" },
      "heap-profile": { type: "string" },
      "heap-promoted": { type: "boolean", default: false },
      "node-options": { type: "string" },
      "verify-lookups": { type: "string", default: "0" },
    },
  });
  const N = Number(a.invoices);
  const rate = Number(a.rate);
  const concurrency = Number(a.concurrency);
  const signers = Number(a.signers);
  const lines = Number(a.lines);
  const authorityKind = a.authority === "rsa" ? "rsa" : "ec";
  const adminToken = a["admin-token"] ?? "hda_bench-admin-token-0123456789";
  const lookups = Number(a["verify-lookups"]);

  let service: Awaited<ReturnType<typeof startService>> | null = null;
  let base = a["base-url"];
  if (!base) {
    const databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) throw new Error("DATABASE_URL is required (or --base-url of a running service)");
    let nodeOptions = a["node-options"];
    if (a["heap-profile"]) {
      // The preload reads where to write from the environment the service inherits.
      process.env.BENCH_HEAP_PROFILE = resolve(a["heap-profile"]);
      if (a["heap-promoted"]) process.env.BENCH_HEAP_PROMOTED = "1";
      nodeOptions = `${nodeOptions ?? "--max-semi-space-size=128"} --import ${fileURLToPath(new URL("./heap-sampler.mjs", import.meta.url))}`;
    }
    service = await startService({
      databaseUrl,
      authority: authorityKind,
      logLevel: a["log-level"]!,
      port: Number(a.port),
      adminToken,
      profileDir: a.profile,
      nodeOptions,
      ...(lookups > 0 ? { publicRateLimit: 0 } : {}),
    });
    base = `http://127.0.0.1:${a.port}`;
  }
  const stop = () => {
    if (service) {
      service.child.kill("SIGTERM");
      rmSync(service.dir, { recursive: true, force: true });
    }
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      stop();
      process.exit(130);
    });
  }
  const database = new URL(process.env.DATABASE_URL ?? "postgres://x/postgres").pathname.slice(1);
  /** Transactions committed in the database so far (pg_stat_database; the statistics lag by up to a second). */
  const commits = async (): Promise<number> => {
    const db = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      await db`select pg_stat_clear_snapshot()`;
      const [row] = await db<{ n: string }[]>`select xact_commit::text as n from pg_stat_database where datname = current_database()`;
      return Number(row?.n ?? 0);
    } finally {
      await db.end({ timeout: 1 });
    }
  };

  try {
    const keys = await register(base, adminToken);
    const symbol = runSymbol(Math.random());
    const auth = Object.fromEntries(LOAD_SELLERS.map((s) => [s.taxCode, `Bearer ${keys[s.taxCode]}`]));

    // The main loop sleeps until something it waits for happens: a request completes, or a
    // signer delivers (polling with setImmediate instead kept a core busy doing nothing, which
    // the service and the signers then lacked).
    // One nap at a time, its timer cleared when woken early (a timer left behind would wake a
    // later nap and start a chain of its own: one more per early wake, a growing spin).
    let wake: (() => void) | null = null;
    let napTimer: NodeJS.Timeout | undefined;
    const wakeUp = () => {
      clearTimeout(napTimer);
      napTimer = undefined;
      const w = wake;
      wake = null;
      w?.();
    };
    const nap = (ms: number) =>
      new Promise<void>((r) => {
        wake = r;
        napTimer = setTimeout(wakeUp, ms);
      });

    // Signer threads, each with its share of the invoice indexes; a queue fed by credit.
    const queue: { i: number; xml: string }[] = [];
    let done = 0;
    let received = 0;
    const workers = Array.from({ length: signers }, (_, w) => {
      const worker = new Worker(new URL("./bench-signer.js", import.meta.url), { workerData: { from: w, to: N, step: signers, symbol, lines } satisfies SignerJob });
      worker.on("message", (m: { i: number; xml: string }[] | "done") => {
        if (m === "done") done++;
        else {
          received += m.length;
          for (const item of m) queue.push(item);
        }
        wakeUp();
      });
      worker.on("error", (e) => {
        console.error(e);
        process.exit(1);
      });
      return worker;
    });
    // Credit: every worker gets the same share at a time (their index ranges interleave, so they end together).
    const BUFFER = 4000;
    let granted = 0;
    const grant = () => {
      while (granted < N && granted - received + queue.length < BUFFER) {
        for (const w of workers) w.postMessage({ credit: 128 });
        granted += 128 * signers;
      }
    };
    grant();
    // Fill the queue before the clock starts.
    while (queue.length < Math.min(N, 2000) && done < signers) {
      grant();
      await new Promise((r) => setTimeout(r, 50));
    }

    const sample = queue[0]!.xml;
    const floor = cryptoFloor(service?.keyPem ?? (await (await import("../src/secrets.js")).generateDevAuthority(authorityKind)).keyPem, sample);
    console.log(`${N} invoices of ${Buffer.byteLength(sample)} bytes, offered ${rate > 0 ? `${rate}/s` : "as fast as possible"}, ≤ ${concurrency} in flight, ${signers} signer thread(s), authority ${authorityKind}`);

    const pool = new Pool(base, { connections: Math.min(concurrency, 128), pipelining: 1, keepAliveTimeout: 60_000 });
    const latencies = new Float64Array(N);
    let completed = 0;
    let issued = 0;
    let failed = 0;
    const statuses = new Map<number, number>();
    /** Codes of the first issued invoices, for the lookups of --verify-lookups. */
    const codes: string[] = [];
    let inFlight = 0;
    const serverPid = service?.child.pid ?? 0;
    const pgMeter = new PostgresMeter(database);
    const commits0 = serverPid ? await commits() : 0;
    const cpu0 = { service: serverPid ? treeCpu(serverPid) : 0, pg: 0, main: serverPid ? threadCpu(serverPid) : 0 };
    const rss: number[] = [serverPid ? rssMiB(serverPid) : 0];
    const timeline: string[] = ["second,issued_per_s,p99_ms,in_flight,service_rss_mib"];
    const t0 = performance.now();
    let windowLat: number[] = [];
    let windowIssued = 0;
    let lastTick = t0;

    const send = (due: number, item: { i: number; xml: string }) => {
      inFlight++;
      const s = LOAD_SELLERS[item.i % LOAD_SELLERS.length]!;
      pool
        .request({ method: "POST", path: "/v1/invoices", headers: { authorization: auth[s.taxCode]!, "content-type": "application/xml" }, body: item.xml })
        .then(async (res) => {
          if (lookups > 0 && res.statusCode === 201 && codes.length < 2000) codes.push(((await res.body.json()) as { code: string }).code);
          else await res.body.dump();
          const ms = performance.now() - due;
          latencies[completed++] = ms;
          windowLat.push(ms);
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode === 201) issued++, windowIssued++;
          else failed++;
        })
        .catch(() => {
          latencies[completed++] = performance.now() - due;
          failed++;
        })
        .finally(() => {
          inFlight--;
          wakeUp();
        });
    };

    const tick = () => {
      const now = performance.now();
      if (now - lastTick < 1000) return;
      const sorted = Float64Array.from(windowLat).sort();
      const mem = serverPid ? rssMiB(serverPid) : 0;
      timeline.push(`${Math.round((now - t0) / 1000)},${Math.round((windowIssued * 1000) / (now - lastTick))},${percentile(sorted, 99).toFixed(1)},${inFlight},${mem}`);
      if (timeline.length % 10 === 0) rss.push(mem);
      if (timeline.length % 5 === 0) pgMeter.sample(); // backends the pool closes keep their CPU
      const width = 30;
      const filled = Math.round((completed / N) * width);
      process.stderr.write(
        `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${completed}/${N}  ${Math.round((windowIssued * 1000) / (now - lastTick))}/s  ` +
          `p99 ${percentile(sorted, 99).toFixed(0)} ms  in flight ${inFlight}  rss ${mem} MiB   `,
      );
      windowLat = [];
      windowIssued = 0;
      lastTick = now;
    };

    // The open model: request k is due at t0 + k/rate; it waits (counted) only when C are in flight.
    const interval = rate > 0 ? 1000 / rate : 0;
    let k = 0;
    while (k < N) {
      grant();
      const now = performance.now();
      const due = rate > 0 ? t0 + k * interval : now;
      if (due > now + 1) {
        await new Promise((r) => setTimeout(r, Math.min(due - now, 20)));
        tick();
        continue;
      }
      if (inFlight >= concurrency || queue.length === 0) {
        await nap(20);
        tick();
        continue;
      }
      // Send everything due now (a burst after a timer's lateness keeps the average rate).
      while (k < N && queue.length && inFlight < concurrency && (rate === 0 || t0 + k * interval <= performance.now() + 1)) {
        send(rate > 0 ? t0 + k * interval : performance.now(), queue.shift()!);
        k++;
      }
      tick();
      if (k % 64 === 0) await new Promise((r) => setImmediate(r));
    }
    while (completed < N) {
      await nap(20);
      tick();
    }
    const elapsed = (performance.now() - t0) / 1000;
    const cpu1 = { service: serverPid ? treeCpu(serverPid) : 0, pg: pgMeter.sample(), main: serverPid ? threadCpu(serverPid) : 0 };
    const pgSplit = pgMeter.split();
    rss.push(serverPid ? rssMiB(serverPid) : 0);
    process.stderr.write("\n");
    for (const w of workers) await w.terminate();
    await pool.close();

    const sorted = latencies.subarray(0, completed).sort();
    const serviceMs = (cpu1.service - cpu0.service) / Math.max(1, issued);
    const pgMs = (cpu1.pg - cpu0.pg) / Math.max(1, issued);
    const f = (x: number, d = 3) => x.toFixed(d);
    console.log(`issued ${issued} (201), other ${failed}: ${JSON.stringify(Object.fromEntries(statuses))}`);
    console.log(`elapsed ${f(elapsed, 1)} s, achieved ${Math.round(issued / elapsed)} invoices/s (generator on the same machine)`);
    console.log(`latency ms: p50 ${f(percentile(sorted, 50), 1)}  p90 ${f(percentile(sorted, 90), 1)}  p99 ${f(percentile(sorted, 99), 1)}  max ${f(sorted[sorted.length - 1] ?? Number.NaN, 1)}`);
    if (serverPid) {
      console.log(`CPU per issued invoice: service ${f(serviceMs)} ms + PostgreSQL ${f(pgMs)} ms = ${f(serviceMs + pgMs)} ms → capacity ${Math.round(2000 / (serviceMs + pgMs))} invoices/s on 2 cores`);
      // The writers serve every database of the server: on a shared server, part of theirs is others'.
      const perInvoice = (ms: number) => f(ms / Math.max(1, issued));
      // The main thread runs the JS; the others are V8's (collector helpers, compilers) and libuv's.
      console.log(`service per issued invoice: main thread ${perInvoice(cpu1.main - cpu0.main)} ms + other threads ${perInvoice(cpu1.service - cpu0.service - (cpu1.main - cpu0.main))} ms`);
      const committed = (await commits()) - commits0;
      console.log(
        `PostgreSQL per issued invoice: this database's backends ${perInvoice(pgSplit.backends)} ms + the server's WAL writer, checkpointer ` +
          `and background writer ${perInvoice(pgSplit.writers)} ms; ${f(committed / Math.max(1, issued), 2)} transactions committed per issued invoice ` +
          `(${f(issued / Math.max(1, committed), 1)} invoices per transaction)`,
      );
      console.log(
        `crypto floor per invoice: ${f(floor.ms)} ms (RSA-2048 verify ${f(floor.verify)} + authority ${authorityKind} sign ${f(floor.sign)} + ` +
          `SHA-256 ${f(floor.sha)}); service+PostgreSQL CPU / floor = ${f((serviceMs + pgMs) / floor.ms, 1)}×`,
      );
      console.log(`service RSS MiB over the run: ${rss.join(" → ")}`);
    } else console.log("CPU accounting needs the service started by the bench (no --base-url)");
    if (a.timeline) writeFileSync(a.timeline, timeline.join("\n") + "\n");
    if (lookups > 0) await verifyLookups({ base, codes, lookups, concurrency: Math.min(concurrency, 64), serverPid, database });
  } finally {
    stop();
  }
}

/**
 * --verify-lookups M: the public lookup GET /v1/verify/{code} (load-tests/verify.js), M times at
 * random among the codes just issued, closed loop: its rate with the generator on the same
 * cores, and its capacity from the service's and PostgreSQL's CPU per lookup.
 */
async function verifyLookups(o: { base: string; codes: string[]; lookups: number; concurrency: number; serverPid: number; database: string }): Promise<void> {
  if (o.codes.length === 0) throw new Error("no invoice was issued: nothing to look up");
  const pool = new Pool(o.base, { connections: o.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const latencies = new Float64Array(o.lookups);
  const statuses = new Map<number, number>();
  let next = 0;
  let completed = 0;
  const one = async (): Promise<void> => {
    while (next < o.lookups) {
      next++;
      const code = o.codes[Math.floor(Math.random() * o.codes.length)]!;
      const t = performance.now();
      const res = await pool.request({ method: "GET", path: `/v1/verify/${code}` });
      await res.body.dump();
      latencies[completed++] = performance.now() - t;
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    }
  };
  // Warm-up, not counted.
  for (let i = 0; i < 2000; i++) await (await pool.request({ method: "GET", path: `/v1/verify/${o.codes[i % o.codes.length]!}` })).body.dump();
  const pgMeter = new PostgresMeter(o.database);
  const cpu0 = { service: o.serverPid ? treeCpu(o.serverPid) : 0, pg: 0 };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: o.concurrency }, one));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu1 = { service: o.serverPid ? treeCpu(o.serverPid) : 0, pg: pgMeter.sample() };
  await pool.close();
  const sorted = latencies.sort();
  const f = (x: number, d = 3) => x.toFixed(d);
  console.log(`verify: ${o.lookups} lookups of ${o.codes.length} codes, ${o.concurrency} in flight: ${JSON.stringify(Object.fromEntries(statuses))}`);
  console.log(`verify: achieved ${Math.round(o.lookups / elapsed)} lookups/s (generator on the same machine); latency ms p50 ${f(percentile(sorted, 50), 2)}  p99 ${f(percentile(sorted, 99), 2)}`);
  if (o.serverPid) {
    const svc = (cpu1.service - cpu0.service) / o.lookups;
    const pg = (cpu1.pg - cpu0.pg) / o.lookups;
    console.log(`verify: CPU per lookup: service ${f(svc)} ms + PostgreSQL ${f(pg)} ms = ${f(svc + pg)} ms → capacity ${Math.round(2000 / (svc + pg))} lookups/s on 2 cores`);
  }
}

await main();
