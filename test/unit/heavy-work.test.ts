/**
 * Large documents (src/heavy-work.ts): a few in flight per client (429 RATE_LIMITED with
 * Retry-After past them), and one at a time with the event loop left to everything else between
 * two. The real-process test is test/faults/large-documents.test.ts.
 */
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/errors.js";
import { HeavyWork } from "../../src/heavy-work.js";

const LARGE = 100;
const work = () => new HeavyWork({ heavyBytes: LARGE, perClient: 2 });

function refusal(f: () => unknown): ApiError {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("not refused");
}

describe("the per-client bound on large documents", () => {
  it("admits perClient large requests per client, refuses the next with RATE_LIMITED and Retry-After, and admits again once one is answered", () => {
    const hw = work();
    const a1 = hw.admit("a", LARGE);
    hw.admit("a", LARGE * 10);
    const e = refusal(() => hw.admit("a", LARGE));
    expect(e.code).toBe("RATE_LIMITED");
    expect(e.status).toBe(429);
    expect(e.headers?.["Retry-After"]).toBe("1");
    // Another client is not held by a's documents.
    hw.admit("b", LARGE);
    expect(hw.inFlight).toBe(3);
    a1();
    a1(); // a release counts once
    expect(hw.inFlight).toBe(2);
    hw.admit("a", LARGE);
    expect(() => hw.admit("a", LARGE)).toThrow(ApiError);
  });

  it("never bounds small documents, nor anything when perClient is 0", () => {
    const hw = work();
    for (let i = 0; i < 50; i++) hw.admit("a", LARGE - 1);
    expect(hw.inFlight).toBe(0);
    const off = new HeavyWork({ heavyBytes: LARGE, perClient: 0 });
    for (let i = 0; i < 50; i++) off.admit("a", LARGE);
  });

  it("withBody admits by the declared length before reading, still reads a refused body (so that the client gets its 429), and admits by size when no length is declared", async () => {
    const hw = work();
    const body = new Uint8Array(LARGE);
    const read = { count: 0 };
    const reader = async () => {
      read.count++;
      return body;
    };
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const running = [hw.withBody("a", String(LARGE), reader, () => held), hw.withBody("a", undefined, reader, () => held)];
    await new Promise((r) => setImmediate(r));
    expect(hw.inFlight).toBe(2);
    await expect(hw.withBody("a", String(LARGE), reader, async () => "judged")).rejects.toMatchObject({ code: "RATE_LIMITED" });
    expect(read.count).toBe(3);
    // Without a declared length the body is read first, then refused by its size.
    await expect(hw.withBody("a", undefined, reader, async () => "judged")).rejects.toMatchObject({ code: "RATE_LIMITED" });
    release();
    await Promise.all(running);
    expect(hw.inFlight).toBe(0);
    await expect(hw.withBody("a", String(LARGE), reader, async () => "judged")).resolves.toBe("judged");
  });
});

describe("the lane: one large document at a time, the event loop left to the rest between two", () => {
  const busy = (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };

  it("runs queued large documents one by one with timers (I/O, probes) served between each two; small documents do not wait", async () => {
    const hw = work();
    const events: string[] = [];
    expect(hw.turn(LARGE - 1)).toBeUndefined();
    const jobs = [1, 2, 3].map(async (i) => {
      await hw.turn(LARGE);
      events.push(`large ${i}`);
      // What arrives while it runs (a probe) is answered before the next large document starts.
      setTimeout(() => events.push(`probe after ${i}`), 0);
      busy(20);
    });
    await Promise.all(jobs);
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual(["large 1", "probe after 1", "large 2", "probe after 2", "large 3", "probe after 3"]);
  });

  it("leaves the loop free for about as long as the last large document took before starting the next", async () => {
    const hw = work();
    const starts: number[] = [];
    const ends: number[] = [];
    await Promise.all(
      [1, 2].map(async () => {
        await hw.turn(LARGE);
        starts.push(performance.now());
        busy(40);
        ends.push(performance.now());
      }),
    );
    // Not a timing assertion on the machine's speed: the gap is the lane's own, measured on the same clock.
    expect(starts[1]! - ends[0]!).toBeGreaterThanOrEqual(30);
  });
});
