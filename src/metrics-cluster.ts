/**
 * /metrics with HOADON_WORKERS > 1: every worker keeps its own figures, and a scrape reaches one
 * worker only. So a worker answering GET /metrics asks the primary, the primary asks every
 * worker for its exposition text (over node:cluster's IPC channel), and the answer is the whole
 * process group: every series of every worker with a `worker` label (node:cluster's worker id),
 * the primary's own process figures under worker="primary", and `hoadon_worker_up` per worker
 * (0 for one that did not answer within a second). Sum across `worker` for totals.
 */
import cluster, { type Worker } from "node:cluster";
import type { Metrics } from "./metrics.js";

type Message =
  | { hoadon: "metrics-request"; id: number }
  | { hoadon: "metrics-response"; id: number; text: string }
  | { hoadon: "metrics-render"; id: number }
  | { hoadon: "metrics-text"; id: number; text: string };

const isMessage = (m: unknown): m is Message => typeof m === "object" && m !== null && typeof (m as { hoadon?: unknown }).hoadon === "string";

/** How long the primary waits for the workers, and a worker for the primary. */
const WORKER_TIMEOUT_MS = 1000;
const PRIMARY_TIMEOUT_MS = 3000;

/**
 * Puts `label="value"` first in the label set of every sample of an exposition text; comment lines
 * pass unchanged.
 */
export function labelSamples(text: string, label: string, value: string): string[] {
  const pair = `${label}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      out.push(line);
      continue;
    }
    const brace = line.indexOf("{");
    const space = line.indexOf(" ");
    if (brace !== -1 && brace < space) out.push(`${line.slice(0, brace)}{${pair},${line.slice(brace + 1)}`);
    else out.push(`${line.slice(0, space)}{${pair}}${line.slice(space)}`);
  }
  return out;
}

/**
 * Merges the exposition texts of several processes into one: each metric family once (HELP and
 * TYPE as the first process wrote them), then its samples from every process, each labelled.
 */
export function mergeExpositions(parts: readonly { label: string; text: string }[], labelName = "worker"): string {
  const families = new Map<string, { head: string[]; samples: string[] }>();
  for (const part of parts) {
    let current: { head: string[]; samples: string[] } | undefined;
    for (const line of labelSamples(part.text, labelName, part.label)) {
      const m = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (m) {
        const name = m[2]!;
        current = families.get(name);
        if (!current) {
          current = { head: [], samples: [] };
          families.set(name, current);
        }
        if (current.head.length < 2 && !current.head.some((h) => h.startsWith(`# ${m[1]} `))) current.head.push(line);
        continue;
      }
      if (line.startsWith("#")) continue;
      if (!current) continue; // a sample without a family: never written by Metrics
      current.samples.push(line);
    }
  }
  const out: string[] = [];
  for (const f of families.values()) out.push(...f.head, ...f.samples);
  return out.join("\n") + "\n";
}

/**
 * In a worker: answers the primary's requests for this worker's text, and returns what GET
 * /metrics serves (the whole group, through the primary). Without an answer from the primary
 * (it is stopping, say) the worker serves its own figures, labelled with its id.
 */
export function workerMetrics(metrics: Metrics): () => Promise<string> {
  const workerId = String(cluster.worker?.id ?? "unknown");
  const waiting = new Map<number, (text: string) => void>();
  let seq = 0;
  process.on("message", (m: unknown) => {
    if (!isMessage(m)) return;
    if (m.hoadon === "metrics-render") process.send?.({ hoadon: "metrics-text", id: m.id, text: metrics.render() } satisfies Message);
    else if (m.hoadon === "metrics-response") waiting.get(m.id)?.(m.text);
  });
  return () =>
    new Promise<string>((resolve) => {
      const id = ++seq;
      const own = () => mergeExpositions([{ label: workerId, text: metrics.render() }]);
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve(own());
      }, PRIMARY_TIMEOUT_MS);
      waiting.set(id, (text) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(text);
      });
      if (!process.send?.({ hoadon: "metrics-request", id } satisfies Message)) {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(own());
      }
    });
}

/** In the primary: gathers every worker's text when one asks; `own` renders the primary's own figures. */
export function serveClusterMetrics(own: () => string, workers: () => Worker[]): void {
  let seq = 0;
  const gathering = new Map<number, { texts: Map<number, string>; expected: Worker[]; done: () => void }>();
  cluster.on("message", (worker: Worker, m: unknown) => {
    if (!isMessage(m)) return;
    if (m.hoadon === "metrics-text") {
      const g = gathering.get(m.id);
      if (!g) return;
      g.texts.set(worker.id, m.text);
      if (g.expected.every((w) => g.texts.has(w.id))) g.done();
      return;
    }
    if (m.hoadon !== "metrics-request") return;
    const id = ++seq;
    const expected = workers().filter((w) => w.isConnected());
    const texts = new Map<number, string>();
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      gathering.delete(id);
      const parts = expected.filter((w) => texts.has(w.id)).map((w) => ({ label: String(w.id), text: texts.get(w.id)! }));
      const up = [
        "# HELP hoadon_worker_up Whether the worker answered this scrape (1) or not within a second (0).",
        "# TYPE hoadon_worker_up gauge",
        ...expected.map((w) => `hoadon_worker_up{worker="${w.id}",pid="${w.process.pid ?? ""}"} ${texts.has(w.id) ? 1 : 0}`),
      ].join("\n");
      const text = mergeExpositions([...parts, { label: "primary", text: own() }]) + up + "\n";
      if (worker.isConnected()) worker.send({ hoadon: "metrics-response", id: m.id, text } satisfies Message);
    };
    const timer = setTimeout(done, WORKER_TIMEOUT_MS);
    gathering.set(id, { texts, expected, done });
    for (const w of expected) w.send({ hoadon: "metrics-render", id } satisfies Message);
    if (expected.length === 0) done();
  });
}
