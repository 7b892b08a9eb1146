/**
 * Child processes for the tests that need a real process: the Node service (`src/server.ts`
 * under tsx), `wrangler dev`, a throw-away PostgreSQL cluster. Loopback only; every wait is
 * bounded; each process is ended by its own pid (its process group), never by name.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TSX = join(ROOT, "node_modules/.bin/tsx");

/** A port nobody listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns true (or throws the last error after `timeoutMs`). */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

export interface Child {
  proc: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** Sends a signal to the whole process group (tsx and wrangler start children of their own). */
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL to the group and wait (safe to call twice). */
  kill(): Promise<void>;
}

/** Spawns a command in its own process group, capturing its output. */
export function startChild(cmd: string, args: string[], env: Record<string, string | undefined>, cwd = ROOT): Child {
  const proc = spawn(cmd, args, { cwd, env: env as NodeJS.ProcessEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => proc.once("exit", (code, sig) => resolve(code ?? sig ?? "unknown")));
  let done = false;
  void exited.then(() => (done = true));
  const signal = (sig: NodeJS.Signals) => {
    if (done || proc.pid === undefined) return;
    try {
      process.kill(-proc.pid, sig);
    } catch {
      /* already gone */
    }
  };
  return {
    proc,
    output: () => out,
    exited,
    signal,
    kill: async () => {
      signal("SIGKILL");
      await Promise.race([exited, sleep(5000)]);
    },
  };
}

/** The environment for a child: this process's PATH and HOME, nothing of its DATABASE_URL or HOADON_* unless given. */
export function childEnv(extra: Record<string, string | undefined>): Record<string, string | undefined> {
  const base: Record<string, string | undefined> = {};
  for (const k of ["PATH", "HOME", "LANG", "TMPDIR", "NODE_OPTIONS"]) if (process.env[k] !== undefined) base[k] = process.env[k];
  return { ...base, ...extra };
}

export interface NodeService extends Child {
  url: string;
  port: number;
}

/** Starts `src/server.ts` (as `npm start` does, without npm in between) on a free port and waits for /healthz. */
export async function startService(env: Record<string, string | undefined>, opts: { waitReady?: boolean; timeoutMs?: number } = {}): Promise<NodeService> {
  const port = Number(env.PORT ?? (await freePort()));
  const child = startChild(TSX, ["src/server.ts"], childEnv({ HOST: "127.0.0.1", HOADON_LOG_LEVEL: "warn", ...env, PORT: String(port) }));
  const url = `http://127.0.0.1:${port}`;
  if (opts.waitReady !== false) {
    let exitedEarly: number | string | undefined;
    void child.exited.then((c) => (exitedEarly = c));
    await waitUntil(
      async () => {
        if (exitedEarly !== undefined) throw new Error(`the service exited (${exitedEarly}):\n${child.output()}`);
        return (await fetch(`${url}/healthz`)).ok;
      },
      opts.timeoutMs ?? 30_000,
      `${url}/healthz`,
    ).catch(async (e) => {
      await child.kill();
      throw e;
    });
  }
  return { ...child, url, port };
}

/** PostgreSQL binaries of the machine (Debian's layout), or null when there are none. */
export function postgresBinaries(): string | null {
  for (const v of ["17", "16", "15"]) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
  }
  return null;
}

export interface ThrowawayPostgres {
  url: string;
  port: number;
  start(): void;
  stop(mode?: "fast" | "immediate"): void;
  /** Stops it (when running) and deletes its files. */
  destroy(): void;
}

/**
 * A PostgreSQL cluster of its own in a temp dir, on its own port (never the shared server on
 * 5432): initdb, pg_ctl start/stop. As root it runs as the `postgres` user.
 */
export function throwawayPostgres(bin: string, port: number): ThrowawayPostgres {
  const dir = mkdtempSync(join(tmpdir(), "hoadon-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  chmodSync(dir, 0o777);
  if (asRoot) spawnSync("chown", ["-R", "postgres:postgres", dir]);
  const run = (cmd: string, args: string[]) => {
    const full = asRoot ? ["runuser", "-u", "postgres", "--", join(bin, cmd), ...args] : [join(bin, cmd), ...args];
    const r = spawnSync(full[0]!, full.slice(1), { cwd: dir, encoding: "utf8", timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
  let running = false;
  const pg: ThrowawayPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start() {
      run("pg_ctl", ["-D", data, "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "-l", join(dir, "log"), "-w", "-t", "30", "start"]);
      running = true;
    },
    stop(mode = "fast") {
      run("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "30", "stop"]);
      running = false;
    },
    destroy() {
      try {
        if (running) pg.stop("immediate");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return pg;
}

/** Whether a process of this pid exists (signal 0: nothing is sent). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
