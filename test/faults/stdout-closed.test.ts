/**
 * The log reader goes away: the service's stdout is a pipe whose reader first stops reading (the
 * pipe fills up with request lines) and then closes it. SIGTERM must still stop the service,
 * promptly and with exit 0. pino's default destination (sonic-boom 4) flushed synchronously at
 * exit and retried EPIPE there forever: the drained service never exited.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Child, childEnv, freePort, sleep, startChild, waitUntil } from "../helpers/process.js";
import { freshDatabase, NEEDS_POSTGRES, removeDataDirs, SERVER_URL, serviceEnv } from "./common.js";

describe.skipIf(!SERVER_URL)(`stdout closed under the service (${SERVER_URL ? "PostgreSQL" : NEEDS_POSTGRES})`, () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let svc: Child;
  let url: string;

  beforeAll(async () => {
    db = await freshDatabase(SERVER_URL!);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // The production command (npm start without npm), so that stdout is the service's own.
    svc = startChild(
      process.execPath,
      ["--import", "tsx", "src/server.ts"],
      childEnv({ ...serviceEnv(db.url, { HOADON_LOG_LEVEL: "info" }), HOST: "127.0.0.1", PORT: String(port) }),
    );
    await waitUntil(async () => (await fetch(`${url}/healthz`)).ok, 60_000, `${url}/healthz`).catch(async (e) => {
      await svc.kill();
      throw new Error(`${String(e)}\n${svc.output()}`);
    });
  });
  afterAll(async () => {
    await svc?.kill();
    await db?.drop();
    removeDataDirs();
  });

  it("exits 0 on SIGTERM after the reader of its stdout stopped reading and closed the pipe", async () => {
    // The reader stops reading; refused requests log a line each until the pipe is full (64 KiB in
    // the kernel, as much again in this process's stream buffer: 1,200 lines of ≈ 250 bytes).
    svc.proc.stdout!.pause();
    for (let i = 0; i < 60; i++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${url}/no/such/path`).then((r) => r.status)));
      expect(answers).toEqual(Array(20).fill(404));
    }
    svc.signal("SIGTERM");
    await sleep(500);
    // The reader goes away: every write to the pipe fails with EPIPE from now on.
    svc.proc.stdout!.destroy();
    const exit = await Promise.race([svc.exited, sleep(20_000).then(() => "still running 20 s after SIGTERM")]);
    expect(exit, svc.output().slice(-2000)).toBe(0);
    await expect(fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });
});
