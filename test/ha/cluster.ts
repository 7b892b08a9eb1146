/**
 * A highly available PostgreSQL made of Debian's pg_auto_failover (`postgresql-15-auto-failover`):
 * a monitor, a primary and a synchronous secondary, each on a spare loopback port, every file
 * (data directories, pg_autoctl's XDG config/state, Unix sockets) inside one temp dir.
 *
 * What this machine taught (issue 14 item 15): pg_autoctl refuses to run as root (as root each
 * call runs under `runuser -u postgres`, with a clean environment: PATH with PostgreSQL 15's bin
 * and XDG_* inside the temp dir); `--no-ssl` needs `--ssl-mode disable` too; the monitor listens
 * on `*` until `postgresql.listen_addresses` is set. The clusters are made by initdb --no-sync
 * and run with fsync=off (pg_autoctl adopts an existing PGDATA): a SIGKILL of processes loses
 * nothing of what the kernel holds, and an initdb with syncs took 18 s on a loaded CI machine.
 *
 * Failover timing: the monitor's and keepers' timeouts are set short (FAST_TIMEOUTS) so that a
 * failover takes seconds, not the ≈ 50 s of the defaults (docs/high-availability.md).
 *
 * Every process is a child in its own process group; `kill()` sends SIGKILL by PID to the
 * node's keeper, its postmaster and every one of their descendants; `destroy()` ends whatever
 * is left and deletes the temp dir.
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { type Child, freePort, sleep, startChild, waitUntil } from "../helpers/process.js";

export const PG_BIN = "/usr/lib/postgresql/15/bin";
const AUTOCTL = [join(PG_BIN, "pg_autoctl"), "/usr/bin/pg_autoctl"].find((p) => existsSync(p));
const RUNUSER = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].find((p) => existsSync(p));
const AS_ROOT = process.getuid?.() === 0;

/** Why the HA suite cannot run here, or null when it can. */
export function haUnavailable(): string | null {
  if (!AUTOCTL) return "no pg_autoctl (apt-get install postgresql-15-auto-failover)";
  if (!existsSync(join(PG_BIN, "initdb"))) return `no PostgreSQL 15 under ${PG_BIN}`;
  if (AS_ROOT && !RUNUSER) return "running as root without runuser";
  return null;
}

/** The monitor's settings for a failover in seconds (defaults in comments; they give ≈ 50 s). */
export const FAST_TIMEOUTS = {
  "pgautofailover.health_check_period": 1000, // 5000 ms (Debian's build; the docs say 20000)
  "pgautofailover.health_check_timeout": 1000, // 5000 ms
  "pgautofailover.health_check_max_retries": 1, // 2
  "pgautofailover.health_check_retry_delay": 500, // 2000 ms
  "pgautofailover.node_considered_unhealthy_timeout": 2000, // 20000 ms
  "pgautofailover.primary_demote_timeout": 2000, // 30000 ms
} as const;

/** The keepers' settings (pg_autoctl.cfg [timeout]; defaults in comments). */
export const FAST_KEEPER_TIMEOUTS = {
  "timeout.prepare_promotion_catchup": 5, // 30 s
  "timeout.prepare_promotion_walreceiver": 1, // 5 s
} as const;

export interface NodeState {
  name: string;
  port: number;
  reported: string;
  assigned: string;
}

export interface HaNode {
  name: string;
  port: number;
  pgdata: string;
  /** postgres://… of this node alone (user postgres, database hoadon). */
  url: string;
  /** The keeper (`pg_autoctl run`), while it runs. */
  keeper: Child | null;
  /** Starts the keeper (`pg_autoctl run`), which starts PostgreSQL. */
  start(): void;
  /** SIGKILL by PID to the keeper, the postmaster and all their descendants; resolves once they are gone. */
  kill(): Promise<number[]>;
}

export interface HaCluster {
  dir: string;
  monitorPort: number;
  nodes: [HaNode, HaNode];
  /** The service's URL: both nodes, `target_session_attrs=primary`. */
  databaseUrl: string;
  /** The monitor's view of the nodes. */
  states(): Promise<NodeState[]>;
  /** Waits until the monitor reports (and assigned) `want[name]` for each node named. */
  waitStates(want: Record<string, string>, timeoutMs: number): Promise<void>;
  /** Everything the processes printed (for a failure's message). */
  logs(): string;
  destroy(): Promise<void>;
}

