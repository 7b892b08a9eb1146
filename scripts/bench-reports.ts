/**
 * Reports and search at national scale (issue 5): loads realistic invoices into a PostgreSQL
 * database of its own THROUGH THE STORE (PgStore.issueInvoices, cancelInvoice: the same
 * transactions, rollups and partitions as the service, not the HTTP path and not COPY), then
 * measures p50/p95 of the officers' queries with the store methods the API calls.
 *
 *   npm run bench:reports                         # 10,000,000 invoices into database "bench", then measure
 *   npm run bench:reports -- --invoices 1000000   # fewer
 *   npm run bench:reports -- --skip-load          # measure again what is loaded (--skip-check: without reports:check)
 *   npm run bench:reports -- --drop               # drop the database at the end
 *   BENCH_DATABASE_URL=postgres://…/other npm run bench:reports
 *
 * The database (default postgres://postgres@127.0.0.1:5432/bench) is created when missing and
 * must not be one that matters: the load is a year of invoices (2025). Results: load-tests/RESULTS.md.
 *
 * The data (reproducible: a seeded generator):
 * - sellers (default 10,000) with valid MSTs, spread over 63 provinces (Hà Nội and TP Hồ Chí
 *   Minh carry most) and their tax offices; invoices per seller Zipf (s = 1): the largest seller
 *   issues ≈ 10 % of all invoices, most issue a few hundred a year;
 * - issue dates over 2025: fewer on Sundays and Saturdays, more in the last days of a month,
 *   few around Tết (late January);
 * - 1 tax rate (80 %), 2 (17 %) or 3 (3 %) per invoice among 10 %, 8 %, 5 %, 0 %, KCT, KKKNT;
 *   amounts log-normal (median ≈ 3 million đồng, mean ≈ 11 million); 3 % in USD (TGia 25,400);
 * - buyers: 30 % consumers (no MST), the rest from 300,000 businesses, Zipf (s = 0.8);
 * - 3 % of the invoices without a code (T-VAN 203), 2 % from cash registers (206): the rollups'
 *   per-source rows (migration 0013) exist for most sellers, as they will;
 * - then 0.5 % cancelled, 0.2 % replaced and 0.2 % adjusted (a decrease), as officers and
 *   sellers do after the fact;
 * - the stamped XML is a short placeholder: reports and searches never read it (a real one is
 *   ≈ 7 KB and would make the load a matter of disk, not of the schema).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import postgres from "postgres";
import { type Db, openDb, sql } from "../src/storage/index.js";
import { ensureInvoicePartitions } from "../src/storage/partitions.js";
import { PgStore } from "../src/storage/pg-store.js";
import type { InvoiceCursor, InvoiceSearch, NewInvoice, TaxRateAmount, TotalsGroupBy } from "../src/storage/store.js";

// ---------------------------------------------------------------------------------------------
// Options

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const INVOICES = option("invoices", 10_000_000);
const SELLERS = option("sellers", 10_000);
const WORKERS = option("workers", 2);
const REPEAT = option("repeat", 40);
const CHUNK = 1000;
const URL_ = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/bench";
const YEAR = 2025;

// ---------------------------------------------------------------------------------------------
// A seeded generator (mulberry32) and the distributions

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Samples 0..n-1 with weight 1/(k+1)^s. */
function zipf(n: number, s: number, random: () => number): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) cumulative[k] = total += 1 / Math.pow(k + 1, s);
  return () => {
    const x = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const WEIGHTS_MST = [31, 29, 23, 19, 17, 13, 7, 5, 3];
/** A valid 10-digit MST starting with the province's two digits (null when the check digit would be 10). */
function mst(prefix: string, body: number): string | null {
  const d = (prefix + String(body).padStart(7, "0")).split("").map(Number);
  const check = 10 - (d.reduce((s, x, i) => s + x * WEIGHTS_MST[i]!, 0) % 11);
  return check === 10 ? null : d.join("") + String(check % 10);
}

const PROVINCES: [string, string, number][] = [
  ["01", "Hà Nội", 24],
  ["03", "TP Hồ Chí Minh", 30],
  ["04", "Đà Nẵng", 4],
  ["02", "Hải Phòng", 4],
  ["36", "Bình Dương", 4],
  ["37", "Đồng Nai", 3],
  ["58", "Cần Thơ", 2],
  ["57", "Quảng Ninh", 2],
  ["10", "Bắc Ninh", 2],
  ["07", "Khánh Hòa", 1.5],
];
for (let i = PROVINCES.length; i < 63; i++) PROVINCES.push([String(10 + i), `Tỉnh số ${i + 1}`, 0.45]);

interface BenchSeller {
  taxCode: string;
  symbol: string;
  number: number;
  fingerprint: string;
  keyId: string;
}

const RATES: [string, number, number][] = [
  ["10%", 10, 0.45],
  ["8%", 8, 0.3],
  ["5%", 5, 0.1],
  ["0%", 0, 0.05],
  ["KCT", 0, 0.08],
  ["KKKNT", 0, 0.02],
];

/** Amount × rate% rounded half away from zero to whole đồng, in BigInt. */
const taxOf = (amount: bigint, percent: number): bigint => (amount * BigInt(percent) * 2n + 100n) / 200n;

// ---------------------------------------------------------------------------------------------

const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function ensureDatabase(): Promise<void> {
  const u = new URL(URL_);
  const name = u.pathname.slice(1);
  if (!/^[a-z_][a-z0-9_]*$/.test(name) || ["postgres", "test", "template0", "template1"].includes(name)) throw new Error(`bench: refusing database name ${name}`);
  u.pathname = "/postgres";
  const admin = postgres(u.toString(), { max: 1, onnotice: () => {} });
  try {
    const found = await admin`select 1 from pg_database where datname = ${name}`;
    if (found.length === 0) {
      await admin.unsafe(`create database "${name}"`);
      // This database only: the load does not wait for each commit's flush (a crash would lose
      // its last moments, never its consistency). The measured queries do not write.
      await admin.unsafe(`alter database "${name}" set synchronous_commit = off`);
      log(`created database ${name}`);
    }
  } finally {
    await admin.end();
  }
}

async function dropDatabase(): Promise<void> {
  const u = new URL(URL_);
  const name = u.pathname.slice(1);
  u.pathname = "/postgres";
  const admin = postgres(u.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.end();
  log(`dropped database ${name}`);
}

/** Days of the year with their share of the invoices. */
function days(): { date: string; weight: number }[] {
  const out: { date: string; weight: number }[] = [];
  for (let d = new Date(Date.UTC(YEAR, 0, 1)); d.getUTCFullYear() === YEAR; d = new Date(d.getTime() + 86_400_000)) {
    const date = d.toISOString().slice(0, 10);
    const dow = d.getUTCDay();
    const last = new Date(d.getTime() + 3 * 86_400_000).getUTCMonth() !== d.getUTCMonth();
    let w = dow === 0 ? 0.3 : dow === 6 ? 0.6 : 1;
    if (last) w *= 1.6;
    if (date >= "2025-01-27" && date <= "2025-02-02") w *= 0.15; // Tết Ất Tỵ
    out.push({ date, weight: w });
  }
  return out;
}

interface Sample {
  inv: NewInvoice;
}

async function load(store: PgStore, db: Db): Promise<void> {
  const random = rng(20251231);
  const t0 = performance.now();

  // Sellers, their certificates and keys (one multi-row insert each).
  const sellers: BenchSeller[] = [];
  const provinceOf = zipfByWeights(PROVINCES.map((p) => p[2]), random);
  const used = new Set<string>();
  const sellerRows: string[][] = [];
  while (sellers.length < SELLERS) {
    const p = PROVINCES[provinceOf()]!;
    const taxCode = mst(p[0], Math.floor(random() * 10_000_000));
    if (!taxCode || used.has(taxCode)) continue;
    used.add(taxCode);
    const office = p[0] === "01" || p[0] === "03" ? `Chi cục Thuế khu vực ${1 + Math.floor(random() * 12)} - ${p[1]}` : `Cục Thuế ${p[1]}`;
    const letters = String.fromCharCode(65 + Math.floor(random() * 26)) + String.fromCharCode(65 + Math.floor(random() * 26));
    sellers.push({ taxCode, symbol: `C${String(YEAR).slice(2)}T${letters}`, number: 0, fingerprint: randomBytes(32).toString("hex"), keyId: randomUUID() });
    sellerRows.push([taxCode, `Công ty ${sellers.length} - ${p[1]}`, `${1 + Math.floor(random() * 300)} đường số ${1 + Math.floor(random() * 50)}, ${p[1]}`, office, p[1]]);
  }
  for (let i = 0; i < sellers.length; i += 1000) {
    const part = sellers.slice(i, i + 1000);
    const rows = sellerRows.slice(i, i + 1000);
    await db.query(sql`insert into sellers (tax_code, name, address, tax_office, province) values ${sql.join(rows.map((r) => sql`(${r[0]!}, ${r[1]!}, ${r[2]!}, ${r[3]!}, ${r[4]!})`))}`);
    // The fingerprint CHECK ties it to the DER: the DER here is 32 random bytes, its hash the fingerprint.
    await db.query(sql`
      insert into certificates (seller_tax_code, fingerprint, serial, issuer, subject, not_before, not_after, der)
      select t, encode(sha256(d), 'hex'), 'BE0C01', 'CN=Bench CA', 'UID=MST:' || t, '2024-01-01', '2027-01-01', d
        from (values ${sql.join(part.map((s) => sql`(${s.taxCode}::text, ${new Uint8Array(Buffer.from(s.fingerprint, "hex"))}::bytea)`))}) v(t, d)`);
    await db.query(sql`insert into api_keys (id, seller_tax_code, key_hash) values ${sql.join(part.map((s) => sql`(${s.keyId}::uuid, ${s.taxCode}, ${randomBytes(32).toString("hex")})`))}`);
  }
  const fps = await db.query<{ seller_tax_code: string; fingerprint: string }>(sql`select seller_tax_code, fingerprint from certificates`);
  const fpOf = new Map(fps.map((r) => [r.seller_tax_code, r.fingerprint]));
  for (const s of sellers) s.fingerprint = fpOf.get(s.taxCode)!;
  log(`${sellers.length} sellers registered`);

  const sellerOf = zipf(SELLERS, 1.0, random);
  const buyers = Array.from({ length: 300_000 }, (_, i) => mst(i % 2 ? "01" : "03", (i * 7919) % 10_000_000) ?? mst("02", i)!);
  const buyerOf = zipf(buyers.length, 0.8, random);
  const calendar = days();
  const totalWeight = calendar.reduce((s, d) => s + d.weight, 0);
  let txn = 0x100000n;
  const xml = "<HDon><!-- bench: the stamped XML is not kept here --></HDon>";
  const issuedAt = new Date(`${YEAR}-12-31T12:00:00Z`);

  const makeInvoice = (s: BenchSeller, date: string): NewInvoice => {
    const k = random();
    const count = k < 0.8 ? 1 : k < 0.97 ? 2 : 3;
    const rates: TaxRateAmount[] = [];
    const taken = new Set<string>();
    let before = 0n;
    let tax = 0n;
    while (rates.length < count) {
      let x = random();
      const r = RATES.find((c) => (x -= c[2]) < 0) ?? RATES[0]!;
      if (taken.has(r[0])) continue;
      taken.add(r[0]);
      // Log-normal: median 3 million đồng (μ = ln 3·10⁶, σ = 1.6), whole đồng, at most 50 billion.
      const u1 = random() || 1e-12;
      const u2 = random();
      const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      const amount = BigInt(Math.min(50e9, Math.max(1000, Math.round(Math.exp(Math.log(3e6) + 1.6 * normal) / count))));
      const t = taxOf(amount, r[1]);
      before += amount;
      tax += t;
      rates.push({ taxRate: r[0], amountBeforeTax: amount.toString(), tax: t.toString() });
    }
    const usd = random() < 0.03;
    const consumer = random() < 0.3;
    s.number += 1;
    txn += 1n;
    return {
      sellerTaxCode: s.taxCode,
      form: "1",
      symbol: s.symbol,
      number: s.number,
      code: "0B" + txn.toString(16).toUpperCase().padStart(14, "0") + randomBytes(9).toString("hex").toUpperCase(),
      status: "issued",
      buyerTaxCode: consumer ? null : buyers[buyerOf()]!,
      issueDate: date,
      currency: usd ? "USD" : "VND",
      exchangeRate: usd ? "25400" : "1",
      totalBeforeTax: before.toString(),
      totalTax: tax.toString(),
      totalPayable: (before + tax).toString(),
      digest: randomBytes(32).toString("base64"),
      xml,
      issuedAt,
      certificateFingerprint: s.fingerprint,
      submittedBy: s.keyId,
      taxRates: rates,
      // 3 % without a code, 2 % from cash registers (by the running number: the generator's draws stay as they were).
      ...(txn % 100n < 3n ? { source: "uncoded" as const, messageId: "BENCH-U" } : {}),
      ...(txn % 100n >= 3n && txn % 100n < 5n ? { source: "cashRegister" as const, messageId: "BENCH-C", registerCode: `M1-25-BENCH-${txn.toString().padStart(11, "0")}` } : {}),
    };
  };

  // Each worker loads whole months of its own (no two transactions ever touch one rollup row at
  // once), a day at a time in transactions of 1,000 invoices of many sellers.
  const samples: Sample[] = [];
  const sampleRate = 0.01;
  let loaded = 0;
  let lastLog = performance.now();
  const perDay = calendar.map((d) => Math.round((INVOICES * d.weight) / totalWeight));
  perDay[perDay.length - 1]! += INVOICES - perDay.reduce((s, n) => s + n, 0);
  const months = Array.from({ length: 12 }, (_, m) => m);
  const worker = async (w: number) => {
    for (const m of months.filter((x) => x % WORKERS === w)) {
      for (let i = 0; i < calendar.length; i++) {
        if (Number(calendar[i]!.date.slice(5, 7)) !== m + 1) continue;
        let left = perDay[i]!;
        while (left > 0) {
          const n = Math.min(CHUNK, left);
          left -= n;
          const batch = Array.from({ length: n }, () => makeInvoice(sellers[sellerOf()]!, calendar[i]!.date));
          const out = await store.issueInvoices(batch);
          if (out.some((o) => o.kind !== "stored")) throw new Error(`bench: not issued: ${JSON.stringify(out.find((o) => o.kind !== "stored"))}`);
          for (const inv of batch) if (random() < sampleRate) samples.push({ inv });
          loaded += n;
          if (performance.now() - lastLog > 30_000) {
            lastLog = performance.now();
            const s = (performance.now() - t0) / 1000;
            log(`${loaded.toLocaleString("en")} invoices, ${Math.round(loaded / s).toLocaleString("en")}/s`);
          }
        }
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  const loadSeconds = (performance.now() - t0) / 1000;
  log(`loaded ${loaded.toLocaleString("en")} invoices in ${loadSeconds.toFixed(0)} s (${Math.round(loaded / loadSeconds).toLocaleString("en")}/s)`);

  // After the fact: cancellations, replacements, adjustments (of sampled invoices).
  const t1 = performance.now();
  const shuffled = samples.sort(() => random() - 0.5);
  const cancel = shuffled.slice(0, Math.round(INVOICES * 0.005));
  const replace = shuffled.slice(cancel.length, cancel.length + Math.round(INVOICES * 0.002));
  const adjust = shuffled.slice(cancel.length + replace.length, cancel.length + replace.length + Math.round(INVOICES * 0.002));
  const bySeller = new Map(sellers.map((s) => [s.taxCode, s]));
  const follow = (x: Sample, kind: "replaces" | "adjusts"): NewInvoice => {
    const s = bySeller.get(x.inv.sellerTaxCode)!;
    const date = x.inv.issueDate < `${YEAR}-12-20` ? new Date(Date.parse(x.inv.issueDate) + 5 * 86_400_000).toISOString().slice(0, 10) : x.inv.issueDate;
    const inv = makeInvoice(s, date);
    if (kind === "adjusts") {
      // A decrease of 10 % of each of the original's rates.
      const rates = x.inv.taxRates.map((r) => ({ taxRate: r.taxRate, amountBeforeTax: (-BigInt(r.amountBeforeTax) / 10n).toString(), tax: (-BigInt(r.tax) / 10n).toString() }));
      const before = rates.reduce((a, r) => a + BigInt(r.amountBeforeTax), 0n);
      const tax = rates.reduce((a, r) => a + BigInt(r.tax), 0n);
      Object.assign(inv, { taxRates: rates, totalBeforeTax: before.toString(), totalTax: tax.toString(), totalPayable: (before + tax).toString() });
    }
    return { ...inv, related: { kind, key: x.inv, issueDate: x.inv.issueDate, reason: kind === "replaces" ? "Sai thông tin người mua" : "Giảm giá sau bán hàng" } };
  };
  const followers = [...replace.map((x) => follow(x, "replaces")), ...adjust.map((x) => follow(x, "adjusts"))];
  for (let i = 0; i < followers.length; i += 500) {
    const out = await store.issueInvoices(followers.slice(i, i + 500));
    if (out.some((o) => o.kind !== "stored")) throw new Error(`bench: a replacement or adjustment was refused: ${JSON.stringify(out.find((o) => o.kind !== "stored"))}`);
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < cancel.length) {
        const x = cancel[next++]!;
        const out = await store.cancelInvoice({ code: x.inv.code, at: issuedAt, by: "bench-officer", reason: "Hủy theo đề nghị của người bán" });
        if (out.kind !== "done") throw new Error(`bench: cancellation: ${out.kind}`);
      }
    }),
  );
  log(`then ${cancel.length} cancellations, ${replace.length} replacements, ${adjust.length} adjustments in ${((performance.now() - t1) / 1000).toFixed(0)} s`);
}

/** Samples an index by the given weights. */
function zipfByWeights(weights: number[], random: () => number): () => number {
  const total = weights.reduce((a, b) => a + b, 0);
  return () => {
    let x = random() * total;
    for (let i = 0; i < weights.length; i++) if ((x -= weights[i]!) < 0) return i;
    return weights.length - 1;
  };
}

// ---------------------------------------------------------------------------------------------
// Measuring

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function measure(name: string, run: (i: number) => Promise<number>): Promise<{ name: string; p50: number; p95: number; max: number; rows: number }> {
  for (let i = 0; i < 3; i++) await run(i); // warm-up
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < REPEAT; i++) {
    const t = performance.now();
    rows = await run(i);
    times.push(performance.now() - t);
  }
  const r = { name, p50: percentile(times, 50), p95: percentile(times, 95), max: Math.max(...times), rows };
  log(`${name.padEnd(44)} p50 ${r.p50.toFixed(1).padStart(7)} ms   p95 ${r.p95.toFixed(1).padStart(7)} ms   max ${r.max.toFixed(1).padStart(7)} ms   (${rows} rows)`);
  return r;
}

async function measureAll(store: PgStore, db: Db): Promise<void> {
  const random = rng(7);
  const top = await db.query<{ seller_tax_code: string }>(sql`select seller_tax_code from totals_seller_monthly where source = '*' group by 1 order by sum(invoices) desc limit 100`);
  const all = await db.query<{ tax_code: string }>(sql`select tax_code from sellers`);
  const buyers = await db.query<{ buyer_tax_code: string }>(sql`
    select buyer_tax_code from invoices where issue_date between ${`${YEAR}-06-01`}::date and ${`${YEAR}-06-30`}::date and buyer_tax_code is not null
    group by 1 order by count(*) desc limit 5000`);
  const [counts] = await db.query<{ n: bigint; size: string }>(sql`select count(*) as n, pg_size_pretty(pg_database_size(current_database())) as size from invoices`);
  log(`measuring on ${counts!.n.toLocaleString()} invoices (database ${counts!.size}), ${REPEAT} runs each after 3 warm-ups`);
  const year = { from: `${YEAR}-01-01`, to: `${YEAR}-12-31`, seller: null };
  const results = [];
  for (const groupBy of ["month", "seller", "taxRate", "day", "taxOffice", "province"] as TotalsGroupBy[]) {
    results.push(await measure(`totals, a year by ${groupBy}`, async () => (await store.reportTotals({ ...year, groupBy })).rows.length));
  }
  results.push(
    await measure("totals, a year of one seller by month", async (i) => (await store.reportTotals({ ...year, groupBy: "month", seller: top[i % top.length]!.seller_tax_code })).rows.length),
  );
  // By source (issue 15 item 2): the split, and one source under the groupings that read the most rows.
  results.push(await measure("totals, a year by source", async () => (await store.reportTotals({ ...year, groupBy: "source" })).rows.length));
  results.push(await measure("totals, a year by seller, source coded", async () => (await store.reportTotals({ ...year, groupBy: "seller", source: "coded" })).rows.length));
  results.push(await measure("totals, a year by day, source uncoded", async () => (await store.reportTotals({ ...year, groupBy: "day", source: "uncoded" })).rows.length));
  results.push(
    await measure("totals, a year of one seller by source", async (i) => (await store.reportTotals({ ...year, groupBy: "source", seller: top[i % top.length]!.seller_tax_code })).rows.length),
  );
  const month = (i: number) => {
    const m = String(1 + (i % 12)).padStart(2, "0");
    const end = new Date(Date.UTC(YEAR, i % 12 + 1, 0)).toISOString().slice(0, 10);
    return { from: `${YEAR}-${m}-01`, to: end };
  };
  // Sellers: half among the 100 largest (the heavy case), half any seller.
  const sellerFor = (i: number) => (i % 2 ? top[Math.floor(random() * top.length)]!.seller_tax_code : all[Math.floor(random() * all.length)]!.tax_code);
  results.push(await measure("search by seller and month (page of 100)", async (i) => (await store.searchInvoices({ seller: sellerFor(i), ...month(i), limit: 100 })).items.length));
  // The next page of a large seller's month: from the cursor of the first (fetched beforehand).
  const firsts: { q: InvoiceSearch; next: InvoiceCursor | null }[] = [];
  for (let i = 0; i < REPEAT + 3; i++) {
    const q = { seller: top[i % top.length]!.seller_tax_code, ...month(i), limit: 100 };
    firsts.push({ q, next: (await store.searchInvoices(q)).next });
  }
  results.push(
    await measure("search by seller and month, next page", async (i) => {
      const f = firsts[i % firsts.length]!;
      return (await store.searchInvoices(f.next ? { ...f.q, after: f.next } : f.q)).items.length;
    }),
  );
  results.push(await measure("search by buyer (page of 100, any date)", async () => (await store.searchInvoices({ buyer: buyers[Math.floor(random() * buyers.length)]!.buyer_tax_code, limit: 100 })).items.length));
  results.push(
    await measure("search by buyer and month", async (i) => (await store.searchInvoices({ buyer: buyers[Math.floor(random() * buyers.length)]!.buyer_tax_code, ...month(i), limit: 100 })).items.length),
  );
  // Beyond the five of the issue: periods that are not whole years, and a rare status.
  results.push(await measure("totals, a quarter by seller", async () => (await store.reportTotals({ from: `${YEAR}-04-01`, to: `${YEAR}-06-30`, groupBy: "seller", seller: null })).rows.length));
  results.push(
    await measure("totals, 15 Mar – 14 Sep by province", async () => (await store.reportTotals({ from: `${YEAR}-03-15`, to: `${YEAR}-09-14`, groupBy: "province", seller: null })).rows.length),
  );
  results.push(
    await measure("search by seller, a year, status cancelled", async (i) =>
      (await store.searchInvoices({ seller: top[i % top.length]!.seller_tax_code, from: `${YEAR}-01-01`, to: `${YEAR}-12-31`, status: "cancelled", limit: 100 })).items.length,
    ),
  );
  console.log("\n| query | p50 (ms) | p95 (ms) | max (ms) | rows |\n|---|---:|---:|---:|---:|");
  for (const r of results) console.log(`| ${r.name} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.max.toFixed(1)} | ${r.rows} |`);
  console.log("");
}

// ---------------------------------------------------------------------------------------------

await ensureDatabase();
const db = await openDb({ databaseUrl: URL_, poolSize: Math.max(4, WORKERS + 2) });
const store = new PgStore(db);
try {
  await store.migrate();
  const months = Array.from({ length: 12 }, (_, m) => `${YEAR}-${String(m + 1).padStart(2, "0")}-01`);
  await ensureInvoicePartitions(db, months);
  if (!flag("skip-load")) {
    const [existing] = await db.query<{ n: bigint }>(sql`select count(*) as n from invoices`);
    if ((existing?.n ?? 0n) > 0n) throw new Error(`bench: the database already holds ${existing!.n} invoices: use --skip-load, or --drop first`);
    log(`loading ${INVOICES.toLocaleString("en")} invoices of ${SELLERS.toLocaleString("en")} sellers through PgStore.issueInvoices, ${WORKERS} in parallel`);
    await load(store, db);
    const t = performance.now();
    await db.exec("vacuum analyze");
    log(`vacuum analyze in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
  if (!flag("skip-check")) {
    const t = performance.now();
    const drift = await store.checkRollups();
    log(`reports:check: ${drift.length === 0 ? "the rollups equal their recomputation" : `${drift.length} DRIFT rows`} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    if (drift.length) console.log(drift.slice(0, 10));
  }
  await measureAll(store, db);
} finally {
  await db.close();
}
if (flag("drop")) await dropDatabase();
