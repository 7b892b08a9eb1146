/**
 * The documented start, `npm start`, under a process manager that signals only the process it
 * started (Docker's PID 1, systemd with KillMode=mixed, a supervisor): SIGTERM to npm must stop
 * the service. npm passes the signal to its script's process; were that a shell running node
 * (Debian's dash does not exec the last command), the shell would die and node keep serving,
 * orphaned. The script execs node, so npm's child is the service itself.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive, type Child, childEnv, freePort, sleep, startChild, waitUntil } from "../helpers/process.js";
import { freshDatabase, NEEDS_POSTGRES, removeDataDirs, SERVER_URL, serviceEnv } from "./common.js";

describe.skipIf(!SERVER_URL)(`npm start (${SERVER_URL ? "PostgreSQL" : NEEDS_POSTGRES})`, () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let npm: Child;
  let url: string;
  let servicePid: number | undefined;

  beforeAll(async () => {
    db = await freshDatabase(SERVER_URL!);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    npm = startChild("npm", ["start"], childEnv({ ...serviceEnv(db.url, { HOADON_LOG_LEVEL: "info" }), HOST: "127.0.0.1", PORT: String(port) }));
    await waitUntil(async () => (await fetch(`${url}/healthz`)).ok, 60_000, `${url}/healthz`).catch(async (e) => {
      await npm.kill();
      throw new Error(`${String(e)}\n${npm.output()}`);
    });
    // The service says which process it is.
    const listening = npm
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { pid?: number; msg?: string })
      .find((e) => e.msg?.startsWith("listening on"));
    servicePid = listening?.pid;
  });
  afterAll(async () => {
    // Whatever the outcome, nothing is left running: the service by its own pid, then npm's group.
    if (servicePid && alive(servicePid)) process.kill(servicePid, "SIGKILL");
    await npm?.kill();
    await db?.drop();
    removeDataDirs();
  });

  it("SIGTERM to npm alone drains and stops the service: npm's child is node itself, nothing is orphaned", async () => {
    expect(servicePid).toBeGreaterThan(0);
    expect(npm.proc.pid).not.toBe(servicePid);
    // The process npm started is the service (no shell in between).
    const parentOf = (pid: number) => Number(/^\d+ \(.*\) \S (\d+)/.exec(readFileSync(`/proc/${pid}/stat`, "utf8"))![1]);
    expect.soft(parentOf(servicePid!), "the parent of the service").toBe(npm.proc.pid);

    process.kill(npm.proc.pid!, "SIGTERM");
    await waitUntil(() => !alive(servicePid!), 20_000, `the service (pid ${servicePid}) to stop after SIGTERM to npm (pid ${npm.proc.pid})`);
    expect(await Promise.race([npm.exited, sleep(10_000).then(() => "npm still running")])).toBe(0);
    expect(npm.output()).toMatch(/"signal":"SIGTERM","msg":"stopped"/);
    await expect(fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });
});