/** Clusters not destroyed yet (also those still starting, should a hook time out meanwhile). */
const live = new Set<{ children: Child[]; dir: string; destroy(): Promise<void> }>();

/** Destroys every cluster of this process, including one whose start has not returned yet. */
export async function destroyClusters(): Promise<void> {
  for (const c of [...live]) await c.destroy();
}

// Last resort when the test process exits without its afterAll (an uncaught error, a signal
// Node handles): SIGKILL every process group we started and remove the temp dirs.
process.once("exit", () => {
  for (const c of live) {
    for (const child of c.children) if (child.proc.pid) killQuietly(-child.proc.pid);
    rmSync(c.dir, { recursive: true, force: true });
  }
});

/** Creates and starts the monitor, node1 (primary) and node2 (synchronous secondary). */
export async function startCluster(opts: { timeouts?: "fast" | "default" } = {}): Promise<HaCluster> {
  const dir = mkdtempSync(join(tmpdir(), "hoadon-ha-"));
  chmodSync(dir, 0o755);
  for (const d of ["xdg/config", "xdg/data", "xdg/run"]) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, "xdg/run"), 0o700);
  if (AS_ROOT) spawnSync("chown", ["-R", "postgres:postgres", dir]);

  // A clean environment for every pg_autoctl call: nothing of the test's PG* or DATABASE_URL.
  const env = [
    `PATH=${PG_BIN}:/usr/sbin:/usr/bin:/sbin:/bin`,
    `HOME=${dir}`,
    `XDG_CONFIG_HOME=${dir}/xdg/config`,
    `XDG_DATA_HOME=${dir}/xdg/data`,
    `XDG_RUNTIME_DIR=${dir}/xdg/run`,
    `PGHOST=${dir}`,
    "LANG=C.UTF-8",
  ];
  const argv = (cmd: string, args: string[]): string[] => {
    const inner = ["/usr/bin/env", "-i", ...env, cmd, ...args];
    return AS_ROOT ? [RUNUSER!, "-u", "postgres", "--", ...inner] : inner;
  };
  const run = (cmd: string, args: string[], timeoutMs = 90_000): string => {
    const [c, ...a] = argv(cmd, args);
    const r = spawnSync(c!, a, { cwd: dir, encoding: "utf8", timeout: timeoutMs });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
    return r.stdout + r.stderr;
  };
  const autoctl = (args: string[]) => run(AUTOCTL!, args);
  const initdb = (pgdata: string) => {
    run(join(PG_BIN, "initdb"), ["-D", pgdata, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
    appendFileSync(join(pgdata, "postgresql.conf"), `\nfsync = off\nunix_socket_directories = '${dir}'\n`);
  };

  const children: Child[] = [];
  let destroyed = false;
  const handle = { children, dir, destroy: () => cluster.destroy() };
  const spawned = (args: string[]): Child => {
    if (destroyed) throw new Error("the cluster was destroyed while it started");
    const [c, ...a] = argv(AUTOCTL!, args);
    const child = startChild(c!, a, {}, dir);
    children.push(child);
    return child;
  };

  const [monitorPort, port1, port2] = [await freePort(), await freePort(), await freePort()];
  const monitorData = join(dir, "monitor");
  const monitorUri = `postgres://autoctl_node@127.0.0.1:${monitorPort}/pg_auto_failover?sslmode=disable`;
  const ssl = ["--auth", "trust", "--no-ssl", "--ssl-mode", "disable"];
  let monitorSql: postgres.Sql | undefined;

  const makeNode = (name: string, port: number): HaNode => {
    const pgdata = join(dir, name);
    const node: HaNode = {
      name,
      port,
      pgdata,
      url: `postgres://postgres@127.0.0.1:${port}/hoadon`,
      keeper: null,
      start() {
        node.keeper = spawned(["run", "--pgdata", pgdata]);
      },
      async kill() {
        const keeper = node.keeper;
        const pids = new Set<number>();
        if (keeper?.proc.pid) for (const p of descendants(keeper.proc.pid)) pids.add(p);
        const postmaster = postmasterPid(pgdata);
        if (postmaster) for (const p of descendants(postmaster)) pids.add(p);
        for (const p of pids) killQuietly(p);
        if (keeper) await Promise.race([keeper.exited, sleep(5000)]);
        await waitUntil(() => [...pids].every((p) => !alive(p)), 5000, `the processes of ${name} to end`);
        node.keeper = null;
        return [...pids];
      },
    };
    return node;
  };
  const nodes: [HaNode, HaNode] = [makeNode("node1", port1), makeNode("node2", port2)];

  const cluster: HaCluster = {
    dir,
    monitorPort,
    nodes,
    databaseUrl: `postgres://postgres@127.0.0.1:${port1},127.0.0.1:${port2}/hoadon?target_session_attrs=primary`,
    async states() {
      monitorSql ??= postgres(`postgres://postgres@127.0.0.1:${monitorPort}/pg_auto_failover`, { max: 1, onnotice: () => {}, connect_timeout: 2 });
      const rows = await monitorSql<{ nodename: string; nodeport: number; reportedstate: string; goalstate: string }[]>`
        select nodename, nodeport, reportedstate::text as reportedstate, goalstate::text as goalstate from pgautofailover.node order by nodeid`;
      return rows.map((r) => ({ name: r.nodename, port: r.nodeport, reported: r.reportedstate, assigned: r.goalstate }));
    },
    async waitStates(want, timeoutMs) {
      let last: NodeState[] = [];
      await waitUntil(
        async () => {
          last = await cluster.states();
          return Object.entries(want).every(([name, state]) => last.some((s) => s.name === name && s.reported === state && s.assigned === state));
        },
        timeoutMs,
        `the nodes to be ${JSON.stringify(want)}`,
      ).catch((e: unknown) => {
        throw new Error(`${(e as Error).message}; last seen ${JSON.stringify(last)}\n${tail(cluster.logs())}`);
      });
    },
    logs: () => children.map((c) => c.output()).join("\n"),
    async destroy() {
      destroyed = true;
      live.delete(handle);
      await monitorSql?.end({ timeout: 1 }).catch(() => {});
      for (const node of nodes) await node.kill().catch(() => {});
      for (const child of children) await child.kill();
      // Anything left behind (a postmaster whose keeper died first): by its pid file.
      for (const pgdata of [monitorData, ...nodes.map((n) => n.pgdata)]) {
        const pid = postmasterPid(pgdata);
        if (pid) for (const p of descendants(pid)) killQuietly(p);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };

  live.add(handle);
  try {
    // The monitor.
    initdb(monitorData);
    autoctl(["create", "monitor", "--pgdata", monitorData, "--pgport", String(monitorPort), "--hostname", "127.0.0.1", ...ssl]);
    autoctl(["config", "set", "--pgdata", monitorData, "postgresql.listen_addresses", "127.0.0.1"]);
    spawned(["run", "--pgdata", monitorData]);
    await waitUntil(async () => (await cluster.states(), true), 30_000, "the monitor").catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\n${tail(cluster.logs())}`);
    });
    if (opts.timeouts !== "default") {
      for (const [k, v] of Object.entries(FAST_TIMEOUTS)) await monitorSql!.unsafe(`alter system set ${k} = ${v}`);
      await monitorSql!`select pg_reload_conf()`;
    }

    // The primary: an existing PGDATA, registered as "single".
    const create = (node: HaNode) => {
      autoctl([
        "create", "postgres", "--pgdata", node.pgdata, "--pgport", String(node.port), "--hostname", "127.0.0.1", "--listen", "127.0.0.1",
        "--name", node.name, "--dbname", "hoadon", "--monitor", monitorUri, ...ssl,
      ]);
      if (opts.timeouts !== "default") for (const [k, v] of Object.entries(FAST_KEEPER_TIMEOUTS)) autoctl(["config", "set", "--pgdata", node.pgdata, k, String(v)]);
    };
    initdb(nodes[0].pgdata);
    create(nodes[0]);
    nodes[0].start();
    await cluster.waitStates({ node1: "single" }, 30_000);
    // The secondary: pg_basebackup from the primary.
    create(nodes[1]);
    nodes[1].start();
    await cluster.waitStates({ node1: "primary", node2: "secondary" }, 60_000);
    return cluster;
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
}

/** `pid` and every process below it (from /proc's parent links). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* ended meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  if (alive(pid)) walk(pid);
  return out;
}

function postmasterPid(pgdata: string): number | null {
  try {
    const pid = Number(readFileSync(join(pgdata, "postmaster.pid"), "utf8").split("\n")[0]);
    return pid > 0 && alive(pid) && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(pgdata) ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    // A zombie has no process left to signal, only an exit status its parent has not read.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* gone */
  }
}

const tail = (s: string) => s.split("\n").slice(-60).join("\n");
