// @ts-check
/**
 * A signer thread of `npm run bench` (scripts/bench.ts): builds and signs distinct invoices with
 * load-tests/lib/invoice.js (WebCrypto), as much as the main thread grants it credit for, and
 * posts them in chunks. Plain JavaScript so that a worker thread runs it without a TypeScript loader.
 */
import { webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { importSellerKey, LOAD_SELLERS, signedInvoice } from "../load-tests/lib/invoice.js";

/** @type {{ from: number, to: number, step: number, symbol: string, lines: number }} */
const job = workerData;
const port = /** @type {import("node:worker_threads").MessagePort} */ (parentPort);
const subtle = /** @type {SubtleCrypto} */ (/** @type {unknown} */ (webcrypto.subtle));
const read = (/** @type {string} */ f) => readFileSync(new URL(`../certs/${f}`, import.meta.url), "utf8");
const keys = await Promise.all(LOAD_SELLERS.map((s) => importSellerKey(subtle, read(s.key), read(s.cert), s.kind)));
let credit = 0;
let next = job.from;
let running = false;
port.on("message", async (/** @type {{ credit: number }} */ m) => {
  credit += m.credit;
  if (running) return;
  running = true;
  while (credit > 0 && next < job.to) {
    /** @type {{ i: number, xml: string }[]} */
    const chunk = [];
    while (chunk.length < 64 && credit > 0 && next < job.to) {
      const i = next;
      next += job.step;
      credit--;
      const s = LOAD_SELLERS[i % LOAD_SELLERS.length];
      const key = keys[i % LOAD_SELLERS.length];
      if (!s || !key) continue;
      const xml = await signedInvoice(subtle, key, { sellerTaxCode: s.taxCode, buyerTaxCode: s.buyer, symbol: job.symbol, number: Math.floor(i / LOAD_SELLERS.length) + 1, lines: job.lines });
      chunk.push({ i, xml });
    }
    port.postMessage(chunk);
  }
  running = false;
  if (next >= job.to) port.postMessage("done");
});
