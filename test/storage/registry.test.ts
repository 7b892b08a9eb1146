/**
 * The registry aggregate (storage/registry.ts): sellers, certificates, officers and API keys, on
 * whichever backend test/helpers/db.ts gives (PGlite, or PostgreSQL with DATABASE_URL). The
 * registry in memory has its own file (registry-cache.test.ts).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql, sqlState, UniqueViolationError } from "../../src/storage/db.js";
import type { PgStore } from "../../src/storage/pg-store.js";
import { SqlSessionStore } from "../../src/storage/sessions.js";
import type { AuditEntry } from "../../src/storage/store.js";
import { certificateFor, newHash, newTaxCode, testStore } from "../helpers/db.js";

let store: PgStore;
let registry: PgStore["registry"];
beforeAll(async () => {
  store = await testStore();
  registry = store.registry;
});
afterAll(async () => {
  await store?.close();
});


describe("sellers", () => {
  it("creates an active seller with its fields", async () => {
    const taxCode = newTaxCode();
    const seller = await registry.createSeller({ taxCode, name: "Công ty A", address: "Hà Nội", taxOffice: "Cục Thuế Hà Nội", province: "Hà Nội" });
    expect(seller).toMatchObject({ taxCode, name: "Công ty A", address: "Hà Nội", taxOffice: "Cục Thuế Hà Nội", province: "Hà Nội", status: "active" });
    expect(seller?.createdAt).toBeInstanceOf(Date);
    expect(seller?.updatedAt).toBeInstanceOf(Date);
    expect(await registry.getSeller(taxCode)).toEqual(seller);
  });

  it("refuses a second seller with the same tax code (null) and keeps the first", async () => {
    const taxCode = newTaxCode();
    await registry.createSeller({ taxCode, name: "First", address: "A", taxOffice: null, province: null });
    const before = await store.countRows();
    expect(await registry.createSeller({ taxCode, name: "Second", address: "B", taxOffice: null, province: null })).toBeNull();
    expect((await registry.getSeller(taxCode))?.name).toBe("First");
    expect(await store.countRows()).toEqual(before);
  });

  it("answers null for an unknown seller", async () => {
    expect(await registry.getSeller(newTaxCode())).toBeNull();
    expect(await registry.updateSeller(newTaxCode(), { status: "ceased" })).toBeNull();
  });

  it("updates only the fields given, clears a field set to null and moves updatedAt", async () => {
    const taxCode = newTaxCode();
    const created = await registry.createSeller({ taxCode, name: "Old", address: "A", taxOffice: "Office", province: "Huế" });
    const updated = await registry.updateSeller(taxCode, { status: "suspended", taxOffice: null });
    expect(updated).toMatchObject({ taxCode, name: "Old", address: "A", taxOffice: null, province: "Huế", status: "suspended" });
    expect(updated!.createdAt).toEqual(created!.createdAt);
    expect(updated!.updatedAt.getTime()).toBeGreaterThanOrEqual(created!.updatedAt.getTime());
    expect(await registry.updateSeller(taxCode, {})).toEqual(updated);
  });

  it("refuses a malformed tax code or status (check constraint)", async () => {
    const error = await registry.createSeller({ taxCode: "12345", name: "X", address: "Y", taxOffice: null, province: null }).catch((e: unknown) => e);
    expect(sqlState(error)).toBe("23514");
    const taxCode = newTaxCode();
    await registry.createSeller({ taxCode, name: "X", address: "Y", taxOffice: null, province: null });
    const bad = await registry.updateSeller(taxCode, { status: "closed" as never }).catch((e: unknown) => e);
    expect(sqlState(bad)).toBe("23514");
  });

  it("accepts branch and 12-digit individual tax codes", async () => {
    const branch = `${newTaxCode()}-001`;
    const individual = `${newTaxCode()}00`;
    expect(await registry.createSeller({ taxCode: branch, name: "Branch", address: "A", taxOffice: null, province: null })).not.toBeNull();
    expect(await registry.createSeller({ taxCode: individual, name: "Person", address: "A", taxOffice: null, province: null })).not.toBeNull();
  });
});

describe("certificates", () => {
  it("registers a certificate once, lists and finds it", async () => {
    const taxCode = newTaxCode();
    await registry.createSeller({ taxCode, name: "S", address: "A", taxOffice: null, province: null });
    const cert = certificateFor(taxCode, "0A1B2C");
    const record = await registry.addCertificate(cert);
    expect(record).toMatchObject({
      sellerTaxCode: taxCode,
      fingerprint: cert.fingerprint,
      serial: "0A1B2C",
      issuer: cert.issuer,
      subject: cert.subject,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      status: "active",
      stoppedAt: null,
    });
    expect(record?.registeredAt).toBeInstanceOf(Date);
    expect(await registry.addCertificate(cert)).toBeNull();
    expect(await registry.listCertificates(taxCode)).toEqual([record]);
    expect(await registry.findCertificate(taxCode, cert.fingerprint)).toEqual(record);
    expect(await registry.findCertificate(taxCode, "0".repeat(64))).toBeNull();
    expect(await registry.findCertificate(newTaxCode(), cert.fingerprint)).toBeNull();
  });

  it("stores the DER bytes exactly", async () => {
    const taxCode = newTaxCode();
    await registry.createSeller({ taxCode, name: "S", address: "A", taxOffice: null, province: null });
    const cert = certificateFor(taxCode);
    await registry.addCertificate(cert);
    const [row] = await store.db.query<{ der: Uint8Array }>(sql`select der from certificates where fingerprint = ${cert.fingerprint}`);
    expect(row?.der).toEqual(cert.der);
  });

  it("refuses a fingerprint that is not the SHA-256 of the DER", async () => {
    const taxCode = newTaxCode();
    await registry.createSeller({ taxCode, name: "S", address: "A", taxOffice: null, province: null });
    const error = await registry.addCertificate({ ...certificateFor(taxCode), fingerprint: "ab".repeat(32) }).catch((e: unknown) => e);
    expect(sqlState(error)).toBe("23514");
  });

  it("stops the active certificates with a serial, from the given time, for that seller only", async () => {
    const [a, b] = [newTaxCode(), newTaxCode()];
    for (const taxCode of [a, b]) await registry.createSeller({ taxCode, name: "S", address: "A", taxOffice: null, province: null });
    const serial = "DEADBEEF01";
    const first = certificateFor(a, serial);
    const second = certificateFor(a, serial); // another CA, same serial
    const other = certificateFor(a, "FFFF");
    const elsewhere = certificateFor(b, serial);
    for (const c of [first, second, other, elsewhere]) await registry.addCertificate(c);

    const at = new Date("2026-11-22T10:00:00.123Z");
    const stopped = await registry.stopCertificate(a, serial, at);
    expect(stopped.map((c) => c.fingerprint).sort()).toEqual([first.fingerprint, second.fingerprint].sort());
    expect(stopped.every((c) => c.status === "stopped" && c.stoppedAt?.getTime() === at.getTime())).toBe(true);
    expect((await registry.findCertificate(a, other.fingerprint))?.status).toBe("active");
    expect((await registry.findCertificate(b, elsewhere.fingerprint))?.status).toBe("active");
    // Already stopped: nothing more to stop, and the first stop time stays.
    expect(await registry.stopCertificate(a, serial, new Date())).toEqual([]);
    expect((await registry.findCertificate(a, first.fingerprint))?.stoppedAt).toEqual(at);
  });
});

describe("principals", () => {
  it("finds an officer by the hash of their token", async () => {
    const tokenHash = newHash();
    const id = randomUUID();
    const officer = await registry.createOfficer({ id, name: "Nguyễn Văn A", taxOffice: "Cục Thuế TP.HCM", tokenHash });
    expect(officer).toMatchObject({ id, name: "Nguyễn Văn A", taxOffice: "Cục Thuế TP.HCM" });
    expect(officer.createdAt).toBeInstanceOf(Date);
    expect(await registry.findPrincipal(tokenHash)).toEqual({ role: "officer", id, name: "Nguyễn Văn A" });
  });

  it("finds a seller's API key by its hash, and not once revoked", async () => {
    const taxCode = newTaxCode();
    await registry.createSeller({ taxCode, name: "S", address: "A", taxOffice: null, province: null });
    const id = randomUUID();
    const keyHash = newHash();
    await registry.createApiKey({ id, sellerTaxCode: taxCode, keyHash });
    expect(await registry.findPrincipal(keyHash)).toEqual({ role: "seller", id, sellerTaxCode: taxCode });
    await store.db.query(sql`update api_keys set revoked_at = now() where id = ${id}`);
    expect(await registry.findPrincipal(keyHash)).toBeNull();
  });

  it("answers null for an unknown hash", async () => {
    expect(await registry.findPrincipal(newHash())).toBeNull();
  });

  it("refuses a token hash that is already in use (UniqueViolationError)", async () => {
    const tokenHash = newHash();
    await registry.createOfficer({ id: randomUUID(), name: "A", taxOffice: null, tokenHash });
    await expect(registry.createOfficer({ id: randomUUID(), name: "B", taxOffice: null, tokenHash })).rejects.toBeInstanceOf(UniqueViolationError);
  });
});

const auditEntry = (action: AuditEntry["action"], target: string): AuditEntry => ({
  at: new Date(),
  actorRole: "admin",
  actorId: "admin",
  action,
  target,
  query: {},
  clientAddress: "203.0.113.9",
  requestId: randomUUID(),
});
const auditOf = async (target: string) => (await store.audit.listAudit({ actor: "admin", limit: 1000 })).items.filter((e) => e.target === target).map((e) => e.action);

describe("officers and API keys: issued, listed, revoked with their audit entry", () => {
  it("issues an officer's token with its audit entry in one transaction, and lists officers oldest first", async () => {
    const id = randomUUID();
    const officer = await registry.createOfficer({ id, name: "Lê Văn C", taxOffice: null, tokenHash: newHash() }, auditEntry("officer.issue", id));
    expect(await auditOf(id)).toEqual(["officer.issue"]);
    const listed = await registry.listOfficers();
    expect(listed.find((o) => o.id === id)).toEqual({ ...officer, lastUsedAt: null, revokedAt: null });
    expect(listed.map((o) => o.createdAt.getTime())).toEqual([...listed.map((o) => o.createdAt.getTime())].sort((a, b) => a - b));
    // A refused insert writes no audit entry either.
    const again = auditEntry("officer.issue", randomUUID());
    await expect(registry.createOfficer({ id, name: "Twice", taxOffice: null, tokenHash: newHash() }, again)).rejects.toBeInstanceOf(UniqueViolationError);
    expect(await auditOf(again.target!)).toEqual([]);
  });

  it("revokes an officer once: the token stops working, their sessions end, one audit entry; again: unchanged, no entry", async () => {
    const id = randomUUID();
    const tokenHash = newHash();
    await registry.createOfficer({ id, name: "Phạm D", taxOffice: null, tokenHash });
    const sessions = new SqlSessionStore(store.db);
    const now = new Date();
    await sessions.createSession({ idHash: randomBytes(32).toString("hex"), officerId: id, createdAt: now, expiresAt: new Date(now.getTime() + 3600_000) });
    const at = new Date("2026-11-22T05:06:07.000Z");
    const revoked = await registry.revokeOfficer(id, at, auditEntry("officer.revoke", id));
    expect(revoked).toMatchObject({ id, revokedAt: at });
    expect(await registry.findPrincipal(tokenHash)).toBeNull();
    const [row] = await store.db.query<{ n: bigint }>(sql`select count(*) as n from officer_sessions where officer_id = ${id}`);
    expect(Number(row?.n)).toBe(0);
    expect(await registry.revokeOfficer(id, new Date(), auditEntry("officer.revoke", id))).toEqual(revoked);
    expect(await auditOf(id)).toEqual(["officer.revoke"]);
    expect(await registry.revokeOfficer(randomUUID(), at, auditEntry("officer.revoke", "nobody"))).toBeNull();
    expect(await auditOf("nobody")).toEqual([]);
  });

  it("lists a seller's keys newest first and revokes one of that seller only, once", async () => {
    const taxCode = newTaxCode();
    await registry.createSeller({ taxCode, name: "S", address: "A", taxOffice: null, province: null });
    const [older, newer] = [randomUUID(), randomUUID()];
    const keyHash = newHash();
    await registry.createApiKey({ id: older, sellerTaxCode: taxCode, keyHash }, auditEntry("api-key.issue", older));
    await new Promise((r) => setTimeout(r, 5));
    await registry.createApiKey({ id: newer, sellerTaxCode: taxCode, keyHash: newHash() });
    expect((await registry.listApiKeys(taxCode)).map((k) => k.id)).toEqual([newer, older]);
    expect(await registry.listApiKeys(newTaxCode())).toEqual([]);

    expect(await registry.revokeApiKey(newTaxCode(), older, new Date(), auditEntry("api-key.revoke", older))).toBeNull();
    expect(await registry.findPrincipal(keyHash)).not.toBeNull();
    const at = new Date("2026-11-22T06:00:00.000Z");
    const revoked = await registry.revokeApiKey(taxCode, older, at, auditEntry("api-key.revoke", older));
    expect(revoked).toMatchObject({ id: older, sellerTaxCode: taxCode, revokedAt: at });
    expect(await registry.findPrincipal(keyHash)).toBeNull();
    expect(await registry.revokeApiKey(taxCode, older, new Date(), auditEntry("api-key.revoke", older))).toEqual(revoked);
    expect(await auditOf(older)).toEqual(["api-key.revoke", "api-key.issue"]);
  });
});

describe("last use of keys and tokens", () => {
  it("keeps the latest use of each credential and never moves it backwards", async () => {
    const taxCode = newTaxCode();
    await registry.createSeller({ taxCode, name: "S", address: "A", taxOffice: null, province: null });
    const key = randomUUID();
    await registry.createApiKey({ id: key, sellerTaxCode: taxCode, keyHash: newHash() });
    const officer = randomUUID();
    await registry.createOfficer({ id: officer, name: "E", taxOffice: null, tokenHash: newHash() });
    const t = (s: number) => new Date(Date.UTC(2026, 10, 22, 7, 0, s));
    await registry.recordCredentialUses([]);
    await registry.recordCredentialUses([{ id: key, at: t(10) }, { id: key, at: t(30) }, { id: key, at: t(20) }, { id: officer, at: t(5) }]);
    expect((await registry.listApiKeys(taxCode))[0]?.lastUsedAt).toEqual(t(30));
    expect((await registry.listOfficers()).find((o) => o.id === officer)?.lastUsedAt).toEqual(t(5));
    await registry.recordCredentialUses([{ id: key, at: t(1) }, { id: officer, at: t(50) }]);
    expect((await registry.listApiKeys(taxCode))[0]?.lastUsedAt).toEqual(t(30));
    expect((await registry.listOfficers()).find((o) => o.id === officer)?.lastUsedAt).toEqual(t(50));
  });
});

describe("a seller's registration as the gate reads it", () => {
  it("gives the seller and its certificates, frozen; an unknown seller is null with none", async () => {
    const taxCode = newTaxCode();
    const seller = await registry.createSeller({ taxCode, name: "S", address: "A", taxOffice: null, province: null });
    const cert = await registry.addCertificate(certificateFor(taxCode));
    const r = await registry.sellerRegistration(taxCode);
    expect(r).toEqual({ seller, certificates: [cert] });
    expect(Object.isFrozen(r) && Object.isFrozen(r.seller) && Object.isFrozen(r.certificates) && Object.isFrozen(r.certificates[0])).toBe(true);
    expect(await registry.sellerRegistration(newTaxCode())).toEqual({ seller: null, certificates: [] });
  });
});
