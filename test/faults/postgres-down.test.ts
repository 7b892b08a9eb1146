/**
 * PostgreSQL stopped under the running service: requests get 503 UNAVAILABLE with Retry-After
 * within a second (no hangs), /readyz is 503, /healthz stays 200; when PostgreSQL comes back the
 * service recovers by itself, and what was refused during the outage was not half-written.
 *
 * Runs its own throw-away cluster (initdb, pg_ctl) on its own port: the machine's shared
 * PostgreSQL is never stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type NodeService, postgresBinaries, startService, type ThrowawayPostgres, throwawayPostgres, waitUntil } from "../helpers/process.js";
import { ADMIN, type RemoteSeller, registerSeller, removeDataDirs, serviceEnv, submit } from "./common.js";

const BIN = postgresBinaries();

describe.skipIf(!BIN)(`PostgreSQL stopped (${BIN ? BIN : "skipped: no initdb/pg_ctl under /usr/lib/postgresql/*/bin (apt-get install postgresql)"})`, () => {
  let pg: ThrowawayPostgres;
  let svc: NodeService;
  let seller: RemoteSeller;

  beforeAll(async () => {
    pg = throwawayPostgres(BIN!, await freePort());
    pg.start();
    svc = await startService(serviceEnv(pg.url));
    seller = await registerSeller(svc.url);
  });
  afterAll(async () => {
    await svc?.kill();
    pg?.destroy();
    removeDataDirs();
  });

  it("answers 503 UNAVAILABLE with Retry-After within a second while it is down, and recovers by itself", async () => {
    const [before, during, after] = seller.invoices(3);
    expect((await submit(svc.url, seller.apiKey, before!)).status).toBe(201);

    pg.stop("fast");

    // Submissions, reads and readiness, several at once: each answered 503 quickly.
    const get = async (path: string, token = ADMIN) => {
      const start = performance.now();
      const res = await fetch(svc.url + path, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
      const body = (await res.json()) as { error?: { code: string } };
      return { status: res.status, body, headers: res.headers, ms: performance.now() - start };
    };
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all([
        submit(svc.url, seller.apiKey, during!),
        get(`/v1/sellers/${seller.taxCode}`),
        get(`/v1/sellers/${seller.taxCode}`, seller.apiKey),
        get("/readyz"),
      ]);
      for (const r of results) {
        expect(r.status, JSON.stringify(r.body)).toBe(503);
        expect((r.body as { error: { code: string } }).error.code).toBe("UNAVAILABLE");
        expect(r.headers?.get("retry-after")).toMatch(/^\d+$/);
        expect(r.ms, "answered within a second").toBeLessThan(1000);
      }
    }
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);

    // Back: the service reconnects without a restart.
    pg.start();
    await waitUntil(async () => (await fetch(`${svc.url}/readyz`)).status === 200, 15_000, "/readyz to answer 200 again");
    // Promptly, like /readyz: no pooled connection may still be waiting out a
    // reconnect delay grown during the outage (Postgres.js' default grew to 20 s).
    const retried = await submit(svc.url, seller.apiKey, during!);
    expect(retried.status, JSON.stringify(retried.body)).toBe(201); // nothing of the refused attempt was stored
    expect((await submit(svc.url, seller.apiKey, after!)).status).toBe(201);
    expect((await submit(svc.url, seller.apiKey, before!)).status).toBe(200);
  });
});
