/**
 * Preload of `npm run bench -- --heap-profile FILE` (node --import): samples every allocation of
 * the service from its start, garbage included (the sampling heap profiler with the flags that
 * keep what the young and the old generation collected), and writes FILE when the process exits.
 * Summarize with `npx tsx scripts/profile-summary.ts FILE --invoices <invoices of the run>`: KiB
 * allocated per invoice by stage, module and function.
 *
 * With BENCH_HEAP_PROMOTED=1 (`npm run bench -- --heap-promoted`), what the young generation's
 * scavenges collected is left out: the profile is then of what was promoted to the old generation
 * (or is alive at the end), the garbage that costs full collections (load-tests/RESULTS.md).
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

const out = process.env.BENCH_HEAP_PROFILE;
if (out) {
  const session = new Session();
  session.connect();
  session.post("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.BENCH_HEAP_PROMOTED !== "1" });
  // The same-thread session answers synchronously: the profile is written before the exit completes.
  process.on("exit", () => {
    session.post("HeapProfiler.stopSampling", (err, r) => {
      if (!err) writeFileSync(out, JSON.stringify(r.profile));
    });
  });
}
