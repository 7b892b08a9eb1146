/**
 * Micro-benchmark of the gate's CPU work per invoice, without a database: parse, frame and
 * profile, digests and signature value, certificate, schema and rules, stamp. Prints the median
 * and p95 per stage over N pre-signed invoices (default 2,000). `npm run bench:gate [N]`.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { gmt7Date } from "../src/domain/gmt7.js";
import { readInvoice } from "../src/domain/invoice.js";
import { checkRules, DEFAULT_TIME_WINDOW } from "../src/domain/rules.js";
import { TrustStore } from "../src/pki/trust.js";
import { loadTrust } from "../src/pki/trust-files.js";
import { authorityKeyFromPem, generateDevAuthority } from "../src/secrets.js";
import { C14N, digestBase64 } from "../src/xml/algorithms.js";
import { canonicalize } from "../src/xml/canonical.js";
import { readInvoiceDocument, readSellerSignature } from "../src/xml/invoice-document.js";
import { parseXml } from "../src/xml/parse.js";
import { stamp } from "../src/xml/stamp.js";
import { verifyProfile } from "../src/xml/verify.js";
import { buildInvoice } from "../test/helpers/invoice.js";
import { signInvoice } from "../test/helpers/sign.js";

const N = Number(process.argv[2] ?? 2000);
const certs = new URL("../certs/", import.meta.url);
const read = (f: string) => readFileSync(new URL(f, certs), "utf8");
const key = { keyPem: read("seller-0100000010-rsa.key"), certPem: read("seller-0100000010-rsa.pem") };
const trust = new TrustStore(loadTrust({ anchorsPath: new URL("trust-anchors.pem", certs).pathname, intermediatesPath: new URL("intermediates.pem", certs).pathname }));
const dev = await generateDevAuthority("rsa");
const authority = authorityKeyFromPem(dev.keyPem, dev.certPem);

const lines = Array.from({ length: 12 }, (_, i) => ({
  name: `Mặt hàng số ${i + 1} — linh kiện điện tử`,
  unit: "Cái",
  quantity: i + 1,
  unitPrice: 125_000 + i * 1000,
  taxRate: (i % 3 === 0 ? "8%" : "10%") as "8%" | "10%",
}));
const invoices = Array.from({ length: N }, (_, i) => Buffer.from(signInvoice(buildInvoice({ sellerTaxCode: "0100000010", number: i + 1, lines }), key)));
console.log(`${N} invoices, ${invoices[0]!.byteLength} bytes each`);

const stages = ["parse", "frame+profile", "digests+signature", "certificate", "schema+rules", "stamp", "total"] as const;
const times: Record<string, number[]> = Object.fromEntries(stages.map((s) => [s, []]));
const now = new Date();
for (const body of invoices) {
  const t0 = performance.now();
  const parsed = parseXml(body, "HDon");
  if (!parsed.ok) throw new Error("parse");
  const t1 = performance.now();
  const doc = readInvoiceDocument(parsed.value);
  if (!doc.ok) throw new Error("frame");
  const profile = readSellerSignature(doc.value, false);
  if (!profile.ok) throw new Error("profile");
  const t2 = performance.now();
  const v = verifyProfile(profile.value);
  if (!v.ok) throw new Error("verify");
  const t3 = performance.now();
  const cert = trust.verifySigner(v.value.signer, v.value.others, v.value.signingTime ?? now, "0100000010");
  if (!cert.ok) throw new Error("cert");
  const t4 = performance.now();
  const inv = readInvoice(doc.value.dlhdon);
  if (!inv.ok || checkRules(inv.value, { today: gmt7Date(now), receipt: { at: now, signingTime: null, window: DEFAULT_TIME_WINDOW } }).length) throw new Error("rules");
  const t5 = performance.now();
  stamp(doc.value, "00" + "0".repeat(32), now, authority, digestBase64("sha256", canonicalize(doc.value.dlhdon, C14N)));
  const t6 = performance.now();
  const d = [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t6 - t0];
  stages.forEach((s, i) => times[s]!.push(d[i]!));
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
for (const s of stages) console.log(`${s.padEnd(20)} p50 ${pct(times[s]!, 50).toFixed(3)} ms   p95 ${pct(times[s]!, 95).toFixed(3)} ms`);
const total = times.total!.reduce((a, b) => a + b, 0);
console.log(`throughput (one core, no database): ${Math.round((N / total) * 1000)} invoices/s`);
