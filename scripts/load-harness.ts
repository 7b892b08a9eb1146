/**
 * What the load drivers share (`npm run bench`, scripts/bench.ts, and `npm run load`,
 * scripts/load.ts around k6): the service started as `npm start` runs it on DATABASE_URL (a data
 * directory of its own, a development authority key), the sellers of certs/ registered through the
 * API, and the CPU accounting from /proc (the service's process tree, PostgreSQL's backends of one
 * database plus its server-wide writers, any other process by pid).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOAD_SELLERS } from "../load-tests/lib/invoice.js";

const CERTS = new URL("../certs/", import.meta.url);
export const readCert = (f: string): string => readFileSync(new URL(f, CERTS), "utf8");

// ------------------------------------------------------------------ /proc accounting

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime+stime (+ reaped children's cutime+cstime when `reaped`) of one process, in ms; 0 when gone. */
export function cpuOf(pid: number, reaped = false): number {
  return statCpu(`/proc/${pid}/stat`, reaped);
}

/** utime+stime of one thread of a process (the main thread: tid = pid), in ms; 0 when gone. */
export function threadCpu(pid: number, tid = pid): number {
  return statCpu(`/proc/${pid}/task/${tid}/stat`, false);
}

function statCpu(path: string, reaped: boolean): number {
  try {
    const stat = readFileSync(path, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields after ")": state(0) … utime(11) stime(12) cutime(13) cstime(14).
    const own = Number(f[11]) + Number(f[12]);
    return (reaped ? own + Number(f[13]) + Number(f[14]) : own) * TICK_MS;
  } catch {
    return 0;
  }
}

export function processes(): { pid: number; ppid: number; comm: string }[] {
  const out: { pid: number; ppid: number; comm: string }[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      out.push({ pid: Number(d), ppid, comm });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The PostgreSQL processes that count for `database`: its backends and the server-wide writers. */
function postgresProcesses(database: string): { pid: number; started: string; writer: boolean }[] {
  const out: { pid: number; started: string; writer: boolean }[] = [];
  const backend = new RegExp(`^postgres: \\S+: \\S+ ${database} `);
  for (const p of processes()) {
    if (p.comm !== "postgres") continue;
    try {
      const title = readFileSync(`/proc/${p.pid}/cmdline`, "utf8").replace(/\0/g, " ");
      const stat = readFileSync(`/proc/${p.pid}/stat`, "utf8");
      // starttime (field 22) tells a reused pid from the process that had it.
      const started = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
      const writer = /(walwriter|checkpointer|background writer)/.test(title);
      if (writer || backend.test(title)) out.push({ pid: p.pid, started, writer });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * CPU ms of PostgreSQL for a run: the backends connected to `database` and the server-wide writers
 * (WAL writer, checkpointer, background writer), which other databases' load would inflate; other
 * databases' backends are left out. Followed process by process from the meter's creation:
 * a backend that goes away keeps the CPU it had at the last sample (Postgres.js closes each pooled
 * connection after 30–60 minutes and opens another: a sum over the live processes at the end of a
 * long run would lose the CPU of every closed one). Sample often (every few seconds): what a
 * backend spends between its last sample and its exit is lost.
 */
export class PostgresMeter {
  private readonly seen = new Map<string, { first: number; last: number; writer: boolean }>();
  private started = false;
  constructor(private readonly database: string) {
    this.sample();
    this.started = true;
  }
  /** Reads every counted process; answers the CPU ms since the meter was created. */
  sample(): number {
    for (const p of postgresProcesses(this.database)) {
      const key = `${p.pid}:${p.started}`;
      const cpu = cpuOf(p.pid);
      const known = this.seen.get(key);
      // A process born after the meter counts from 0; one alive at its creation from then.
      if (known) known.last = Math.max(known.last, cpu);
      else this.seen.set(key, { first: this.started ? 0 : cpu, last: cpu, writer: p.writer });
    }
    let total = 0;
    for (const { first, last } of this.seen.values()) total += last - first;
    return total;
  }
  /**
   * The CPU ms of the last sample, split: the database's own backends, and the server-wide writers,
   * which every database's load on the server feeds (on a shared server, an upper bound of this one's).
   */
  split(): { backends: number; writers: number } {
    const out = { backends: 0, writers: 0 };
    for (const { first, last, writer } of this.seen.values()) out[writer ? "writers" : "backends"] += last - first;
    return out;
  }
}

/** CPU ms of a process and its live descendants, with what it reaped. */
export function treeCpu(root: number): number {
  const all = processes();
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) if (tree.has(p.ppid) && !tree.has(p.pid)) tree.add(p.pid), (grew = true);
  }
  let total = 0;
  for (const pid of tree) total += cpuOf(pid, pid === root);
  return total;
}

export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

// ------------------------------------------------------------------ the service

export async function startService(opts: {
  databaseUrl: string;
  authority: "ec" | "rsa";
  logLevel: string;
  port: number;
  adminToken: string;
  profileDir?: string;
  nodeOptions?: string;
  publicRateLimit?: number;
}): Promise<{ child: ChildProcess; dir: string; keyPem: string }> {
  const { generateDevAuthority } = await import("../src/secrets.js");
  const dev = await generateDevAuthority(opts.authority);
  const dir = mkdtempSync(join(tmpdir(), "hoadon-bench-"));
  writeFileSync(join(dir, "authority.key"), dev.keyPem);
  writeFileSync(join(dir, "authority.pem"), dev.certPem);
  const log = openSync(join(tmpdir(), `hoadon-bench-service-${opts.port}.log`), "w");
  const profile = opts.profileDir ? ["--cpu-prof", "--cpu-prof-dir", opts.profileDir] : [];
  // As `npm start` runs it (package.json), unless --node-options says otherwise.
  const extra = (opts.nodeOptions ?? "--max-semi-space-size=128").split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...extra, ...profile, "--import", "tsx", "src/server.ts"], {
    cwd: new URL("..", import.meta.url).pathname,
    env: {
      ...process.env,
      DATABASE_URL: opts.databaseUrl,
      PORT: String(opts.port),
      HOADON_DATA_DIR: join(dir, "data"),
      HOADON_ADMIN_TOKEN: opts.adminToken,
      HOADON_SIGNING_KEY: join(dir, "authority.key"),
      HOADON_SIGNING_CERT: join(dir, "authority.pem"),
      HOADON_CODE_SECRET: "bench-code-secret-0123456789abcdef0123",
      HOADON_LOG_LEVEL: opts.logLevel,
      ...(opts.publicRateLimit === undefined ? {} : { HOADON_RATE_LIMIT_PUBLIC: String(opts.publicRateLimit) }),
    },
    // Its output goes to a file: an inherited stdout would keep a caller's pipe open after the bench ends.
    stdio: ["ignore", log, log],
  });
  const base = `http://127.0.0.1:${opts.port}`;
  for (let i = 0; i < 300; i++) {
    await new Promise((r) => setTimeout(r, 200));
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode} (its log: ${join(tmpdir(), `hoadon-bench-service-${opts.port}.log`)})`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) {
        // Another service on the port would answer too: make sure ours is the one alive.
        await new Promise((r) => setTimeout(r, 500));
        if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}: is port ${opts.port} taken? (--port)`);
        return { child, dir, keyPem: dev.keyPem };
      }
    } catch {
      // not listening yet
    }
  }
  throw new Error("the service did not become ready in 60 s");
}

