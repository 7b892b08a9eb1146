/**
 * CPU of the gate on adversarial documents within the limits (test/helpers/adversarial.ts), ~2 MB
 * each. `npm run bench:scan [bytes]` (with the service's `--max-semi-space-size=128`, as `npm start`).
 * Prints CPU milliseconds (user+system of the whole process, GC threads included), best of 5 after one
 * run not counted (the first run of each document compiles the code its constructs reach), per document:
 * - the scan alone, then C14N 1.0 and exclusive C14N of DLHDon (the octets the gate digests);
 * - the whole per-document gate on the document signed by a seller (its Reference under C14N 1.0,
 *   then under exclusive C14N): parse, frame + profile, signature (canonical octets, digest,
 *   SignatureValue), certificate, schema — every stage run whatever the one before answered, so
 *   the figure is what a registered seller's worst document costs.
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { frameStage } from "../src/gate/frame.js";
import { parseStage } from "../src/gate/parse.js";
import { profileStage } from "../src/gate/profile.js";
import { schemaStage } from "../src/gate/schema.js";
import { signatureStage } from "../src/gate/signature.js";
import { TrustStore } from "../src/pki/trust.js";
import { loadTrust } from "../src/pki/trust-files.js";
import { C14N, EXC_C14N } from "../src/xml/algorithms.js";
import { canonicalBytes } from "../src/xml/canonical.js";
import { DEFAULT_LIMITS, scanXml } from "../src/xml/scan.js";
import { ADVERSARIAL, signAdversarial } from "../test/helpers/adversarial.js";
import { buildInvoice } from "../test/helpers/invoice.js";
import { signInvoice } from "../test/helpers/sign.js";

const cpu = <T>(f: () => T): [T, number] => {
  const a = process.cpuUsage();
  const r = f();
  const b = process.cpuUsage(a);
  return [r, (b.user + b.system) / 1000];
};
const attempt = <T>(f: () => T): T | Error => {
  try {
    return f();
  } catch (e) {
    return e as Error;
  }
};
const ROUNDS = 5;
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");

const size = Number(process.argv[2] ?? 2 * 1024 * 1024 - 4096);
console.log(`size ${size} bytes; load average ${load()}`);
console.log("scanner and canonicalizers alone:");
for (const [name, make] of Object.entries(ADVERSARIAL)) {
  const xml = Buffer.from(make(size));
  let best = [Infinity, Infinity, Infinity];
  let verdict = "";
  for (let k = 0; k < ROUNDS; k++) {
    const [s, ms] = cpu(() => scanXml(xml, DEFAULT_LIMITS));
    let inc = 0;
    let exc = 0;
    if (s.ok) {
      const d = s.value.root.elements[0]!;
      inc = cpu(() => canonicalBytes(d, C14N))[1];
      exc = cpu(() => attempt(() => canonicalBytes(d, EXC_C14N)))[1];
      verdict = `accepted, ${s.value.steps} steps`;
    } else verdict = `refused ${s.faults[0]!.code}`;
    best = [Math.min(best[0]!, ms), Math.min(best[1]!, inc), Math.min(best[2]!, exc)];
  }
  console.log(`  ${name.padEnd(18)} ${xml.length} B  scan ${best[0]!.toFixed(1)} ms  c14n ${best[1]!.toFixed(1)} ms  exc-c14n ${best[2]!.toFixed(1)} ms  (${verdict})`);
}

const certs = new URL("../certs/", import.meta.url);
const read = (f: string) => readFileSync(new URL(f, certs), "utf8");
const key = { keyPem: read("seller-0100000010-rsa.key"), certPem: read("seller-0100000010-rsa.pem") };
const trust = new TrustStore(loadTrust({ anchorsPath: new URL("trust-anchors.pem", certs).pathname, intermediatesPath: new URL("intermediates.pem", certs).pathname }));
const STAGES = ["parse", "frame+profile", "signature", "certificate", "schema", "total"] as const;
console.log(`the whole gate on the signed document (load average ${load()}):`);
let worst = 0;
for (const [name, make] of Object.entries(ADVERSARIAL)) {
  for (const [c14nName, c14n] of [["c14n", C14N], ["exc-c14n", EXC_C14N]] as const) {
    const body = Buffer.from(await signAdversarial(make(size - 4096), key, c14n));
    const best = STAGES.map(() => Infinity);
    const verdicts: string[] = [];
    for (let k = -1; k < ROUNDS; k++) {
      verdicts.length = 0;
      const a = process.cpuUsage();
      const [parsed, t0] = cpu(() => parseStage(body, DEFAULT_LIMITS));
      const [profile, t1] = cpu(() => attempt(() => profileStage(frameStage(parsed), false)));
      if (profile instanceof Error) verdicts.push(`profile: ${profile.message}`);
      const [verified, t2] = profile instanceof Error ? [profile, 0] : cpu(() => attempt(() => signatureStage(profile)));
      if (verified instanceof Error) verdicts.push(`signature: ${verified.message}`);
      const [, t3] = verified instanceof Error ? [null, 0] : cpu(() => trust.verifySigner(verified.signer, verified.others, new Date(), "0100000010"));
      const [schema, t4] = cpu(() => attempt(() => schemaStage(parsed.ids.get("data")!)));
      verdicts.push(schema instanceof Error ? `schema: ${schema.message.slice(0, 60)}` : "schema: accepted");
      const total = process.cpuUsage(a);
      if (k >= 0) [t0, t1, t2, t3, t4, (total.user + total.system) / 1000].forEach((t, i) => (best[i] = Math.min(best[i]!, t)));
    }
    worst = Math.max(worst, best[STAGES.length - 1]!);
    console.log(`  ${`${name} ${c14nName}`.padEnd(27)} ${body.length} B  ${STAGES.map((s, i) => `${s} ${best[i]!.toFixed(1)}`).join("  ")} ms  (${verdicts.join("; ")})`);
  }
}
console.log(`worst document through the gate: ${worst.toFixed(1)} ms CPU (load average ${load()})`);

// A legitimate invoice near the size limit: 9,000 goods lines, ≈ 1.8 MB, signed by a seller; the
// gate accepts it, so every stage runs to the end (the adversarial documents stop at the schema).
{
  const lines = Array.from({ length: 9000 }, (_, i) => ({ name: `Hàng hóa số ${i}`, unit: "cái", quantity: "1", unitPrice: "1000", taxRate: "10%" as const, code: `M${i}` }));
  const body = Buffer.from(signInvoice(buildInvoice({ sellerTaxCode: "0100000010", lines }), key));
  const best = STAGES.map(() => Infinity);
  for (let k = -1; k < ROUNDS; k++) {
    const a = process.cpuUsage();
    const [parsed, t0] = cpu(() => parseStage(body, DEFAULT_LIMITS));
    const [profile, t1] = cpu(() => profileStage(frameStage(parsed), false));
    const [verified, t2] = cpu(() => signatureStage(profile));
    const [, t3] = cpu(() => trust.verifySigner(verified.signer, verified.others, new Date(), "0100000010"));
    const [, t4] = cpu(() => schemaStage(parsed.ids.get("SigningData") ?? parsed.root.elements[0]!));
    const total = process.cpuUsage(a);
    if (k >= 0) [t0, t1, t2, t3, t4, (total.user + total.system) / 1000].forEach((t, i) => (best[i] = Math.min(best[i]!, t)));
  }
  console.log(`a legitimate invoice of 9,000 lines, ${body.length} B, accepted: ${STAGES.map((s, i) => `${s} ${best[i]!.toFixed(1)}`).join("  ")} ms (load average ${load()})`);
}
