/**
 * The transparency log end to end through the routes: issuing, replacing and cancelling append
 * leaves in the event's transaction; the sequencer gives them dense indexes and signs a C2SP
 * checkpoint; the tiles, bundles and proofs served verify with the RFC 9162 algorithms written in
 * test/helpers/rfc9162.ts (not the service's verifier), the key statement with the authority's
 * certificate, and the answers of an invoice carry its leaf and proof.
 */
import { verify as cryptoVerify, X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metrics, registerTransparencyLogMetrics } from "../../src/metrics.js";
import { sql } from "../../src/storage/db.js";
import type { PgStore } from "../../src/storage/pg-store.js";
import { decodeEntry } from "../../src/tlog/entry.js";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { type RelatedInvoice } from "../helpers/invoice.js";
import { H, MTH, readCheckpoint, rfcVerifyConsistency, rfcVerifyInclusion } from "../helpers/rfc9162.js";

let h: Harness;
let officer: string;
let s: TestSeller;
let verifierKey: string;

/** /metrics of the harness, with the log's gauges on a clock the test sets. */
const metrics = new Metrics();
let now = Date.now();

beforeAll(async () => {
  h = await startHarness({ app: { metrics } });
  registerTransparencyLogMetrics(metrics, h.services.log!, () => now);
  officer = ((await (await h.call("POST", "/v1/officers", { name: "Kiểm toán viên" })).json()) as { token: string }).token;
  s = await h.seller();
});
afterAll(async () => h?.close());

const log = () => h.services.log!;
const db = () => (h.store as PgStore).db;

interface Issued {
  code: string;
  number: number;
  symbol: string;
  issueDate: string;
  totalPayable: string;
}
async function issue(opts: { related?: RelatedInvoice } = {}): Promise<Issued> {
  const res = await h.submit(s.invoice(opts), s.apiKey);
  expect(res.status).toBe(201);
  return (await res.json()) as Issued;
}

async function get(path: string): Promise<Response> {
  return h.app.request(path);
}

/** Every entry of the signed tree, read from the entry bundles as a mirror would. */
async function mirrorEntries(size: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let n = 0; n * 256 < size; n++) {
    const width = Math.min(256, size - n * 256);
    const path = `/v1/log/tile/entries/${String(n).padStart(3, "0")}${width < 256 ? `.p/${width}` : ""}`;
    const res = await get(path);
    expect(res.status, path).toBe(200);
    expect(res.headers.get("cache-control")).toContain("immutable");
    const b = Buffer.from(await res.arrayBuffer());
    for (let at = 0; at < b.length; ) {
      const len = b.readUInt16BE(at);
      out.push(b.subarray(at + 2, at + 2 + len));
      at += 2 + len;
    }
  }
  return out;
}

