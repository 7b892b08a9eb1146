/**
 * The seller-signature verification alone, as the gate does it (invoice-format.md §4: parse,
 * frame, profile and algorithms, digests, signature value; no trust, no database), over every
 * .xml file of DIR: `npm run bench:verify -- DIR [--passes N]`. A T-VAN TDiep is verified on the
 * HDon it carries. Legacy SHA-1 is allowed (only the cryptography is measured). One warm-up pass,
 * then N passes (default 5, at least 2 s in all); the figure is the wall time per invoice of the
 * fastest pass, on one thread, with the mean, the process's CPU time and the load average beside it. Its last line is exactly
 * `verify: <µs> µs/invoice (<N> files)`. scripts/bench-verify-xmlsec.py does the same with
 * libxmlsec1 in process, for comparison.
 */
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { readInvoiceDocument, readSellerSignature } from "../src/xml/invoice-document.js";
import { focus, parseXml } from "../src/xml/parse.js";
import { verifyProfile } from "../src/xml/verify.js";

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith("--"));
const passesAt = args.indexOf("--passes");
const passes = passesAt >= 0 ? Number(args[passesAt + 1]) : 5;
if (!dir) {
  console.error("usage: npm run bench:verify -- DIR [--passes N]");
  process.exit(2);
}
const files = readdirSync(dir).filter((f) => f.endsWith(".xml")).sort();
const bodies = files.map((f) => readFileSync(join(dir, f)));
if (bodies.length === 0) {
  console.error(`no .xml file in ${dir}`);
  process.exit(2);
}

/** One seller-signature verification: true when valid. */
function verify(body: Uint8Array): boolean {
  let parsed = parseXml(body, "HDon");
  if (!parsed.ok) {
    const env = parseXml(body, "TDiep");
    const hdon = env.ok ? env.value.root.getElementsByTagName("HDon")[0] : undefined;
    if (!env.ok || !hdon) return false;
    parsed = { ok: true, value: focus(env.value, hdon) };
  }
  const doc = readInvoiceDocument(parsed.value);
  if (!doc.ok) return false;
  const profile = readSellerSignature(doc.value, true);
  return profile.ok && verifyProfile(profile.value).ok;
}

let valid = 0;
for (const b of bodies) if (verify(b)) valid++;
console.log(`${files.length} files in ${dir}: ${valid} verify, ${files.length - valid} do not (warm-up pass)`);
// The figure is the fastest pass (the least disturbed by other processes on a shared machine).
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let done = 0;
let best = Infinity;
for (let p = 0; p < passes || performance.now() - t0 < 2000; p++) {
  const s = performance.now();
  for (const b of bodies) verify(b);
  best = Math.min(best, performance.now() - s);
  done += bodies.length;
}
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(
  `${done} verifications in ${wall.toFixed(0)} ms (mean ${((wall * 1000) / done).toFixed(1)} µs); ` +
    `CPU ${((cpu.user + cpu.system) / done).toFixed(1)} µs/invoice; load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`,
);
console.log(`verify: ${((best * 1000) / bodies.length).toFixed(1)} µs/invoice (${files.length} files)`);
