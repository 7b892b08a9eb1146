/**
 * The transparency log under kill -9: the service is killed while invoices are submitted and
 * cancelled and its sequencer signs a head every 100 ms. After a restart on the same database
 * (and the same log key in the data dir): no gap (leaf indexes are exactly 0 … size-1), no leaf
 * for an invoice or cancellation that was not committed, one leaf for each that was, and no fork
 * (every head signed before the kill is a prefix of the head after, by RFC 9162 proofs checked
 * in test/helpers/rfc9162.ts; a mirror built with `hoadon log mirror` recomputes the signed root).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/index.js";
import { decodeBundle, decodeEntry } from "../../src/tlog/entry.js";
import { type NodeService, sleep, startService, waitUntil } from "../helpers/process.js";
import { readCheckpoint, rfcVerifyConsistency } from "../helpers/rfc9162.js";
import { freshDatabase, NEEDS_POSTGRES, registerSeller, removeDataDirs, SERVER_URL, serviceEnv, submit } from "./common.js";

const INVOICES = 200;
const SUBMITTERS = 10;
const KILL_AFTER = 60;

/**
 * fetch, closing the connection after the answer; a GET that meets a pooled connection the
 * server has just closed (idle keep-alive) is sent once more.
 */
const fresh = (async (input: string | URL | Request, init: RequestInit = {}) => {
  const go = () => fetch(input, { ...init, headers: { ...(init.headers as Record<string, string>), connection: "close" } });
  try {
    return await go();
  } catch (e) {
    if ((init.method ?? "GET") !== "GET") throw e;
    return go();
  }
}) as typeof fetch;

