/**
 * Rate limits: public endpoints per client address (429 RATE_LIMITED with Retry-After), the
 * address taken from the socket unless trusted proxies are configured, and the slow-down of a key
 * that keeps sending the same refused invoice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { ApiError } from "../../src/errors.js";
import { DEFAULT_RATE_LIMITS, MemoryCounterStore, RateLimiter } from "../../src/rate-limit.js";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { type ErrorBody, expectIssued, expectRefused } from "../helpers/refusal.js";

let now = Date.now();
const clock = () => new Date(now);
let h: Harness;
let s: TestSeller;

beforeAll(async () => {
  h = await startHarness({ clock, rateLimits: { publicPerMinute: 3, refusalLimit: 3 } });
  s = await h.seller({ keyType: "ec" });
});
afterAll(async () => h?.close());

/** Runs `fn` with other limits in force (a new limiter with its own counters), then puts the file's back. */
async function withLimits(settings: Partial<typeof DEFAULT_RATE_LIMITS>, fn: () => Promise<void>): Promise<void> {
  const saved = h.services.rateLimiter;
  h.services.rateLimiter = new RateLimiter({ ...DEFAULT_RATE_LIMITS, ...settings }, new MemoryCounterStore(), clock);
  try {
    await fn();
  } finally {
    h.services.rateLimiter = saved;
  }
}

/** A GET from a given socket address (what @hono/node-server hands the app as env.incoming). */
const from = (app: Harness, address: string, path: string, headers: Record<string, string> = {}) =>
  app.app.request(path, { headers }, { incoming: { socket: { remoteAddress: address } } });

async function expectLimited(res: Response): Promise<number> {
  expect(res.status).toBe(429);
  const body = (await res.json()) as ErrorBody;
  expect(body.error.code).toBe("RATE_LIMITED");
  const retry = Number(res.headers.get("retry-after"));
  expect(retry).toBeGreaterThanOrEqual(1);
  return retry;
}

describe("public endpoints, per client address", () => {
  it("answers 429 RATE_LIMITED with Retry-After past the limit, leaves other addresses alone, and lets the address back after the window", async () => {
    const a = "192.0.2.10";
    for (let i = 0; i < 3; i++) expect((await from(h, a, "/v1/authority/certificate")).status).toBe(200);
    const retry = await expectLimited(await from(h, a, "/v1/authority/certificate"));
    expect(retry).toBeLessThanOrEqual(60);
    expect((await from(h, "192.0.2.11", "/v1/authority/certificate")).status).toBe(200);
    now += retry * 1000;
    expect((await from(h, a, "/v1/authority/certificate")).status).toBe(200);
  });

  it("counts every public endpoint against the same budget (/, /openapi.json, /v1/authority/certificate)", async () => {
    const a = "192.0.2.20";
    expect((await from(h, a, "/")).status).toBe(200);
    expect((await from(h, a, "/openapi.json")).status).toBe(200);
    expect((await from(h, a, "/v1/authority/certificate")).status).toBe(200);
    await expectLimited(await from(h, a, "/v1/authority/certificate"));
    await expectLimited(await from(h, a, "/openapi.json"));
  });

  it("ignores X-Forwarded-For when no proxy is trusted (a client cannot pick its own bucket)", async () => {
    const a = "192.0.2.30";
    for (let i = 0; i < 3; i++) expect((await from(h, a, "/v1/authority/certificate", { "x-forwarded-for": `203.0.113.${i}` })).status).toBe(200);
    await expectLimited(await from(h, a, "/v1/authority/certificate", { "x-forwarded-for": "203.0.113.99" }));
  });

  it("behind one trusted proxy, limits the address the proxy saw (the rightmost X-Forwarded-For entry), whatever the client wrote before it", async () => {
    await withLimits({ publicPerMinute: 2, trustProxyHops: 1 }, async () => {
      const lb = "10.0.0.1";
      expect((await from(h, lb, "/v1/authority/certificate", { "x-forwarded-for": "198.51.100.7" })).status).toBe(200);
      expect((await from(h, lb, "/v1/authority/certificate", { "x-forwarded-for": "1.2.3.4, 198.51.100.7" })).status).toBe(200);
      await expectLimited(await from(h, lb, "/v1/authority/certificate", { "x-forwarded-for": "5.6.7.8, 198.51.100.7" }));
      expect((await from(h, lb, "/v1/authority/certificate", { "x-forwarded-for": "198.51.100.8" })).status).toBe(200);
    });
  });

  it("behind two trusted proxies, takes the second entry from the right", async () => {
    await withLimits({ publicPerMinute: 1, trustProxyHops: 2 }, async () => {
      expect((await from(h, "10.0.0.2", "/v1/authority/certificate", { "x-forwarded-for": "spoofed, 198.51.100.20, 10.0.0.9" })).status).toBe(200);
      await expectLimited(await from(h, "10.0.0.2", "/v1/authority/certificate", { "x-forwarded-for": "other, 198.51.100.20, 10.0.0.8" }));
    });
  });

  it("turns the public limit off with 0", async () => {
    await withLimits({ publicPerMinute: 0 }, async () => {
      for (let i = 0; i < 10; i++) expect((await from(h, "192.0.2.50", "/v1/authority/certificate")).status).toBe(200);
    });
  });

  it("never limits /healthz, /readyz and /metrics: behind a load balancer the probes share the public's address", async () => {
    await withLimits({ publicPerMinute: 1 }, async () => {
      const lb = "10.0.0.3";
      expect((await from(h, lb, "/v1/authority/certificate")).status).toBe(200);
      await expectLimited(await from(h, lb, "/v1/authority/certificate"));
      await expectLimited(await from(h, lb, "/"));
      for (let i = 0; i < 5; i++) {
        expect((await from(h, lb, "/healthz")).status).toBe(200);
        expect((await from(h, lb, "/readyz")).status).toBe(200);
        const metrics = await from(h, lb, "/metrics");
        expect(metrics.status).toBe(200);
        expect(await metrics.text()).toMatch(/^hoadon_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+$/m);
      }
      // The probes did not use up anything either: still limited, still one window.
      await expectLimited(await from(h, lb, "/v1/verify/00000000000000000000000000000000AA"));
    });
  });

  it("does not limit authenticated endpoints by address", async () => {
    for (let i = 0; i < 6; i++) {
      const res = await h.app.request(`/v1/sellers/${s.taxCode}`, { headers: { authorization: `Bearer ${s.apiKey}` } }, { incoming: { socket: { remoteAddress: "192.0.2.40" } } });
      expect(res.status).toBe(200);
    }
  });
});

