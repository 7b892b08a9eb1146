/**
 * GroupCommit alone, with a recording commit function: what goes in which transaction, what
 * each waiter gets, and what happens when a group's transaction throws.
 */
import { describe, expect, it } from "vitest";
import { GroupCommit, LINGER_FILL } from "../../src/domain/group-commit.js";
import { DatabaseUnavailableError } from "../../src/storage/db.js";

/** A commit that records its groups and holds each transaction until released. */
function recording(judge: (items: number[]) => string[] = (items) => items.map((i) => `ok ${i}`)) {
  const groups: number[][] = [];
  const releases: (() => void)[] = [];
  const commit = async (items: number[]) => {
    groups.push(items);
    await new Promise<void>((r) => releases.push(r));
    return judge(items);
  };
  const releaseAll = async () => {
    for (let round = 0; round < 50; round++) {
      while (releases.length) releases.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { groups, commit, releaseAll };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Long beside the test's own steps, so that a loaded machine cannot make them outlast it. */
const LINGER = 200;

describe("GroupCommit's linger", () => {
  it("never delays a first item after a quiet spell, even with a linger set", async () => {
    const r = recording();
    const g = new GroupCommit(r.commit, 500, LINGER);
    const first = g.submit(1);
    await new Promise((res) => setImmediate(res));
    expect(r.groups).toEqual([[1]]);
    await r.releaseAll();
    expect(await first).toBe("ok 1");
  });

  it("under sustained traffic, holds a small group back for the linger and gathers what arrives meanwhile", async () => {
    const r = recording();
    const g = new GroupCommit(r.commit, 500, LINGER);
    const first = g.submit(1);
    await new Promise((res) => setImmediate(res));
    const second = g.submit(2);
    await r.releaseAll(); // the first transaction ends: traffic is sustained, and a group of one waits
    expect(r.groups).toEqual([[1]]);
    const third = g.submit(3);
    await sleep(20);
    expect(r.groups).toEqual([[1]]);
    await sleep(LINGER + 100);
    expect(r.groups).toEqual([[1], [2, 3]]);
    await r.releaseAll();
    expect(await Promise.all([first, second, third])).toEqual(["ok 1", "ok 2", "ok 3"]);
  });

  it("starts a group of LINGER_FILL or more at once, and never lingers without a linger", async () => {
    for (const [linger, queued] of [[LINGER, LINGER_FILL], [0, 1]] as const) {
      const r = recording();
      const g = new GroupCommit(r.commit, 500, linger);
      const first = g.submit(0);
      await new Promise((res) => setImmediate(res));
      const rest = Array.from({ length: queued }, (_, i) => g.submit(i + 1));
      for (let round = 0; round < 5; round++) await new Promise((res) => setImmediate(res));
      r.releaseAll();
      await sleep(20); // far less than the linger
      expect(r.groups.length).toBe(2);
      expect(r.groups[1]).toHaveLength(queued);
      await r.releaseAll();
      await Promise.all([first, ...rest]);
    }
  });
});

describe("GroupCommit", () => {
  it("commits the first item at once and everything that arrives meanwhile in the next group, answering each its own", async () => {
    const r = recording();
    const g = new GroupCommit(r.commit);
    const first = g.submit(1);
    await new Promise((res) => setImmediate(res));
    expect(r.groups).toEqual([[1]]);
    const rest = [2, 3, 4, 5].map((i) => g.submit(i));
    await r.releaseAll();
    expect(await Promise.all([first, ...rest])).toEqual(["ok 1", "ok 2", "ok 3", "ok 4", "ok 5"]);
    expect(r.groups).toEqual([[1], [2, 3, 4, 5]]);
    expect(g.stats).toMatchObject({ groups: 2, items: 5, retriedAlone: 0 });
  });

  it("caps a group at its size and keeps arrival order", async () => {
    const r = recording();
    const g = new GroupCommit(r.commit, 3);
    const all = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => g.submit(i));
    await r.releaseAll();
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `ok ${i}`));
    expect(r.groups).toEqual([[1], [2, 3, 4], [5, 6, 7], [8]]);
  });

  it("when a group's transaction throws, commits each of its items alone: only the bad one fails", async () => {
    const r = recording((items) => {
      if (items.includes(13)) throw new RangeError("13 is not a value the store keeps");
      return items.map((i) => `ok ${i}`);
    });
    const g = new GroupCommit(r.commit);
    const first = g.submit(1);
    const others = [12, 13, 14].map((i) => g.submit(i).then((v) => v, (e: unknown) => e));
    await r.releaseAll();
    expect(await first).toBe("ok 1");
    const [a, b, c] = await Promise.all(others);
    expect(a).toBe("ok 12");
    expect(b).toBeInstanceOf(RangeError);
    expect(c).toBe("ok 14");
    expect(r.groups).toEqual([[1], [12, 13, 14], [12], [13], [14]]);
    expect(g.stats.retriedAlone).toBe(3);
  });

  it("fails the whole group, without retries, when the database is unavailable, and goes on afterwards", async () => {
    let down = true;
    const r = recording((items) => {
      if (down) throw new DatabaseUnavailableError();
      return items.map((i) => `ok ${i}`);
    });
    const g = new GroupCommit(r.commit);
    const first = g.submit(1).catch((e: unknown) => e);
    const group = [2, 3].map((i) => g.submit(i).catch((e: unknown) => e));
    await r.releaseAll();
    expect(await first).toBeInstanceOf(DatabaseUnavailableError);
    for (const e of await Promise.all(group)) expect(e).toBeInstanceOf(DatabaseUnavailableError);
    expect(r.groups).toEqual([[1], [2, 3]]);
    down = false;
    const later = g.submit(4);
    await r.releaseAll();
    expect(await later).toBe("ok 4");
  });

  it("rejects every waiter when the commit answers for fewer items than it was given", async () => {
    const g = new GroupCommit(async (items: number[]) => items.slice(1).map(String));
    const out = await Promise.all([g.submit(1), g.submit(2)].map((p) => p.catch((e: unknown) => e)));
    expect(String(out[0])).toMatch(/0 judgements for 1 items/);
    expect(String(out[1])).toMatch(/0 judgements for 1 items/);
  });
});
