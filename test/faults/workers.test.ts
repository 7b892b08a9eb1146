/**
 * HOADON_WORKERS=2: one primary, two workers serving the same port. Every submission is
 * answered; a worker that dies is replaced while the other serves; SIGTERM drains both and the
 * primary exits 0.
 */
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive, type NodeService, sleep, startService, waitUntil } from "../helpers/process.js";
import { freshDatabase, NEEDS_POSTGRES, type RemoteSeller, registerSeller, removeDataDirs, SERVER_URL, serviceEnv, submit } from "./common.js";

interface LogEntry {
  pid?: number;
  msg?: string;
  workers?: number;
  worker?: number;
}

/** The JSON log lines written so far; a line still being written (no newline yet) is left for later. */
function logEntries(output: string): LogEntry[] {
  const lines = output.split("\n");
  lines.pop();
  return lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as LogEntry);
}

/** The pids of the workers that said they are listening (each worker logs it with its pid). */
function workerPids(output: string): number[] {
  const pids = new Set<number>();
  for (const entry of logEntries(output)) if (entry.msg?.startsWith("listening on") && entry.workers === undefined && entry.pid) pids.add(entry.pid);
  return [...pids];
}

/** The primary reported this worker gone: exited, and out of node:cluster's rotation. */
const reportedGone = (output: string, pid: number): boolean => logEntries(output).some((e) => e.worker === pid && e.msg?.startsWith("a worker exited"));

describe.skipIf(!SERVER_URL)(`two workers (${SERVER_URL ? "PostgreSQL" : NEEDS_POSTGRES})`, () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let svc: NodeService;
  let seller: RemoteSeller;

  beforeAll(async () => {
    db = await freshDatabase(SERVER_URL!);
    svc = await startService(serviceEnv(db.url, { HOADON_LOG_LEVEL: "info", HOADON_WORKERS: "2" }));
    await waitUntil(() => workerPids(svc.output()).length === 2, 30_000, "two workers listening");
    seller = await registerSeller(svc.url);
  });
  afterAll(async () => {
    await svc?.kill();
    await db?.drop();
    removeDataDirs();
  });

  it("announces itself once, with the number of workers, and applied every migration", async () => {
    expect(svc.output().match(/listening on[^\n]*\(PostgreSQL, 2 workers\)/g)).toHaveLength(1);
    const files = readdirSync(new URL("../../src/storage/migrations/", import.meta.url)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f));
    expect(await db.sql`select count(*)::int as n from schema_migrations`).toEqual([{ n: files.length }]);
  });

  it("answers every submission, replaces a worker that dies, and keeps serving meanwhile", async () => {
    // Every submission on a connection of its own: a kept-alive connection to the worker about to
    // be killed (or one the server closes when idle) would fail by the client's own doing, and a
    // new connection is what a client or a load balancer opens after that failure anyway.
    const send = (xml: string) => submit(svc.url, seller.apiKey, xml, 10_000, { newConnection: true });
    const first = await Promise.all(seller.invoices(20).map(send));
    expect(first.map((r) => r.status), JSON.stringify(first.filter((r) => r.status !== 201).map((r) => r.body)) + "\n" + svc.output().slice(-4000)).toEqual(Array(20).fill(201));

    const [victim, survivor] = workerPids(svc.output());
    process.kill(victim!, "SIGKILL");
    // Gone as far as the primary is concerned: it hands no more connections to it (not merely
    // reaped: node:cluster may see the exit before the IPC channel's close).
    await waitUntil(() => reportedGone(svc.output(), victim!), 10_000, "the primary to report the killed worker gone");
    expect(alive(victim!)).toBe(false);
    // The other worker serves while the primary starts a new one.
    const during = await Promise.all(seller.invoices(5).map(send));
    expect(during.map((r) => r.status), JSON.stringify(during.filter((r) => r.status !== 201).map((r) => r.body)) + "\n" + svc.output().slice(-4000)).toEqual(Array(5).fill(201));
    await waitUntil(() => workerPids(svc.output()).length === 3, 30_000, "a new worker listening");
    expect(alive(survivor!)).toBe(true);

    const after = await Promise.all(seller.invoices(10).map(send));
    expect(after.map((r) => r.status)).toEqual(Array(10).fill(201));
    const codes = [...first, ...during, ...after].map((r) => r.body.code as string);
    expect(await db.sql`select count(*)::int as n from invoices where code = any(${codes})`).toEqual([{ n: 35 }]);
  });

  it("answers GET /metrics on any worker with the whole process group: every worker's series labelled with its id, and the primary's", async () => {
    const n = 12;
    const once = (path: string) => fetch(`${svc.url}${path}`, { headers: { connection: "close" } });
    expect(await Promise.all(Array.from({ length: n }, async () => (await once("/v1/authority/certificate")).status))).toEqual(Array(n).fill(200));
    const pids = workerPids(svc.output()).filter(alive).sort();
    expect(pids).toHaveLength(2);
    // Several scrapes, each on a connection of its own: whichever worker answers, the same picture.
    for (let i = 0; i < 4; i++) {
      const res = await once("/metrics");
      expect(res.status).toBe(200);
      const text = await res.text();
      const up = [...text.matchAll(/^hoadon_worker_up\{worker="(\d+)",pid="(\d+)"\} 1$/gm)];
      expect(up.map((u) => Number(u[2])).sort()).toEqual(pids);
      const served = [...text.matchAll(/^hoadon_http_requests_total\{worker="(\d+)",method="GET",route="\/v1\/authority\/certificate",status="200"\} (\d+)$/gm)];
      expect(served.reduce((sum, m) => sum + Number(m[2]), 0)).toBe(n);
      for (const w of [...up.map((u) => u[1]!), "primary"]) expect(text).toMatch(new RegExp(`^process_cpu_seconds_total\\{worker="${w}"\\} [0-9.e-]+$`, "m"));
      // Each family once: one HELP and one TYPE line, whatever the number of workers.
      expect(text.match(/^# TYPE hoadon_http_requests_total counter$/gm)).toHaveLength(1);
    }
  });

  it("drains every worker on SIGTERM and exits 0", async () => {
    const pids = workerPids(svc.output()).filter(alive);
    expect(pids).toHaveLength(2);
    svc.signal("SIGTERM");
    expect(await Promise.race([svc.exited, sleep(30_000).then(() => "still running")])).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(svc.output()).toMatch(/stopped: every worker has finished/);
  });
});