describe("the transparency log", () => {
  it("publishes its key vouched for by the authority's signing key", async () => {
    const res = await get("/v1/authority/log-key");
    expect(res.status).toBe(200);
    const k = (await res.json()) as { origin: string; verifierKey: string; authoritySignature: string; authorityCertificate: string };
    const cert = new X509Certificate(((await (await get("/v1/authority/certificate")).text())));
    expect(k.authorityCertificate.replace(/\s+/g, "")).toContain(cert.raw.toString("base64").slice(0, 200));
    expect(cryptoVerify("sha256", Buffer.from(`${k.verifierKey}\n`), cert.publicKey, Buffer.from(k.authoritySignature, "base64"))).toBe(true);
    // Not a signature over another key.
    const otherKey = k.verifierKey.replace(/.$/, (c) => (c === "A" ? "B" : "A"));
    expect(cryptoVerify("sha256", Buffer.from(`${otherKey}\n`), cert.publicKey, Buffer.from(k.authoritySignature, "base64"))).toBe(false);
    expect(k.verifierKey.startsWith(`${k.origin}+`)).toBe(true);
    verifierKey = k.verifierKey;
  });

  it("appends a leaf per issue and per change of status, dense, in commit order; the tree verifies independently", async () => {
    const before = await log().sequence();
    const a = await issue();
    const b = await issue();
    const c = await issue();
    const replacement = await issue({ related: { kind: 1, form: "1", symbol: b.symbol, number: b.number, issueDate: b.issueDate } });
    expect((await h.call("POST", `/v1/invoices/${c.code}/cancellation`, { reason: "Hủy do sai số lượng" }, s.apiKey)).status).toBe(200);
    // Before sequencing: the leaves wait in tlog_pending, none has an index, answers carry none.
    const [row] = await db().query<{ n: bigint }>(sql`select count(*) as n from tlog_pending`);
    expect(Number(row?.n)).toBe(6);
    const early = (await (await get(`/v1/verify/${a.code}`)).json()) as { transparency: unknown };
    expect(early.transparency).toBeNull();

    const head = await log().sequence();
    expect(head.size).toBe(before.size + 6);
    const res = await get("/v1/log/checkpoint");
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    const cp = readCheckpoint(await res.text(), verifierKey);
    expect(cp.size).toBe(head.size);

    // A mirror's copy of the entries gives the signed root (RFC 9162 MTH, computed here).
    const entries = await mirrorEntries(cp.size);
    expect(entries).toHaveLength(cp.size);
    expect(MTH(entries).equals(cp.root)).toBe(true);
    const mine = entries.slice(before.size).map((e) => decodeEntry(e));
    expect(mine.map((e) => [e.type, e.code, e.relatedCode])).toEqual([
      ["issued", a.code, null],
      ["issued", b.code, null],
      ["issued", c.code, null],
      ["issued", replacement.code, null],
      ["replaced", b.code, replacement.code],
      ["cancelled", c.code, null],
    ]);
    // The facts of the entry are the stored invoice's; nothing about the buyer.
    const stored = await h.store.getInvoice(b.code);
    expect(mine[4]).toMatchObject({ sellerTaxCode: s.taxCode, form: "1", symbol: b.symbol, number: b.number, issueDate: b.issueDate, totalPayable: stored!.totalPayable, digest: stored!.digest });
    expect(Object.keys(mine[0]!).some((k) => /buyer/i.test(k))).toBe(false);

    // Level-0 tiles hold the leaf hashes.
    const t0 = Buffer.from(await (await get(`/v1/log/tile/0/000.p/${Math.min(cp.size, 255)}`)).arrayBuffer());
    // The same bytes at api.md's /tile/….
    expect(Buffer.from(await (await get(`/tile/0/000.p/${Math.min(cp.size, 255)}`)).arrayBuffer()).equals(t0)).toBe(true);
    expect(t0.subarray(before.size * 32, before.size * 32 + 32).equals(H(Buffer.from([0]), entries[before.size]!))).toBe(true);
  });

  it("serves inclusion proofs by code and consistency proofs that verify by RFC 9162; the invoice's answers carry them", async () => {
    const first = await log().sequence();
    const x = await issue();
    await issue();
    const head = await log().sequence();
    const res = await get(`/v1/log/proof/inclusion?code=${x.code}`);
    expect(res.status).toBe(200);
    const p = (await res.json()) as { leafIndex: number; treeSize: number; rootHash: string; proof: string[]; entry: string; checkpoint: string; leafIndexes: number[] };
    expect(p.treeSize).toBe(head.size);
    const cp = readCheckpoint(p.checkpoint, verifierKey);
    const entry = Buffer.from(p.entry, "base64");
    expect(decodeEntry(entry).code).toBe(x.code);
    expect(rfcVerifyInclusion(p.leafIndex, p.treeSize, H(Buffer.from([0]), entry), p.proof.map((q) => Buffer.from(q, "base64")), cp.root)).toBe(true);
    // A tampered entry does not verify against the signed root.
    const tampered = Buffer.from(entry);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 45) ^ 1, tampered.length - 45);
    expect(rfcVerifyInclusion(p.leafIndex, p.treeSize, H(Buffer.from([0]), tampered), p.proof.map((q) => Buffer.from(q, "base64")), cp.root)).toBe(false);

    // Against an older size.
    const old = (await (await get(`/v1/log/proof/inclusion?index=0&size=${first.size}`)).json()) as { rootHash: string; proof: string[]; entry: string };
    expect(rfcVerifyInclusion(0, first.size, H(Buffer.from([0]), Buffer.from(old.entry, "base64")), old.proof.map((q) => Buffer.from(q, "base64")), first.root)).toBe(true);

    const cons = (await (await get(`/v1/log/proof/consistency?from=${first.size}&to=${head.size}`)).json()) as { proof: string[]; fromRoot: string; toRoot: string };
    expect(rfcVerifyConsistency(first.size, head.size, first.root, cp.root, cons.proof.map((q) => Buffer.from(q, "base64")))).toBe(true);

    // The invoice's answers: the public lookup, the document check and the officer's read.
    const v = (await (await get(`/v1/verify/${x.code}`)).json()) as { transparency: { leafIndex: number; treeSize: number; inclusionProof: string[]; checkpoint: string } };
    expect(v.transparency.leafIndex).toBe(p.leafIndex);
    const proof = v.transparency.inclusionProof.map((q) => Buffer.from(q, "base64"));
    const root = readCheckpoint(v.transparency.checkpoint, verifierKey).root;
    expect(rfcVerifyInclusion(v.transparency.leafIndex, v.transparency.treeSize, H(Buffer.from([0]), entry), proof, root)).toBe(true);
    const o = (await (await h.call("GET", `/v1/invoices/${x.code}`, undefined, officer)).json()) as { transparency: { leafIndex: number } };
    expect(o.transparency.leafIndex).toBe(p.leafIndex);
    // The buyer's page says where the invoice is in the log, with a link to the proof.
    const page = await (await get(`/?code=${x.code}`)).text();
    expect(page).toContain(`mục số ${p.leafIndex}, trong sổ đã ký gồm ${p.treeSize} mục`);
    expect(page).toContain(`/v1/log/proof/inclusion?code=${x.code}`);
  });

  it("refuses what it cannot prove, with the API's codes", async () => {
    const head = await log().sequence();
    expect((await get(`/v1/log/proof/inclusion?index=${head.size}`)).status).toBe(422);
    expect((await get(`/v1/log/proof/inclusion?code=0A00000000000003E8A1B2C3D4E5F6A7B8`)).status).toBe(404);
    expect((await get(`/v1/log/proof/consistency?from=${head.size + 1}`)).status).toBe(422);
    expect((await get(`/v1/log/proof/inclusion`)).status).toBe(422);
    expect((await get(`/v1/log/tile/0/001`)).status).toBe(404); // not full yet
    expect((await get(`/v1/log/tile/0/x000/001`)).status).toBe(404); // not a canonical path
    expect((await get(`/v1/log/tile/0/000.p/${head.size + 1}`)).status).toBe(404);
    // Only officers sign on demand.
    expect((await h.call("POST", "/v1/log/checkpoint", undefined, s.apiKey)).status).toBe(403);
    const signed = await h.call("POST", "/v1/log/checkpoint", undefined, officer);
    expect(signed.status).toBe(200);
  });

  it("a replayed or refused submission appends nothing", async () => {
    const xml = s.invoice();
    expect((await h.submit(xml, s.apiKey)).status).toBe(201);
    await log().sequence();
    const pending = async () => Number((await db().query<{ n: bigint }>(sql`select count(*) as n from tlog_pending`))[0]!.n);
    expect(await pending()).toBe(0);
    expect((await h.submit(xml, s.apiKey)).status).toBe(200); // the replay answers the same code
    expect((await h.submit("<HDon><DLHDon>", s.apiKey)).status).toBe(400);
    expect(await pending()).toBe(0);
  });
});

