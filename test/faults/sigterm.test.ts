/**
 * SIGTERM: the service stops accepting, finishes the request in flight, writes the last uses of
 * keys and tokens it noted, closes its pool and exits 0. The request in flight is held open by sending its body in two halves around the signal.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSecret } from "../../src/auth.js";
import { type NodeService, sleep, startService } from "../helpers/process.js";
import { freshDatabase, NEEDS_POSTGRES, type RemoteSeller, registerSeller, removeDataDirs, SERVER_URL, serviceEnv } from "./common.js";

describe.skipIf(!SERVER_URL)(`SIGTERM (${SERVER_URL ? "PostgreSQL" : NEEDS_POSTGRES})`, () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let svc: NodeService;
  let seller: RemoteSeller;

  beforeAll(async () => {
    db = await freshDatabase(SERVER_URL!);
    svc = await startService(serviceEnv(db.url, { HOADON_LOG_LEVEL: "info" }));
    seller = await registerSeller(svc.url);
  });
  afterAll(async () => {
    await svc?.kill();
    await db?.drop();
    removeDataDirs();
  });

  it("finishes the request in flight, refuses new connections, closes the pool and exits 0", async () => {
    const [xml] = seller.invoices(1);
    const body = Buffer.from(xml!, "utf8");
    const half = Math.floor(body.length / 2);

    // 1. A submission in flight: headers and half the body sent, the handler reading the rest.
    let settle!: { resolve: (r: { status: number; text: string }) => void; reject: (e: unknown) => void };
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => (settle = { resolve, reject }));
    const req = request(
      `${svc.url}/v1/invoices`,
      { method: "POST", headers: { authorization: `Bearer ${seller.apiKey}`, "content-type": "application/xml", "content-length": body.length } },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => settle.resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", (e) => settle.reject(e));
    req.write(body.subarray(0, half));
    await sleep(300);
    expect(Number((await db.sql`select count(*)::int as n from pg_stat_activity where datname = ${db.name} and application_name = 'hoadon'`)[0]!.n)).toBeGreaterThan(0);

    // 2. SIGTERM: new connections are refused from now on.
    svc.signal("SIGTERM");
    await sleep(300);
    await expect(fetch(`${svc.url}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();

    // 3. The rest of the body: the request in flight completes normally.
    req.end(body.subarray(half));
    const res = await answer;
    expect(res.status, res.text).toBe(201);
    const code = (JSON.parse(res.text) as { code: string }).code;

    // 4. Exit 0, the invoice stored, no connection of the service left open.
    expect(await Promise.race([svc.exited, sleep(20_000).then(() => "still running")])).toBe(0);
    expect(await db.sql`select code from invoices where code = ${code}`).toHaveLength(1);
    // The last use of the seller's key, noted in memory, written by the time the service stopped.
    const used = await db.sql`select u.last_used_at from credential_use u join api_keys k on k.id = u.credential_id where k.key_hash = ${hashSecret(seller.apiKey)}`;
    expect(used).toHaveLength(1);
    const left = await db.sql`select count(*)::int as n from pg_stat_activity where datname = ${db.name} and application_name = 'hoadon'`;
    expect(left[0]!.n).toBe(0);
    expect(svc.output()).toMatch(/"msg":"stopped"/);
  });
});