describe("a key that keeps sending the same refused invoice", () => {
  const tampered = () => s.invoice().replace(/<TgTTTBSo>(\d)/, (_m, d: string) => `<TgTTTBSo>${(Number(d) + 1) % 10}`);

  it("is answered 429 RATE_LIMITED with Retry-After before the gate runs again, stores nothing, and is let back after the window", async () => {
    const xml = tampered();
    for (let i = 0; i < 3; i++) await expectRefused(h, xml, "SIGNATURE_INVALID", s.apiKey);
    const before = await h.store.countRows();
    const res = await h.submit(xml, s.apiKey);
    const retry = await expectLimited(res);
    expect(retry).toBeLessThanOrEqual(600);
    expect(await h.store.countRows()).toEqual(before);
    now += retry * 1000;
    await expectRefused(h, xml, "SIGNATURE_INVALID", s.apiKey);
  });

  it("slows down only that invoice and that key: another invoice of the key, and the same invoice from another key, still go through the gate", async () => {
    const xml = tampered();
    for (let i = 0; i < 3; i++) await expectRefused(h, xml, "SIGNATURE_INVALID", s.apiKey);
    await expectLimited(await h.submit(xml, s.apiKey));
    await expectIssued(h, s.invoice(), s.apiKey);
    const other = ((await (await h.call("POST", `/v1/sellers/${s.taxCode}/api-keys`)).json()) as { key: string }).key;
    await expectRefused(h, xml, "SIGNATURE_INVALID", other);
  });

  it("counts every refusal code, not only signature failures (here DUPLICATE_INVOICE)", async () => {
    const first = s.invoice();
    await expectIssued(h, first, s.apiKey);
    const number = /<SHDon>(\d+)</.exec(first)![1]!;
    const conflicting = s.invoice({ number: Number(number), lines: [{ name: "Khác", quantity: 1, unitPrice: 5, taxRate: "KCT" }] });
    for (let i = 0; i < 3; i++) await expectRefused(h, conflicting, "DUPLICATE_INVOICE", s.apiKey);
    await expectLimited(await h.submit(conflicting, s.apiKey));
  });

  it("never counts accepted invoices or replays", async () => {
    const xml = s.invoice();
    await expectIssued(h, xml, s.apiKey);
    for (let i = 0; i < 5; i++) expect((await h.submit(xml, s.apiKey)).status).toBe(200);
  });
});

