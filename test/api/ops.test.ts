/**
 * Operations through the routes: Prometheus metrics, request ids, structured logs that never
 * carry a secret or an invoice, and the offline interactive documentation.
 */
import { X509Certificate } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { readPublicAsset } from "../../src/assets-node.js";
import { hashSecret } from "../../src/auth.js";
import type { Logger } from "../../src/log.js";
import { Metrics, registerExpiryMetrics } from "../../src/metrics.js";
import { registerNodeMetrics } from "../../src/metrics-node.js";
import { parseCertificate } from "../../src/pki/certificate.js";
import { TrustStore } from "../../src/pki/trust.js";
import { instrumentDb } from "../../src/storage/instrument.js";
import { PgStore } from "../../src/storage/pg-store.js";
import { ADMIN_TOKEN, type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { nextNumber } from "../helpers/invoice.js";
import { makeCrl, makeTestCa, pemToDer } from "../helpers/pki.js";

const METRICS_TOKEN = "metrics-token-0123456789abcdef";
const lines: { level: string; fields: Record<string, unknown>; msg?: string | undefined }[] = [];
const captured: Logger = {
  info: (fields, msg) => lines.push({ level: "info", fields: fields as Record<string, unknown>, msg }),
  warn: (fields, msg) => lines.push({ level: "warn", fields: fields as Record<string, unknown>, msg }),
  error: (fields, msg) => lines.push({ level: "error", fields: fields as Record<string, unknown>, msg }),
};

let h: Harness;
let s: TestSeller;
const metrics = new Metrics();

beforeAll(async () => {
  h = await startHarness({ app: { logger: captured, metrics, metricsTokenHash: hashSecret(METRICS_TOKEN), asset: readPublicAsset } });
  s = await h.seller();
});
afterAll(async () => h?.close());

async function scrape(): Promise<string> {
  const res = await h.app.request("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one sample line, e.g. `hoadon_invoices_issued_total 3`. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe("GET /metrics", () => {
  it("counts an issued invoice once (a replay is not counted) and labels requests by route pattern and status", async () => {
    const before = sample(await scrape(), "hoadon_invoices_issued_total");
    const xml = s.invoice({ number: nextNumber() });
    const first = await h.submit(xml, s.apiKey);
    expect(first.status).toBe(201);
    const code = ((await first.json()) as { code: string }).code;
    expect((await h.submit(xml, s.apiKey)).status).toBe(200);
    expect((await h.call("GET", `/v1/invoices/${code}`, undefined, s.apiKey)).status).toBe(200);

    const text = await scrape();
    expect(sample(text, "hoadon_invoices_issued_total")).toBe(before + 1);
    expect(sample(text, 'hoadon_http_requests_total{method="POST",route="/v1/invoices",status="201"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'hoadon_http_requests_total{method="POST",route="/v1/invoices",status="200"}')).toBeGreaterThanOrEqual(1);
    // The pattern, never the raw path with the code in it.
    expect(text).toContain('route="/v1/invoices/:code"');
    expect(text).not.toContain(code);
    expect(text).toMatch(/hoadon_http_request_duration_seconds_bucket\{method="POST",route="\/v1\/invoices",status="201",le="\+Inf"\} \d+/);
  });

  it("counts a batch's size and the invoices it issued", async () => {
    const before = await scrape();
    const xml = s.invoice({ number: nextNumber() });
    const res = await h.call("POST", "/v1/invoices/batch", { invoices: [xml, s.invoice({ number: nextNumber() }), xml, "<HDon>"] }, s.apiKey);
    expect(res.status).toBe(200);
    const statuses = ((await res.json()) as { results: { status: number }[] }).results.map((r) => r.status);
    const issued = statuses.filter((st) => st === 201).length;
    expect(issued).toBe(2);
    const text = await scrape();
    expect(sample(text, "hoadon_invoices_issued_total")).toBe(sample(before, "hoadon_invoices_issued_total") + issued);
    expect(sample(text, "hoadon_batch_size_count")).toBe(sample(before, "hoadon_batch_size_count") + 1);
    expect(sample(text, 'hoadon_batch_size_bucket{le="5"}')).toBe(sample(before, 'hoadon_batch_size_bucket{le="5"}') + 1);
  });

  it("counts refusals by error code, unknown paths under one label", async () => {
    const before = await scrape();
    expect((await h.submit("<HDon>", s.apiKey)).status).toBe(400);
    expect((await h.call("GET", "/no/such/path/0123")).status).toBe(404);
    const text = await scrape();
    expect(sample(text, 'hoadon_refusals_total{code="XML_MALFORMED"}')).toBe(sample(before, 'hoadon_refusals_total{code="XML_MALFORMED"}') + 1);
    expect(sample(text, 'hoadon_refusals_total{code="NOT_FOUND"}')).toBe(sample(before, 'hoadon_refusals_total{code="NOT_FOUND"}') + 1);
    expect(text).toContain('route="(unmatched)"');
    expect(text).not.toContain("/no/such/path");
  });

  it("wants HOADON_METRICS_TOKEN as a bearer token when it is set (UNAUTHENTICATED)", async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer wrong-token-0123456789" }, { authorization: `Bearer ${ADMIN_TOKEN}` }];
    for (const headers of attempts) {
      const res = await h.app.request("/metrics", { headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UNAUTHENTICATED");
    }
  });

  it("is public when no metrics token is configured", async () => {
    const open = buildApp(h.services, { logger: captured });
    const res = await open.request("/metrics");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("# TYPE hoadon_http_requests_total counter");
  });

  it("times database statements and reports pool use through the timing layer", async () => {
    const m = new Metrics();
    const store = new PgStore(instrumentDb((h.store as PgStore).db, m, 4));
    await store.ping();
    await store.getSeller(s.taxCode);
    const text = m.render();
    expect(m.dbQueryDuration.count({ op: "query", outcome: "ok" })).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/hoadon_db_query_duration_seconds_count\{op="query",outcome="ok"\} \d+/);
    expect(text).toMatch(/^hoadon_db_pool_max (4|1)$/m);
    expect(text).toMatch(/^hoadon_db_pool_active 0$/m);
    expect(text).toMatch(/^hoadon_db_pool_waiting 0$/m);
  });

  it("reports event-loop lag and the batch size histogram", async () => {
    const m = new Metrics();
    const node = registerNodeMetrics(m);
    try {
      await new Promise((r) => setTimeout(r, 60));
      m.batchSize.observe({}, 120);
      const text = m.render();
      expect(text).toMatch(/^hoadon_event_loop_lag_seconds\{stat="p99"\} [0-9.e-]+$/m);
      expect(text).toMatch(/^hoadon_batch_size_bucket\{le="250"\} 1$/m);
      expect(text).toMatch(/^hoadon_batch_size_bucket\{le="100"\} 0$/m);
      expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    } finally {
      node.stop();
    }
  });
});

describe("process metrics and expiry gauges", () => {
  it("reports CPU, memory (WebAssembly memories among the external bytes), garbage collection and event-loop utilization", async () => {
    const m = new Metrics();
    const node = registerNodeMetrics(m);
    try {
      const value = (text: string, series: string) => {
        const v = sample(text, series);
        expect(text, series).toMatch(new RegExp(`^${series} `, "m"));
        return v;
      };
      const before = m.render();
      // 64 MiB of WebAssembly memory: outside the V8 heap and not an ArrayBuffer of JavaScript's.
      const wasm = new WebAssembly.Memory({ initial: 1024 });
      new Uint8Array(wasm.buffer).fill(1);
      const withWasm = m.render();
      // Young-generation collections, both ways: asked of V8 (its gc() of a new context once
      // --expose-gc is set, type "minor"), which Node 20 reports but Node 24 under vitest did
      // not; and garbage of small objects kept in a ring, which Node 24 scavenges but Node 20
      // under load did not always do before the scrape.
      setFlagsFromString("--expose-gc");
      const gc = runInNewContext("gc") as (o: { type: "minor" | "major" }) => void;
      gc({ type: "minor" });
      const ring: Array<{ i: number }> = new Array(1024);
      for (let i = 0; i < 4_000_000; i++) ring[i % 1024] = { i };
      expect(ring[(4_000_000 - 1) % 1024]!.i).toBe(4_000_000 - 1);
      let spin = 0;
      const until = performance.now() + 50;
      while (performance.now() < until) spin++;
      // GC entries reach the observer asynchronously: scrape until they have (at most 5 s).
      let after = m.render();
      for (let waited = 0; waited < 5_000 && !/^nodejs_gc_duration_seconds_count\{kind="minor"\} [1-9]/m.test(after); waited += 50) {
        await new Promise((r) => setTimeout(r, 50));
        after = m.render();
      }

      // (less what the collector freed meanwhile: at most a few hundred KiB between two scrapes)
      expect(value(withWasm, "nodejs_external_other_bytes") - value(before, "nodejs_external_other_bytes")).toBeGreaterThanOrEqual(63 * 2 ** 20);
      expect(value(after, "nodejs_external_memory_bytes")).toBeGreaterThanOrEqual(value(after, "nodejs_array_buffers_bytes") + 64 * 2 ** 20);
      expect(value(after, "process_cpu_seconds_total")).toBeGreaterThan(value(before, "process_cpu_seconds_total"));
      expect(value(after, "process_cpu_seconds_total")).toBeCloseTo(value(after, "process_cpu_user_seconds_total") + value(after, "process_cpu_system_seconds_total"), 5);
      expect(value(after, "nodejs_heap_total_bytes")).toBeGreaterThanOrEqual(value(after, "nodejs_heap_used_bytes"));
      expect(value(after, "nodejs_heap_limit_bytes")).toBeGreaterThan(value(after, "nodejs_heap_total_bytes"));
      expect(value(after, "process_open_fds")).toBeGreaterThan(2);
      // The busy 50 ms show in the utilization since the previous scrape.
      const elu = value(after, "nodejs_eventloop_utilization");
      expect(elu).toBeGreaterThan(0);
      expect(elu).toBeLessThanOrEqual(1);
      expect(spin).toBeGreaterThan(0);
      expect(after).toMatch(/^# TYPE nodejs_gc_duration_seconds histogram$/m);
      expect(value(after, 'nodejs_gc_duration_seconds_count{kind="minor"}')).toBeGreaterThan(0);
      expect(wasm.buffer.byteLength).toBe(64 * 2 ** 20);
    } finally {
      node.stop();
    }
  });

  it("gives the authority certificate's notAfter and each issuer's newest CRL (nextUpdate, thisUpdate) as Unix seconds, read at scrape time", async () => {
    const ca = await makeTestCa({ name: "Hoadon Expiry" });
    const nextUpdate = new Date(Math.floor(Date.now() / 1000) * 1000 + 5 * 86_400_000);
    const older = await makeCrl(ca.issuing, [], { thisUpdate: new Date(Date.now() - 7200_000), nextUpdate: new Date(Date.now() + 86_400_000) });
    const newer = await makeCrl(ca.issuing, [], { thisUpdate: new Date(Date.now() - 3600_000), nextUpdate });
    const trust = new TrustStore(
      { anchors: [pemToDer(ca.anchorsPem)], intermediates: [pemToDer(ca.intermediatesPem)], crls: [new TextEncoder().encode(older + newer)] },
      { warn: () => {} },
    );
    const m = new Metrics();
    registerExpiryMetrics(m, { authorityCertificate: parseCertificate(h.services.authority.certDer), crls: () => trust.crls() });
    const text = m.render();
    // Independently of our parser: node's X509Certificate.
    const notAfter = Math.floor(new Date(new X509Certificate(h.authorityCertPem).validTo).getTime() / 1000);
    expect(text).toMatch(new RegExp(`^hoadon_authority_certificate_not_after_seconds\\{subject="[^"]+"\\} ${notAfter}$`, "m"));
    const crlLines = text.split("\n").filter((l) => l.startsWith("hoadon_crl_next_update_seconds{"));
    expect(crlLines).toHaveLength(1);
    expect(crlLines[0]).toMatch(new RegExp(` ${nextUpdate.getTime() / 1000}$`));
    expect(crlLines[0]).toContain("Hoadon Expiry Issuing CA");

    // A reload (SIGHUP) shows at the next scrape.
    const later = new Date(nextUpdate.getTime() + 86_400_000);
    trust.reloadCrls([new TextEncoder().encode(await makeCrl(ca.issuing, [], { nextUpdate: later }))]);
    expect(m.render()).toMatch(new RegExp(`^hoadon_crl_next_update_seconds\\{issuer="[^"]*Hoadon Expiry Issuing CA[^"]*"\\} ${later.getTime() / 1000}$`, "m"));
  });
});

describe("scale-out settings", () => {
  it("reads reports and searches from the primary when no replica is configured", () => {
    expect(h.services.readStore).toBe(h.services.store);
  });
});

describe("request ids and logs", () => {
  it("answers every request with X-Request-Id, keeping a well-formed one the client sent", async () => {
    const mine = await h.call("GET", "/healthz", undefined, ADMIN_TOKEN, { "x-request-id": "client-id.42" });
    expect(mine.headers.get("x-request-id")).toBe("client-id.42");
    const junk = await h.call("GET", "/healthz", undefined, ADMIN_TOKEN, { "x-request-id": "bad id with spaces" });
    expect(junk.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("writes one line per request with its id, route, status and principal, and never a token, key or invoice", async () => {
    lines.length = 0;
    const xml = s.invoice({ number: nextNumber() });
    const res = await h.submit(xml, s.apiKey);
    expect(res.status).toBe(201);
    const refused = await h.submit(xml.replace("<SHDon>", "<SHDon>9"), s.apiKey);
    expect(refused.status).toBeGreaterThanOrEqual(400);
    await h.call("POST", "/v1/sellers", { taxCode: "bad" });
    await h.call("GET", "/v1/sellers/0100000010", undefined, "not-a-real-token-0123");

    const issued = lines.find((l) => l.fields.requestId === res.headers.get("x-request-id"));
    expect(issued?.fields).toMatchObject({ method: "POST", route: "/v1/invoices", status: 201, role: "seller", seller: s.taxCode });
    expect(typeof issued?.fields.ms).toBe("number");
    expect(lines.some((l) => l.fields.route === "/v1/sellers" && l.fields.role === "admin" && l.fields.status === 422)).toBe(true);
    expect(issued?.fields).not.toHaveProperty("code");

    const text = JSON.stringify(lines);
    for (const secret of [s.apiKey, ADMIN_TOKEN, "not-a-real-token-0123", "<HDon", "DLHDon", "BEGIN CERTIFICATE", "SignatureValue"]) {
      expect(text, secret).not.toContain(secret);
    }
  });

  it("puts the error code of a refusal in its request line (the code of api.md the client got)", async () => {
    lines.length = 0;
    const refusals: [Response, string][] = [
      [await h.submit(s.invoice({ number: nextNumber() }).replace(/<TgTTTBSo>(\d)/, (_m, d: string) => `<TgTTTBSo>${(Number(d) + 1) % 10}`), s.apiKey), "SIGNATURE_INVALID"],
      [await h.submit("<HDon>", s.apiKey), "XML_MALFORMED"],
      [await h.call("POST", "/v1/sellers", { taxCode: "bad" }), "SCHEMA_INVALID"],
      [await h.call("GET", "/v1/sellers/0100000010", undefined, "not-a-real-token-0123"), "UNAUTHENTICATED"],
      [await h.call("GET", "/no/such/path"), "NOT_FOUND"],
    ];
    for (const [res, code] of refusals) {
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
      const line = lines.find((l) => l.msg === "request" && l.fields.requestId === res.headers.get("x-request-id"));
      expect(line?.fields, code).toMatchObject({ status: res.status, code });
    }
  });

  it("logs an unexpected error with its request id, and the client sees only INTERNAL", async () => {
    lines.length = 0;
    const store = Object.create(h.store, { getSeller: { value: () => Promise.reject(new Error("boom: internal detail")) } }) as Harness["store"];
    const broken = buildApp({ ...h.services, store }, { logger: captured });
    {
      const res = await broken.request("/v1/sellers/0100000010", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(res.status).toBe(500);
      expect(body.error.code).toBe("INTERNAL");
      expect(JSON.stringify(body)).not.toContain("boom");
      const line = lines.find((l) => l.level === "error" && l.fields.requestId === res.headers.get("x-request-id"));
      expect(JSON.stringify(line?.fields)).toContain("boom: internal detail");
    }
  });
});

describe("GET /docs", () => {
  it("serves the Scalar reference of /openapi.json from this server only (no CDN, no inline script)", async () => {
    const res = await h.app.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<script src="/docs/scalar.js"></script>');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>[^<]/);

    const init = await h.app.request("/docs/init.js");
    expect(init.status).toBe(200);
    const initJs = await init.text();
    expect(initJs).toContain('url: "/openapi.json"');
    expect(initJs).toContain("withDefaultFonts: false");
    const scalar = await h.app.request("/docs/scalar.js");
    expect(scalar.status).toBe(200);
    expect(scalar.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await scalar.text()).toContain("createApiReference");
  });
});
