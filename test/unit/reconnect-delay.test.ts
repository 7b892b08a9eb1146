/**
 * The pool's reconnect delay after failed attempts stays short however long the outage was:
 * Postgres.js' default (3^n/100 s, up to 20 s) left requests waiting 10–18 s after the server
 * was back (test/faults/postgres-down.test.ts shows the whole path on a real server).
 */
import { describe, expect, it } from "vitest";
import { reconnectDelaySeconds } from "../../src/storage/db.js";

describe("reconnectDelaySeconds", () => {
  it("starts near 25–50 ms, doubles, and never exceeds one second", () => {
    for (let i = 0; i < 200; i++) {
      const first = reconnectDelaySeconds(0);
      expect(first).toBeGreaterThanOrEqual(0.025);
      expect(first).toBeLessThanOrEqual(0.05);
      for (const retries of [5, 10, 30, 100, 1000]) {
        const d = reconnectDelaySeconds(retries);
        expect(d).toBeGreaterThanOrEqual(0.5);
        expect(d).toBeLessThanOrEqual(1);
      }
    }
  });
});
