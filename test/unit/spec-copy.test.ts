/**
 * docs/spec/ is the repository's copy of the contract that outside clients and acceptance checks
 * read (../shared/spec beside the checkout, as CI lays it out). The copy must not drift: when the
 * original is at hand, every page of it is here byte for byte, and nothing else is.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const original = resolve(root, "../shared/spec");
const copy = join(root, "docs/spec");

describe.skipIf(!existsSync(original))("docs/spec is the shared contract, unchanged", () => {
  it("holds the same pages", () => {
    expect(readdirSync(copy).sort()).toEqual(readdirSync(original).sort());
  });
  for (const page of existsSync(original) ? readdirSync(original) : []) {
    it(`${page} is byte for byte the original`, () => {
      expect(readFileSync(join(copy, page)).equals(readFileSync(join(original, page)))).toBe(true);
    });
  }
});
