/**
 * The Node versions Hoadon supports: 24 LTS in production, 20 still (end of life 2026-04-30).
 * CI runs `npm test` on both and says which with HOADON_EXPECT_NODE, so a run that silently fell
 * back to the machine's Node fails here.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { engines: { node: string } };
const major = Number(process.versions.node.split(".")[0]);

/** Whether "^a.b.c || ^d…" admits `version` (the only form the engines field uses). */
function admits(range: string, version: string): boolean {
  const [maj, min, pat] = version.split(".").map(Number) as [number, number, number];
  return range.split("||").some((part) => {
    const m = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(part.trim());
    if (!m) throw new Error(`engines.node: only ^x.y.z ranges are understood here, not ${part.trim()}`);
    const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return maj === a && (min > b || (min === b && pat >= c));
  });
}

describe("the Node runtime", () => {
  it("is the major CI asked for (HOADON_EXPECT_NODE)", ({ skip }) => {
    const wanted = process.env.HOADON_EXPECT_NODE;
    if (!wanted) skip("HOADON_EXPECT_NODE is not set (CI sets it)");
    expect(major).toBe(Number(wanted));
  });

  it("is admitted by package.json's engines, which name Node 24 LTS and Node 20 and nothing in between", () => {
    expect(admits(pkg.engines.node, process.versions.node)).toBe(true);
    expect(admits(pkg.engines.node, "24.0.0")).toBe(true);
    expect(admits(pkg.engines.node, "20.12.0")).toBe(true);
    expect(admits(pkg.engines.node, "20.11.1")).toBe(false); // crypto.hash came in 20.12
    expect(admits(pkg.engines.node, "22.12.0")).toBe(false);
    expect(admits(pkg.engines.node, "25.0.0")).toBe(false);
  });
});