describe("the log on /metrics", () => {
  /** The log's series of a scrape of GET /metrics, by name. */
  const scrape = async (): Promise<Map<string, number>> => {
    const res = await get("/metrics");
    expect(res.status).toBe(200);
    const out = new Map<string, number>();
    for (const line of (await res.text()).split("\n")) {
      const m = /^(hoadon_tlog_\w+) (\S+)$/.exec(line);
      if (m) out.set(m[1]!, Number(m[2]));
    }
    return out;
  };
  const state = async () => {
    const [row] = await db().query<{ size: bigint; signed_at: Date }>(sql`select size, signed_at from tlog_state`);
    return { size: Number(row!.size), signedAt: row!.signed_at };
  };

  it("shows the tree size, the pending entries, the checkpoint's age and the sequencing lag of the last tick", async () => {
    // Before the first observation: no gauge (nothing is known), the counters at their values.
    const first = await scrape();
    expect(first.has("hoadon_tlog_tree_size")).toBe(false);
    expect(first.get("hoadon_tlog_sequencing_failures_total")).toBe(0);

    await log().sequence();
    await log().observe();
    const s0 = await state();
    now = s0.signedAt.getTime() + 7_000;
    let m = await scrape();
    expect(m.get("hoadon_tlog_tree_size")).toBe(s0.size);
    expect(m.get("hoadon_tlog_pending_entries")).toBe(0);
    expect(m.get("hoadon_tlog_sequencing_lag_seconds")).toBe(0);
    expect(m.get("hoadon_tlog_checkpoint_age_seconds")).toBe(7);
    const sequenced = m.get("hoadon_tlog_leaves_sequenced_total")!;
    expect(sequenced).toBeGreaterThanOrEqual(s0.size); // this harness's log sequenced them all

    // Two codes issued, one cancelled: three committed entries waiting for the sequencer.
    const a = await issue();
    await issue();
    const c = await h.call("POST", `/v1/invoices/${a.code}/cancellation`, { reason: "Hủy do nhập sai" }, s.apiKey);
    expect(c.status).toBe(200);
    await log().observe();
    const [oldest] = await db().query<{ entry: Uint8Array }>(sql`select entry from tlog_pending order by id limit 1`);
    const oldestAt = decodeEntry(oldest!.entry);
    expect(oldestAt.code).toBe(a.code);
    now = oldestAt.at.getTime() + 42_500;
    m = await scrape();
    expect(m.get("hoadon_tlog_pending_entries")).toBe(3);
    expect(m.get("hoadon_tlog_sequencing_lag_seconds")).toBe(42.5);
    expect(m.get("hoadon_tlog_tree_size")).toBe(s0.size);
    expect(m.get("hoadon_tlog_checkpoint_age_seconds")).toBe((now - s0.signedAt.getTime()) / 1000);

    // The next tick sequences them: the tree grows by three, nothing pending, a fresh head.
    await log().sequence();
    await log().observe();
    const s1 = await state();
    expect(s1.size).toBe(s0.size + 3);
    now = s1.signedAt.getTime() + 1_000;
    m = await scrape();
    expect(m.get("hoadon_tlog_tree_size")).toBe(s0.size + 3);
    expect(m.get("hoadon_tlog_pending_entries")).toBe(0);
    expect(m.get("hoadon_tlog_sequencing_lag_seconds")).toBe(0);
    expect(m.get("hoadon_tlog_checkpoint_age_seconds")).toBe(1);
    expect(m.get("hoadon_tlog_leaves_sequenced_total")).toBe(sequenced + 3);
  });
});
