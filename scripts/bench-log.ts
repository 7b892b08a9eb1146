/**
 * npm run bench:log — the transparency log at scale (load-tests/RESULTS.md "Transparency log").
 *
 *   DATABASE_URL=postgres://… npm run bench:log -- [--leaves 10000000] [--keep]
 *
 * In a schema of its own on DATABASE_URL (dropped at the end unless --keep):
 *  1. The submission path's share: encoding an entry (µs each), and the pending insert inside
 *     the statement that ends an event's transaction, as the slope of its time over the number
 *     of entries (groups of 1 → 500, the group commit's range).
 *  2. Appends `--leaves` entries through the store's own insert (tlog-sql.ts appendPending, in
 *     groups of 500 as the group commit would, 4 connections).
 *  3. Sequences them all (tlog/log.ts: leaf indexes, tiles, bundles, code index, a signed
 *     checkpoint per run of 20,000).
 *  4. Serves proofs: inclusion by code (the route's path: code → leaf index → tiles) and
 *     consistency between random sizes, p50/p95/p99, with the tile cache cold and warm.
 *  5. Storage: each table's size over the number of leaves.
 *
 *   DATABASE_URL=postgres://… npm run bench:log -- --hot-path [--rounds 60]
 *
 *   DATABASE_URL=postgres://… npm run bench:log -- --attach SCHEMA
 *
 * serves proofs and measures storage (steps 4 and 5) on the log of a run still sequencing in
 * SCHEMA (its signed head at that moment; codes sampled from tlog_codes).
 *
 * --hot-path instead measures the log's cost on the submission path end to end, A/B: the store's real
 * issueInvoices (groups of 1 and of 100, the group commit's range), alternating rounds with the
 * log's entries and without them (the same code with the transaction's entries dropped before
 * its last statement); the difference of the medians per invoice is the log's share.
 */
