/**
 * Summarizes a V8 .cpuprofile (what `npm run bench -- --profile DIR` leaves): shares of the
 * samples by self time per function and per module (a package of node_modules, a file of src/,
 * or a V8/Node category), and by inclusive time per module (a sample counts once for every
 * module on its stack).
 *
 *   npx tsx scripts/profile-summary.ts DIR/CPU.….cpuprofile [--top 40] [--per-invoice-ms 2.35] [--from 6]
 *   npx tsx scripts/profile-summary.ts FILE.heapprofile [--invoices 3000]
 *
 * --from S leaves out the samples of the first S seconds (the service's start-up: module loading
 * and compilation, which the bench's CPU per invoice does not count); the busy time per 2-second
 * window is printed first to choose it. --detail TEXT lists the functions (self time) of the
 * stages whose name contains TEXT.
 *
 * With --per-invoice-ms (the service's CPU per invoice of the same run) each share is also shown
 * as milliseconds per invoice. A .heapprofile (a sampling heap profile taken with the flags that
 * keep collected objects: every allocation, garbage included) is summarized the same way in
 * bytes; with --invoices N (the invoices of the run) shares are also shown as KiB per invoice. Idle samples are left out of the shares' base (the base is the
 * busy samples; "(program)" is native work V8 attributes to no function, and counts as busy).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: "string", default: "40" },
    "per-invoice-ms": { type: "string" },
    from: { type: "string", default: "0" },
    detail: { type: "string" },
    invoices: { type: "string" },
  },
});
const top = Number(a.top);
const perInvoice = a["per-invoice-ms"] ? Number(a["per-invoice-ms"]) : null;
const invoices = a.invoices ? Number(a.invoices) : null;
const fromUs = Number(a.from) * 1e6;

/** A frame's module: a package, a src/ or scripts/ file, node's own code, or V8's pseudo-frames. */
function moduleOf(n: Node): string {
  const { url, functionName } = n.callFrame;
  if (!url) {
    if (functionName === "(garbage collector)") return "(gc)";
    if (functionName === "(idle)" || functionName === "(program)" || functionName === "(root)") return functionName;
    return "(native)";
  }
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  // node:internal/webstreams/readablestream → node:internal/webstreams; node:internal/deps/undici/undici → …/undici.
  if (url.startsWith("node:internal/deps/")) return "node:internal/deps/" + url.slice("node:internal/deps/".length).split("/")[0];
  if (url.startsWith("node:internal/")) return "node:internal/" + url.slice("node:internal/".length).split("/")[0]!.replace(/\.js$/, "");
  if (url.startsWith("node:")) return url;
  const src = url.search(/\/(src|scripts|load-tests)\//);
  return src >= 0 ? url.slice(src + 1) : url;
}

/**
 * The stages of the submission path, by the file that runs them. A sample belongs to the stage
 * of the frame nearest its leaf that is in one of these files (so canonicalization run by the
 * stamp counts as the stamp, by the signature check as the signature); failing that, to the
 * layer of the nearest frame of `LAYERS`; failing that, to what node was doing (the HTTP
 * parser, a socket, the microtask queue).
 */
const STAGES: [string, RegExp][] = [
  ["gate: parse (scanner)", /^src\/gate\/(parse|size)\.ts$/],
  ["gate: frame", /^src\/gate\/frame\.ts$/],
  ["gate: profile", /^src\/gate\/profile\.ts$/],
  ["gate: signature", /^src\/gate\/signature\.ts$/],
  ["gate: certificate", /^src\/gate\/certificate\.ts$/],
  ["gate: schema", /^src\/gate\/schema\.ts$/],
  ["gate: rules", /^src\/gate\/rules\.ts$/],
  ["stamp (authority signature, QR)", /^src\/xml\/stamp\.ts$/],
  ["code", /^src\/domain\/code\.ts$/],
  ["storage (client side: statements, Postgres.js)", /^(src\/storage\/|postgres$)/],
  ["transparency log", /^src\/tlog\//],
  ["metrics", /^src\/metrics/],
  ["logging", /^(src\/log|pino$|thread-stream$|sonic-boom$)/],
];
const LAYERS: [string, RegExp][] = [
  ["submission glue (submit.ts, group commit, gate/index)", /^src\/(domain\/(submit|group-commit)|gate\/index)\.ts$/],
  ["HTTP: hono, @hono/node-server, middleware, route", /^(hono$|@hono\/|src\/(app|routes\/|heavy-work|rate-limit|auth|context|errors|error-i18n))/],
  ["other src/", /^src\//],
];
const NODE_LAYERS: [string, RegExp][] = [
  ["HTTP: node:http, sockets, streams", /^node:(_http|net|internal\/(streams|stream_base_commons|webstreams|deps\/undici|http|net))/],
  ["microtasks, timers, events", /^node:(internal\/(process|timers|event_target|abort_controller|async_hooks)|events|timers)/],
];

function stageOf(chain: string[]): string {
  // chain: the modules of the sample's frames, leaf first.
  for (const m of chain) for (const [name, re] of STAGES) if (re.test(m)) return name;
  for (const m of chain) for (const [name, re] of LAYERS) if (re.test(m)) return name;
  if (chain[0] === "(gc)") return "(gc)";
  if (chain[0] === "(program)") return "(program)";
  for (let i = chain.length - 1; i >= 0; i--) for (const [name, re] of NODE_LAYERS) if (re.test(chain[i]!)) return name;
  return "other: " + chain.filter((m) => m !== "(root)").slice(-2).join(" < ");
}

interface HeapNode {
  callFrame: Node["callFrame"];
  selfSize: number;
  children: HeapNode[];
}

/** A .cpuprofile's time per node (µs), or a .heapprofile's bytes per node, with the tree. */
function load(file: string): { byId: Map<number, Node>; parent: Map<number, number>; weight: Map<number, number>; heap: boolean } {
  const raw = JSON.parse(readFileSync(file, "utf8")) as Profile | { head: HeapNode };
  const byId = new Map<number, Node>();
  const parent = new Map<number, number>();
  const weight = new Map<number, number>();
  if ("head" in raw) {
    // A sampling heap profile (HeapProfiler.stopSampling, `node --heap-prof`): bytes allocated per stack.
    let next = 1;
    const walk = (h: HeapNode, up: number | undefined) => {
      const id = next++;
      byId.set(id, { id, callFrame: h.callFrame });
      if (up !== undefined) parent.set(id, up);
      if (h.selfSize > 0) weight.set(id, h.selfSize);
      for (const c of h.children) walk(c, id);
    };
    walk(raw.head, undefined);
    return { byId, parent, weight, heap: true };
  }
  const p = raw;
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Time per node from the deltas (the sample's time is the delta that follows it).
  const windows: number[] = [];
  let t = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    const dt = Math.max(0, p.timeDeltas[i + 1] ?? 0);
    const w = Math.floor(t / 2e6);
    if (byId.get(p.samples[i]!)!.callFrame.functionName !== "(idle)") windows[w] = (windows[w] ?? 0) + dt;
    if (t < fromUs) continue;
    weight.set(p.samples[i]!, (weight.get(p.samples[i]!) ?? 0) + dt);
  }
  console.log(`${file}: busy seconds per 2 s window: ${Array.from(windows, (x) => ((x ?? 0) / 1e6).toFixed(1)).join(" ")}`);
  return { byId, parent, weight, heap: false };
}

for (const file of positionals) {
  const { byId, parent, weight: selfUs, heap } = load(file);
  let total = 0;
  let idle = 0;
  const fnSelf = new Map<string, number>();
  const modSelf = new Map<string, number>();
  const modIncl = new Map<string, number>();
  const stage = new Map<string, number>();
  const detail = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    total += us;
    const m = moduleOf(n);
    if (m === "(idle)") {
      idle += us;
      continue;
    }
    const fn = `${n.callFrame.functionName || "(anonymous)"} ${m}:${n.callFrame.lineNumber + 1}`;
    fnSelf.set(fn, (fnSelf.get(fn) ?? 0) + us);
    modSelf.set(m, (modSelf.get(m) ?? 0) + us);
    const chain: string[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) chain.push(moduleOf(byId.get(cur)!));
    const st = stageOf(chain);
    stage.set(st, (stage.get(st) ?? 0) + us);
    if (a.detail && st.includes(a.detail)) detail.set(fn, (detail.get(fn) ?? 0) + us);
    const seen = new Set(chain);
    for (const s of seen) modIncl.set(s, (modIncl.get(s) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => ((100 * us) / busy).toFixed(1).padStart(5) + " %";
  const ms = (us: number) =>
    heap ? (invoices === null ? `  ${(us / 1024).toFixed(0)} KiB` : `  ${(us / 1024 / invoices).toFixed(1)} KiB/invoice`) : perInvoice === null ? "" : `  ${((perInvoice * us) / busy).toFixed(3)} ms`;
  const show = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...m].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`${pct(us)}${ms(us)}  ${k}`);
  };
  if (heap) console.log(`${file}: ${(total / 1048576).toFixed(1)} MiB allocated (sampled)${invoices === null ? "" : `, ${(total / 1024 / invoices).toFixed(0)} KiB per invoice`}`);
  else console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, busy ${(busy / 1e6).toFixed(1)} s (${((100 * busy) / total).toFixed(1)} %); shares of the busy time`);
  show("by stage of the submission path (the nearest stage on the stack)", stage);
  show("self time per module", modSelf);
  show("inclusive time per module (a sample counts once per module on its stack)", modIncl);
  show("self time per function", fnSelf);
  if (a.detail) show(`self time per function in the stages named *${a.detail}*`, detail);
}
