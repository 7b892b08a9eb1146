/**
 * docs/spec/ is the repository's copy of the contract that outside clients and acceptance checks
 * read (../shared/spec beside the checkout, as CI lays it out). The copy must not drift: when the
 * original is at hand, every page of it is here byte for byte, and nothing else is. The served
 * copy of the XSD is held to its original the same way.
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
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

describe("public/schemas/invoice.xsd, served as /schemas/invoice.xsd (on Workers by the platform)", () => {
  it("is a plain file, byte for byte schemas/invoice.xsd (a link might not be uploaded with the assets)", () => {
    const served = join(root, "public/schemas/invoice.xsd");
    expect(lstatSync(served).isFile()).toBe(true);
    expect(readFileSync(served).equals(readFileSync(join(root, "schemas/invoice.xsd")))).toBe(true);
  });
});
