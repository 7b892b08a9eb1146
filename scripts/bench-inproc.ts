/**
 * The CPU of one submission through the app in process (app.request, no socket), sequential:
 * separates the HTTP layer from the gate and the store. On the embedded database, or PostgreSQL
 * with DATABASE_URL. `npx tsx scripts/bench-inproc.ts`; with `node --cpu-prof --import tsx` for a profile.
 */
import { webcrypto } from "node:crypto";
import { importSellerKey, LOAD_SELLERS, runSymbol, signedInvoice } from "../load-tests/lib/invoice.js";
import { cert, startHarness } from "../test/helpers/app.js";

const h = await startHarness({ authorityKeyType: "ec" });
const s = LOAD_SELLERS[0]!;
await h.call("POST", "/v1/sellers", { taxCode: s.taxCode, name: "X", address: "1 Tràng Tiền, Hà Nội", taxOffice: "Cục Thuế TP Hà Nội", province: "Hà Nội" });
await h.call("POST", `/v1/sellers/${s.taxCode}/certificates`, { pem: cert(s.cert) });
const key = ((await (await h.call("POST", `/v1/sellers/${s.taxCode}/api-keys`)).json()) as { key: string }).key;
const k = await importSellerKey(webcrypto.subtle as unknown as SubtleCrypto, cert(s.key), cert(s.cert), "rsa");
const sym = runSymbol(Math.random());
const N = 600;
const xs: string[] = [];
for (let i = 0; i < N; i++) xs.push(await signedInvoice(webcrypto.subtle as unknown as SubtleCrypto, k, { sellerTaxCode: s.taxCode, buyerTaxCode: s.buyer, symbol: sym, number: i + 1 }));
for (let i = 0; i < 100; i++) await h.submit(xs[i]!, key);
const c0 = process.cpuUsage(); const t0 = performance.now();
for (let i = 100; i < N; i++) { const r = await h.submit(xs[i]!, key); if (r.status !== 201) throw new Error(String(r.status)); await r.text(); }
const c = process.cpuUsage(c0); const n = N - 100;
console.log(`in process, sequential: ${((c.user + c.system) / 1000 / n).toFixed(2)} ms CPU (this process: app + client side of the db) per invoice, ${((performance.now() - t0) / n).toFixed(2)} ms wall`);
await h.close();
