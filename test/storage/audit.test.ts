/**
 * The audit log (storage/audit.ts): entries as written, newest first, every filter, pages by id,
 * and an officer's name beside their id; on whichever backend test/helpers/db.ts gives (PGlite,
 * or PostgreSQL with DATABASE_URL). Entries written with a change (a key or token issued or
 * revoked) are tested with the registry (registry.test.ts).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PgStore } from "../../src/storage/pg-store.js";
import type { AuditEntry } from "../../src/storage/store.js";
import { testStore } from "../helpers/db.js";

let store: PgStore;
let audit: PgStore["audit"];
beforeAll(async () => {
  store = await testStore();
  audit = store.audit;
});
afterAll(async () => {
  await store?.close();
});

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  at: new Date("2026-11-22T03:00:00.123Z"),
  actorRole: "admin",
  actorId: "admin",
  action: "invoice.search",
  target: null,
  query: {},
  clientAddress: "203.0.113.7",
  requestId: randomUUID(),
  ...over,
});

describe("the audit log", () => {
  it("keeps an entry as written and lists it with its id; an officer's name comes with their id", async () => {
    const officer = await store.registry.createOfficer({ id: randomUUID(), name: "Trần Thị B", taxOffice: null, tokenHash: randomBytes(32).toString("hex") });
    const e = entry({ actorRole: "officer", actorId: officer.id, action: "invoice.read", target: "0C" + "A".repeat(32), query: { from: "2026-01-01", limit: 50 } });
    await audit.recordAudit(e);
    const page = await audit.listAudit({ actor: officer.id, limit: 10 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toEqual({ ...e, id: page.items[0]!.id, actorName: "Trần Thị B" });
    expect(typeof page.items[0]!.id).toBe("bigint");
    expect(page.next).toBeNull();
    // Not an officer: no name, even should an officer's id be written as another role's actor.
    await audit.recordAudit(entry({ actorRole: "seller", actorId: officer.id }));
    expect((await audit.listAudit({ actor: officer.id, limit: 10 })).items.map((i) => i.actorName)).toEqual([null, "Trần Thị B"]);
  });

  it("lists newest first, filtered by actor, action and time (both ends inclusive)", async () => {
    const actor = randomUUID();
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 22, 4, minute));
    await audit.recordAudit(entry({ actorRole: "seller", actorId: actor, action: "api-key.issue", at: at(0) }));
    await audit.recordAudit(entry({ actorRole: "seller", actorId: actor, action: "invoice.search", at: at(1) }));
    await audit.recordAudit(entry({ actorRole: "seller", actorId: actor, action: "report.totals", at: at(2) }));
    await audit.recordAudit(entry({ actorRole: "seller", actorId: actor, action: "invoice.search", at: at(3) }));
    const actions = async (q: Parameters<typeof audit.listAudit>[0]) => (await audit.listAudit(q)).items.map((i) => `${i.action}@${i.at.getUTCMinutes()}`);
    expect(await actions({ actor, limit: 10 })).toEqual(["invoice.search@3", "report.totals@2", "invoice.search@1", "api-key.issue@0"]);
    expect(await actions({ actor, action: "invoice.search", limit: 10 })).toEqual(["invoice.search@3", "invoice.search@1"]);
    expect(await actions({ actor, from: at(1), to: at(2), limit: 10 })).toEqual(["report.totals@2", "invoice.search@1"]);
    expect(await actions({ actor: randomUUID(), limit: 10 })).toEqual([]);
  });

  it("pages by id: each page continues below the last, none repeats, the last has no next", async () => {
    const actor = randomUUID();
    for (let i = 0; i < 7; i++) await audit.recordAudit(entry({ actorRole: "seller", actorId: actor, requestId: `req-${i}` }));
    const seen: string[] = [];
    let before: bigint | undefined;
    let pages = 0;
    do {
      const page = await audit.listAudit({ actor, limit: 3, ...(before === undefined ? {} : { before }) });
      seen.push(...page.items.map((i) => i.requestId));
      before = page.next ?? undefined;
      pages++;
    } while (before !== undefined && pages < 10);
    expect(seen).toEqual(["req-6", "req-5", "req-4", "req-3", "req-2", "req-1", "req-0"]);
    expect(pages).toBe(3);
  });
});
