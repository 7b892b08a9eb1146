/**
 * docs/integration.md's walk-through, run as written: its shell block, against the service
 * started as `npm start` starts it (the embedded database, a data dir of its own), in a folder
 * where `certs/` and `examples/` are the checkout's. Only the block's address line is pointed at
 * the test's port. The example invoice is dated 2026-11-20: a week later the walk-through refused
 * it (ISSUE_DATE_TOO_OLD) and no test noticed; step 2 now dates it today, and this holds the block
 * to working: the submission is issued and xmlsec1 verifies the authority's stamp (`set -e`: any
 * command that fails, fails the test). The command line's `hoadon sign` on the same invoice, which
 * refused the template's empty Signature until then, is held to working too.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, removeDataDirs, serviceEnv } from "../faults/common.js";
import { type NodeService, startService } from "../helpers/process.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const ADDRESS_LINE = "B=http://127.0.0.1:8080";

function walkthroughBlock(): string {
  const doc = readFileSync(join(root, "docs/integration.md"), "utf8");
  const block = /```sh\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf("## Walk-through")))?.[1];
  if (!block?.includes(ADDRESS_LINE)) throw new Error(`the walk-through's first sh block no longer sets ${ADDRESS_LINE}`);
  return block;
}

describe("docs/integration.md's walk-through", () => {
  let svc: NodeService;
  const dir = mkdtempSync(join(tmpdir(), "hoadon-walkthrough-"));

  beforeAll(async () => {
    svc = await startService(serviceEnv(undefined), { timeoutMs: 60_000 });
    for (const d of ["certs", "examples"]) symlinkSync(join(root, d), join(dir, d));
  });
  afterAll(async () => {
    await svc?.kill();
    removeDataDirs();
    rmSync(dir, { recursive: true, force: true });
  });

  it("registers the seller, signs today's invoice with xmlsec1, gets it issued, and the stamp verifies", () => {
    const script = walkthroughBlock().replace(ADDRESS_LINE, `B=${svc.url}`);
    const r = spawnSync("sh", ["-e", "-c", script], { cwd: dir, env: { PATH: process.env.PATH, TOKEN: ADMIN }, encoding: "utf8", timeout: 60_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout, "step 3's answer").toMatch(/"status":"issued"/);
    expect(r.stderr, "xmlsec1 on the stamped invoice").toMatch(/^OK$/m);
  });

  it("signs step 2's invoice with `hoadon sign` too (it fills the template's place), and `hoadon check` passes it; a signed invoice it refuses", () => {
    // Runs after the block above, in the same folder: invoice.xml is step 2's (the template, dated today).
    const hoadon = (...args: string[]) => spawnSync(process.execPath, [join(root, "bin/hoadon.mjs"), ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    const key = ["--key", "certs/seller-0100000010-rsa.key", "--cert", "certs/seller-0100000010-rsa.pem"];
    const signed = hoadon("sign", ...key, "invoice.xml");
    expect(signed.status, signed.stderr).toBe(0);
    writeFileSync(join(dir, "cli-signed.xml"), signed.stdout);
    const checked = hoadon("check", "--json", "cli-signed.xml");
    expect(JSON.parse(checked.stdout)).toMatchObject({ ok: true, signatures: [{ role: "seller", valid: true }] });
    const again = hoadon("sign", ...key, "cli-signed.xml");
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/already holds a Signature/);
  });
});