export async function register(base: string, adminToken: string): Promise<Record<string, string>> {
  const keys: Record<string, string> = {};
  const auth = { authorization: `Bearer ${adminToken}` };
  for (const s of LOAD_SELLERS) {
    const body = JSON.stringify({ taxCode: s.taxCode, name: `Công ty TNHH Thử tải ${s.taxCode}`, address: "1 Tràng Tiền, Hà Nội", taxOffice: "Cục Thuế TP Hà Nội", province: "Hà Nội" });
    const seller = await fetch(`${base}/v1/sellers`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body });
    if (seller.status !== 201 && seller.status !== 409) throw new Error(`seller ${s.taxCode}: ${seller.status} ${await seller.text()}`);
    const cert = await fetch(`${base}/v1/sellers/${s.taxCode}/certificates`, { method: "POST", headers: { ...auth, "content-type": "application/x-pem-file" }, body: readCert(s.cert) });
    if (cert.status !== 201 && cert.status !== 409) throw new Error(`certificate ${s.taxCode}: ${cert.status} ${await cert.text()}`);
    const key = await fetch(`${base}/v1/sellers/${s.taxCode}/api-keys`, { method: "POST", headers: auth });
    if (key.status !== 201) throw new Error(`api key ${s.taxCode}: ${key.status} ${await key.text()}`);
    keys[s.taxCode] = ((await key.json()) as { key: string }).key;
  }
  return keys;
}

