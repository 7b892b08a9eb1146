/**
 * kill -9 under concurrent load. Every invoice acknowledged with 201 is stored; after a restart
 * on the same database, resubmitting any invoice answers 200 with its original code or 201,
 * never 409; no invoice ever gets two codes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeService, sleep, startService } from "../helpers/process.js";
import { freshDatabase, NEEDS_POSTGRES, numberOf, registerSeller, removeDataDirs, SERVER_URL, serviceEnv, submit } from "./common.js";

const INVOICES = 240;
const SUBMITTERS = 12;
/** Kill once this many invoices were acknowledged (mid-flight: most are not sent yet). */
const KILL_AFTER = 40;

describe.skipIf(!SERVER_URL)(`kill -9 under load (${SERVER_URL ? "PostgreSQL" : NEEDS_POSTGRES})`, () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let first: NodeService | undefined;
  let second: NodeService | undefined;

  beforeAll(async () => {
    db = await freshDatabase(SERVER_URL!);
  });
  afterAll(async () => {
    await first?.kill();
    await second?.kill();
    await db?.drop();
    removeDataDirs();
  });

  it("loses no acknowledged invoice and never gives one invoice two codes", async () => {
    const env = serviceEnv(db.url);
    first = await startService(env);
    const seller = await registerSeller(first.url);
    const invoices = seller.invoices(INVOICES); // signed beforehand: the load is all submissions

    /** Every code any answer gave for each invoice number. */
    const codes = new Map<number, Set<string>>();
    const note = (xml: string, code: unknown) => {
      if (typeof code !== "string") return;
      const n = numberOf(xml);
      codes.set(n, (codes.get(n) ?? new Set()).add(code));
    };
    const acknowledged = new Map<number, string>(); // 201 before the kill
    let next = 0;
    let acks = 0;
    let killed = false;
    const statuses: number[] = [];

    const svc = first;
    const submitter = async () => {
      while (!killed && next < invoices.length) {
        const xml = invoices[next++]!;
        const r = await submit(svc.url, seller.apiKey, xml, 5_000);
        statuses.push(r.status);
        if (r.status === 201) {
          acknowledged.set(numberOf(xml), r.body.code as string);
          note(xml, r.body.code);
          if (++acks >= KILL_AFTER && !killed) {
            killed = true;
            svc.signal("SIGKILL");
          }
        } else if (r.status !== 0) {
          expect.fail(`before the kill: ${r.status} ${JSON.stringify(r.body)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: SUBMITTERS }, submitter));
    expect(killed).toBe(true);
    expect(await Promise.race([first.exited, sleep(5_000).then(() => "still running")])).toBe("SIGKILL");
    // Some requests were cut off in flight: their fate is unknown to the client.
    expect(statuses.filter((s) => s === 0).length).toBeGreaterThan(0);

    // 1. Every acknowledged invoice is stored, under the code the client was given.
    const stored = new Map((await db.sql<{ number: number; code: string }[]>`select number, code from invoices`).map((r) => [r.number, r.code.trim()]));
    for (const [n, code] of acknowledged) expect(stored.get(n), `invoice ${n}`).toBe(code);

    // 2. Restarted on the same database, every invoice resubmitted: 200 with the original code or 201, never 409.
    second = await startService(env);
    const restarted = second;
    let i = 0;
    const resubmitter = async () => {
      while (i < invoices.length) {
        const xml = invoices[i++]!;
        const r = await submit(restarted.url, seller.apiKey, xml);
        const n = numberOf(xml);
        expect([200, 201], `invoice ${n}: ${r.status} ${JSON.stringify(r.body)}`).toContain(r.status);
        if (r.status === 200 && stored.has(n)) expect(r.body.code, `invoice ${n}`).toBe(stored.get(n));
        if (r.status === 201) expect(stored.has(n), `invoice ${n} was stored already, yet answered 201`).toBe(false);
        note(xml, r.body.code);
      }
    };
    await Promise.all(Array.from({ length: SUBMITTERS }, resubmitter));

    // 3. One code per invoice, in every answer and in the database.
    for (const [n, seen] of codes) expect([...seen], `invoice ${n}`).toHaveLength(1);
    const rows = await db.sql<{ number: number; code: string }[]>`select number, code from invoices`;
    expect(rows).toHaveLength(INVOICES);
    for (const r of rows) expect([...codes.get(r.number)!]).toEqual([r.code.trim()]);
    expect(new Set(rows.map((r) => r.code)).size).toBe(INVOICES);
  });
});
