/**
 * CPU of the gate's XML stages on adversarial documents within the limits (test/helpers/adversarial.ts),
 * ~2 MB each: the scan, then C14N 1.0 and exclusive C14N of DLHDon. `npm run bench:scan`.
 * Prints CPU milliseconds (user+system, process.cpuUsage) per document and stage, best of 3.
 */
import { C14N, EXC_C14N } from "../src/xml/algorithms.js";
import { canonicalize } from "../src/xml/canonical.js";
import { DEFAULT_LIMITS, scanXml } from "../src/xml/scan.js";
import { ADVERSARIAL } from "../test/helpers/adversarial.js";

const cpu = <T>(f: () => T): [T, number] => {
  const a = process.cpuUsage();
  const r = f();
  const b = process.cpuUsage(a);
  return [r, (b.user + b.system) / 1000];
};

const size = Number(process.argv[2] ?? 2 * 1024 * 1024 - 4096);
console.log(`size ${size} bytes; load average ${(await import("node:os")).loadavg().map((x) => x.toFixed(2)).join(" ")}`);
for (const [name, make] of Object.entries(ADVERSARIAL)) {
  const xml = Buffer.from(make(size));
  let best = [Infinity, Infinity, Infinity];
  let verdict = "";
  for (let k = 0; k < 3; k++) {
    const [s, ms] = cpu(() => scanXml(xml, DEFAULT_LIMITS));
    let inc = 0;
    let exc = 0;
    if (s.ok) {
      const d = s.value.root.elements[0]!;
      inc = cpu(() => canonicalize(d, C14N))[1];
      exc = cpu(() => { try { return canonicalize(d, EXC_C14N); } catch (e) { return (e as Error).message; } })[1];
      verdict = `accepted, ${s.value.steps} steps`;
    } else verdict = `refused ${s.faults[0]!.code}`;
    best = [Math.min(best[0]!, ms), Math.min(best[1]!, inc), Math.min(best[2]!, exc)];
  }
  console.log(`${name.padEnd(18)} ${xml.length} B  scan ${best[0]!.toFixed(1)} ms  c14n ${best[1]!.toFixed(1)} ms  exc-c14n ${best[2]!.toFixed(1)} ms  (${verdict})`);
}