describe("the slow-down's bookkeeping (RateLimiter.guardRefusals)", () => {
  const refused = () => Promise.reject(new ApiError("SIGNATURE_INVALID"));
  const body = (text: string) => new TextEncoder().encode(text);
  /** The in-process store, counting what the limiter asks of it. */
  class Counting extends MemoryCounterStore {
    peeks = 0;
    override peek(key: string, at: number) {
      this.peeks++;
      return super.peek(key, at);
    }
  }

  it("looks nothing up for a key without a refusal in the window, and is exact at the window's end", async () => {
    let t = 1_000_000;
    const store = new Counting();
    const limiter = new RateLimiter({ ...DEFAULT_RATE_LIMITS, refusalLimit: 2, refusalWindowMs: 60_000 }, store, () => new Date(t));
    expect(await limiter.guardRefusals("k1", body("a"), async () => "issued")).toBe("issued");
    expect(store.peeks).toBe(0);
    // Two refusals of body "a", 30 s apart: its window opened at the first and closes 60 s after it.
    await expect(limiter.guardRefusals("k1", body("a"), refused)).rejects.toThrow(ApiError);
    t += 30_000;
    await expect(limiter.guardRefusals("k1", body("a"), refused)).rejects.toThrow(ApiError);
    await expect(limiter.guardRefusals("k1", body("a"), async () => "issued")).rejects.toMatchObject({ code: "RATE_LIMITED" });
    // Another key is not looked up at all; another body of k1 is, and goes through.
    const before = store.peeks;
    expect(await limiter.guardRefusals("k2", body("a"), async () => "issued")).toBe("issued");
    expect(store.peeks).toBe(before);
    expect(await limiter.guardRefusals("k1", body("b"), async () => "issued")).toBe("issued");
    // 1 ms before the window of "a" closes it still holds; at its end "a" is judged again.
    t += 30_000 - 1;
    await expect(limiter.guardRefusals("k1", body("a"), async () => "issued")).rejects.toMatchObject({ code: "RATE_LIMITED" });
    t += 1;
    expect(await limiter.guardRefusals("k1", body("a"), async () => "issued")).toBe("issued");
    // 60 s after k1's last refusal no window of k1 can be open: nothing is looked up.
    t += 30_000;
    const later = store.peeks;
    expect(await limiter.guardRefusals("k1", body("a"), async () => "issued")).toBe("issued");
    expect(store.peeks).toBe(later);
  });

  it("asks a shared store about every body (other instances' refusals are counted there)", async () => {
    const windows = new MemoryCounterStore();
    let peeks = 0;
    const shared = { increment: windows.increment.bind(windows), peek: (k: string, at: number) => (peeks++, windows.peek(k, at)) };
    const limiter = new RateLimiter({ ...DEFAULT_RATE_LIMITS, refusalLimit: 1 }, shared);
    // Another instance refused this body once: this one must see it.
    await windows.increment(limiter.refusalKey("k1", body("a")), DEFAULT_RATE_LIMITS.refusalWindowMs, Date.now());
    await expect(limiter.guardRefusals("k1", body("a"), async () => "issued")).rejects.toMatchObject({ code: "RATE_LIMITED" });
    expect(peeks).toBe(1);
  });
});

describe("settings and the counter store", () => {
  it("refuses a malformed rate-limit setting at start with one line naming it", () => {
    for (const [name, value] of [["HOADON_RATE_LIMIT_PUBLIC", "lots"], ["HOADON_RATE_LIMIT_REFUSALS", "-1"], ["HOADON_TRUST_PROXY", "99"]] as const) {
      expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^invalid configuration: ${name}: `));
    }
    expect(loadConfig({ HOADON_RATE_LIMIT_PUBLIC: "0", HOADON_TRUST_PROXY: "2" })).toMatchObject({ HOADON_RATE_LIMIT_PUBLIC: 0, HOADON_TRUST_PROXY: 2, HOADON_RATE_LIMIT_REFUSALS: 5 });
  });

  it("keeps the in-process store bounded: expired windows are swept and the oldest go first past the cap", () => {
    const store = new MemoryCounterStore(100);
    for (let i = 0; i < 1000; i++) store.increment(`k${i}`, 60_000, 0);
    expect(store.size).toBeLessThanOrEqual(100);
    expect(store.peek("k999", 1)).toEqual({ count: 1, resetAt: 60_000 });
    store.increment("late", 60_000, 120_000);
    expect(store.size).toBe(1);
  });
});