describe.skipIf(!SERVER_URL)(`transparency log: kill -9 under load (${SERVER_URL ? "PostgreSQL" : NEEDS_POSTGRES})`, () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let first: NodeService | undefined;
  let second: NodeService | undefined;
  const dir = mkdtempSync(join(tmpdir(), "hoadon-tlog-fault-"));

  beforeAll(async () => {
    db = await freshDatabase(SERVER_URL!);
  });
  afterAll(async () => {
    await first?.kill();
    await second?.kill();
    await db?.drop();
    removeDataDirs();
    rmSync(dir, { recursive: true, force: true });
  });

  it("leaves no gap, no fork and no leaf for what was not committed", async () => {
    const env = serviceEnv(db.url, { HOADON_LOG_INTERVAL_MS: "100" });
    first = await startService(env);
    const svc = first;
    const seller = await registerSeller(svc.url);
    const invoices = seller.invoices(INVOICES);
    const key = await (await fresh(`${svc.url}/v1/authority/log-key`)).json() as { verifierKey: string };

    // Heads signed while the load runs, as a monitor would collect them.
    const heads: string[] = [];
    let killed = false;
    const monitor = (async () => {
      while (!killed) {
        const r = await fresh(`${svc.url}/v1/log/checkpoint`).catch(() => null);
        if (r?.ok) heads.push(await r.text());
        await sleep(50);
      }
    })();

    let next = 0;
    let acks = 0;
    const cancelled = new Set<string>();
    const submitter = async () => {
      while (!killed && next < invoices.length) {
        const xml = invoices[next++]!;
        const r = await submit(svc.url, seller.apiKey, xml, 5_000);
        if (r.status === 201) {
          const code = r.body.code as string;
          // Every fourth is cancelled at once: a status change's leaf in the race too.
          if (acks % 4 === 0) {
            const c = await fresh(`${svc.url}/v1/invoices/${code}/cancellation`, {
              method: "POST",
              headers: { authorization: `Bearer ${seller.apiKey}`, "content-type": "application/json" },
              body: JSON.stringify({ reason: "Hủy do nhập sai" }),
            }).catch(() => null);
            if (c?.status === 200) cancelled.add(code);
          }
          if (++acks >= KILL_AFTER && !killed) {
            killed = true;
            svc.signal("SIGKILL");
          }
        } else if (r.status !== 0) expect.fail(`before the kill: ${r.status} ${JSON.stringify(r.body)}`);
      }
    };
    await Promise.all(Array.from({ length: SUBMITTERS }, submitter));
    await monitor;
    expect(killed).toBe(true);
    expect(await Promise.race([first.exited, sleep(5_000).then(() => "still running")])).toBe("SIGKILL");

    // Straight after the kill, before any restart: what the database committed.
    const committed = async () => {
      const issued = (await db.sql<{ code: string }[]>`select code from invoices`).map((r) => r.code.trim());
      const cancels = (await db.sql<{ code: string }[]>`select invoice_code as code from invoice_events where event = 'cancelled'`).map((r) => r.code.trim());
      return { issued, cancels };
    };
    const before = await committed();
    for (const c of cancelled) expect(before.cancels).toContain(c);
    const [state] = await db.sql<{ size: string }[]>`select size from tlog_state`;
    const [pending] = await db.sql<{ n: string }[]>`select count(*) as n from tlog_pending`;
    // Every committed event has exactly one entry, sequenced or pending; nothing else has one.
    expect(Number(state!.size) + Number(pending!.n)).toBe(before.issued.length + before.cancels.length);

    // Restart on the same database and data dir (same log key): the sequencer drains what is pending.
    second = await startService(env);
    const after = second;
    await waitUntil(async () => Number((await db.sql<{ n: string }[]>`select count(*) as n from tlog_pending`)[0]!.n) === 0, 30_000, "the pending entries to be sequenced");
    await waitUntil(async () => readCheckpoint(await (await fresh(`${after.url}/v1/log/checkpoint`)).text(), key.verifierKey).size === before.issued.length + before.cancels.length, 30_000, "a head over every entry");
    const finalNote = await (await fresh(`${after.url}/v1/log/checkpoint`)).text();
    const final = readCheckpoint(finalNote, key.verifierKey);

    // No gap: the indexes are exactly 0 … size-1, each once.
    const idx = (await db.sql<{ idx: string }[]>`select idx from tlog_codes order by idx`).map((r) => Number(r.idx));
    expect(idx).toEqual(Array.from({ length: final.size }, (_, i) => i));

    // The entries are exactly the committed events: each issued code once, each cancellation once.
    const entries: ReturnType<typeof decodeEntry>[] = [];
    for (let n = 0; n * 256 < final.size; n++) {
      const w = Math.min(256, final.size - n * 256);
      const r = await fresh(`${after.url}/v1/log/tile/entries/${String(n).padStart(3, "0")}${w < 256 ? `.p/${w}` : ""}`);
      entries.push(...decodeBundle(Buffer.from(await r.arrayBuffer())).map(decodeEntry));
    }
    const issuedLeaves = entries.filter((e) => e.type === "issued").map((e) => e.code);
    const cancelLeaves = entries.filter((e) => e.type === "cancelled").map((e) => e.code);
    expect([...issuedLeaves].sort()).toEqual([...before.issued].sort());
    expect([...cancelLeaves].sort()).toEqual([...before.cancels].sort());
    // A cancellation's leaf comes after its issue's.
    for (const c of cancelLeaves) expect(issuedLeaves.indexOf(c)).toBeGreaterThanOrEqual(0);

    // No fork: every head signed before the kill is a prefix of the final one.
    expect(heads.length).toBeGreaterThan(0);
    const sizes = new Map<number, Buffer>();
    for (const note of heads) {
      const h = readCheckpoint(note, key.verifierKey);
      const seen = sizes.get(h.size);
      if (seen) expect(seen.equals(h.root), `two roots for size ${h.size}`).toBe(true);
      sizes.set(h.size, h.root);
    }
    for (const [size, root] of sizes) {
      if (size === 0 || size === final.size) continue;
      const p = (await (await fresh(`${after.url}/v1/log/proof/consistency?from=${size}&to=${final.size}`)).json()) as { proof: string[] };
      expect(rfcVerifyConsistency(size, final.size, root, final.root, p.proof.map((x) => Buffer.from(x, "base64"))), `head of size ${size}`).toBe(true);
    }

    // And an outside mirror, trusting only the authority's certificate, recomputes the signed root.
    const cert = join(dir, "authority.pem");
    writeFileSync(cert, await (await fresh(`${after.url}/v1/authority/certificate`)).text());
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(["log", "mirror", "--cert", cert, "--url", after.url, "--dir", join(dir, "mirror")], { out: (l) => out.push(l), err: (l) => err.push(l), fetch: fresh });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(JSON.parse(out.join("\n"))).toMatchObject({ verified: true, treeSize: final.size });
  });
});
