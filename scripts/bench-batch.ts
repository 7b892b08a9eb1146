/**
 * Per-invoice cost of single submissions against batches, end to end in process (routes, gate,
 * store), on the embedded database or, with DATABASE_URL, on PostgreSQL (a throw-away schema).
 * Invoices are signed before the clock starts. `npm run bench:batch [N]` (default 1,000 per run).
 *
 * Prints, per mode, the wall time per invoice and the throughput of one client:
 *   single          N × POST /v1/invoices, one after another
 *   single ×8       N × POST /v1/invoices, 8 in flight
 *   batch of 100    N/100 × POST /v1/invoices/batch
 *   batch of 1000   N/1000 × POST /v1/invoices/batch
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { hashSecret } from "../src/auth.js";
import type { NewInvoice } from "../src/storage/store.js";
import { startHarness, type TestSeller } from "../test/helpers/app.js";

const N = Number(process.argv[2] ?? 1000);
const h = await startHarness();
const engine = process.env.DATABASE_URL ? "PostgreSQL" : "PGlite";
const lines = Array.from({ length: 12 }, (_, i) => ({ name: `Mặt hàng số ${i + 1}`, unit: "Cái", quantity: i + 1, unitPrice: 125_000 + i * 1000, taxRate: (i % 3 === 0 ? "8%" : "10%") as "8%" | "10%" }));

async function prepared(): Promise<{ s: TestSeller; xml: string[] }> {
  const s = await h.seller();
  return { s, xml: Array.from({ length: N }, () => s.invoice({ lines })) };
}

/** N ready-to-store invoices of a fresh seller: the store's part alone, without the gate. */
async function newInvoices(): Promise<NewInvoice[]> {
  const s = await h.seller();
  const [cert] = await h.store.listCertificates(s.taxCode);
  const key = await h.store.findPrincipal(hashSecret(s.apiKey));
  const xml = s.invoice({ lines });
  return Array.from({ length: N }, (_, i) => ({
    sellerTaxCode: s.taxCode,
    form: "1",
    symbol: "C26TAA",
    number: i + 1,
    code: "0B" + randomBytes(16).toString("hex").toUpperCase(),
    status: "issued",
    buyerTaxCode: "0310000024",
    issueDate: "2026-11-20",
    currency: "VND",
    exchangeRate: "1",
    totalBeforeTax: "9750000",
    totalTax: "939000",
    totalPayable: "10689000",
    digest: randomBytes(32).toString("base64"),
    xml,
    issuedAt: new Date(),
    certificateFingerprint: cert!.fingerprint,
    submittedBy: key!.id,
    taxRates: [
      { taxRate: "8%", amountBeforeTax: "2600000", tax: "208000" },
      { taxRate: "10%", amountBeforeTax: "7150000", tax: "731000" },
    ],
  }));
}

async function timed(name: string, run: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  console.log(`${name.padEnd(20)} ${(ms / N).toFixed(2).padStart(7)} ms/invoice   ${Math.round((N / ms) * 1000).toString().padStart(5)} invoices/s`);
  return ms / N;
}

async function batches(s: TestSeller, xml: string[], size: number): Promise<void> {
  for (let i = 0; i < xml.length; i += size) {
    const res = await h.app.request("/v1/invoices/batch", {
      method: "POST",
      headers: { authorization: `Bearer ${s.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ invoices: xml.slice(i, i + size) }),
    });
    const body = (await res.json()) as { results: { status: number }[] };
    if (res.status !== 200 || body.results.some((r) => r.status !== 201)) throw new Error(`batch: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

async function singles(s: TestSeller, xml: string[], inFlight: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < xml.length) {
        const res = await h.submit(xml[next++]!, s.apiKey);
        if (res.status !== 201) throw new Error(`single: ${res.status} ${await res.text()}`);
      }
    }),
  );
}

console.log(`${engine}, ${N} invoices per mode (12 lines each), signed beforehand`);
// Warm up: JIT, chain cache, code block reservation.
{
  const w = await prepared();
  await singles(w.s, w.xml.slice(0, 50), 1);
  await batches(w.s, w.xml.slice(50, 150), 100);
}
const runs = { single: await prepared(), concurrent: await prepared(), b100: await prepared(), b1000: await prepared() };
const single = await timed("single", () => singles(runs.single.s, runs.single.xml, 1));
await timed("single ×8", () => singles(runs.concurrent.s, runs.concurrent.xml, 8));
const b100 = await timed("batch of 100", () => batches(runs.b100.s, runs.b100.xml, 100));
const b1000 = await timed("batch of 1000", () => batches(runs.b1000.s, runs.b1000.xml, 1000));
console.log(`end to end: batch of 100 ${(single / b100).toFixed(1)}× cheaper per invoice than single, batch of 1000 ${(single / b1000).toFixed(1)}×`);

console.log("the store's part alone (the transaction of stage 11, no gate):");
const store = { one: await newInvoices(), b100: await newInvoices(), b1000: await newInvoices() };
const storeOne = await timed("  issueInvoice", async () => {
  for (const inv of store.one) if ((await h.store.issueInvoice(inv)).kind !== "stored") throw new Error("not issued");
});
const store100 = await timed("  issueInvoices 100", async () => {
  for (let i = 0; i < N; i += 100) await h.store.issueInvoices(store.b100.slice(i, i + 100));
});
const store1000 = await timed("  issueInvoices 1000", async () => {
  for (let i = 0; i < N; i += 1000) await h.store.issueInvoices(store.b1000.slice(i, i + 1000));
});
console.log(`store: batch of 100 ${(storeOne / store100).toFixed(1)}× cheaper per invoice, batch of 1000 ${(storeOne / store1000).toFixed(1)}×`);
await h.close();
