/**
 * API keys and officer tokens after they are issued: listed with their last use (never the
 * secret nor its hash), revoked by admins (officers: keys only), refused (401) at once by every
 * instance, audited. Two app instances share one database here, each with its own registry
 * cache and LISTEN, as two processes of the service do: on PGlite, and on PostgreSQL with
 * DATABASE_URL.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { hashSecret } from "../../src/auth.js";
import { ADMIN_TOKEN, type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { secondStore } from "../helpers/db.js";
import { randomTaxCode } from "../helpers/invoice.js";

/** Two instances of the service on one database. */
let a: Harness;
let b: Harness;
let officer: { id: string; token: string };

beforeAll(async () => {
  a = await startHarness();
  b = await startHarness({ store: await secondStore(a.store) });
  officer = await newOfficer("Trần Thị Thu Hồi");
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

interface KeyJson {
  id: string;
  sellerTaxCode: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
interface OfficerJson {
  id: string;
  name: string;
  taxOffice: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
interface AuditJson {
  role: string;
  actor: string;
  action: string;
  target: string | null;
  query: Record<string, string>;
}

async function newOfficer(name: string): Promise<{ id: string; token: string }> {
  const r = await a.call("POST", "/v1/officers", { name, taxOffice: "Cục Thuế TP Hà Nội" });
  expect(r.status).toBe(201);
  return (await r.json()) as { id: string; token: string };
}

async function newKey(h: Harness, taxCode: string): Promise<{ id: string; key: string }> {
  const r = await h.call("POST", `/v1/sellers/${taxCode}/api-keys`);
  expect(r.status).toBe(201);
  return (await r.json()) as { id: string; key: string };
}

/** The id of a seller's key, from the list (the harness gives only the key). */
async function keyIdOf(s: TestSeller): Promise<string> {
  const [k] = await listKeys(s.taxCode);
  return k!.id;
}

async function listKeys(taxCode: string, h = a): Promise<KeyJson[]> {
  const r = await h.call("GET", `/v1/sellers/${taxCode}/api-keys`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { items: KeyJson[] }).items;
}

async function listOfficers(h = a): Promise<OfficerJson[]> {
  const r = await h.call("GET", "/v1/officers");
  expect(r.status).toBe(200);
  return ((await r.json()) as { items: OfficerJson[] }).items;
}

async function auditOf(action: string, target: string): Promise<AuditJson[]> {
  const r = await a.call("GET", `/v1/audit?action=${action}&limit=1000`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { items: AuditJson[] }).items.filter((e) => e.target === target);
}

/** A request only a valid credential passes: the seller record (admins, officers, that seller). */
const use = (h: Harness, taxCode: string, token: string) => h.call("GET", `/v1/sellers/${taxCode}`, undefined, token);

async function errorCode(r: Response): Promise<string> {
  return ((await r.json()) as { error: { code: string } }).error.code;
}

/** Waits (up to 5 s) until instance `h` has heard the database announce a registry change after `before`. */
async function announced(h: Harness, before: number): Promise<void> {
  for (let i = 0; i < 500 && h.store.registry.cache.stats.invalidations === before; i++) await new Promise((r) => setTimeout(r, 10));
  expect(h.store.registry.cache.stats.invalidations, "the database's announcement never reached the other instance").toBeGreaterThan(before);
}

/** Counts the credential lookups instance `h` sends to the database while `fn` runs. */
async function lookups(h: Harness, fn: () => Promise<unknown>): Promise<number> {
  const spy = vi.spyOn(h.store.db, "query");
  try {
    await fn();
    return spy.mock.calls.filter(([q]) => (typeof q === "string" ? q : q.text).includes("key_hash =")).length;
  } finally {
    spy.mockRestore();
  }
}

/**
 * Uses the credential on `h` until `h` answers it from memory (no lookup in the database): the
 * announcements of the changes made just before (registering the seller, issuing the key) reach
 * the other instance asynchronously, and each one empties its cache.
 */
async function cachedOn(h: Harness, taxCode: string, token: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    expect((await use(h, taxCode, token)).status).toBe(200);
    if ((await lookups(h, async () => expect((await use(h, taxCode, token)).status).toBe(200))) === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect.fail("the instance never answered the credential from memory");
}

describe("listing a seller's API keys", () => {
  it("gives id, seller, creation, last use and revocation of every key, newest first, never the key or its hash", async () => {
    const s = await a.seller();
    const second = await newKey(a, s.taxCode);
    const items = await listKeys(s.taxCode);
    expect(items.map((k) => k.id)).toEqual([second.id, expect.any(String)]);
    for (const k of items) {
      expect(Object.keys(k).sort()).toEqual(["createdAt", "id", "lastUsedAt", "revokedAt", "sellerTaxCode"]);
      expect(k).toMatchObject({ sellerTaxCode: s.taxCode, lastUsedAt: null, revokedAt: null });
      expect(Date.parse(k.createdAt)).not.toBeNaN();
    }
    const text = await (await a.call("GET", `/v1/sellers/${s.taxCode}/api-keys`)).text();
    for (const secret of [s.apiKey, second.key]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(hashSecret(secret));
    }
  });

  it("shows the last use once written off the request path, from any instance, never moving backwards", async () => {
    const s = await a.seller();
    const id = await keyIdOf(s);
    const before = Date.now();
    expect((await use(b, s.taxCode, s.apiKey)).status).toBe(200);
    // Noted in memory only: nothing written by the request itself.
    expect((await listKeys(s.taxCode)).find((k) => k.id === id)?.lastUsedAt).toBeNull();
    expect(b.services.credentialUse.pendingCount).toBeGreaterThan(0);
    await b.services.credentialUse.flush(b.store);
    const used = Date.parse((await listKeys(s.taxCode)).find((k) => k.id === id)!.lastUsedAt!);
    expect(used).toBeGreaterThanOrEqual(before - 1);
    expect(used).toBeLessThanOrEqual(Date.now());
    // An instance that writes an older use (its flush came late) does not move it back.
    await a.store.recordCredentialUses([{ id, at: new Date(used - 3600_000) }]);
    expect(Date.parse((await listKeys(s.taxCode)).find((k) => k.id === id)!.lastUsedAt!)).toBe(used);
  });

  it("writes a busy key's use once a minute, not per request", async () => {
    const s = await a.seller();
    const before = b.services.credentialUse.stats.noted;
    for (let i = 0; i < 5; i++) expect((await use(b, s.taxCode, s.apiKey)).status).toBe(200);
    expect(b.services.credentialUse.stats.noted - before).toBe(1);
  });

  it("does not empty the instances' registry caches when last uses are written", async () => {
    const s = await a.seller();
    const payloads: string[] = [];
    const unlisten = await a.store.db.listen!("hoadon_registry", (p) => payloads.push(p), () => {}, () => {});
    try {
      expect((await use(b, s.taxCode, s.apiKey)).status).toBe(200);
      await b.services.credentialUse.flush(b.store);
      // An announcement of our own after the write: announcements arrive in commit order, so
      // one from the write would be here before it.
      const sentinel = `sentinel-${Math.random()}`;
      await a.store.db.query(`select pg_notify('hoadon_registry', $1)`, [sentinel]);
      for (let i = 0; i < 500 && !payloads.includes(sentinel); i++) await new Promise((r) => setTimeout(r, 10));
      expect(payloads).toContain(sentinel);
      expect(payloads.filter((p) => p.endsWith(".credential_use"))).toEqual([]);
    } finally {
      await unlisten();
    }
  });

  it("is for admins and officers: a seller's own key gets 403, no credential 401, an unknown seller 404", async () => {
    const s = await a.seller();
    expect((await a.call("GET", `/v1/sellers/${s.taxCode}/api-keys`, undefined, officer.token)).status).toBe(200);
    const own = await a.call("GET", `/v1/sellers/${s.taxCode}/api-keys`, undefined, s.apiKey);
    expect(own.status).toBe(403);
    expect(await errorCode(own)).toBe("FORBIDDEN");
    expect((await a.app.request(`/v1/sellers/${s.taxCode}/api-keys`)).status).toBe(401);
    const unknown = await a.call("GET", `/v1/sellers/${randomTaxCode()}/api-keys`);
    expect(unknown.status).toBe(404);
    expect(await errorCode(unknown)).toBe("NOT_FOUND");
  });
});

describe("revoking an API key", () => {
  it("refuses the key at once on this instance (401), leaves the seller's other keys working, and lists it revoked", async () => {
    const s = await a.seller();
    const id = await keyIdOf(s);
    const other = await newKey(a, s.taxCode);
    expect((await use(a, s.taxCode, s.apiKey)).status).toBe(200);
    expect((await a.submit(s.invoice({ number: 1 }), s.apiKey)).status).toBe(201);
    const r = await a.call("DELETE", `/v1/sellers/${s.taxCode}/api-keys/${id}`, undefined, officer.token);
    expect(r.status).toBe(200);
    const revoked = (await r.json()) as KeyJson;
    expect(revoked).toMatchObject({ id, sellerTaxCode: s.taxCode, revokedAt: expect.any(String) });
    expect(JSON.stringify(revoked)).not.toContain(hashSecret(s.apiKey));
    const refused = await use(a, s.taxCode, s.apiKey);
    expect(refused.status).toBe(401);
    expect(await errorCode(refused)).toBe("UNAUTHENTICATED");
    const submit = await a.submit(s.invoice({ number: 2 }), s.apiKey);
    expect(submit.status).toBe(401);
    expect((await use(a, s.taxCode, other.key)).status).toBe(200);
    expect((await a.submit(s.invoice({ number: 2 }), other.key)).status).toBe(201);
    expect(await listKeys(s.taxCode)).toEqual(
      expect.arrayContaining([expect.objectContaining({ id, revokedAt: revoked.revokedAt }), expect.objectContaining({ id: other.id, revokedAt: null })]),
    );
  });

  it("refuses the key at once on another instance that had it in memory (401), by the database's announcement", async () => {
    const s = await a.seller();
    const id = await keyIdOf(s);
    // Instance b answers the key from memory: only the database's announcement can make it look again.
    await cachedOn(b, s.taxCode, s.apiKey);
    const before = b.store.registry.cache.stats.invalidations;
    expect((await a.call("DELETE", `/v1/sellers/${s.taxCode}/api-keys/${id}`)).status).toBe(200);
    await announced(b, before);
    const refused = await use(b, s.taxCode, s.apiKey);
    expect(refused.status).toBe(401);
    expect(await errorCode(refused)).toBe("UNAUTHENTICATED");
    expect((await b.submit(s.invoice({ number: 1 }), s.apiKey)).status).toBe(401);
  });

  it("is idempotent: revoking again answers 200 with the first revocation time, and the audit log has one entry naming who", async () => {
    const s = await a.seller();
    const id = await keyIdOf(s);
    const first = (await (await a.call("DELETE", `/v1/sellers/${s.taxCode}/api-keys/${id}`, undefined, officer.token)).json()) as KeyJson;
    const again = await b.call("DELETE", `/v1/sellers/${s.taxCode}/api-keys/${id.toUpperCase()}`);
    expect(again.status).toBe(200);
    expect(((await again.json()) as KeyJson).revokedAt).toBe(first.revokedAt);
    const entries = await auditOf("api-key.revoke", id);
    expect(entries).toEqual([expect.objectContaining({ role: "officer", actor: officer.id, action: "api-key.revoke", target: id, query: { sellerTaxCode: s.taxCode } })]);
    expect(await auditOf("api-key.issue", id)).toEqual([expect.objectContaining({ role: "admin", actor: "admin", target: id, query: { sellerTaxCode: s.taxCode } })]);
  });

  it("answers 404 for a key of another seller (which stays valid), an unknown id, an id that is no UUID, and an unknown seller", async () => {
    const s = await a.seller();
    const t = await a.seller();
    const tId = await keyIdOf(t);
    for (const path of [
      `/v1/sellers/${s.taxCode}/api-keys/${tId}`,
      `/v1/sellers/${s.taxCode}/api-keys/00000000-0000-4000-8000-000000000000`,
      `/v1/sellers/${s.taxCode}/api-keys/not-a-key`,
      `/v1/sellers/${randomTaxCode()}/api-keys/${tId}`,
    ]) {
      const r = await a.call("DELETE", path);
      expect(r.status, path).toBe(404);
      expect(await errorCode(r)).toBe("NOT_FOUND");
    }
    expect((await use(a, t.taxCode, t.apiKey)).status).toBe(200);
    expect((await listKeys(t.taxCode))[0]!.revokedAt).toBeNull();
    expect(await auditOf("api-key.revoke", tId)).toEqual([]);
  });

  it("is for admins and officers: a seller cannot revoke even its own key (403), and the key stays valid", async () => {
    const s = await a.seller();
    const id = await keyIdOf(s);
    const r = await a.call("DELETE", `/v1/sellers/${s.taxCode}/api-keys/${id}`, undefined, s.apiKey);
    expect(r.status).toBe(403);
    expect((await a.app.request(`/v1/sellers/${s.taxCode}/api-keys/${id}`, { method: "DELETE" })).status).toBe(401);
    expect((await use(a, s.taxCode, s.apiKey)).status).toBe(200);
  });
});

describe("officers and their tokens", () => {
  it("lists every officer with office, creation and the token's last use, never the token or its hash; admins only", async () => {
    const o = await newOfficer("Lê Văn Danh Sách");
    expect((await use(b, randomTaxCode(), o.token)).status).toBe(404); // authenticated, then no such seller
    await b.services.credentialUse.flush(b.store);
    const r = await a.call("GET", "/v1/officers");
    const text = await r.clone().text();
    expect(text).not.toContain(o.token);
    expect(text).not.toContain(hashSecret(o.token));
    const listed = (await listOfficers()).find((x) => x.id === o.id);
    expect(listed).toEqual({ id: o.id, name: "Lê Văn Danh Sách", taxOffice: "Cục Thuế TP Hà Nội", createdAt: expect.any(String), lastUsedAt: expect.any(String), revokedAt: null });
    expect((await a.call("GET", "/v1/officers", undefined, officer.token)).status).toBe(403);
    expect(await auditOf("officer.issue", o.id)).toEqual([expect.objectContaining({ role: "admin", actor: "admin", target: o.id })]);
  });

  it("revokes an officer's token: 401 at once on both instances, dashboard sessions ended, audited; idempotent", async () => {
    const o = await newOfficer("Phạm Thị Bị Thu");
    const s = await a.seller();
    expect((await use(a, s.taxCode, o.token)).status).toBe(200);
    await cachedOn(b, s.taxCode, o.token);
    const login = await b.app.request("/officer/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token: o.token }).toString() });
    expect(login.status).toBe(303);
    const session = /hoadon_officer=([^;]+)/.exec(login.headers.get("set-cookie") ?? "")![1]!;
    const cookie = { cookie: `hoadon_officer=${session}` };
    expect((await b.app.request("/officer/invoices", { headers: cookie })).status).toBe(200);

    const before = b.store.registry.cache.stats.invalidations;
    const r = await a.call("DELETE", `/v1/officers/${o.id}`);
    expect(r.status).toBe(200);
    const revoked = (await r.json()) as OfficerJson;
    expect(revoked).toMatchObject({ id: o.id, name: "Phạm Thị Bị Thu", revokedAt: expect.any(String) });
    expect((await use(a, s.taxCode, o.token)).status).toBe(401);
    await announced(b, before);
    const refused = await use(b, s.taxCode, o.token);
    expect(refused.status).toBe(401);
    expect(await errorCode(refused)).toBe("UNAUTHENTICATED");
    // The dashboard: the session is gone, and signing in again is refused.
    expect((await b.app.request("/officer/invoices", { headers: cookie })).status).toBe(303);
    const again = await b.app.request("/officer/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token: o.token }).toString() });
    expect(again.status).toBe(401);

    const repeat = await b.call("DELETE", `/v1/officers/${o.id}`);
    expect(repeat.status).toBe(200);
    expect(((await repeat.json()) as OfficerJson).revokedAt).toBe(revoked.revokedAt);
    expect((await listOfficers(b)).find((x) => x.id === o.id)?.revokedAt).toBe(revoked.revokedAt);
    expect(await auditOf("officer.revoke", o.id)).toEqual([expect.objectContaining({ role: "admin", actor: "admin", action: "officer.revoke", target: o.id })]);
    // The other officers are untouched.
    expect((await use(a, s.taxCode, officer.token)).status).toBe(200);
  });

  it("is for admins only: an officer cannot revoke an officer, not even themself (403); unknown or malformed ids are 404", async () => {
    const o = await newOfficer("Đỗ Văn Còn Hiệu Lực");
    for (const id of [o.id, officer.id]) expect((await a.call("DELETE", `/v1/officers/${id}`, undefined, officer.token)).status).toBe(403);
    for (const id of ["00000000-0000-4000-8000-000000000000", "nobody", "1"]) {
      const r = await a.call("DELETE", `/v1/officers/${id}`);
      expect(r.status, id).toBe(404);
      expect(await errorCode(r)).toBe("NOT_FOUND");
    }
    expect((await listOfficers()).find((x) => x.id === o.id)?.revokedAt).toBeNull();
    expect((await use(a, randomTaxCode(), o.token)).status).toBe(404);
  });

  it("keeps the bootstrap admin token out of it: it is configuration, never listed", async () => {
    const all = await listOfficers();
    expect(all.every((x) => x.id !== "admin")).toBe(true);
    expect(JSON.stringify(all)).not.toContain(hashSecret(ADMIN_TOKEN));
  });
});
