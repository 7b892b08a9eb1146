/**
 * The registry in memory (storage/registry-cache.ts): the cache's own rules, then the store
 * with it on, where a change made behind the store's back (another instance, an operator's SQL
 * session) reaches it through migration 0007's triggers and LISTEN: on PGlite, and on
 * PostgreSQL with DATABASE_URL (the announcement then comes over a connection of its own).
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../src/storage/db.js";
import type { PgStore } from "../../src/storage/pg-store.js";
import { RegistryCache } from "../../src/storage/registry-cache.js";
import { testStore } from "../helpers/db.js";

describe("RegistryCache", () => {
  it("does not cache until listening, then serves from memory until invalidated", async () => {
    const cache = new RegistryCache();
    let loads = 0;
    const load = async () => `v${++loads}`;
    expect(await cache.read("k", load, () => true)).toBe("v1");
    expect(await cache.read("k", load, () => true)).toBe("v2");
    cache.setListening(true);
    expect(await cache.read("k", load, () => true)).toBe("v3");
    expect(await cache.read("k", load, () => true)).toBe("v3");
    cache.invalidate();
    expect(await cache.read("k", load, () => true)).toBe("v4");
    cache.setListening(false);
    expect(await cache.read("k", load, () => true)).toBe("v5");
  });

  it("does not keep a value read while a change was announced", async () => {
    const cache = new RegistryCache();
    cache.setListening(true);
    let release!: () => void;
    const slow = cache.read("k", () => new Promise<string>((r) => (release = () => r("before the change"))), () => true);
    cache.invalidate();
    release();
    expect(await slow).toBe("before the change");
    expect(await cache.read("k", async () => "after the change", () => true)).toBe("after the change");
  });

  it("keeps only what `keep` accepts (no misses) and ages entries out", async () => {
    let now = 0;
    const cache = new RegistryCache(1000, 10, () => now);
    cache.setListening(true);
    let loads = 0;
    await cache.read("missing", async () => (loads++, null), (v) => v !== null);
    await cache.read("missing", async () => (loads++, null), (v) => v !== null);
    expect(loads).toBe(2);
    expect(await cache.read("k", async () => "old", () => true)).toBe("old");
    now = 999;
    expect(await cache.read("k", async () => "new", () => true)).toBe("old");
    now = 1000;
    expect(await cache.read("k", async () => "new", () => true)).toBe("new");
  });
});

describe("the store with the registry cached", () => {
  let store: PgStore;
  beforeAll(async () => {
    store = await testStore();
    await store.cacheRegistry();
  });
  afterAll(async () => store?.close());

  const prefix = String(100000 + Math.floor(Math.random() * 900000));
  let n = 0;
  const newTaxCode = () => `${prefix}${String(++n).padStart(4, "0")}`;

  /** Waits (up to 5 s) for the database's announcement to reach the store. */
  async function announced(before: number): Promise<void> {
    for (let i = 0; i < 500 && store.registry.cache.stats.invalidations === before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(store.registry.cache.stats.invalidations).toBeGreaterThan(before);
  }

  /**
   * A seller with a certificate and a key, once the database's announcements of its three writes
   * have arrived (each write forgets at once here, and is announced when it commits: six
   * invalidations): a later test that counts announcements must not count a late one of these.
   */
  async function seller() {
    const start = store.registry.cache.stats.invalidations;
    const taxCode = newTaxCode();
    await store.createSeller({ taxCode, name: `Seller ${taxCode}`, address: "1 Tràng Tiền, Hà Nội", taxOffice: null, province: null });
    const der = new Uint8Array(randomBytes(300));
    const fingerprint = createHash("sha256").update(der).digest("hex");
    await store.addCertificate({ sellerTaxCode: taxCode, fingerprint, serial: "01AB", issuer: "CN=CA", subject: `UID=MST:${taxCode}`, notBefore: new Date("2026-01-01"), notAfter: new Date("2028-01-01"), der });
    const keyHash = randomBytes(32).toString("hex");
    const keyId = randomUUID();
    await store.createApiKey({ id: keyId, sellerTaxCode: taxCode, keyHash });
    for (let i = 0; i < 500 && store.registry.cache.stats.invalidations - start < 6; i++) await new Promise((r) => setTimeout(r, 10));
    return { taxCode, keyHash, keyId, fingerprint };
  }

  it("answers repeated reads from memory", async () => {
    const before = store.registry.cache.stats.invalidations;
    const s = await seller();
    // Its three writes: each forgets at once here, and is announced when it commits.
    expect(store.registry.cache.stats.invalidations - before).toBe(6);
    const hits = store.registry.cache.stats.hits;
    for (let i = 0; i < 3; i++) {
      expect(await store.findPrincipal(s.keyHash)).toEqual({ role: "seller", id: s.keyId, sellerTaxCode: s.taxCode });
      const r = await store.sellerRegistration(s.taxCode);
      expect(r.seller?.status).toBe("active");
      expect(r.certificates.map((c) => c.fingerprint)).toEqual([s.fingerprint]);
    }
    expect(store.registry.cache.stats.hits - hits).toBe(4);
    // The management reads always go to the database.
    const reads = store.registry.cache.stats.hits + store.registry.cache.stats.misses;
    expect((await store.getSeller(s.taxCode))?.status).toBe("active");
    expect(await store.listCertificates(s.taxCode)).toHaveLength(1);
    expect(store.registry.cache.stats.hits + store.registry.cache.stats.misses).toBe(reads);
  });

  it("sees its own changes at once", async () => {
    const s = await seller();
    expect((await store.sellerRegistration(s.taxCode)).seller?.status).toBe("active");
    await store.updateSeller(s.taxCode, { status: "suspended" });
    expect((await store.sellerRegistration(s.taxCode)).seller?.status).toBe("suspended");
    expect((await store.sellerRegistration(s.taxCode)).certificates[0]!.status).toBe("active");
    await store.stopCertificate(s.taxCode, "01AB", new Date());
    expect((await store.sellerRegistration(s.taxCode)).certificates[0]!.status).toBe("stopped");
  });

  it("drops a revoked key, a suspended seller and a stopped certificate that another session changed, on the database's announcement", async () => {
    const s = await seller();
    expect(await store.findPrincipal(s.keyHash)).not.toBeNull();
    expect((await store.sellerRegistration(s.taxCode)).seller?.status).toBe("active");
    expect((await store.sellerRegistration(s.taxCode)).certificates[0]!.status).toBe("active");
    // Straight SQL on the database, not through the store's methods: as an operator or another instance would.
    let before = store.registry.cache.stats.invalidations;
    await store.db.query(sql`update api_keys set revoked_at = now() where id = ${s.keyId}`);
    await announced(before);
    expect(await store.findPrincipal(s.keyHash)).toBeNull();
    before = store.registry.cache.stats.invalidations;
    await store.db.query(sql`update sellers set status = 'ceased' where tax_code = ${s.taxCode}`);
    await announced(before);
    expect((await store.sellerRegistration(s.taxCode)).seller?.status).toBe("ceased");
    before = store.registry.cache.stats.invalidations;
    await store.db.query(sql`update certificates set status = 'stopped', stopped_at = now() where seller_tax_code = ${s.taxCode}`);
    await announced(before);
    expect((await store.sellerRegistration(s.taxCode)).certificates[0]!.status).toBe("stopped");
  });

  it.skipIf(!process.env.DATABASE_URL)("stops serving from memory the moment the listening session is lost, and resumes once it listens again", async () => {
    const s = await seller();
    await store.sellerRegistration(s.taxCode);
    expect(store.registry.cache.active).toBe(true);
    // As a failover or a network cut would: the server ends the listening session.
    await store.db.query(sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'hoadon-listen' and datname = current_database()`);
    for (let i = 0; i < 500 && store.registry.cache.active; i++) await new Promise((r) => setTimeout(r, 10));
    expect(store.registry.cache.active).toBe(false);
    expect(store.registry.cache.size).toBe(0);
    const misses = store.registry.cache.stats.misses;
    await store.sellerRegistration(s.taxCode);
    await store.sellerRegistration(s.taxCode);
    expect(store.registry.cache.stats.misses).toBe(misses);
    expect(store.registry.cache.size).toBe(0);
    // Listening again after the backoff: cached again, and announcements arrive.
    for (let i = 0; i < 1000 && !store.registry.cache.active; i++) await new Promise((r) => setTimeout(r, 10));
    expect(store.registry.cache.active).toBe(true);
    await store.sellerRegistration(s.taxCode);
    expect(store.registry.cache.size).toBeGreaterThan(0);
    const before = store.registry.cache.stats.invalidations;
    await store.db.query(sql`update sellers set name = 'After the cut' where tax_code = ${s.taxCode}`);
    await announced(before);
  });

  it("ignores announcements of another schema on the same database", async () => {
    const before = store.registry.cache.stats.invalidations;
    await store.db.query(sql`select pg_notify('hoadon_registry', 'some_other_schema.sellers')`);
    await store.db.query(sql`select pg_notify('hoadon_registry', current_schema() || '.sellers')`);
    await announced(before);
    expect(store.registry.cache.stats.invalidations - before).toBe(1);
  });

  it("announces nothing for a transaction that rolled back", async () => {
    const s = await seller();
    await store.sellerRegistration(s.taxCode);
    const before = store.registry.cache.stats.invalidations;
    await store.db
      .transaction(async (tx) => {
        await tx.query(sql`update sellers set status = 'ceased' where tax_code = ${s.taxCode}`);
        throw new Error("rolled back");
      })
      .catch(() => {});
    // A change that did commit, after it, proves the channel works and bounds the wait.
    await store.db.query(sql`update sellers set name = 'Renamed' where tax_code = ${s.taxCode}`);
    await announced(before);
    expect(store.registry.cache.stats.invalidations - before).toBe(1);
    const got = (await store.sellerRegistration(s.taxCode)).seller;
    expect([got?.status, got?.name]).toEqual(["active", "Renamed"]);
  });
});