import { randomBytes } from "node:crypto";
import { authorityKeyFromPem, generateDevAuthority } from "../src/secrets.js";
import { sql } from "../src/storage/db.js";
import { openDb } from "../src/storage/index.js";
import { PgStore } from "../src/storage/pg-store.js";
import { appendPending } from "../src/storage/tlog-sql.js";
import { encodeEntry, type LogEntry } from "../src/tlog/entry.js";
import { TransparencyLog } from "../src/tlog/log.js";
import { signerFromSeed } from "../src/tlog/note.js";

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const LEAVES = Number(arg("leaves", "10000000"));
const KEEP = process.argv.includes("--keep");
const url = process.env.DATABASE_URL;
if (!url) throw new Error("DATABASE_URL: the benchmark runs on PostgreSQL");

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(3)} ms`;
const log = (...a: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...a);

const ALNUM = "0123456789ABCDEF";
function entryFor(i: number, seed: string): { entry: Buffer; code: string } {
  let code = `0A${seed}`;
  let x = i;
  for (let k = 0; k < 34 - 2 - seed.length; k++) {
    code += ALNUM[x % 16];
    x = Math.floor(x / 16);
  }
  const e: LogEntry = {
    type: i % 50 === 49 ? "cancelled" : "issued",
    code,
    sellerTaxCode: `01${String(i % 99_999_999).padStart(8, "0")}`,
    form: "1",
    symbol: "C26TAA",
    number: (i % 9_999_999) + 1,
    issueDate: "2026-11-20",
    totalPayable: String(1000 + (i % 1_000_000) * 13),
    digest: randomBytes(32).toString("base64"),
    at: new Date(1_795_000_000_000 + i),
    relatedCode: null,
  };
  return { entry: encodeEntry(e), code };
}

async function hotPath(): Promise<void> {
  const { readySeller, newInvoice } = await import("../test/helpers/ledger.js");
  const schema = `bench_log_hot_${process.pid}`;
  const db = await openDb({ databaseUrl: url!, schema, poolSize: 2 });
  const store = new PgStore(db);
  await store.migrate();
  const seller = await readySeller(store);
  // The B side: the same transactions, their log entries dropped before the tail is written.
  const proto = PgStore.prototype as unknown as { writeIssued: (tail: { leaves: unknown[] }, invs: unknown[]) => void };
  const original = proto.writeIssued;
  const withoutLog = function (this: unknown, tail: { leaves: unknown[] }, invs: unknown[]) {
    original.call(this, tail, invs);
    tail.leaves.length = 0;
  };
  const ROUNDS = Number(arg("rounds", "60"));
  const rate = [{ taxRate: "10%", amountBeforeTax: "1000000", tax: "100000" }];
  try {
    for (const group of [1, 100]) {
      const per: Record<"on" | "off", number[]> = { on: [], off: [] };
      for (let r = 0; r < ROUNDS; r++) {
        for (const side of r % 2 ? (["on", "off"] as const) : (["off", "on"] as const)) {
          proto.writeIssued = side === "on" ? original : withoutLog;
          const invs = Array.from({ length: group === 1 ? 20 : group }, () => newInvoice(seller, "2026-11-20", rate));
          const t = performance.now();
          if (group === 1) for (const inv of invs) await store.issueInvoices([inv]);
          else await store.issueInvoices(invs);
          per[side].push((performance.now() - t) / invs.length);
        }
      }
      proto.writeIssued = original;
      const on = pct(per.on, 50);
      const off = pct(per.off, 50);
      log(`groups of ${group}: ${ms(on)} per invoice with the log, ${ms(off)} without (medians of ${ROUNDS} alternating rounds): the log adds ${ms(on - off)}`);
      console.log(JSON.stringify({ group, withLogMs: on, withoutLogMs: off, addedMs: on - off }));
    }
  } finally {
    proto.writeIssued = original;
    await db.query(sql`drop schema ${sql.ident(schema)} cascade`).catch((e: unknown) => console.error(e));
    await db.close();
  }
}

/** Steps 4 and 5 on a log being built by another run (--attach SCHEMA). */
async function attach(schema: string): Promise<void> {
  const db = await openDb({ databaseUrl: url!, schema, poolSize: 4 });
  const dev = await generateDevAuthority("ec");
  const key = () => authorityKeyFromPem(dev.keyPem, dev.certPem);
  const signer = signerFromSeed("bench.invalid/log", randomBytes(32));
  try {
    const first = new TransparencyLog(db, signer, key());
    const head = await first.latest();
    const codes = (await db.query<{ code: string }>(sql`select code from tlog_codes where idx < ${head.size} and idx % 997 = 7 limit 20000`)).map((r) => r.code);
    log(`attached at a signed size of ${head.size.toLocaleString()}; ${codes.length} codes sampled`);
    const proofs = async (label: string, n: number, fresh: boolean) => {
      let l = first;
      const inc: number[] = [];
      const con: number[] = [];
      for (let i = 0; i < n; i++) {
        if (fresh) l = new TransparencyLog(db, signer, key());
        const code = codes[Math.floor(Math.random() * codes.length)]!;
        let s = performance.now();
        const leaves = await l.leavesOf(code);
        await l.inclusion(leaves[0]!, head.size);
        inc.push(performance.now() - s);
        const a = 1 + Math.floor(Math.random() * (head.size - 1));
        s = performance.now();
        await l.consistency(a, head.size);
        con.push(performance.now() - s);
      }
      log(`${label}: inclusion by code p50 ${ms(pct(inc, 50))} p95 ${ms(pct(inc, 95))} p99 ${ms(pct(inc, 99))}; consistency p50 ${ms(pct(con, 50))} p95 ${ms(pct(con, 95))} p99 ${ms(pct(con, 99))}`);
    };
    await proofs("proofs, cold tile cache (a fresh instance each)", 500, true);
    await proofs("proofs, warm", 2000, false);
    const sizes = await db.query<{ name: string; bytes: bigint }>(sql`
      select c.relname as name, pg_total_relation_size(c.oid) as bytes from pg_class c
       where c.relnamespace = current_schema()::regnamespace and c.relkind = 'r' and c.relname like 'tlog%' order by 1`);
    let total = 0;
    for (const r of sizes) {
      if (r.name === "tlog_pending") {
        log(`tlog_pending: ${(Number(r.bytes) / 2 ** 20).toFixed(0)} MiB (entries not sequenced yet, and dead rows until vacuum)`);
        continue;
      }
      total += Number(r.bytes);
      log(`${r.name}: ${(Number(r.bytes) / 2 ** 20).toFixed(0)} MiB, ${(Number(r.bytes) / head.size).toFixed(1)} bytes per leaf`);
    }
    log(`the sequenced log: ${(total / 2 ** 30).toFixed(2)} GiB, ${(total / head.size).toFixed(1)} bytes per leaf`);
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  if (process.argv.includes("--hot-path")) return hotPath();
  if (process.argv.includes("--attach")) return attach(arg("attach", ""));
  const schema = `bench_log_${process.pid}`;
  const db = await openDb({ databaseUrl: url!, schema, poolSize: 6 });
  const store = new PgStore(db);
  await store.migrate();
  const dev = await generateDevAuthority("ec");
  const tlog = new TransparencyLog(db, signerFromSeed("bench.invalid/log", randomBytes(32)), authorityKeyFromPem(dev.keyPem, dev.certPem));
  const seed = randomBytes(3).toString("hex").toUpperCase();
  try {
    // 1. The submission path's share.
    const t0 = performance.now();
    const sample = Array.from({ length: 20_000 }, (_, i) => entryFor(i, seed));
    const encodeUs = ((performance.now() - t0) * 1000) / sample.length;
    log(`encode: ${encodeUs.toFixed(2)} µs per entry (incl. building the test facts)`);
    const slope: Record<number, number[]> = { 1: [], 500: [] };
    for (let round = 0; round < 40; round++) {
      for (const k of [1, 500]) {
        const part = sample.slice(round * 500, round * 500 + k).map((x) => x.entry);
        const s = performance.now();
        await db.transaction(async (tx) => appendPending(tx, part));
        slope[k]!.push(performance.now() - s);
      }
    }
    const perEntry = (pct(slope[500]!, 50) - pct(slope[1]!, 50)) / 499;
    log(`pending insert: 1 entry ${ms(pct(slope[1]!, 50))}, 500 entries ${ms(pct(slope[500]!, 50))} per transaction (p50) → ${(perEntry * 1000).toFixed(1)} µs per entry`);
    console.log(JSON.stringify({ hotPath: { encodeUs, insertUsPerEntry: perEntry * 1000, totalMsPerInvoice: (encodeUs + perEntry * 1000) / 1000 } }));
    await tlog.sequence();

    // 2. Append.
    const GROUP = 500;
    const WORKERS = 4;
    let next = sample.length;
    const codes: string[] = sample.filter((_, i) => i % 1000 === 7 && i < 20_000).map((x) => x.code);
    const tA = performance.now();
    let lastReport = tA;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        for (;;) {
          const from = next;
          if (from >= LEAVES) return;
          next = Math.min(LEAVES, from + GROUP);
          const group: Buffer[] = [];
          for (let i = from; i < next; i++) {
            const x = entryFor(i, seed);
            group.push(x.entry);
            if (i % 1000 === 7) codes.push(x.code);
          }
          await appendPending(db, group);
          if (performance.now() - lastReport > 30_000) {
            lastReport = performance.now();
            log(`appended ${next.toLocaleString()} (${Math.round(next / ((lastReport - tA) / 1000)).toLocaleString()}/s)`);
          }
        }
      }),
    );
    const appendS = (performance.now() - tA) / 1000;
    log(`appended ${LEAVES.toLocaleString()} entries in ${appendS.toFixed(0)} s: ${Math.round(LEAVES / appendS).toLocaleString()}/s`);

    // 3. Sequence.
    const tS = performance.now();
    let timer = setInterval(() => log(`sequenced ${tlog.stats.leaves.toLocaleString()} (${Math.round(tlog.stats.leaves / ((performance.now() - tS) / 1000)).toLocaleString()}/s)`), 30_000);
    const head = await tlog.sequence();
    clearInterval(timer);
    const seqS = (performance.now() - tS) / 1000;
    log(`sequenced to ${head.size.toLocaleString()} leaves in ${seqS.toFixed(0)} s: ${Math.round(tlog.stats.leaves / seqS).toLocaleString()}/s, ${tlog.stats.runs} runs`);

    // 4. Proofs.
    const proofs = async (label: string, n: number, fresh: boolean) => {
      const l = fresh ? new TransparencyLog(db, tlog.signer, authorityKeyFromPem(dev.keyPem, dev.certPem)) : tlog;
      const inc: number[] = [];
      const con: number[] = [];
      for (let i = 0; i < n; i++) {
        const code = codes[Math.floor(Math.random() * codes.length)]!;
        let s = performance.now();
        const leaves = await l.leavesOf(code);
        await l.inclusion(leaves[0]!);
        inc.push(performance.now() - s);
        const a = 1 + Math.floor(Math.random() * (head.size - 1));
        s = performance.now();
        await l.consistency(a, head.size);
        con.push(performance.now() - s);
      }
      log(`${label}: inclusion by code p50 ${ms(pct(inc, 50))} p95 ${ms(pct(inc, 95))} p99 ${ms(pct(inc, 99))}; consistency p50 ${ms(pct(con, 50))} p95 ${ms(pct(con, 95))}`);
      return { inclusion: { p50: pct(inc, 50), p95: pct(inc, 95), p99: pct(inc, 99) }, consistency: { p50: pct(con, 50), p95: pct(con, 95), p99: pct(con, 99) } };
    };
    const cold = await proofs("proofs, cold tile cache (a fresh instance each 1,000)", 1000, true);
    const warm = await proofs("proofs, warm", 2000, false);

    // 5. Storage.
    const sizes = await db.query<{ name: string; bytes: bigint }>(sql`
      select c.relname as name, pg_total_relation_size(c.oid) as bytes from pg_class c
       where c.relnamespace = current_schema()::regnamespace and c.relkind = 'r' and c.relname like 'tlog%' order by 1`);
    // tlog_pending is empty now: what it occupies is dead rows until autovacuum, not the log.
    const total = sizes.filter((r) => r.name !== "tlog_pending").reduce((a, r) => a + Number(r.bytes), 0);
    for (const r of sizes) {
      const dead = r.name === "tlog_pending" ? " (dead rows until vacuum: not counted)" : "";
      log(`${r.name}: ${(Number(r.bytes) / 2 ** 20).toFixed(0)} MiB, ${(Number(r.bytes) / head.size).toFixed(1)} bytes per leaf${dead}`);
    }
    log(`the sequenced log: ${(total / 2 ** 30).toFixed(2)} GiB, ${(total / head.size).toFixed(1)} bytes per leaf`);
    const tables = Object.fromEntries(sizes.map((r) => [r.name, Number(r.bytes)]));
    const perLeaf = total / head.size;
    console.log(JSON.stringify({ leaves: head.size, appendS, appendPerS: LEAVES / appendS, sequenceS: seqS, sequencePerS: tlog.stats.leaves / seqS, cold, warm, bytesPerLeaf: perLeaf, tables }));
    timer = setInterval(() => {}, 1000);
    clearInterval(timer);
  } finally {
    if (!KEEP) await db.query(sql`drop schema ${sql.ident(schema)} cascade`).catch((e: unknown) => console.error(e));
    await db.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
