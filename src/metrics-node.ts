/**
 * Node-only metrics: the process (CPU, memory, file descriptors), V8 (heap, external memory,
 * array buffers, garbage collection) and the event loop (delay, utilization). Names follow
 * Prometheus' conventions for process and Node.js metrics. Kept apart so that Workers do not
 * import node:perf_hooks.
 */
import { readdirSync } from "node:fs";
import { constants, type EventLoopUtilization, monitorEventLoopDelay, PerformanceObserver, performance } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import { Histogram, type Metric, type Metrics } from "./metrics.js";

/** Garbage-collection pauses: 0.1 ms … 1 s. */
const GC_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1] as const;

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
};

function openFds(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length - 1; // less the descriptor of the listing itself
  } catch {
    return undefined; // not Linux
  }
}

/** Starts sampling the event loop (every 20 ms) and garbage collection, and registers the gauges. */
export function registerNodeMetrics(metrics: Pick<Metrics, "register">): { stop(): void } {
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const gc = new Histogram<"kind">("nodejs_gc_duration_seconds", "Garbage-collection pauses, by kind (minor, major, incremental, weakcb).", GC_BUCKETS);
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = GC_KINDS[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? "other";
      gc.observe({ kind }, e.duration / 1000);
    }
  });
  gcObserver.observe({ entryTypes: ["gc"] });
  metrics.register(gc);

  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  const gauge = (out: string[], name: string, help: string, value: number | string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
  const counter = (out: string[], name: string, help: string, value: number) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);

  const figures: Metric = {
    render(out) {
      // The histogram holds the delays since the previous scrape (reset below), in nanoseconds.
      const s = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
      const n = delay.count > 0;
      out.push(
        "# HELP hoadon_event_loop_lag_seconds Event-loop delay since the previous scrape (mean, p99, max): how long ready work waited for the loop.",
        "# TYPE hoadon_event_loop_lag_seconds gauge",
        `hoadon_event_loop_lag_seconds{stat="mean"} ${n ? s(delay.mean) : 0}`,
        `hoadon_event_loop_lag_seconds{stat="p99"} ${n ? s(delay.percentile(99)) : 0}`,
        `hoadon_event_loop_lag_seconds{stat="max"} ${n ? s(delay.max) : 0}`,
      );
      delay.reset();
      const elu = performance.eventLoopUtilization();
      gauge(out, "nodejs_eventloop_utilization", "Share of the time since the previous scrape that the event loop was busy (0–1).", performance.eventLoopUtilization(elu, lastElu).utilization);
      lastElu = elu;

      const cpu = process.cpuUsage();
      counter(out, "process_cpu_user_seconds_total", "User CPU time spent by this process, in seconds.", cpu.user / 1e6);
      counter(out, "process_cpu_system_seconds_total", "System CPU time spent by this process, in seconds.", cpu.system / 1e6);
      counter(out, "process_cpu_seconds_total", "User and system CPU time spent by this process, in seconds.", (cpu.user + cpu.system) / 1e6);

      const mem = process.memoryUsage();
      const heap = getHeapStatistics();
      gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.", mem.rss);
      gauge(out, "nodejs_heap_used_bytes", "V8 heap in use, in bytes.", mem.heapUsed);
      gauge(out, "nodejs_heap_total_bytes", "V8 heap allocated, in bytes.", mem.heapTotal);
      gauge(out, "nodejs_heap_limit_bytes", "The V8 heap's size limit, in bytes.", heap.heap_size_limit);
      gauge(
        out,
        "nodejs_external_memory_bytes",
        "Memory outside the V8 heap held by JavaScript objects, in bytes: ArrayBuffers, Buffers and WebAssembly memories (the embedded PGlite's heap among them).",
        mem.external,
      );
      gauge(out, "nodejs_array_buffers_bytes", "Memory of ArrayBuffers and SharedArrayBuffers (Buffers included), in bytes; part of the external memory.", mem.arrayBuffers);
      gauge(
        out,
        "nodejs_external_other_bytes",
        "External memory that is not an ArrayBuffer (WebAssembly memories, native objects), in bytes: external minus array buffers.",
        Math.max(0, mem.external - mem.arrayBuffers),
      );
      const fds = openFds();
      if (fds !== undefined) gauge(out, "process_open_fds", "Open file descriptors.", fds);
      gauge(out, "process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", startSeconds);
    },
  };
  metrics.register(figures);
  return {
    stop: () => {
      delay.disable();
      gcObserver.disconnect();
    },
  };
}
