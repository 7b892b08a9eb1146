/**
 * The last use of keys and tokens (storage/credential-use.ts): noted in memory per request,
 * coalesced to one per minute and credential, written in one statement off the request path.
 */
import { describe, expect, it } from "vitest";
import { CredentialUseRecorder } from "../../src/storage/credential-use.js";
import type { CredentialUse } from "../../src/storage/store.js";

const T0 = Date.parse("2026-11-22T08:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000);

/** A sink that keeps every statement's uses, or fails while `failing`. */
function sink() {
  const writes: CredentialUse[][] = [];
  const s = {
    failing: false,
    writes,
    async recordCredentialUses(uses: readonly CredentialUse[]) {
      if (s.failing) throw new Error("database down");
      writes.push([...uses]);
    },
  };
  return s;
}

describe("CredentialUseRecorder", () => {
  it("notes a credential's use at most once a minute, and writes nothing on the request path", async () => {
    const r = new CredentialUseRecorder(60_000);
    const db = sink();
    for (let s = 0; s < 60; s++) r.note("key-a", at(s));
    r.note("key-b", at(10));
    expect(db.writes).toEqual([]);
    expect(r.stats).toMatchObject({ noted: 2, coalesced: 59 });
    await r.flush(db);
    expect(db.writes).toEqual([[{ id: "key-a", at: at(0) }, { id: "key-b", at: at(10) }]]);
    // A minute after the use last noted, the next one is noted again.
    r.note("key-a", at(59.9));
    r.note("key-a", at(60));
    await r.flush(db);
    expect(db.writes[1]).toEqual([{ id: "key-a", at: at(60) }]);
  });

  it("writes nothing when nothing was noted", async () => {
    const r = new CredentialUseRecorder();
    const db = sink();
    await r.flush(db);
    expect(db.writes).toEqual([]);
  });

  it("keeps the uses of a failed write for the next one, without overwriting a newer use", async () => {
    const r = new CredentialUseRecorder(60_000);
    const db = sink();
    r.note("key-a", at(0));
    r.note("key-b", at(0));
    db.failing = true;
    await expect(r.flush(db)).rejects.toThrow("database down");
    expect(r.pendingCount).toBe(2);
    r.note("key-a", at(90));
    db.failing = false;
    await r.flush(db);
    expect(db.writes).toEqual([
      [
        { id: "key-a", at: at(90) },
        { id: "key-b", at: at(0) },
      ],
    ]);
    expect(r.pendingCount).toBe(0);
  });

  it("forgets credentials idle for a window, so its memory holds only the last minute's", async () => {
    const r = new CredentialUseRecorder(60_000);
    const db = sink();
    for (let i = 0; i < 100; i++) r.note(`key-${i}`, at(0));
    await r.flush(db);
    expect(r.trackedCount).toBe(100);
    r.note("key-x", at(120));
    await r.flush(db);
    expect(r.trackedCount).toBe(1);
    // Forgotten, and noted again as it would have been anyway (two minutes later).
    r.note("key-0", at(121));
    expect(r.stats.coalesced).toBe(0);
    expect(r.pendingCount).toBe(1);
  });

  it("flushes on Workers only when the interval has passed (flushIfDue)", async () => {
    let now = 0;
    const r = new CredentialUseRecorder(60_000, () => now);
    const db = sink();
    r.note("key-a", at(0));
    await r.flushIfDue(db, 30_000);
    expect(db.writes).toEqual([]);
    now = 30_000;
    await r.flushIfDue(db, 30_000);
    expect(db.writes).toEqual([[{ id: "key-a", at: at(0) }]]);
  });
});
