/**
 * HOADON_WORKERS=2: one primary, two workers serving the same port. Every submission is
 * answered; a worker that dies is replaced while the other serves; SIGTERM drains both and the
 * primary exits 0.
 */
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep, startService, waitUntil, type NodeService } from "../helpers/process.js";
import { freshDatabase, NEEDS_POSTGRES, registerSeller, removeDataDirs, serviceEnv, SERVER_URL, submit, type RemoteSeller } from "./common.js";

/** The pids of the workers that said they are listening (each worker logs it with its pid). */
function workerPids(output: string): number[] {
  const pids = new Set<number>();
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as { pid?: number; msg?: string; workers?: number };
    if (entry.msg?.startsWith("listening on") && entry.workers === undefined && entry.pid) pids.add(entry.pid);
  }
  return [...pids];
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

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
    const first = await Promise.all(seller.invoices(20).map((xml) => submit(svc.url, seller.apiKey, xml)));
    expect(first.map((r) => r.status)).toEqual(Array(20).fill(201));

    const [victim, survivor] = workerPids(svc.output());
    process.kill(victim!, "SIGKILL");
    await waitUntil(() => !alive(victim!), 5000, "the killed worker gone");
    // The other worker serves while the primary starts a new one.
    const during = await Promise.all(seller.invoices(5).map((xml) => submit(svc.url, seller.apiKey, xml)));
    expect(during.map((r) => r.status)).toEqual(Array(5).fill(201));
    await waitUntil(() => workerPids(svc.output()).length === 3, 30_000, "a new worker listening");
    expect(svc.output()).toMatch(/a worker exited: starting another/);
    expect(alive(survivor!)).toBe(true);

    const after = await Promise.all(seller.invoices(10).map((xml) => submit(svc.url, seller.apiKey, xml)));
    expect(after.map((r) => r.status)).toEqual(Array(10).fill(201));
    const codes = [...first, ...during, ...after].map((r) => r.body.code as string);
    expect(await db.sql`select count(*)::int as n from invoices where code = any(${codes})`).toEqual([{ n: 35 }]);
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
