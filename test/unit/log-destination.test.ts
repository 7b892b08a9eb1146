/** The Node log destination: lines in order, flush() once written, and a closed reader ends logging instead of hanging. */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LogDestination, nodeLogger } from "../../src/log-node.js";

describe("LogDestination", () => {
  it("writes every line in order through pino and flush() resolves once they are out", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hoadon-log-"));
    const fd = openSync(join(dir, "log"), "w");
    try {
      const dest = new LogDestination(fd);
      const logger = nodeLogger("info", dest);
      for (let i = 0; i < 2000; i++) logger.info({ i }, "line");
      await dest.flush(10_000);
      const lines = readFileSync(join(dir, "log"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { i: number; msg: string });
      expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
      expect(dest.dropped).toBe(0);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stops logging when the descriptor cannot be written (EBADF here, EPIPE for a closed pipe): flush() resolves, lines are counted as dropped", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hoadon-log-"));
    closeSync(openSync(join(dir, "log"), "w"));
    const fd = openSync(join(dir, "log"), "r");
    try {
      const dest = new LogDestination(fd);
      dest.write("one\n");
      dest.write("two\n");
      await dest.flush(10_000);
      dest.write("three\n");
      await dest.flush(10_000);
      expect(dest.dropped).toBe(3);
      expect(readFileSync(join(dir, "log"), "utf8")).toBe("");
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
