/** Node-only metrics: event-loop lag and process figures. Kept apart so that Workers do not import node:perf_hooks. */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Metric, Metrics } from "./metrics.js";

/** Starts sampling the event loop (every 20 ms) and registers lag and process gauges. */
export function registerNodeMetrics(metrics: Metrics): { stop(): void } {
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  const lag: Metric = {
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
      const mem = process.memoryUsage();
      out.push(
        "# HELP process_resident_memory_bytes Resident memory size in bytes.",
        "# TYPE process_resident_memory_bytes gauge",
        `process_resident_memory_bytes ${mem.rss}`,
        "# HELP nodejs_heap_used_bytes V8 heap in use, in bytes.",
        "# TYPE nodejs_heap_used_bytes gauge",
        `nodejs_heap_used_bytes ${mem.heapUsed}`,
        "# HELP process_start_time_seconds Start time of the process since the Unix epoch, in seconds.",
        "# TYPE process_start_time_seconds gauge",
        `process_start_time_seconds ${startSeconds}`,
      );
    },
  };
  metrics.register(lag);
  return { stop: () => delay.disable() };
}
