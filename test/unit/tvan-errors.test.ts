/** The T-VAN error table: one 4-character MLoi per error code, with Vietnamese text, rendered in docs/lifecycle.md as is. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERRORS, type ErrorCode } from "../../src/errors.js";
import { renderTvanErrors, TVAN_ERRORS } from "../../src/tvan/errors.js";

describe("the T-VAN error table", () => {
  it("gives every error code of the API a distinct 4-character MLoi, an MTLoi and an HDXLy", () => {
    const codes = Object.keys(ERRORS) as ErrorCode[];
    expect(Object.keys(TVAN_ERRORS).sort()).toEqual([...codes].sort());
    const mloi = codes.map((c) => TVAN_ERRORS[c].mloi);
    expect(new Set(mloi).size).toBe(codes.length);
    for (const c of codes) {
      const e = TVAN_ERRORS[c];
      expect(e.mloi, c).toMatch(/^[0-9]{4}$/);
      // Vietnamese: at least one letter outside ASCII; at most 255 characters as the format allows.
      expect(e.mtloi, c).toMatch(/[^\x00-\x7f]/);
      expect(e.hdxly, c).toMatch(/[^\x00-\x7f]/);
      expect([...e.mtloi].length, c).toBeLessThanOrEqual(255);
      expect([...e.hdxly].length, c).toBeLessThanOrEqual(255);
    }
  });

  it("is rendered in docs/lifecycle.md exactly as `npm run tvan:errors` prints it", () => {
    const readme = readFileSync(new URL("../../docs/lifecycle.md", import.meta.url), "utf8");
    expect(readme).toContain(renderTvanErrors());
  });
});
