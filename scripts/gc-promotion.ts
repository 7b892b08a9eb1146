/**
 * The promotion seen under load (load-tests/RESULTS.md, "2026-12-06, evening"), outside the
 * service: calls that each hold a payload like a group's stamped XMLs (14 strings of ≈ 16 KB)
 * while they wait, two at a time, with a young generation of a fixed 128 MB. Prints, per way of
 * waiting, the median of what each scavenge promoted to the old generation and what survived it
 * (V8's --trace-gc-nvp, read from a child process).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx -p node@24 -- npx tsx scripts/gc-promotion.ts [seconds]
 *
 * The cause, in isolation: V8's parser marks a function literal that is assigned to a property
 * (`holder.f = () => payload.length`) as long-lived, and such a closure is allocated in the old
 * generation at once, by every tier but TurboFan's. It points to its context, which is young; the
 * old-to-young pointer keeps that context, and all it reaches, alive through every scavenge until a
 * full collection finds the closure dead, so each scavenge promotes what the calls since the last
 * one held. `literal` shows it, `local` (the same closure through a local, `const f = …; holder.f =
 * f`) does not, `timer` is the baseline. Postgres.js made such closures for every query (the
 * query's resolve and reject) and every transaction (begin's onclose and reserved, scope's prepare,
 * Sql's typed helpers); patches/postgres+3.4.9.patch makes them through locals.
 *
 * Measured 2026-12-06 on Node 24 (5 s each): timer 13 KB a scavenge, literal 101,741, local 13;
 * Postgres.js before the patch: three queries a call 1,260 KB, a transaction 25,172; after: three
 * 121, a transaction 651, one query 137 either way.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import postgres from "postgres";

const WAYS = ["timer", "literal", "local", "one", "three", "transaction"] as const;
type Way = (typeof WAYS)[number];

async function child(way: Way, seconds: number): Promise<void> {
  const sql = postgres(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test", { max: 4 });
  const text = Buffer.from(`<HDon>${"Tiếng Việt ".repeat(600)}</HDon>`).toString();
  let n = 0;
  const call = async (i: number): Promise<number> => {
    const payload = Array.from({ length: 14 }, (_, k) => `${text.slice(0, 3000)}<M>${i}.${k}</M>${text.slice(3000)}`);
    for (const p of payload) p.includes("\u0001"); // flattened, as the store's check does
    const holder: { f?: () => number } = {};
    if (way === "literal") holder.f = () => payload.length;
    else if (way === "local") {
      const f = () => payload.length;
      holder.f = f;
    }
    if (way === "timer" || way === "literal" || way === "local") await new Promise((r) => setTimeout(r, 1));
    else if (way === "one") await sql.unsafe("select 1");
    else if (way === "three") for (let q = 0; q < 3; q++) await sql.unsafe("select 1");
    else await sql.begin((tx) => tx.unsafe("select 1"));
    return holder.f?.() ?? payload.length;
  };
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) await Promise.all([call(n++), call(n++)]);
  await sql.end();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : Number.NaN;
}

const [mode, way, secs] = process.argv.slice(2);
if (mode === "--child") {
  await child(way as Way, Number(secs));
} else {
  const seconds = Number(mode ?? 6);
  for (const w of WAYS) {
    const r = spawnSync(process.execPath, ["--min-semi-space-size=128", "--max-semi-space-size=128", "--trace-gc-nvp", "--import", "tsx", fileURLToPath(import.meta.url), "--child", w, String(seconds)], {
      encoding: "utf8",
      env: process.env,
    });
    if (r.status !== 0) throw new Error(`${w}: ${r.stderr}`);
    const scavenges = r.stdout.split("\n").filter((l) => l.includes(" gc=s "));
    const field = (l: string, name: string) => Number(new RegExp(` ${name}=(\\d+)`).exec(l)?.[1] ?? Number.NaN);
    // The first scavenges are start-up; the last ones are what steady calls leave.
    const steady = scavenges.slice(Math.floor(scavenges.length / 2));
    const kb = (name: string) => Math.round(median(steady.map((l) => field(l, name))) / 1024);
    console.log(`${w.padEnd(12)} ${String(scavenges.length).padStart(4)} scavenges; per scavenge (median of the later half): promoted ${kb("promoted")} KB, survived ${kb("new_space_survived")} KB`);
  }
}
