/** Bad configuration: start-up exits non-zero with one line naming the setting, before touching any database. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { childEnv, ROOT, startChild } from "../helpers/process.js";

const CASES: { name: string; env: Record<string, string> }[] = [
  { name: "PORT", env: { PORT: "80a" } },
  { name: "DATABASE_URL", env: { DATABASE_URL: "mysql://root@127.0.0.1/hoadon" } },
  { name: "HOADON_ISSUER_ID", env: { HOADON_ISSUER_ID: "XYZ" } },
  { name: "HOADON_TRUST_ANCHORS", env: { HOADON_TRUST_ANCHORS: "/nonexistent/anchors.pem" } },
  { name: "HOADON_CODE_SECRET", env: { HOADON_CODE_SECRET: "short" } },
  { name: "HOADON_SIGNING_CERT", env: { HOADON_SIGNING_KEY: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" } },
  { name: "HOADON_DB_POOL", env: { HOADON_DB_POOL: "0" } },
  { name: "HOADON_METRICS_TOKEN", env: { HOADON_METRICS_TOKEN: "short" } },
  { name: "HOADON_LOG_LEVEL", env: { HOADON_LOG_LEVEL: "verbose" } },
  { name: "HOADON_READ_DATABASE_URL", env: { HOADON_READ_DATABASE_URL: "mysql://replica/hoadon" } },
];

describe("bad configuration", () => {
  it.concurrent.each(CASES)("exits non-zero with one line naming $name", async ({ name, env }) => {
    const child = startChild(join(ROOT, "node_modules/.bin/tsx"), ["src/server.ts"], childEnv({ HOADON_DATA_DIR: "/nonexistent/hoadon-must-not-be-created", ...env }));
    const code = await Promise.race([child.exited, new Promise<string>((r) => setTimeout(() => r("timeout"), 30_000))]);
    await child.kill();
    expect(code, child.output()).not.toBe(0);
    expect(code, child.output()).not.toBe("timeout");
    const lines = child.output().trim().split("\n");
    expect(lines, child.output()).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^hoadon: invalid configuration: ${name}: `));
  });

  it("exits non-zero with one line naming DATABASE_URL when nothing answers there", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hoadon-cfg-"));
    const child = startChild(join(ROOT, "node_modules/.bin/tsx"), ["src/server.ts"], childEnv({ DATABASE_URL: "postgres://postgres:x@127.0.0.1:1/none", HOADON_DATA_DIR: dataDir }));
    const code = await Promise.race([child.exited, new Promise<string>((r) => setTimeout(() => r("timeout"), 30_000))]);
    await child.kill();
    rmSync(dataDir, { recursive: true, force: true });
    expect(code, child.output()).toBe(1);
    const lines = child.output().trim().split("\n");
    expect(lines, child.output()).toHaveLength(1);
    expect(lines[0]).toMatch(/^hoadon: failed to start: DATABASE_URL: .*unavailable/);
  });
});
